#include "core/journal/local_key.h"

#include "core/util/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace jsync {
namespace {
constexpr char kMagic[8] = {'J', 'S', 'Y', 'N', 'C', 'L', 'K', '1'};
constexpr size_t kSize = 8 + 8 + crypto::kKeySize;
}  // namespace

Status SaveLocalKey(const std::string& path, format::KeyId key_id, const crypto::SecretKey& key) {
  ByteWriter w;
  w.Raw(AsBytes(std::string_view(kMagic, 8)));
  w.U64(key_id);
  w.Raw(ByteSpan(key.data(), key.size()));
  Bytes& bytes = w.bytes();
  Status s = WritePrivateFile(path, bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return s;
}

Result<crypto::SecretKey> LoadLocalKey(const std::string& path, format::KeyId expected_key_id) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Fatal("the journal key " + path +
                         " is missing; join the journal again from a "
                         "fresh --home with 'jsync init' and the passphrase");
  }
  if ((st.st_mode & 077) != 0) {
    return Status::Fatal(path + " is readable by other users; fix with: chmod 600 " + path);
  }
  std::ifstream in(path, std::ios::binary);
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ByteReader r(bytes);
  crypto::SecretKey key;
  bool ok = bytes.size() == kSize && std::memcmp(r.Raw(8).data(), kMagic, 8) == 0 &&
            r.U64() == expected_key_id;
  if (ok) std::memcpy(key.data(), r.Raw(crypto::kKeySize).data(), crypto::kKeySize);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!ok) return Status::Corrupt("the journal key " + path + " is damaged or belongs elsewhere");
  return key;
}

}  // namespace jsync
