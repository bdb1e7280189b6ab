// Device file v1: a device's encrypted self-description (name, platform), so other devices
// can show who wrote what. Byte layout in docs/formats.md.
#pragma once

#include <string>

#include "core/format/change_file.h"

namespace jsync::format {

inline constexpr char kDeviceMagic[8] = {'J', 'S', 'Y', 'N', 'C', 'D', 'E', 'V'};
inline constexpr uint16_t kDeviceVersion = 1;
// A larger device file is refused before it is read (a device's name and platform are short).
inline constexpr size_t kMaxDeviceFileSize = 64u << 10;

struct DeviceInfo {
  JournalId journal{};
  DeviceId device = 0;
  KeyId key_id = 0;
  std::string name;
  std::string platform;
  uint64_t created_ms = 0;
  // The provider the device syncs through ("folder", "icloud-drive"); "" in files written
  // before it was recorded. A journal keeps to one kind of storage: a join through another
  // provider is refused (Journal::Init).
  std::string provider;
};

Result<Bytes> SealDeviceFile(const crypto::SecretKey& master, const DeviceInfo& info);
// Authenticates and decodes; checks nothing against expectations (the caller compares ids).
Result<DeviceInfo> OpenDeviceFile(const crypto::SecretKey& master, ByteSpan file);

}  // namespace jsync::format
