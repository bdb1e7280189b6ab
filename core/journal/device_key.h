// The device's own secret keys: <home>/device.key (mode 0600, written atomically), an Ed25519
// signing key and an X25519 key. Made at init or join, and on the first Open of a home made
// before device keys existed (docs/decisions/0036-device-keys.md).
#pragma once

#include <optional>
#include <string>

#include "core/format/device_file.h"

namespace jsync {

std::string DeviceKeyPath(const std::string& home);
Status SaveDeviceKeys(const std::string& path, const format::DeviceKeys& keys);
// nullopt when the file does not exist; kCorrupt when damaged, kFatal when others may read it.
Result<std::optional<format::DeviceKeys>> LoadDeviceKeys(const std::string& path);
// Loads the keys, or makes and saves new ones when the home has none. `created` tells which.
Result<format::DeviceKeys> LoadOrCreateDeviceKeys(const std::string& path, bool* created);

}  // namespace jsync
