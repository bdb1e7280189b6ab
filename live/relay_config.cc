#include "live/relay_config.h"

#include <nlohmann/json.hpp>

#include "core/util/escape.h"
#include "net/ws_client.h"

namespace jsync::live {
namespace {
constexpr const char* kMeta = "relay_config";
constexpr const char* kOnlineMeta = "relay_online";
}  // namespace

Result<RelayConfig> LoadRelayConfig(store::Store& store) {
  RelayConfig config;
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kMeta));
  if (!text) return config;
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Fatal("the stored relay configuration is damaged");
  if (auto u = j.find("urls"); u != j.end() && u->is_array()) {
    for (const auto& url : *u) {
      if (url.is_string()) config.urls.push_back(url.get<std::string>());
    }
  }
  if (auto p = j.find("presence"); p != j.end() && p->is_boolean()) config.presence = *p;
  return config;
}

Status SaveRelayConfig(store::Store& store, const RelayConfig& config) {
  nlohmann::json j = {{"urls", config.urls}, {"presence", config.presence}};
  return store.SetMeta(kMeta, j.dump());
}

Status SaveOnlineDevices(store::Store& store, const std::vector<DeviceId>& devices) {
  nlohmann::json j = nlohmann::json::array();
  for (DeviceId d : devices) j.push_back(DeviceIdHex(d));
  return store.SetMeta(kOnlineMeta, j.dump());
}

Result<std::vector<DeviceId>> LoadOnlineDevices(store::Store& store) {
  std::vector<DeviceId> out;
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kOnlineMeta));
  if (!text) return out;
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& d : j) {
    if (!d.is_string()) continue;
    if (auto id = ParseDeviceId(d.get<std::string>()); id.ok()) out.push_back(*id);
  }
  return out;
}

Status CheckRelayUrl(const std::string& url) {
  const std::string shown = EscapeForDisplay(url);
  const bool tls = url.starts_with("wss://");
  if (!tls && !url.starts_with("ws://")) {
    return Status::Invalid("relay address " + shown + " must start with ws:// or wss://");
  }
  const std::string rest = url.substr(tls ? 6 : 5);
  if (rest.empty() || rest[0] == '/' || rest[0] == ':') {
    return Status::Invalid("relay address " + shown + " names no host");
  }
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '?' || c == '#' || c == '@') {
      return Status::Invalid("relay address " + shown +
                             " must be scheme://host[:port][/path] without spaces, user, "
                             "query or fragment");
    }
  }
  // What the client will connect to must parse as it parses it (port range, host characters).
  if (auto parsed = net::ParseWsUrl(url); !parsed.ok()) {
    return Status::Invalid("relay address " + shown + " is not usable: " +
                           parsed.status().message());
  }
  return Status::Ok();
}

std::string HookUrl(const std::string& relay_url, const std::string& hook_hex) {
  std::string base = relay_url.starts_with("wss://") ? "https://" + relay_url.substr(6)
                                                     : "http://" + relay_url.substr(5);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/v1/hook/" + hook_hex;
}

}  // namespace jsync::live
