// Device file: a device's encrypted self-description (name, platform), so other devices can
// show who wrote what. Version 2 also publishes the device's public keys (Ed25519 for
// signatures, X25519 for key wraps) and is signed by the device (docs/decisions/0036).
// Version 1 (no keys, unsigned) is still read. Byte layout in docs/formats.md.
#pragma once

#include <string>

#include "core/crypto/asym.h"
#include "core/format/change_file.h"

namespace jsync::format {

inline constexpr char kDeviceMagic[8] = {'J', 'S', 'Y', 'N', 'C', 'D', 'E', 'V'};
inline constexpr uint16_t kDeviceVersion = 1;    // unsigned, no public keys: still read
inline constexpr uint16_t kDeviceVersionV2 = 2;  // what this build writes
inline constexpr std::string_view kDeviceSignatureLabel = "device file v2";
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
  // Version 2 only. `revision` grows with each new file of the device (a rename, the upgrade
  // from version 1); readers take the newest valid one. `signed_from`: the first seq of this
  // device whose change file is signed (earlier ones were written before the upgrade).
  uint16_t version = kDeviceVersionV2;
  uint32_t revision = 1;
  crypto::PublicKey sign_pub{};
  crypto::PublicKey agree_pub{};
  uint64_t signed_from = 1;
};

// The device's own secret keys (core/journal/device_key.h keeps them in the home).
struct DeviceKeys {
  crypto::KeyPair sign;   // Ed25519
  crypto::KeyPair agree;  // X25519
};

// Version 1 (kept for tests of legacy journals).
Result<Bytes> SealDeviceFile(const crypto::SecretKey& master, const DeviceInfo& info);
// Version 2: `info`'s public keys are replaced by `keys`' and the file is signed with them.
Result<Bytes> SealDeviceFileV2(const crypto::SecretKey& master, const DeviceInfo& info,
                               const DeviceKeys& keys);
// The key id a device file is encrypted under, read without a key (nullopt: not a device file).
std::optional<KeyId> DeviceFileKeyId(ByteSpan file);
// Authenticates and decodes; a version 2 file must carry a valid signature by the key it
// publishes. Checks nothing against expectations (the caller compares ids and pinned keys).
Result<DeviceInfo> OpenDeviceFile(const crypto::SecretKey& master, ByteSpan file);

}  // namespace jsync::format
