// Every request the Google Drive plugin makes is valid against Google's Drive v3 discovery
// document (tests/data/drive-v3-discovery.json): the plugin runs a representative workload
// against the emulator (`jsync-emulator gdrive --request-log FILE`), then each logged request
// is matched to a discovery method by HTTP method and path (flatPath under servicePath, or a
// mediaUpload protocol path), and its query parameters are checked: declared for that method or
// global, value of the declared type (integer within min/max, boolean, enum), required ones
// present, `alt=media` only where media download is supported, `uploadType` only on upload
// paths, `fields` naming only properties of the response schema, and a JSON body naming only
// properties of the request schema. The test lists every violation.
//
// Protocol-level exceptions (not methods in the document): PUTs on a resumable upload session
// URI (`upload_id`), which Drive's upload protocol defines; the emulator's OAuth endpoints.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "host/plugin_loader.h"
#include "tests/support/direct_instance.h"
#include "tests/support/linked_account.h"
#include "tests/support/gdrive_emulator.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using nlohmann::json;

#if defined(JSYNC_EMULATOR_BINARY) && defined(JSYNC_DRIVE_DISCOVERY) && defined(JSYNC_GDRIVE_PLUGIN)
constexpr bool kHaveEverything = true;
#else
constexpr bool kHaveEverything = false;
#endif
#ifndef JSYNC_DRIVE_DISCOVERY
#define JSYNC_DRIVE_DISCOVERY ""
#endif
#ifndef JSYNC_GDRIVE_PLUGIN
#define JSYNC_GDRIVE_PLUGIN ""
#endif

// ---- the discovery document -----------------------------------------------------------------

struct Method {
  std::string id;  // "drive.files.list"
  std::string http_method;
  std::vector<std::string> templates;  // absolute paths: "/drive/v3/files/{fileId}", uploads
  std::vector<std::string> upload_templates;
  const json* def = nullptr;
};

class Discovery {
 public:
  explicit Discovery(const std::string& file) {
    std::ifstream in(file);
    doc_ = json::parse(in, nullptr, false);
    if (!doc_.is_object()) return;
    service_path_ = "/" + doc_.value("servicePath", "");  // "/drive/v3/"
    Collect(doc_["resources"]);
  }
  bool ok() const { return doc_.is_object() && !methods_.empty(); }
  const json& doc() const { return doc_; }
  const std::vector<Method>& methods() const { return methods_; }

  // The schema object named by a {"$ref": ...} (or the object itself).
  const json* Resolve(const json& schema) const {
    if (schema.contains("$ref")) {
      const std::string ref = schema["$ref"];
      if (!doc_["schemas"].contains(ref)) return nullptr;
      return &doc_["schemas"][ref];
    }
    return &schema;
  }

 private:
  void Collect(const json& resources) {
    for (const auto& [name, res] : resources.items()) {
      if (res.contains("methods")) {
        for (const auto& [mname, m] : res["methods"].items()) {
          Method method;
          method.id = m.value("id", name + "." + mname);
          method.http_method = m.value("httpMethod", "");
          method.templates.push_back(service_path_ + m.value("flatPath", m.value("path", "")));
          if (m.contains("path")) method.templates.push_back(service_path_ + m.value("path", ""));
          if (m.contains("mediaUpload")) {
            for (const auto& [proto, p] : m["mediaUpload"]["protocols"].items()) {
              method.upload_templates.push_back(p.value("path", ""));
            }
          }
          method.def = &m;
          methods_.push_back(std::move(method));
        }
      }
      if (res.contains("resources")) Collect(res["resources"]);
    }
  }
  json doc_;
  std::string service_path_;
  std::vector<Method> methods_;
};

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string seg;
  while (std::getline(ss, seg, '/')) {
    if (!seg.empty()) out.push_back(seg);
  }
  return out;
}

// Matches "/drive/v3/files/{fileId}" against "/drive/v3/files/abc"; path params into *params.
bool MatchTemplate(const std::string& tmpl, const std::string& path,
                   std::map<std::string, std::string>* params) {
  const auto t = Segments(tmpl), p = Segments(path);
  if (t.size() != p.size()) return false;
  std::map<std::string, std::string> got;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].size() > 2 && t[i].front() == '{' && t[i].back() == '}') {
      std::string name = t[i].substr(1, t[i].size() - 2);
      if (!name.empty() && name[0] == '+') name = name.substr(1);
      got[name] = p[i];
    } else if (t[i] != p[i]) {
      return false;
    }
  }
  *params = std::move(got);
  return true;
}

// Splits a fields mask at top-level commas: "a,b(c,d)" -> {"a", "b(c,d)"}.
std::vector<std::string> TopLevel(const std::string& mask) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string cur;
  for (char c : mask) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

// Checks a fields mask against a schema; problems appended.
void CheckMask(const Discovery& d, const std::string& mask, const json* schema,
               const std::string& where, std::vector<std::string>* problems) {
  if (schema == nullptr) return;
  for (const std::string& part : TopLevel(mask)) {
    const size_t paren = part.find('(');
    std::string head = part.substr(0, paren);
    if (head == "*") continue;
    // "a/b" selects a sub-field.
    const json* s = schema;
    std::stringstream ss(head);
    std::string name;
    bool ok = true;
    while (std::getline(ss, name, '/')) {
      if (s == nullptr || !s->contains("properties") || !(*s)["properties"].contains(name)) {
        problems->push_back(where + ": fields names '" + name + "', not a property there");
        ok = false;
        break;
      }
      const json& prop = (*s)["properties"][name];
      s = prop.contains("items") ? d.Resolve(prop["items"]) : d.Resolve(prop);
    }
    if (ok && paren != std::string::npos && part.back() == ')') {
      CheckMask(d, part.substr(paren + 1, part.size() - paren - 2), s, where, problems);
    }
  }
}

// Checks one value against a parameter definition.
void CheckValue(const json& def, const std::string& name, const std::string& value,
                const std::string& where, std::vector<std::string>* problems) {
  const std::string type = def.value("type", "string");
  if (type == "integer") {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(value, &used);
    } catch (...) {
      used = 0;
    }
    if (value.empty() || used != value.size()) {
      problems->push_back(where + ": " + name + "=" + value + " is not an integer");
      return;
    }
    if (def.contains("minimum") && v < std::stoll(def["minimum"].get<std::string>())) {
      problems->push_back(where + ": " + name + "=" + value + " is below the minimum");
    }
    if (def.contains("maximum") && v > std::stoll(def["maximum"].get<std::string>())) {
      problems->push_back(where + ": " + name + "=" + value + " is above the maximum");
    }
  } else if (type == "boolean") {
    if (value != "true" && value != "false") {
      problems->push_back(where + ": " + name + "=" + value + " is not a boolean");
    }
  }
  if (def.contains("enum")) {
    bool found = false;
    for (const auto& e : def["enum"]) found = found || e == value;
    if (!found) problems->push_back(where + ": " + name + "=" + value + " is not in its enum");
  }
}

struct LoggedRequest {
  std::string method, path, content_type;
  std::vector<std::pair<std::string, std::string>> query;
  json body;
  std::string Describe() const {
    std::string s = method + " " + path;
    for (size_t i = 0; i < query.size(); ++i) {
      s += (i ? "&" : "?") + query[i].first + "=" + query[i].second.substr(0, 60);
    }
    return s;
  }
};

std::vector<LoggedRequest> ReadLog(const std::string& file) {
  std::vector<LoggedRequest> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    LoggedRequest r;
    r.method = j.value("method", "");
    r.path = j.value("path", "");
    if (j.contains("content_type") && j["content_type"].is_string())
      r.content_type = j["content_type"];
    if (j.contains("query") && j["query"].is_object()) {
      for (const auto& [k, v] : j["query"].items()) {
        if (v.is_array()) {
          for (const auto& x : v)
            r.query.emplace_back(k, x.is_string() ? x.get<std::string>() : x.dump());
        } else {
          r.query.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
        }
      }
    }
    if (j.contains("body_json")) r.body = j["body_json"];
    out.push_back(std::move(r));
  }
  return out;
}

// All problems of one request ("" list: valid). *matched gets the method id.
std::vector<std::string> Validate(const Discovery& d, const LoggedRequest& r,
                                  std::string* matched) {
  std::vector<std::string> problems;
  const std::string where = r.Describe();
  std::map<std::string, std::string> qmap;
  for (const auto& [k, v] : r.query) {
    if (qmap.count(k)) problems.push_back(where + ": parameter " + k + " given twice");
    qmap[k] = v;
  }
  const bool upload_path = r.path.starts_with("/upload/") || r.path.starts_with("/resumable/");
  // A resumable session URI: PUT with upload_id (the upload protocol, not a discovery method).
  if (upload_path && qmap.count("upload_id")) {
    *matched = "(resumable upload session)";
    if (r.method != "PUT" && r.method != "POST") {
      problems.push_back(where + ": a session takes PUT, not " + r.method);
    }
    if (qmap["uploadType"] != "resumable") {
      problems.push_back(where + ": a session URI without uploadType=resumable");
    }
    return problems;
  }
  const Method* method = nullptr;
  std::map<std::string, std::string> path_params;
  for (const Method& m : d.methods()) {
    if (m.http_method != r.method) continue;
    const auto& templates = upload_path ? m.upload_templates : m.templates;
    for (const std::string& t : templates) {
      std::map<std::string, std::string> params;
      // Google's clients send resumable uploads to the simple path with uploadType=resumable.
      if (MatchTemplate(t, r.path, &params)) {
        method = &m;
        path_params = params;
        break;
      }
    }
    if (method != nullptr) break;
  }
  if (method == nullptr) {
    problems.push_back(where + ": no discovery method has this HTTP method and path");
    return problems;
  }
  *matched = method->id;
  const json& def = *method->def;
  const json& globals = d.doc()["parameters"];
  const json empty = json::object();
  const json& params = def.contains("parameters") ? def["parameters"] : empty;
  for (const auto& [k, v] : qmap) {
    const json* pdef = nullptr;
    if (params.contains(k) && params[k].value("location", "query") == "query") {
      pdef = &params[k];
    } else if (globals.contains(k)) {
      pdef = &globals[k];
    }
    if (pdef == nullptr) {
      problems.push_back(where + ": " + k + " is not a parameter of " + method->id);
      continue;
    }
    CheckValue(*pdef, k, v, where, &problems);
  }
  for (const auto& [k, p] : params.items()) {
    if (!p.value("required", false)) continue;
    const bool in_path = p.value("location", "query") == "path";
    if (in_path ? path_params[k].empty() : !qmap.count(k)) {
      problems.push_back(where + ": required parameter " + k + " of " + method->id + " missing");
    }
  }
  if (qmap.count("alt") && qmap["alt"] == "media" && !def.value("supportsMediaDownload", false)) {
    problems.push_back(where + ": alt=media on " + method->id + ", which has no media download");
  }
  if (upload_path) {
    static const std::set<std::string> kUploadTypes = {"media", "multipart", "resumable"};
    if (!kUploadTypes.count(qmap["uploadType"])) {
      problems.push_back(where + ": an upload path needs uploadType media|multipart|resumable");
    }
  } else if (qmap.count("uploadType")) {
    problems.push_back(where + ": uploadType on a metadata path");
  }
  if (qmap.count("fields") && def.contains("response")) {
    CheckMask(d, qmap["fields"], d.Resolve(def["response"]), where, &problems);
  }
  if (r.body.is_object() && def.contains("request")) {
    const json* schema = d.Resolve(def["request"]);
    for (const auto& [k, v] : r.body.items()) {
      if (schema != nullptr && !(*schema)["properties"].contains(k)) {
        problems.push_back(where + ": the body's " + k + " is not a property of the request");
      }
    }
  }
  return problems;
}

// ---- the workload -----------------------------------------------------------------------------

TEST(GdriveDiscovery, EveryPluginRequestIsValidAgainstTheDiscoveryDocument) {
  if (!kHaveEverything) GTEST_SKIP() << "built without the emulator or the gdrive plugin";
  Discovery discovery(JSYNC_DRIVE_DISCOVERY);
  ASSERT_TRUE(discovery.ok()) << "cannot read " << JSYNC_DRIVE_DISCOVERY;
  std::string error;
  auto emu = testing::GdriveEmulator::Start(std::vector<std::string>{"--device-interval", "0"},
                                           &error);
  ASSERT_NE(emu, nullptr) << error;
  auto plugin = provider::LoadPlugin(JSYNC_GDRIVE_PLUGIN);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  testing::TempDir home;  // the account is linked through auth/, as `jsync link` does
  auto creds = gdrive_testing::LinkEmulatorAccount(*plugin, emu->base_url(), home.path().string());
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  const std::string config = json{
      {"api_base", emu->base_url()},
      {"resumable_threshold", "65536"},
      {"page_size", "3"}}.dump();
  auto opened = gdrive_testing::DirectInstance::Open(*plugin, "journal-a", config, *creds);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& p = **opened;
  p.http().set_fault_plan(std::nullopt);
  jsync_error err{-1, {0}};

  std::string cursor;
  gdrive_testing::DirectInstance::Page page;
  ASSERT_EQ(p.Changes("", &page, &err), JSYNC_OK) << err.message;
  cursor = page.next;
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(
        p.Put("changes/dev/" + std::to_string(i) + ".jsc", "small " + std::to_string(i), &err),
        JSYNC_OK)
        << err.message;
  }
  ASSERT_EQ(p.Put("changes/dev/0.jsc", "small 0", &err), JSYNC_OK) << err.message;  // a retry
  EXPECT_EQ(p.Put("changes/dev/0.jsc", "other", &err), JSYNC_EXISTS) << err.message;
  const std::string big(300 * 1024, 'b');
  ASSERT_EQ(p.Put("snapshots/big", big, &err), JSYNC_OK) << err.message;
  std::string got;
  ASSERT_EQ(p.Get("changes/dev/3.jsc", &got, &err), JSYNC_OK) << err.message;
  EXPECT_EQ(got, "small 3");
  ASSERT_EQ(p.Get("snapshots/big", &got, &err, 1000, 5000), JSYNC_OK) << err.message;
  EXPECT_EQ(got, big.substr(1000, 5000));
  std::vector<provider::ObjectInfo> all;
  ASSERT_EQ(p.ListAll("changes/", &all, &err), JSYNC_OK) << err.message;
  EXPECT_EQ(all.size(), 8u);
  ASSERT_EQ(p.Remove("changes/dev/7.jsc", &err), JSYNC_OK) << err.message;
  ASSERT_EQ(p.Changes(cursor, &page, &err), JSYNC_OK) << err.message;
  EXPECT_GE(page.objects.size(), 8u);
  // A version-3 host hears of a refused token and lists itself (older hosts get a listing).
  EXPECT_EQ(p.Changes("no-such-token", &page, &err), JSYNC_NOT_FOUND_CURSOR_EXPIRED) << err.message;
  EXPECT_EQ(p.Watch("https://example.invalid/jsync-hook", &err), JSYNC_OK) << err.message;
  uint64_t used = 0, total = 0;
  ASSERT_EQ(p.Quota(&used, &total, &err), JSYNC_OK) << err.message;

  const auto requests = ReadLog(emu->request_log_path().string());
  ASSERT_FALSE(requests.empty()) << "the emulator logged no requests";
  std::vector<std::string> problems;
  std::map<std::string, int> by_method;
  for (const LoggedRequest& r : requests) {
    if (!r.path.starts_with("/drive/") && !r.path.starts_with("/upload/") &&
        !r.path.starts_with("/resumable/")) {
      continue;  // OAuth endpoints: not part of the Drive API
    }
    std::string matched;
    for (auto& problem : Validate(discovery, r, &matched)) problems.push_back(std::move(problem));
    ++by_method[matched.empty() ? "(unmatched)" : matched];
  }
  std::string summary;
  for (const auto& [m, n] : by_method) summary += "\n  " + m + ": " + std::to_string(n);
  RecordProperty("methods", summary);
  // The workload must have exercised the calls the plugin makes.
  for (const char* m :
       {"drive.files.list", "drive.files.create", "drive.files.get", "drive.files.delete",
        "drive.files.generateIds", "drive.changes.list", "drive.changes.getStartPageToken",
        "drive.changes.watch", "drive.about.get", "(resumable upload session)"}) {
    EXPECT_GT(by_method[m], 0) << "the workload made no " << m << " request:" << summary;
  }
  std::string all_problems;
  for (const auto& s : problems) all_problems += "\n  " + s;
  EXPECT_TRUE(problems.empty()) << problems.size() << " invalid requests:" << all_problems
                                << "\nrequests by method:" << summary;
}

}  // namespace
}  // namespace jsync
