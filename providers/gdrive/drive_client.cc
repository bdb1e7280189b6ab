#include "drive_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

namespace jsync_gdrive {
namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string QueryEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string WithQuery(const std::string& base, const Params& params) {
  std::string url = base;
  char sep = base.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    url.push_back(sep);
    url += QueryEscape(k) + "=" + QueryEscape(v);
    sep = '&';
  }
  return url;
}

DriveError ParseDriveError(const std::string& body) {
  DriveError e;
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return e;
  const json& error = j["error"];
  if (error.contains("message") && error["message"].is_string()) e.message = error["message"];
  if (error.contains("errors") && error["errors"].is_array() && !error["errors"].empty()) {
    const json& first = error["errors"][0];
    if (first.is_object()) {
      if (first.contains("reason") && first["reason"].is_string()) e.reason = first["reason"];
      if (first.contains("location") && first["location"].is_string()) {
        e.location = first["location"];
      }
    }
  }
  return e;
}

int FailFromResponse(const jsync_host_services* host, std::string_view what,
                     const Response& response, jsync_error* err) {
  const int status = response.status;
  const DriveError drive = ParseDriveError(response.body);
  std::string message =
      "Google Drive " + std::string(what) + ": " + jsync_plugin::HttpStatusText(status);
  if (!drive.reason.empty()) message += " (" + drive.reason + ")";
  if (!drive.message.empty()) message += ": " + drive.message;
  int code = jsync_plugin::CodeFromHttpStatus(status);
  if (code == JSYNC_OK) code = JSYNC_FATAL;  // a success the caller could not use
  const std::string& r = drive.reason;
  if (status == 401) {
    message += " — Drive refused the account's token even after a refresh; link the account again";
  } else if (status == 403) {
    if (r == "userRateLimitExceeded" || r == "rateLimitExceeded") {
      code = JSYNC_RETRYABLE_THROTTLED;
    } else if (r == "storageQuotaExceeded" || r == "quotaExceeded") {
      code = JSYNC_QUOTA_EXCEEDED;
      message += " — the Google Drive storage is full";
    } else if (r == "insufficientPermissions" || r == "insufficientScopes" ||
               r == "insufficientFilePermissions" || r == "appNotAuthorizedToFile" ||
               r == "authError") {
      code = JSYNC_AUTH_EXPIRED;
      message += " — grant journal-sync access to its app data folder (link the account again)";
    } else {
      code = JSYNC_FATAL;  // dailyLimitExceeded, item limits, ...
    }
  } else if (status == 507) {
    message += " — the Google Drive storage is full";
  }
  return jsync_plugin::FailHttp(host, code, message, response, err);
}

bool ParseFile(const void* json_object, DriveFile* out) {
  const json& j = *static_cast<const json*>(json_object);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return false;
  DriveFile f;
  f.id = j["id"];
  if (j.contains("name") && j["name"].is_string()) f.name = j["name"];
  if (j.contains("size")) {
    const json& s = j["size"];
    if (s.is_string()) {
      const std::string text = s;
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && p == text.data() + text.size()) f.size = v;
    } else if (s.is_number_unsigned() || s.is_number_integer()) {
      f.size = s.get<uint64_t>();
    }
  }
  if (j.contains("md5Checksum") && j["md5Checksum"].is_string()) {
    f.md5 = Lower(j["md5Checksum"].get<std::string>());
  }
  if (j.contains("createdTime") && j["createdTime"].is_string()) f.created_time = j["createdTime"];
  if (j.contains("trashed") && j["trashed"].is_boolean()) f.trashed = j["trashed"];
  *out = std::move(f);
  return true;
}

bool ParseInt64Value(const void* json_value, uint64_t* out) {
  const json& v = *static_cast<const json*>(json_value);
  if (v.is_number_unsigned() || v.is_number_integer()) {
    *out = v.get<uint64_t>();
    return true;
  }
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseFileText(const std::string& text, DriveFile* out) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return ParseFile(&j, out);
}

}  // namespace jsync_gdrive
