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

std::optional<format::KeyId> ParseKeyFilePath(const JournalId& j, const std::string& path) {
  const std::string prefix = KeysPrefix(j);
  if (!path.starts_with(prefix) || path.size() != prefix.size() + 16 + 5) return std::nullopt;
  const std::string hex = path.substr(prefix.size(), 16);
  if (hex.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  const format::KeyId id = std::strtoull(hex.c_str(), nullptr, 16);
  if (KeyPath(j, id) != path) return std::nullopt;
  return id;
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

std::string SegmentPath(const JournalId& j, DeviceId d, uint64_t first, uint64_t last) {
  return DeviceChangesPrefix(j, d) + Seq16(first) + "-" + Seq16(last) + ".jseg";
}

std::optional<SegmentName> ParseSegmentPath(const JournalId& j, const std::string& path) {
  const std::string prefix = ChangesPrefix(j);
  // <16 hex>/<16 hex>-<16 hex>.jseg
  if (!path.starts_with(prefix) || path.size() != prefix.size() + 16 + 1 + 16 + 1 + 16 + 5) {
    return std::nullopt;
  }
  std::string_view rest(path.data() + prefix.size(), path.size() - prefix.size());
  std::string_view dev = rest.substr(0, 16), first = rest.substr(17, 16), last = rest.substr(34, 16);
  if (rest[16] != '/' || rest[33] != '-' || rest.substr(50) != ".jseg" || !IsLowerHex(dev) ||
      !IsLowerHex(first) || !IsLowerHex(last)) {
    return std::nullopt;
  }
  auto device = ParseDeviceId(dev);
  uint64_t a = std::strtoull(std::string(first).c_str(), nullptr, 16);
  uint64_t b = std::strtoull(std::string(last).c_str(), nullptr, 16);
  if (!device.ok() || a == 0 || b <= a) return std::nullopt;
  return SegmentName{*device, a, b};
}

std::string SnapshotsPrefix(const JournalId& j) { return JournalRoot(j) + "snapshots/"; }
std::string SnapshotPath(const JournalId& j, DeviceId d, uint64_t hlc) {
  return SnapshotsPrefix(j) + DeviceIdHex(d) + "-" + Seq16(hlc) + ".jsnap";
}

std::optional<SnapshotName> ParseSnapshotPath(const JournalId& j, const std::string& path) {
  const std::string prefix = SnapshotsPrefix(j);
  if (!path.starts_with(prefix) || path.size() != prefix.size() + 16 + 1 + 16 + 6) {
    return std::nullopt;
  }
  std::string_view rest(path.data() + prefix.size(), path.size() - prefix.size());
  std::string_view dev = rest.substr(0, 16), hlc = rest.substr(17, 16);
  if (rest[16] != '-' || rest.substr(33) != ".jsnap" || !IsLowerHex(dev) || !IsLowerHex(hlc)) {
    return std::nullopt;
  }
  auto device = ParseDeviceId(dev);
  uint64_t h = std::strtoull(std::string(hlc).c_str(), nullptr, 16);
  if (!device.ok() || h == 0) return std::nullopt;
  return SnapshotName{*device, h};
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

std::string DeviceRevisionPath(const JournalId& j, DeviceId d, uint32_t rev) {
  if (rev <= 1) return DevicePath(j, d);
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", rev);
  return DevicesPrefix(j) + DeviceIdHex(d) + "-" + buf + ".jdev";
}

std::optional<DeviceFileName> ParseDeviceFilePath(const JournalId& j, const std::string& path) {
  if (auto d = ParseDevicePath(j, path)) return DeviceFileName{*d, 1};
  const std::string prefix = DevicesPrefix(j);
  if (!path.starts_with(prefix) || path.size() != prefix.size() + 16 + 1 + 8 + 5 ||
      !path.ends_with(".jdev") || path[prefix.size() + 16] != '-') {
    return std::nullopt;
  }
  std::string_view dev(path.data() + prefix.size(), 16);
  std::string_view rev(path.data() + prefix.size() + 17, 8);
  if (!IsLowerHex(dev) || !IsLowerHex(rev)) return std::nullopt;
  auto device = ParseDeviceId(dev);
  const uint32_t r = static_cast<uint32_t>(std::stoul(std::string(rev), nullptr, 16));
  if (!device.ok() || r < 2) return std::nullopt;
  return DeviceFileName{*device, r};
}

}  // namespace jsync::sync
