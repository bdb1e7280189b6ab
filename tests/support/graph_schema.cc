#include "tests/support/graph_schema.h"

#include <cctype>
#include <cstdint>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace jsync::testing {
namespace {

using nlohmann::json;

// Where Graph puts instance annotations on the bodies this checker sees ("*": any object).
// Graph answers and the request bodies of the OneDrive API; a property annotation
// ("prop@odata.nextLink") is allowed separately (kPropertyAnnotations).
struct AnnotationRule {
  const char* name;
  const char* where;  // "*", "top", "entity", "collection", or a type's short name
};
constexpr AnnotationRule kAnnotations[] = {
    {"@odata.type", "*"},
    {"@odata.context", "top"},
    {"@odata.etag", "entity"},
    {"@odata.id", "entity"},
    {"@odata.nextLink", "collection"},
    {"@odata.deltaLink", "collection"},
    {"@odata.count", "collection"},
    {"@microsoft.graph.downloadUrl", "driveItem"},
    {"@microsoft.graph.conflictBehavior", "driveItem"},
    {"@microsoft.graph.sourceUrl", "driveItem"},
    {"@microsoft.graph.conflictBehavior", "driveItemUploadableProperties"},
};
constexpr const char* kPropertyAnnotations[] = {"@odata.nextLink", "@odata.count", "@odata.context",
                                                "@odata.type"};
constexpr const char* kConflictBehaviors[] = {"fail", "replace", "rename"};

// j[key] when it is a string; `fallback` when absent, null or another type (the file writes
// "base": null for a type without one).
std::string Str(const json& j, const char* key, const std::string& fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

bool Bool(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string ShortName(std::string name) {
  for (const char* ns : {"microsoft.graph.", "graph."})
    if (name.rfind(ns, 0) == 0) return name.substr(std::string(ns).size());
  return name;
}

bool IsCollection(const std::string& type, std::string* item) {
  if (type.rfind("Collection(", 0) != 0 || type.back() != ')') return false;
  *item = type.substr(11, type.size() - 12);
  return true;
}

std::string Kind(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_float:
      return "number";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    default:
      return "other";
  }
}

std::string Member(const std::string& path, const std::string& name) {
  bool plain = !name.empty();
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) plain = false;
  return plain ? path + "." + name : path + "[\"" + name + "\"]";
}

bool Digits(const std::string& s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool ValidDate(const std::string& s, size_t* end) {
  int y, m, d;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &m) || s[7] != '-' ||
      !Digits(s, 8, 2, &d))
    return false;
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1]) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap) return false;
  *end = 10;
  return true;
}

// RFC 3339 / OData: "YYYY-MM-DDThh:mm[:ss[.fffffff]]" then "Z" or "±hh:mm" (required unless
// `zone_optional`, for the innerError `date` Graph writes without one).
bool ValidDateTime(const std::string& s, bool zone_optional) {
  size_t pos = 0;
  if (!ValidDate(s, &pos)) return false;
  int h, mi, sec = 0;
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't') || !Digits(s, pos + 1, 2, &h) ||
      s.size() < pos + 6 || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &mi))
    return false;
  pos += 6;
  if (pos < s.size() && s[pos] == ':') {
    if (!Digits(s, pos + 1, 2, &sec)) return false;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      size_t digits = 0;
      while (pos + 1 + digits < s.size() &&
             std::isdigit(static_cast<unsigned char>(s[pos + 1 + digits])))
        ++digits;
      if (digits == 0 || digits > 12) return false;
      pos += 1 + digits;
    }
  }
  if (h > 23 || mi > 59 || sec > 60) return false;
  if (pos == s.size()) return zone_optional;
  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size();
  int oh, om;
  if ((s[pos] != '+' && s[pos] != '-') || s.size() != pos + 6 || !Digits(s, pos + 1, 2, &oh) ||
      s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om))
    return false;
  return oh <= 23 && om <= 59;
}

bool ValidGuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// ISO 8601 duration as OData writes it: "[-]P[nD][T[nH][nM][n[.n]S]]".
bool ValidDuration(const std::string& s) {
  size_t i = s.rfind('-', 0) == 0 ? 1 : 0;
  if (i >= s.size() || s[i] != 'P') return false;
  ++i;
  bool any = false, time = false;
  while (i < s.size()) {
    if (s[i] == 'T') {
      if (time) return false;
      time = true;
      ++i;
      continue;
    }
    size_t digits = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
      ++i;
      ++digits;
    }
    if (digits == 0 || i >= s.size()) return false;
    const char unit = s[i++];
    if (!(time ? (unit == 'H' || unit == 'M' || unit == 'S') : unit == 'D')) return false;
    any = true;
  }
  return any;
}

bool ValidBase64(const std::string& s) {
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=' ||
          c == '-' || c == '_'))
      return false;
  return true;
}

// Checks an Edm primitive; "" when it conforms, else what is wrong.
std::string CheckPrimitive(const json& v, const std::string& edm) {
  const std::string got = Kind(v);
  auto expected = [&](const std::string& what) {
    return "expected " + what + " (" + edm + "), got " + got;
  };
  if (edm == "Edm.String") return v.is_string() ? "" : expected("a string");
  if (edm == "Edm.Guid") {
    if (!v.is_string()) return expected("a string");
    return ValidGuid(v.get<std::string>()) ? "" : "not a GUID (" + edm + "): " + v.dump();
  }
  if (edm == "Edm.Date") {
    size_t end = 0;
    if (!v.is_string()) return expected("a string");
    const std::string s = v.get<std::string>();
    return ValidDate(s, &end) && end == s.size() ? "" : "not a date (" + edm + "): " + v.dump();
  }
  if (edm == "Edm.DateTimeOffset") {
    if (!v.is_string()) return expected("a string");
    return ValidDateTime(v.get<std::string>(), false)
               ? ""
               : "not an RFC 3339 date-time with a zone (" + edm + "): " + v.dump();
  }
  if (edm == "Edm.Duration") {
    if (!v.is_string()) return expected("a string");
    return ValidDuration(v.get<std::string>()) ? "" : "not an ISO 8601 duration: " + v.dump();
  }
  if (edm == "Edm.TimeOfDay") return v.is_string() ? "" : expected("a string");
  if (edm == "Edm.Binary") {
    if (!v.is_string()) return expected("a base64 string");
    return ValidBase64(v.get<std::string>()) ? "" : "not base64 (" + edm + ")";
  }
  if (edm == "Edm.Boolean") return v.is_boolean() ? "" : expected("a boolean");
  if (edm == "Edm.Int64" || edm == "Edm.Int32" || edm == "Edm.Int16" || edm == "Edm.Byte" ||
      edm == "Edm.SByte") {
    if (!v.is_number_integer()) return expected("an integer");
    if (edm == "Edm.Int64") return "";
    const bool is_unsigned = v.is_number_unsigned();
    if (is_unsigned && v.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()})
      return "out of range for " + edm;
    const int64_t n = v.get<int64_t>();
    const int64_t lo = edm == "Edm.Int32"   ? std::numeric_limits<int32_t>::min()
                       : edm == "Edm.Int16" ? std::numeric_limits<int16_t>::min()
                       : edm == "Edm.Byte"  ? 0
                                            : -128;
    const int64_t hi = edm == "Edm.Int32"   ? std::numeric_limits<int32_t>::max()
                       : edm == "Edm.Int16" ? std::numeric_limits<int16_t>::max()
                       : edm == "Edm.Byte"  ? 255
                                            : 127;
    return n < lo || n > hi ? "out of range for " + edm + ": " + v.dump() : "";
  }
  if (edm == "Edm.Double" || edm == "Edm.Single" || edm == "Edm.Decimal") {
    if (v.is_number()) return "";
    if (v.is_string() && edm != "Edm.Decimal") {
      const std::string s = v.get<std::string>();
      if (s == "NaN" || s == "INF" || s == "-INF") return "";
    }
    return expected("a number");
  }
  if (edm == "Edm.Stream") return "a stream property is never inline in JSON (" + edm + ")";
  return "";  // another Edm type: not used by these types, not checked
}

}  // namespace

Result<GraphSchema> GraphSchema::Load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  const json j = json::parse(text.str(), nullptr, false);
  if (!j.is_object() || !j.contains("types") || !j["types"].is_object())
    return Status::Invalid(file.string() + " is not a Graph schema file (no \"types\" object)");
  GraphSchema s;
  s.source_ = Str(j, "source");
  for (const auto& [name, t] : j["types"].items()) {
    if (!t.is_object())
      return Status::Invalid(file.string() + ": type " + name + " is not an object");
    Type type;
    type.name = name;
    type.base = ShortName(Str(t, "base"));
    type.kind = Str(t, "kind");
    type.open = Bool(t, "open", false);
    for (const char* section : {"properties", "navigation"}) {
      if (!t.contains(section) || !t[section].is_object()) continue;
      for (const auto& [pname, p] : t[section].items()) {
        if (!p.is_object() || !p.contains("type") || !p["type"].is_string())
          return Status::Invalid(file.string() + ": " + name + "." + pname + " has no type");
        Property prop;
        prop.type = p["type"].get<std::string>();
        prop.nullable = Bool(p, "nullable", true);
        prop.navigation = std::string(section) == "navigation";
        type.properties[pname] = prop;
      }
    }
    s.types_[name] = std::move(type);
  }
  if (j.contains("enums") && j["enums"].is_object())
    for (const auto& [name, members] : j["enums"].items())
      if (members.is_array())
        for (const auto& m : members)
          if (m.is_string()) s.enums_[name].push_back(m.get<std::string>());
  if (j.contains("bound_operations") && j["bound_operations"].is_array()) {
    for (const auto& op : j["bound_operations"]) {
      if (!op.is_object() || Str(op, "kind") != "Action") continue;
      auto& params = s.actions_[Str(op, "name")];
      for (const auto& p : op.value("parameters", json::array())) {
        if (!p.is_object() || Str(p, "name") == "bindingParameter") continue;
        params[Str(p, "name")] = {Str(p, "type"), Bool(p, "nullable", true), false};
      }
    }
  }
  for (const char* needed : {"driveItem", "drive", "quota", "uploadSession", "subscription"})
    if (!s.types_.count(needed))
      return Status::Invalid(file.string() + " lacks the type " + std::string(needed));
  return s;
}

bool GraphSchema::HasType(const std::string& name) const { return FindType(name) != nullptr; }

const GraphSchema::Type* GraphSchema::FindType(const std::string& name) const {
  auto it = types_.find(ShortName(name));
  return it == types_.end() ? nullptr : &it->second;
}

const GraphSchema::Property* GraphSchema::FindProperty(const Type& t,
                                                       const std::string& name) const {
  for (const Type* at = &t; at; at = at->base.empty() ? nullptr : FindType(at->base)) {
    auto it = at->properties.find(name);
    if (it != at->properties.end()) return &it->second;
  }
  return nullptr;
}

bool GraphSchema::IsEntity(const Type& t) const { return t.kind == "EntityType"; }

void GraphSchema::CheckValue(const json& v, const Property& p, const std::string& path,
                             std::vector<std::string>* out) const {
  if (v.is_null()) {
    if (!p.nullable) out->push_back(path + ": null, but " + p.type + " is not nullable here");
    return;
  }
  std::string item;
  if (IsCollection(p.type, &item)) {
    if (!v.is_array()) {
      out->push_back(path + ": expected an array (" + p.type + "), got " + Kind(v));
      return;
    }
    for (size_t i = 0; i < v.size(); ++i)
      CheckValue(v[i], {item, true, p.navigation}, path + "[" + std::to_string(i) + "]", out);
    return;
  }
  if (p.type.rfind("Edm.", 0) == 0) {
    const std::string problem = CheckPrimitive(v, p.type);
    if (!problem.empty()) out->push_back(path + ": " + problem);
    return;
  }
  const std::string name = ShortName(p.type);
  if (auto e = enums_.find(name); e != enums_.end()) {
    if (!v.is_string()) {
      out->push_back(path + ": expected a string (enum " + p.type + "), got " + Kind(v));
      return;
    }
    // Flags enums are written as "a,b"; every member must exist.
    std::stringstream in(v.get<std::string>());
    for (std::string m; std::getline(in, m, ',');) {
      bool known = false;
      for (const auto& member : e->second) known = known || member == m;
      if (!known) out->push_back(path + ": \"" + m + "\" is not a member of " + p.type);
    }
    return;
  }
  if (!FindType(name)) {
    // A type the reduced metadata does not carry (reachable by navigation only).
    if (!v.is_object())
      out->push_back(path + ": expected an object (" + p.type + "), got " + Kind(v));
    return;
  }
  CheckObject(v, name, path, false, out);
}

void GraphSchema::CheckObject(const json& v, const std::string& type, const std::string& path,
                              bool top, std::vector<std::string>* out) const {
  const Type* t = FindType(type);
  if (!t) {
    out->push_back(path + ": unknown type " + type);
    return;
  }
  if (!v.is_object()) {
    out->push_back(path + ": expected an object (graph." + t->name + "), got " + Kind(v));
    return;
  }
  for (const auto& [key, value] : v.items()) {
    const std::string at = Member(path, key);
    const size_t sign = key.find('@');
    if (sign == 0) {
      bool allowed = false;
      for (const auto& rule : kAnnotations) {
        if (key != rule.name) continue;
        const std::string where = rule.where;
        allowed = allowed || where == "*" || (where == "top" && top) ||
                  (where == "entity" && IsEntity(*t)) || where == t->name;
      }
      if (!allowed) {
        out->push_back(at + ": annotation " + key + " is not one Graph puts on graph." + t->name);
        continue;
      }
      if (!value.is_string() && key != "@odata.count") {
        out->push_back(at + ": expected a string annotation, got " + Kind(value));
      } else if (key == "@microsoft.graph.conflictBehavior") {
        bool known = false;
        for (const char* b : kConflictBehaviors) known = known || value == b;
        if (!known) out->push_back(at + ": " + value.dump() + " is not fail, replace or rename");
      } else if (key == "@odata.count" && !value.is_number_integer()) {
        out->push_back(at + ": expected an integer, got " + Kind(value));
      }
      continue;
    }
    if (sign != std::string::npos) {
      // A property annotation: "children@odata.nextLink".
      const std::string prop = key.substr(0, sign), annotation = key.substr(sign);
      bool allowed = false;
      for (const char* a : kPropertyAnnotations) allowed = allowed || annotation == a;
      if (!allowed || !FindProperty(*t, prop))
        out->push_back(at + ": no property annotation " + key + " on graph." + t->name);
      continue;
    }
    const Property* p = FindProperty(*t, key);
    if (!p) {
      if (!(t->open && t->kind == "ComplexType"))
        out->push_back(at + ": no property '" + key + "' on graph." + t->name);
      continue;
    }
    CheckValue(value, *p, at, out);
  }
}

void GraphSchema::CheckInnerError(const json& v, const std::string& path,
                                  std::vector<std::string>* out) const {
  if (!v.is_object()) {
    out->push_back(path + ": expected an object (innerError), got " + Kind(v));
    return;
  }
  for (const auto& [key, value] : v.items()) {
    const std::string at = Member(path, key);
    if (key == "innerError" || key == "innererror") {
      CheckInnerError(value, at, out);
    } else if (key == "date") {
      if (!value.is_string() || !ValidDateTime(value.get<std::string>(), true))
        out->push_back(at + ": not a date-time: " + value.dump());
    } else if (key == "code" || key == "message" || key == "request-id" ||
               key == "client-request-id" || key == "@odata.type") {
      if (!value.is_string()) out->push_back(at + ": expected a string, got " + Kind(value));
    } else {
      out->push_back(at + ": no property '" + key + "' on an odata error's innerError");
    }
  }
}

std::vector<std::string> GraphSchema::CheckError(const json& body) const {
  std::vector<std::string> out;
  if (!body.is_object()) return {"$: expected an object (odata.error), got " + Kind(body)};
  for (const auto& [key, value] : body.items())
    if (key != "error")
      out.push_back(Member("$", key) + ": no property '" + key + "' on an odata error body");
  if (!body.contains("error")) {
    out.push_back("$.error: missing");
    return out;
  }
  const json& e = body["error"];
  if (!e.is_object()) {
    out.push_back("$.error: expected an object, got " + Kind(e));
    return out;
  }
  for (const char* required : {"code", "message"})
    if (!e.contains(required)) out.push_back("$.error." + std::string(required) + ": missing");
  for (const auto& [key, value] : e.items()) {
    const std::string at = Member("$.error", key);
    if (key == "code" || key == "message" || key == "target") {
      if (!value.is_string()) out.push_back(at + ": expected a string, got " + Kind(value));
    } else if (key == "innerError" || key == "innererror") {
      CheckInnerError(value, at, &out);
    } else if (key == "details") {
      if (!value.is_array()) {
        out.push_back(at + ": expected an array, got " + Kind(value));
        continue;
      }
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string di = at + "[" + std::to_string(i) + "]";
        if (!value[i].is_object()) {
          out.push_back(di + ": expected an object, got " + Kind(value[i]));
          continue;
        }
        for (const auto& [dk, dv] : value[i].items()) {
          if (dk != "code" && dk != "message" && dk != "target")
            out.push_back(Member(di, dk) + ": no property '" + dk + "' on an error detail");
          else if (!dv.is_string())
            out.push_back(Member(di, dk) + ": expected a string, got " + Kind(dv));
        }
      }
    } else {
      out.push_back(at + ": no property '" + key + "' on an odata error");
    }
  }
  return out;
}

std::vector<std::string> GraphSchema::CheckCollection(const json& body,
                                                      const std::string& item_type) const {
  std::vector<std::string> out;
  if (!FindType(item_type)) return {"$: unknown type " + item_type};
  if (!body.is_object()) return {"$: expected a collection answer object, got " + Kind(body)};
  if (!body.contains("value")) out.push_back("$.value: missing");
  for (const auto& [key, value] : body.items()) {
    const std::string at = Member("$", key);
    if (key == "value") {
      if (!value.is_array()) {
        out.push_back(at + ": expected an array (Collection(graph." + ShortName(item_type) +
                      ")), got " + Kind(value));
        continue;
      }
      for (size_t i = 0; i < value.size(); ++i)
        CheckObject(value[i], item_type, at + "[" + std::to_string(i) + "]", false, &out);
    } else if (key == "@odata.nextLink" || key == "@odata.deltaLink" || key == "@odata.context") {
      if (!value.is_string()) out.push_back(at + ": expected a string, got " + Kind(value));
    } else if (key == "@odata.count") {
      if (!value.is_number_integer())
        out.push_back(at + ": expected an integer, got " + Kind(value));
    } else {
      out.push_back(at + ": no property '" + key + "' on a collection answer");
    }
  }
  if (body.contains("@odata.nextLink") && body.contains("@odata.deltaLink"))
    out.push_back("$: both @odata.nextLink and @odata.deltaLink (a page has one or the other)");
  return out;
}

std::vector<std::string> GraphSchema::Check(const json& body, const std::string& type) const {
  if (type == "odata.error") return CheckError(body);
  std::string item;
  if (IsCollection(type, &item)) return CheckCollection(body, item);
  if (type.rfind("action:", 0) == 0) {
    const std::string name = type.substr(7);
    auto it = actions_.find(name);
    if (it == actions_.end()) return {"$: unknown action " + name};
    if (!body.is_object())
      return {"$: expected an object (parameters of " + name + "), got " + Kind(body)};
    std::vector<std::string> out;
    for (const auto& [key, value] : body.items()) {
      auto p = it->second.find(key);
      if (p == it->second.end()) {
        out.push_back(Member("$", key) + ": no parameter '" + key + "' of action " + name);
        continue;
      }
      CheckValue(value, p->second, Member("$", key), &out);
    }
    return out;
  }
  std::vector<std::string> out;
  CheckObject(body, type, "$", true, &out);
  return out;
}

namespace {

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  for (std::string s; std::getline(in, s, '/');)
    if (!s.empty()) out.push_back(s);
  return out;
}

// The operation an item address ends in ("" for the item itself): "children", "content",
// "delta", "createUploadSession", … ("microsoft.graph." and "(…)" dropped).
std::string ItemSuffix(const std::string& rest) {
  // Path addressing: "root:/a/b:" then "/suffix"; an address may end without the colon.
  std::string tail;
  const size_t first = rest.find(':');
  if (first != std::string::npos) {
    const size_t second = rest.find(':', first + 1);
    if (second == std::string::npos) return "";
    tail = rest.substr(second + 1);
  } else {
    std::vector<std::string> seg = Segments(rest);
    size_t skip = 0;
    if (!seg.empty() && seg[0] == "root")
      skip = 1;
    else if (seg.size() >= 2 && (seg[0] == "items" || seg[0] == "special"))
      skip = 2;
    else if (!seg.empty() && (seg[0].rfind("recent", 0) == 0 || seg[0].rfind("search", 0) == 0 ||
                              seg[0].rfind("sharedWithMe", 0) == 0))
      skip = 0;  // functions bound to the drive
    else
      return "?";
    for (size_t i = skip; i < seg.size(); ++i) tail += "/" + seg[i];
  }
  std::vector<std::string> seg = Segments(tail);
  if (seg.empty()) return "";
  std::string s = seg[0];
  if (s.rfind("microsoft.graph.", 0) == 0) s = s.substr(16);
  if (const size_t paren = s.find('('); paren != std::string::npos) s = s.substr(0, paren);
  return seg.size() == 1 ? s : s + "/" + seg[1];
}

}  // namespace

std::string GraphTypeForRequest(const std::string& method, const std::string& path_in, int status,
                                bool is_request) {
  std::string path = path_in.substr(0, path_in.find('?'));
  // Identity endpoints (their JSON is OAuth's, not Graph's) and unanswered requests.
  if (path.find("/oauth2/") != std::string::npos || path == "/devicelogin") return "";
  if (!is_request && status == 0) return "";
  if (!is_request && status >= 400) return "odata.error";
  if (path.rfind("/download/", 0) == 0) return "";
  if (path.rfind("/upload/session/", 0) == 0) {
    if (is_request) return "";  // fragment bytes
    if (method == "DELETE") return "";
    if (method == "PUT" && (status == 200 || status == 201)) return "driveItem";
    return "uploadSession";
  }
  if (path.rfind("/v1.0/", 0) != 0) return "";
  std::string rest = path.substr(5);
  if (rest.rfind("/drives/", 0) == 0) {
    const size_t end = rest.find('/', 8);
    rest = "/me/drive" + (end == std::string::npos ? "" : rest.substr(end));
  }
  if (rest == "/subscriptions" || rest == "/subscriptions/") {
    if (method == "POST") return "subscription";
    if (method == "GET" && !is_request) return "Collection(subscription)";
    return "";
  }
  if (rest.rfind("/subscriptions/", 0) == 0) {
    if (method == "PATCH") return "subscription";
    if (method == "GET" && !is_request) return "subscription";
    return "";
  }
  if (rest == "/me/drive" || rest == "/me/drive/") return is_request ? "" : "drive";
  if (rest == "/me/drive/quota") return is_request ? "" : "quota";
  if (rest.rfind("/me/drive/", 0) != 0) return "";
  const std::string suffix = ItemSuffix(rest.substr(10));
  if (suffix.empty()) {
    if (method == "PATCH") return "driveItem";
    if (method == "GET" && !is_request) return "driveItem";
    return "";
  }
  if (suffix == "children") {
    if (method == "POST") return "driveItem";
    if (method == "GET" && !is_request) return "Collection(driveItem)";
    return "";
  }
  if (suffix == "content") return method == "PUT" && !is_request ? "driveItem" : "";
  if (suffix == "createUploadSession")
    return method != "POST" ? "" : is_request ? "action:createUploadSession" : "uploadSession";
  if (suffix == "delta" || suffix == "search" || suffix == "recent" || suffix == "sharedWithMe")
    return method == "GET" && !is_request ? "Collection(driveItem)" : "";
  if (suffix == "copy") return is_request && method == "POST" ? "action:copy" : "";
  if (suffix == "restore")
    return method != "POST" ? "" : is_request ? "action:restore" : "driveItem";
  return "";  // permanentDelete, thumbnails, … : no body, or not a type this file carries
}

}  // namespace jsync::testing
