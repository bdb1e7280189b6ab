#include "core/sync/remote_layout.h"

#include <cstdio>
#include <cstdlib>

namespace jsync::sync {
namespace {

std::string Seq16(uint64_t seq) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(seq));
  return buf;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string JournalRoot(const JournalId& j) { return kJournalDirPrefix + JournalIdHex(j) + "/"; }
std::string KeysPrefix(const JournalId& j) { return JournalRoot(j) + "keys/"; }
std::string KeyPath(const JournalId& j, format::KeyId k) {
  return KeysPrefix(j) + format::KeyIdHex(k) + ".jkey";
}
std::string DevicesPrefix(const JournalId& j) { return JournalRoot(j) + "devices/"; }
std::string DevicePath(const JournalId& j, DeviceId d) {
  return DevicesPrefix(j) + DeviceIdHex(d) + ".jdev";
}
std::string ChangesPrefix(const JournalId& j) { return JournalRoot(j) + "changes/"; }
std::string DeviceChangesPrefix(const JournalId& j, DeviceId d) {
  return ChangesPrefix(j) + DeviceIdHex(d) + "/";
}
std::string ChangePath(const JournalId& j, DeviceId d, uint64_t seq) {
  return DeviceChangesPrefix(j, d) + Seq16(seq) + ".jchg";
}

std::optional<ChangeName> ParseChangePath(const JournalId& j, const std::string& path) {
  const std::string prefix = ChangesPrefix(j);
  // <16 hex>/<16 hex>.jchg
  if (!path.starts_with(prefix) || path.size() != prefix.size() + 16 + 1 + 16 + 5) {
    return std::nullopt;
  }
  std::string_view rest(path.data() + prefix.size(), path.size() - prefix.size());
  std::string_view dev = rest.substr(0, 16), seq = rest.substr(17, 16);
  if (rest[16] != '/' || rest.substr(33) != ".jchg" || !IsLowerHex(dev) || !IsLowerHex(seq)) {
    return std::nullopt;
  }
  auto device = ParseDeviceId(dev);
  uint64_t s = std::strtoull(std::string(seq).c_str(), nullptr, 16);
  if (!device.ok() || s == 0) return std::nullopt;
  return ChangeName{*device, s};
}

std::optional<DeviceId> ParseDevicePath(const JournalId& j, const std::string& path) {
  const std::string prefix = DevicesPrefix(j);
  if (!path.starts_with(prefix) || path.size() != prefix.size() + 16 + 5 ||
      !path.ends_with(".jdev")) {
    return std::nullopt;
  }
  std::string_view dev(path.data() + prefix.size(), 16);
  if (!IsLowerHex(dev)) return std::nullopt;
  auto device = ParseDeviceId(dev);
  if (!device.ok()) return std::nullopt;
  return *device;
}

std::optional<JournalId> ParseJournalRoot(const std::string& path) {
  const size_t len = std::string(kJournalDirPrefix).size();
  if (!path.starts_with(kJournalDirPrefix) || path.size() < len + 33 || path[len + 32] != '/') {
    return std::nullopt;
  }
  std::string_view hex(path.data() + len, 32);
  if (!IsLowerHex(hex)) return std::nullopt;
  auto id = ParseJournalId(hex);
  if (!id.ok()) return std::nullopt;
  return *id;
}

}  // namespace jsync::sync
