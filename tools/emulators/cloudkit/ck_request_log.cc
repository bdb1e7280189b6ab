// The --request-log: one JSON line per request answered, with every secret REDACTED (web auth
// and API tokens, pre-authenticated upload/download/courier URLs, receipts, push tokens) and
// BYTES field values (tagged BYTES, or untyped "data" / long base64 values) replaced by their
// decoded length, so tests can count requests and check
// their shapes without the log holding credentials or file contents.
#include <cctype>

#include "tools/emulators/cloudkit/ck_api.h"
#include "tools/emulators/common/util.h"

namespace jsync::emulator::cloudkit {
namespace {

bool SecretParam(const std::string& k) {
  return k == "ckWebAuthToken" || k == "ckAPIToken" || k == "ckSession" || k == "o" ||
         k == "session";
}

bool SecretKey(const std::string& k) {
  return k == "url" || k == "downloadURL" || k == "receipt" || k == "apnsToken" ||
         k == "webcourierURL" || k == "ckWebAuthToken" || k == "redirectURL";
}

int64_t Base64Length(const std::string& s) {
  size_t pad = 0;
  while (pad < s.size() && pad < 2 && s[s.size() - 1 - pad] == '=') ++pad;
  return static_cast<int64_t>(s.size() / 4 * 3) - static_cast<int64_t>(pad) +
         static_cast<int64_t>(s.size() % 4 == 0 ? 0 : (s.size() % 4) * 3 / 4);
}

bool LooksBase64(const std::string& s) {
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=')
      return false;
  return true;
}

// A record field whose value is file content: tagged BYTES, or untyped (the plugin relies on
// the deployed schema) and either named "data" (JFile's BYTES field) or long base64 text.
bool IsBytesField(const std::string& name, const nlohmann::json& f) {
  if (!f.is_object() || !f.contains("value") || !f["value"].is_string()) return false;
  const std::string type = f.value("type", "");
  if (type == "BYTES") return true;
  if (!type.empty()) return false;
  const std::string& v = f["value"].get_ref<const std::string&>();
  return LooksBase64(v) && (name == "data" || v.size() > 256);
}

void Redact(nlohmann::json* j) {
  if (j->is_object()) {
    for (auto& [k, v] : j->items()) {
      if (SecretKey(k)) {
        v = "REDACTED";
      } else if (k == "fields" && v.is_object()) {
        for (auto& [name, f] : v.items()) {
          if (IsBytesField(name, f)) {
            f["value"] = Base64Length(f["value"].get<std::string>());
          } else {
            Redact(&f);
          }
        }
      } else {
        Redact(&v);
      }
    }
  } else if (j->is_array()) {
    for (auto& v : *j) Redact(&v);
  }
}

std::string RedactPath(const std::string& path) {
  for (const char* prefix : {"/_upload/", "/_download/", "/_courier/"}) {
    const std::string p = prefix;
    if (path.rfind(p, 0) == 0) return p + "REDACTED";
  }
  return path;
}

}  // namespace

void CloudKitApi::LogRequest(const net::LocalRequest& req, const std::string& op, int64_t t_ms,
                             const net::LocalResponse& r, const Fault* fault) {
  if (!request_log_.is_open()) return;
  nlohmann::json query = nlohmann::json::object();
  for (const auto& [k, v] : net::ParseForm(req.query)) query[k] = SecretParam(k) ? "REDACTED" : v;
  std::string db;
  OpOf(req, &db);
  const bool dropped = r.drop_connection;
  nlohmann::json line = {{"t_ms", t_ms},
                         {"method", req.method},
                         {"path", RedactPath(req.path)},
                         {"op", op},
                         {"db", db},
                         {"query", query},
                         {"content_type", req.Header("content-type")},
                         {"status", dropped ? 0 : r.status},
                         {"web_token", !req.QueryParam("ckWebAuthToken").empty()}};
  if (dropped) line["dropped"] = true;
  if (fault != nullptr) line["fault"] = FaultKindName(fault->kind);
  for (const auto& [k, v] : r.headers)
    if (k == "X-Apple-CloudKit-Web-Auth-Token") line["rotated"] = true;
  if (op == "_upload") {
    line["body_bytes"] = req.body.size();
  } else if (!req.body.empty()) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (!j.is_discarded()) {
      Redact(&j);
      line["body_json"] = j;
    }
  }
  if (!dropped && op != "_download" && !r.body.empty() && r.body[0] == '{') {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_discarded()) {
      if (j.contains("retryAfter")) line["retry_after"] = j["retryAfter"];
      if (j.contains("serverErrorCode")) line["server_error_code"] = j["serverErrorCode"];
      Redact(&j);
      line["response_json"] = j;
    }
  }
  std::lock_guard lock(log_mu_);
  request_log_ << line.dump() << "\n";
  request_log_.flush();
}

}  // namespace jsync::emulator::cloudkit
