#include "core/format/device_file.h"

#include <cstring>
#include <nlohmann/json.hpp>

namespace jsync::format {
namespace {

constexpr size_t kHeaderSize = 8 + 2 + 16 + 8 + 8 + crypto::kSaltSize + crypto::kNonceSize;

}  // namespace

Result<Bytes> SealDeviceFile(const crypto::SecretKey& master, const DeviceInfo& info) {
  auto salt = crypto::RandomArray<crypto::kSaltSize>();
  auto nonce = crypto::RandomArray<crypto::kNonceSize>();
  ByteWriter w;
  w.Raw(AsBytes(std::string_view(kDeviceMagic, sizeof kDeviceMagic)));
  w.U16(kDeviceVersion);
  w.Raw(info.journal);
  w.U64(info.device);
  w.U64(info.key_id);
  w.Raw(salt);
  w.Raw(nonce);
  Bytes out = w.Take();
  nlohmann::json body = {
      {"name", info.name}, {"platform", info.platform}, {"created_ms", info.created_ms}};
  if (!info.provider.empty()) body["provider"] = info.provider;
  std::string plain = body.dump();
  JSYNC_ASSIGN_OR_RETURN(Bytes sealed, crypto::SealFile(master, crypto::kDeviceFileInfo, salt,
                                                        nonce, out, AsBytes(plain)));
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<DeviceInfo> OpenDeviceFile(const crypto::SecretKey& master, ByteSpan file) {
  if (file.size() > kMaxDeviceFileSize || file.size() < kHeaderSize + crypto::kTagSize) {
    return Status::Corrupt("device file has an impossible size");
  }
  ByteReader r(file);
  if (std::memcmp(r.Raw(8).data(), kDeviceMagic, 8) != 0) {
    return Status::Corrupt("not a journal-sync device file (bad magic)");
  }
  if (r.U16() != kDeviceVersion) return Status::Corrupt("unsupported device file version");
  DeviceInfo info;
  info.journal = r.Array<16>();
  info.device = r.U64();
  info.key_id = r.U64();
  auto salt = r.Array<crypto::kSaltSize>();
  auto nonce = r.Array<crypto::kNonceSize>();
  JSYNC_ASSIGN_OR_RETURN(Bytes plain,
                         crypto::OpenFile(master, crypto::kDeviceFileInfo, salt, nonce,
                                          file.first(kHeaderSize), file.subspan(kHeaderSize)));
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
  return info;
}

}  // namespace jsync::format
