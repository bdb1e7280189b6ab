#include "core/journal/device_key.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>

#include "core/util/private_file.h"

namespace jsync {
namespace {
constexpr char kMagic[8] = {'J', 'S', 'Y', 'N', 'C', 'D', 'K', '1'};
constexpr size_t kSize = 8 + 2 * crypto::kKeySize;
}  // namespace

std::string DeviceKeyPath(const std::string& home) { return home + "/device.key"; }

Status SaveDeviceKeys(const std::string& path, const format::DeviceKeys& keys) {
  ByteWriter w;
  w.Raw(AsBytes(std::string_view(kMagic, 8)));
  w.Raw(ByteSpan(keys.sign.priv.data(), keys.sign.priv.size()));
  w.Raw(ByteSpan(keys.agree.priv.data(), keys.agree.priv.size()));
  Bytes& bytes = w.bytes();
  Status s = WritePrivateFile(path, bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return s;
}

Result<std::optional<format::DeviceKeys>> LoadDeviceKeys(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::optional<format::DeviceKeys>();
  if ((st.st_mode & 077) != 0) {
    return Status::Fatal(path + " is readable by other users; fix with: chmod 600 " + path);
  }
  std::ifstream in(path, std::ios::binary);
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  format::DeviceKeys keys;
  const bool ok = bytes.size() == kSize && std::memcmp(bytes.data(), kMagic, 8) == 0;
  if (ok) {
    std::memcpy(keys.sign.priv.data(), bytes.data() + 8, crypto::kKeySize);
    std::memcpy(keys.agree.priv.data(), bytes.data() + 8 + crypto::kKeySize, crypto::kKeySize);
  }
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!ok) return Status::Corrupt("the device key " + path + " is damaged");
  JSYNC_ASSIGN_OR_RETURN(keys.sign.pub, crypto::SigningPublicKey(keys.sign.priv));
  JSYNC_ASSIGN_OR_RETURN(keys.agree.pub, crypto::AgreementPublicKey(keys.agree.priv));
  return std::optional<format::DeviceKeys>(std::move(keys));
}

Result<format::DeviceKeys> LoadOrCreateDeviceKeys(const std::string& path, bool* created) {
  if (created) *created = false;
  JSYNC_ASSIGN_OR_RETURN(auto loaded, LoadDeviceKeys(path));
  if (loaded) return std::move(*loaded);
  format::DeviceKeys keys{crypto::NewSigningKey(), crypto::NewAgreementKey()};
  JSYNC_RETURN_IF_ERROR(SaveDeviceKeys(path, keys));
  if (created) *created = true;
  return keys;
}

}  // namespace jsync
