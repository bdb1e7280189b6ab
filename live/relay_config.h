// Which relays a journal uses on this device, kept in the home's store (meta), never in the
// cloud: a relay address tells nothing secret, but it is the user's choice per device.
#pragma once

#include <string>
#include <vector>

#include "core/store/store.h"

namespace jsync::live {

struct RelayConfig {
  std::vector<std::string> urls;  // tried in order; empty: relay off (polling only)
  bool presence = false;          // announce this device online/offline (opt-in)
};

Result<RelayConfig> LoadRelayConfig(store::Store& store);
Status SaveRelayConfig(store::Store& store, const RelayConfig& config);
// kInvalid naming the problem unless `url` is ws:// or wss:// with a host.
Status CheckRelayUrl(const std::string& url);
// Which other devices the running watcher hears online (relay presence), for `jsync status`;
// the watcher rewrites it when that changes and empties it when it stops.
Status SaveOnlineDevices(store::Store& store, const std::vector<DeviceId>& devices);
Result<std::vector<DeviceId>> LoadOnlineDevices(store::Store& store);

// The provider webhook address on the relay behind `relay_url`: http(s)://host[:port]/v1/hook/H.
std::string HookUrl(const std::string& relay_url, const std::string& hook_hex);

}  // namespace jsync::live
