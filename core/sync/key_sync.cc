#include "core/sync/key_sync.h"

#include <algorithm>
#include <cstring>

#include "core/sync/remote_layout.h"

namespace jsync::sync {
namespace {

std::string PinMeta(DeviceId device) { return "device_pin:" + DeviceIdHex(device); }

constexpr size_t kPinSize = 32 + 32 + 8 + 4;

}  // namespace

Result<std::optional<PinnedDevice>> LoadPin(store::Store& store, DeviceId device) {
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(PinMeta(device)));
  if (!text) return std::optional<PinnedDevice>();
  auto bytes = FromHex(*text);
  if (!bytes.ok() || bytes->size() != kPinSize) {
    return Status::Corrupt("local database has a malformed key pin for device " +
                           DeviceIdHex(device));
  }
  ByteReader r(*bytes);
  PinnedDevice pin;
  pin.sign_pub = r.Array<32>();
  pin.agree_pub = r.Array<32>();
  pin.signed_from = r.U64();
  pin.revision = r.U32();
  return std::optional<PinnedDevice>(pin);
}

Status SavePin(store::Store& store, DeviceId device, const PinnedDevice& pin) {
  ByteWriter w;
  w.Raw(pin.sign_pub);
  w.Raw(pin.agree_pub);
  w.U64(pin.signed_from);
  w.U32(pin.revision);
  return store.SetMeta(PinMeta(device), ToHex(w.bytes()));
}

Status PinFromDeviceFile(store::Store& store, const format::DeviceInfo& info) {
  if (info.version != format::kDeviceVersionV2) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(auto pinned, LoadPin(store, info.device));
  if (pinned) {
    if (pinned->sign_pub != info.sign_pub || pinned->agree_pub != info.agree_pub) {
      return Status::Corrupt(
          "presents other public keys than the ones device " + DeviceIdHex(info.device) +
          " published first (someone holding the journal key may be impersonating it)");
    }
    if (info.revision <= pinned->revision) return Status::Ok();
    // A later revision may not move signed_from: that would let unsigned files back in.
    pinned->revision = info.revision;
    return SavePin(store, info.device, *pinned);
  }
  return SavePin(store, info.device,
                 {info.sign_pub, info.agree_pub, info.signed_from, info.revision});
}

Result<crypto::Signature> SignAsThisDevice(const format::DeviceKeys& keys, std::string_view label,
                                           ByteSpan data) {
  return crypto::SignLabeled(keys.sign.priv, label, data);
}

Status VerifyDeviceSignature(store::Store& store, DeviceId device, std::string_view label,
                             ByteSpan data, const crypto::Signature& sig) {
  JSYNC_ASSIGN_OR_RETURN(auto pin, LoadPin(store, device));
  if (!pin) return Status::NotFound("no public key is known for device " + DeviceIdHex(device));
  if (!crypto::VerifyLabeled(pin->sign_pub, label, data, sig)) {
    return Status::Corrupt("is not signed by device " + DeviceIdHex(device) +
                           " (its signature does not verify)");
  }
  return Status::Ok();
}

Result<uint32_t> PublishOwnDeviceFile(const OwnDeviceContext& ctx, format::DeviceInfo info) {
  JSYNC_ASSIGN_OR_RETURN(auto listed, ctx.provider.List(DevicesPrefix(ctx.journal)));
  uint32_t newest = 0;
  for (const auto& o : listed) {
    auto name = ParseDeviceFilePath(ctx.journal, o.path);
    if (name && name->device == ctx.device) newest = std::max(newest, name->revision);
  }
  JSYNC_ASSIGN_OR_RETURN(auto pin, LoadPin(ctx.store, ctx.device));
  if (pin) newest = std::max(newest, pin->revision);
  info.journal = ctx.journal;
  info.device = ctx.device;
  info.key_id = ctx.key_id;
  info.version = format::kDeviceVersionV2;
  if (info.created_ms == 0) info.created_ms = ctx.now_ms;
  if (pin) info.signed_from = pin->signed_from;  // a pinned signed_from never moves
  // A name taken meanwhile (another process of this home) moves on to the next revision.
  for (int attempt = 0; attempt < 8; ++attempt) {
    info.revision = newest + 1;
    JSYNC_ASSIGN_OR_RETURN(Bytes file, format::SealDeviceFileV2(ctx.master, info, ctx.keys));
    Status put =
        ctx.provider.PutIfAbsent(DeviceRevisionPath(ctx.journal, ctx.device, info.revision), file);
    if (put.Is(Code::kExists)) {
      ++newest;
      continue;
    }
    JSYNC_RETURN_IF_ERROR(put.WithContext("uploading this device's device file"));
    JSYNC_RETURN_IF_ERROR(SavePin(ctx.store, ctx.device,
                                  {ctx.keys.sign.pub, ctx.keys.agree.pub, info.signed_from,
                                   info.revision}));
    return info.revision;
  }
  return Status::Fatal("could not find a free name for this device's device file");
}

}  // namespace jsync::sync
