#include "tests/support/cloudkit_shapes.h"

#include <fstream>
#include <sstream>

namespace jsync::testing {
namespace {

using nlohmann::json;

constexpr char kPathPrefix[] = "/database/{version}/{container}/{environment}/{database}/";
constexpr char kRefPrefix[] = "#/components/schemas/";

Result<json> ReadJson(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return Status::NotFound("cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (!j.is_object()) return Status::Invalid(file.string() + " is not a JSON object");
  return j;
}

bool HasType(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  return false;
}

}  // namespace

Result<CloudKitShapes> CloudKitShapes::Load(const std::filesystem::path& openapi,
                                            const std::filesystem::path& reference) {
  CloudKitShapes s;
  JSYNC_ASSIGN_OR_RETURN(s.openapi_, ReadJson(openapi));
  JSYNC_ASSIGN_OR_RETURN(s.reference_, ReadJson(reference));
  if (!s.openapi_.contains("paths") || !s.openapi_.contains("components")) {
    return Status::Invalid(openapi.string() + " is not an OpenAPI description");
  }
  return s;
}

bool CloudKitShapes::InOpenApi(const std::string& op) const {
  return openapi_["paths"].contains(kPathPrefix + op);
}

const json* CloudKitShapes::Operation(const std::string& op) const {
  const json& ops = reference_["operations"];
  if (ops.contains(op)) return &ops[op];
  return nullptr;
}

const json* CloudKitShapes::Resolve(const json& schema, std::string* name) const {
  if (!schema.is_object() || !schema.contains("$ref")) return &schema;
  const std::string ref = schema["$ref"];
  if (!ref.starts_with(kRefPrefix)) return nullptr;
  const std::string n = ref.substr(sizeof kRefPrefix - 1);
  const json& schemas = openapi_["components"]["schemas"];
  *name = n;
  if (schemas.contains(n)) return &schemas[n];
  const json& more = reference_["schemas"];
  if (more.contains(n)) return &more[n];
  return nullptr;
}

void CloudKitShapes::Validate(const json& schema_in, const json& value, const std::string& name_in,
                              const std::string& path, std::vector<std::string>* out,
                              int depth) const {
  if (depth > 40) {
    out->push_back(path + ": nested too deeply");
    return;
  }
  std::string name = name_in;
  const json* resolved = Resolve(schema_in, &name);
  if (resolved == nullptr) {
    out->push_back(path + ": unknown schema " + schema_in.dump());
    return;
  }
  const json& schema = *resolved;
  // The reference's alternatives for a named schema (a record error where a record goes).
  if (const json& alt = reference_["alternatives"]; alt.contains(name) && value.is_object() &&
                                                    value.contains("serverErrorCode")) {
    std::vector<std::string> tried;
    Validate(alt[name], value, name + "|error", path, &tried, depth + 1);
    out->insert(out->end(), tried.begin(), tried.end());
    return;
  }
  for (const char* key : {"oneOf", "anyOf"}) {
    if (!schema.contains(key)) continue;
    std::vector<std::string> first;
    for (size_t i = 0; i < schema[key].size(); ++i) {
      std::vector<std::string> tried;
      Validate(schema[key][i], value, name + "." + key, path, &tried, depth + 1);
      if (tried.empty()) return;
      if (i == 0) first = tried;
    }
    out->push_back(path + ": matches none of the " + key + " branches (first: " +
                   (first.empty() ? std::string("?") : first.front()) + ")");
    return;
  }
  if (schema.contains("type") && !HasType(value, schema["type"])) {
    out->push_back(path + ": expected " + schema["type"].get<std::string>() + " (" + name +
                   "), got " + value.type_name());
    return;
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const json& e : schema["enum"]) found = found || e == value;
    if (!found) out->push_back(path + ": " + value.dump() + " is not one of " + schema["enum"].dump());
  }
  if (value.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i) {
      Validate(schema["items"], value[i], name + "[]", path + "[" + std::to_string(i) + "]", out,
               depth + 1);
    }
  }
  if (!value.is_object()) return;
  if (schema.contains("required")) {
    for (const json& r : schema["required"]) {
      if (!value.contains(r.get<std::string>())) {
        out->push_back(path + ": the required property " + r.get<std::string>() + " is missing (" +
                       name + ")");
      }
    }
  }
  const json empty = json::object();
  const json& props = schema.contains("properties") ? schema["properties"] : empty;
  const json& extras_all = reference_["extra_properties"];
  const json& extras = extras_all.contains(name) ? extras_all[name] : empty;
  for (const auto& [key, v] : value.items()) {
    const std::string at = path + "." + key;
    if (props.contains(key)) {
      Validate(props[key], v, name + "." + key, at, out, depth + 1);
    } else if (extras.contains(key)) {
      Validate(extras[key], v, name + "." + key, at, out, depth + 1);
    } else if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
      Validate(schema["additionalProperties"], v, name + ".*", at, out, depth + 1);
    } else {
      out->push_back(at + ": not in the OpenAPI description nor in icloud.md (" + name + ")");
    }
  }
}

std::vector<std::string> CloudKitShapes::CheckRequest(const std::string& op, const json& body) const {
  std::vector<std::string> out;
  if (const json* r = Operation(op); r != nullptr && r->contains("request")) {
    Validate((*r)["request"], body, op + " request", "$", &out, 0);
    return out;
  }
  if (!InOpenApi(op)) return {op + ": an operation neither description has"};
  const json& item = openapi_["paths"][kPathPrefix + op];
  const json* method = item.contains("post") ? &item["post"] : nullptr;
  if (method == nullptr || !method->contains("requestBody")) {
    if (!body.is_null() && !(body.is_object() && body.empty())) {
      out.push_back(op + ": a body where the description has none");
    }
    return out;
  }
  Validate((*method)["requestBody"]["content"]["application/json"]["schema"], body,
           op + " request", "$", &out, 0);
  return out;
}

std::vector<std::string> CloudKitShapes::CheckResponse(const std::string& op, int status,
                                                       const json& body) const {
  std::vector<std::string> out;
  const std::string key = std::to_string(status);
  if (status != 200) {
    Validate(json{{"$ref", std::string(kRefPrefix) + "ErrorResponse"}}, body, "ErrorResponse", "$",
             &out, 0);
    return out;
  }
  if (const json* r = Operation(op); r != nullptr && r->contains("response")) {
    Validate((*r)["response"], body, op + " response", "$", &out, 0);
    return out;
  }
  if (!InOpenApi(op)) return {op + ": an operation neither description has"};
  const json& item = openapi_["paths"][kPathPrefix + op];
  const json& method = item.contains("post") ? item["post"] : item["get"];
  if (!method["responses"].contains(key)) return {op + ": no answer " + key + " in the description"};
  Validate(method["responses"][key]["content"]["application/json"]["schema"], body,
           op + " response", "$", &out, 0);
  return out;
}

}  // namespace jsync::testing
