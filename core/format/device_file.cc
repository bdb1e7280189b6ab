#include "core/format/device_file.h"

#include <cstring>
#include <nlohmann/json.hpp>

namespace jsync::format {
namespace {

constexpr size_t kHeaderSizeV1 = 8 + 2 + 16 + 8 + 8 + crypto::kSaltSize + crypto::kNonceSize;
constexpr size_t kHeaderSizeV2 = kHeaderSizeV1 + 4;  // + revision

std::string Hex32(const crypto::PublicKey& k) { return ToHex(k); }

bool ParseKey(const nlohmann::json& v, crypto::PublicKey& out) {
  if (!v.is_string()) return false;
  auto bytes = FromHex(v.get<std::string>());
  if (!bytes.ok() || bytes->size() != out.size()) return false;
  std::memcpy(out.data(), bytes->data(), out.size());
  return true;
}

Result<Bytes> Seal(const crypto::SecretKey& master, const DeviceInfo& info, uint16_t version,
                   const DeviceKeys* keys) {
  auto salt = crypto::RandomArray<crypto::kSaltSize>();
  auto nonce = crypto::RandomArray<crypto::kNonceSize>();
  ByteWriter w;
  w.Raw(AsBytes(std::string_view(kDeviceMagic, sizeof kDeviceMagic)));
  w.U16(version);
  w.Raw(info.journal);
  w.U64(info.device);
  w.U64(info.key_id);
  if (version == kDeviceVersionV2) w.U32(info.revision);
  w.Raw(salt);
  w.Raw(nonce);
  Bytes out = w.Take();
  nlohmann::json body = {
      {"name", info.name}, {"platform", info.platform}, {"created_ms", info.created_ms}};
  if (!info.provider.empty()) body["provider"] = info.provider;
  if (keys) {
    body["sign_pub"] = Hex32(keys->sign.pub);
    body["agree_pub"] = Hex32(keys->agree.pub);
    body["signed_from"] = info.signed_from;
  }
  std::string plain = body.dump();
  JSYNC_ASSIGN_OR_RETURN(Bytes sealed, crypto::SealFile(master, crypto::kDeviceFileInfo, salt,
                                                        nonce, out, AsBytes(plain)));
  out.insert(out.end(), sealed.begin(), sealed.end());
  if (keys) {
    JSYNC_ASSIGN_OR_RETURN(crypto::Signature sig,
                           crypto::SignLabeled(keys->sign.priv, kDeviceSignatureLabel, out));
    out.insert(out.end(), sig.begin(), sig.end());
  }
  return out;
}

}  // namespace

Result<Bytes> SealDeviceFile(const crypto::SecretKey& master, const DeviceInfo& info) {
  return Seal(master, info, kDeviceVersion, nullptr);
}

Result<Bytes> SealDeviceFileV2(const crypto::SecretKey& master, const DeviceInfo& info,
                               const DeviceKeys& keys) {
  return Seal(master, info, kDeviceVersionV2, &keys);
}

std::optional<KeyId> DeviceFileKeyId(ByteSpan file) {
  if (file.size() < kHeaderSizeV1) return std::nullopt;
  ByteReader r(file);
  if (std::memcmp(r.Raw(8).data(), kDeviceMagic, 8) != 0) return std::nullopt;
  r.U16();
  r.Array<16>();
  r.U64();
  KeyId k = r.U64();
  return r.ok() ? std::optional<KeyId>(k) : std::nullopt;
}

Result<DeviceInfo> OpenDeviceFile(const crypto::SecretKey& master, ByteSpan file) {
  if (file.size() > kMaxDeviceFileSize || file.size() < kHeaderSizeV1 + crypto::kTagSize) {
    return Status::Corrupt("device file has an impossible size");
  }
  ByteReader r(file);
  if (std::memcmp(r.Raw(8).data(), kDeviceMagic, 8) != 0) {
    return Status::Corrupt("not a journal-sync device file (bad magic)");
  }
  const uint16_t version = r.U16();
  if (version != kDeviceVersion && version != kDeviceVersionV2) {
    return Status::Corrupt("unsupported device file version");
  }
  const size_t header_size = version == kDeviceVersion ? kHeaderSizeV1 : kHeaderSizeV2;
  const size_t sig_size = version == kDeviceVersion ? 0 : crypto::kSignatureSize;
  if (file.size() < header_size + crypto::kTagSize + sig_size) {
    return Status::Corrupt("device file has an impossible size");
  }
  DeviceInfo info;
  info.version = version;
  info.journal = r.Array<16>();
  info.device = r.U64();
  info.key_id = r.U64();
  if (version == kDeviceVersionV2) info.revision = r.U32();
  auto salt = r.Array<crypto::kSaltSize>();
  auto nonce = r.Array<crypto::kNonceSize>();
  const ByteSpan signed_part = file.first(file.size() - sig_size);
  JSYNC_ASSIGN_OR_RETURN(
      Bytes plain, crypto::OpenFile(master, crypto::kDeviceFileInfo, salt, nonce,
                                    file.first(header_size), signed_part.subspan(header_size)));
  auto body =
      nlohmann::json::parse(plain.begin(), plain.end(), nullptr, /*allow_exceptions=*/false);
  // json::value() throws when a field has another type: check every type first.
  auto has = [&](const char* key) { return body.contains(key) && !body[key].is_null(); };
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
      (has("platform") && !body["platform"].is_string()) ||
      (has("created_ms") && !body["created_ms"].is_number_unsigned()) ||
      (has("provider") && !body["provider"].is_string())) {
    return Status::Corrupt("device file body is malformed");
  }
  info.name = body["name"].get<std::string>();
  if (has("platform")) info.platform = body["platform"].get<std::string>();
  if (has("created_ms")) info.created_ms = body["created_ms"].get<uint64_t>();
  if (has("provider")) info.provider = body["provider"].get<std::string>();
  if (version == kDeviceVersionV2) {
    if (!has("sign_pub") || !ParseKey(body["sign_pub"], info.sign_pub) || !has("agree_pub") ||
        !ParseKey(body["agree_pub"], info.agree_pub) || !has("signed_from") ||
        !body["signed_from"].is_number_unsigned() || info.revision == 0) {
      return Status::Corrupt("device file body is malformed (public keys)");
    }
    info.signed_from = body["signed_from"].get<uint64_t>();
    crypto::Signature sig{};
    std::memcpy(sig.data(), file.data() + signed_part.size(), sig.size());
    if (!crypto::VerifyLabeled(info.sign_pub, kDeviceSignatureLabel, signed_part, sig)) {
      return Status::Corrupt("device file signature does not verify");
    }
  }
  return info;
}

}  // namespace jsync::format
