#include "core/crypto/keyring.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>

#include "core/util/bytes.h"
#include "core/util/private_file.h"

namespace jsync::crypto {

void Keyring::Add(uint64_t id, const SecretKey& key) {
  for (auto& [have, k] : keys_) {
    if (have == id) {
      k = key;
      return;
    }
  }
  if (keys_.empty()) current_ = id;
  keys_.emplace_back(id, key);
}

const SecretKey* Keyring::Find(uint64_t id) const {
  for (const auto& [have, k] : keys_) {
    if (have == id) return &k;
  }
  return nullptr;
}

namespace {
constexpr char kKeyringMagic[8] = {'J', 'S', 'Y', 'N', 'C', 'K', 'R', '1'};
constexpr size_t kMaxKeys = 1u << 16;
}  // namespace

Status SaveKeyringFile(const std::string& path, const Keyring& keyring) {
  ByteWriter w;
  w.Raw(AsBytes(std::string_view(kKeyringMagic, 8)));
  w.U64(keyring.current_id());
  w.U32(static_cast<uint32_t>(keyring.keys().size()));
  for (const auto& [id, key] : keyring.keys()) {
    w.U64(id);
    w.Raw(ByteSpan(key.data(), key.size()));
  }
  Bytes& bytes = w.bytes();
  Status s = WritePrivateFile(path, bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return s;
}

Result<std::optional<Keyring>> LoadKeyringFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::optional<Keyring>();
  if ((st.st_mode & 077) != 0) {
    return Status::Fatal(path + " is readable by other users; fix with: chmod 600 " + path);
  }
  std::ifstream in(path, std::ios::binary);
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ByteReader r(bytes);
  Keyring ring;
  bool ok = bytes.size() >= 20 && std::memcmp(r.Raw(8).data(), kKeyringMagic, 8) == 0;
  const uint64_t current = ok ? r.U64() : 0;
  const uint64_t n = ok ? r.U32() : 0;
  ok = ok && n > 0 && n <= kMaxKeys && r.remaining() == n * (8 + kKeySize);
  for (uint64_t i = 0; ok && i < n; ++i) {
    const uint64_t id = r.U64();
    SecretKey key;
    std::memcpy(key.data(), r.Raw(kKeySize).data(), kKeySize);
    ring.Add(id, key);
  }
  ok = ok && ring.Find(current) != nullptr;
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!ok) return Status::Corrupt("the keyring " + path + " is damaged or belongs elsewhere");
  ring.SetCurrent(current);
  return std::optional<Keyring>(std::move(ring));
}

}  // namespace jsync::crypto
