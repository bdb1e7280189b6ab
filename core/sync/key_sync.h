// What a device knows of the other devices' public keys, and the signature checks built on it
// (docs/decisions/0036-device-keys.md). Keys are pinned on first use: the first device file
// version 2 read for a device id fixes its keys; a later file or change presenting other keys
// is refused.
#pragma once

#include <optional>
#include <string_view>

#include "core/crypto/asym.h"
#include "core/format/device_file.h"
#include "core/provider/provider.h"
#include "core/store/store.h"

namespace jsync::sync {

struct PinnedDevice {
  crypto::PublicKey sign_pub{};
  crypto::PublicKey agree_pub{};
  uint64_t signed_from = 1;  // the device's change files from this seq on must be signed
  uint32_t revision = 0;     // newest device file revision applied
};

// nullopt: no version 2 device file of `device` was read yet (a legacy device, or not seen).
Result<std::optional<PinnedDevice>> LoadPin(store::Store& store, DeviceId device);
Status SavePin(store::Store& store, DeviceId device, const PinnedDevice& pin);

// Pins the keys of a version 2 device file the first time, or checks them against the pin:
// kCorrupt (a sentence completing "<file> was refused: it ...") when they differ.
Status PinFromDeviceFile(store::Store& store, const format::DeviceInfo& info);

// The reusable signature API (snapshot files and anything else a device signs): signs `data`
// as this device, and checks a signature of device `device` against its pinned key.
// kCorrupt when the signature does not verify; kNotFound when `device` has no pinned key
// (a legacy device, or its device file not read yet: the caller decides).
Result<crypto::Signature> SignAsThisDevice(const format::DeviceKeys& keys, std::string_view label,
                                           ByteSpan data);
Status VerifyDeviceSignature(store::Store& store, DeviceId device, std::string_view label,
                             ByteSpan data, const crypto::Signature& sig);

}  // namespace jsync::sync

namespace jsync::sync {

// Writes a new revision of this device's own device file (version 2, signed) after the newest
// one in the cloud, and pins its keys locally: the upgrade of a legacy device, a rename.
struct OwnDeviceContext {
  store::Store& store;
  provider::Provider& provider;
  const crypto::SecretKey& master;
  format::KeyId key_id = 0;
  JournalId journal{};
  DeviceId device = 0;
  const format::DeviceKeys& keys;
  uint64_t now_ms = 0;
};
// Fields of `info` other than the ids, keys and revision are written as given.
Result<uint32_t> PublishOwnDeviceFile(const OwnDeviceContext& ctx, format::DeviceInfo info);
// Meta key: the first seq this device signs (set when a legacy home got its device keys).
inline constexpr const char* kSignedFromMeta = "signed_from";

}  // namespace jsync::sync
