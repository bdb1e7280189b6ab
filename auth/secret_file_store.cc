// The encrypted-file secret store. File layout (docs/formats.md, "secrets.enc"):
//   "JSSF" | version u8 = 1 | kdf u8 = 1 (scrypt) | log2_n u8 | r u32 LE | p u32 LE |
//   salt[16] | nonce[12] | AES-256-GCM(ciphertext || tag[16]) of a JSON object {account: secret}
// Everything before the ciphertext is the AAD, so the KDF parameters cannot be swapped.
// The derived key is cached in secrets.key (0600) so unattended syncs need no passphrase; the
// same device trust as master.key (decision 0003). A fresh nonce is drawn for every write.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "auth/secret_store.h"
#include "core/crypto/aead.h"
#include "core/crypto/primitives.h"
#include "core/util/bytes.h"
#include "core/util/private_file.h"

namespace jsync::auth {
namespace {

namespace fs = std::filesystem;
constexpr char kMagic[4] = {'J', 'S', 'S', 'F'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kKdfScrypt = 1;
constexpr size_t kSaltSize = 16;
constexpr size_t kHeaderSize = 4 + 1 + 1 + 1 + 4 + 4 + kSaltSize + crypto::kNonceSize;

Result<Bytes> ReadPrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path);
    return Status::Fatal("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0 || st.st_uid != ::getuid()) {
    ::close(fd);
    return Status::Fatal(path + " must be owned by you and readable by no one else; fix with: "
                         "chmod 600 " + path);
  }
  Bytes data(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != data.size()) return Status::Fatal("cannot read " + path);
  return data;
}

class FileSecretStore final : public SecretStore {
 public:
  FileSecretStore(std::string home, PassphraseSource passphrase)
      : dir_(home + "/credentials"), passphrase_(std::move(passphrase)) {}

  std::string backend() const override { return "file"; }

  Result<std::optional<std::string>> Get(const std::string& account) override {
    FileLock lock(dir_ + "/.lock");
    JSYNC_ASSIGN_OR_RETURN(auto all, Load());
    if (!all.contains(account) || !all[account].is_string()) return std::optional<std::string>();
    return std::optional<std::string>(all[account].get<std::string>());
  }

  Status Put(const std::string& account, const std::string& secret) override {
    JSYNC_RETURN_IF_ERROR(MakeDir());
    FileLock lock(dir_ + "/.lock");
    JSYNC_ASSIGN_OR_RETURN(auto all, Load());
    all[account] = secret;
    return Save(all);
  }

  Status Remove(const std::string& account) override {
    FileLock lock(dir_ + "/.lock");
    JSYNC_ASSIGN_OR_RETURN(auto all, Load());
    if (!all.contains(account)) return Status::Ok();
    all.erase(account);
    return Save(all);
  }

 private:
  std::string file() const { return dir_ + "/secrets.enc"; }
  std::string key_file() const { return dir_ + "/secrets.key"; }

  Status MakeDir() {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return Status::Fatal("cannot create " + dir_ + ": " + ec.message());
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::replace, ec);
    return Status::Ok();
  }

  // The key for `salt`: the cached one when it was made for this salt, else scrypt.
  Result<crypto::SecretKey> KeyFor(ByteSpan salt, const crypto::ScryptParams& params) {
    auto cached = ReadPrivateFile(key_file());
    if (cached.ok() && cached->size() == kSaltSize + crypto::kKeySize &&
        std::equal(salt.begin(), salt.end(), cached->begin())) {
      std::array<uint8_t, crypto::kKeySize> k;
      std::copy(cached->begin() + kSaltSize, cached->end(), k.begin());
      return crypto::SecretKey(k);
    }
    if (!cached.ok() && cached.status().code() != Code::kNotFound) return cached.status();
    if (!passphrase_)
      return Status(Code::kAuthExpired,
                    "the token store is locked: run `jsync link` again or set JSYNC_PASSPHRASE "
                    "to unlock it");
    JSYNC_ASSIGN_OR_RETURN(std::string pass, passphrase_());
    JSYNC_ASSIGN_OR_RETURN(crypto::SecretKey key, crypto::Scrypt(pass, salt, params));
    Bytes cache(salt.begin(), salt.end());
    cache.insert(cache.end(), key.data(), key.data() + key.size());
    Status s = WritePrivateFile(key_file(), cache);
    OPENSSL_cleanse(cache.data(), cache.size());
    JSYNC_RETURN_IF_ERROR(s);
    return key;
  }

  Result<nlohmann::json> Load() {
    auto data = ReadPrivateFile(file());
    if (!data.ok()) {
      if (data.status().code() == Code::kNotFound) return nlohmann::json::object();
      return data.status();
    }
    if (data->size() < kHeaderSize + crypto::kTagSize ||
        std::memcmp(data->data(), kMagic, 4) != 0)
      return Status::Corrupt(file() + " is not a journal-sync secrets file; link the accounts again");
    ByteReader r(ByteSpan(*data).subspan(4));
    uint8_t version = r.U8(), kdf = r.U8();
    crypto::ScryptParams params;
    params.log2_n = r.U8();
    params.r = r.U32();
    params.p = r.U32();
    if (version != kVersion || kdf != kKdfScrypt || !crypto::ValidateScryptParams(params).ok())
      return Status::Corrupt(file() + " has an unknown version or key derivation");
    ByteSpan header = ByteSpan(*data).first(kHeaderSize);
    ByteSpan salt = header.subspan(15, kSaltSize);
    crypto::Nonce nonce;
    std::copy_n(header.subspan(15 + kSaltSize).begin(), crypto::kNonceSize, nonce.begin());
    salt_.assign(salt.begin(), salt.end());
    params_ = params;
    JSYNC_ASSIGN_OR_RETURN(crypto::SecretKey key, KeyFor(salt, params));
    auto plain = crypto::AeadOpen(key, nonce, header, ByteSpan(*data).subspan(kHeaderSize));
    if (!plain.ok())
      return Status(Code::kAuthExpired,
                    file() + " cannot be opened with this passphrase (or was altered); "
                             "link the accounts again");
    auto j = nlohmann::json::parse(plain->begin(), plain->end(), nullptr, false);
    OPENSSL_cleanse(plain->data(), plain->size());
    if (!j.is_object()) return Status::Corrupt(file() + " is damaged; link the accounts again");
    return j;
  }

  Status Save(const nlohmann::json& all) {
    if (salt_.empty()) {
      salt_.resize(kSaltSize);
      crypto::RandomBytes(salt_);
    }
    JSYNC_ASSIGN_OR_RETURN(crypto::SecretKey key, KeyFor(salt_, params_));
    auto nonce = crypto::RandomArray<crypto::kNonceSize>();
    ByteWriter w;
    w.Raw(ByteSpan(reinterpret_cast<const uint8_t*>(kMagic), 4));
    w.U8(kVersion);
    w.U8(kKdfScrypt);
    w.U8(params_.log2_n);
    w.U32(params_.r);
    w.U32(params_.p);
    w.Raw(salt_);
    w.Raw(nonce);
    Bytes out = w.Take();
    std::string plain = all.dump();
    JSYNC_ASSIGN_OR_RETURN(
        Bytes sealed,
        crypto::AeadSeal(key, nonce, out,
                         ByteSpan(reinterpret_cast<const uint8_t*>(plain.data()), plain.size())));
    OPENSSL_cleanse(plain.data(), plain.size());
    out.insert(out.end(), sealed.begin(), sealed.end());
    return WritePrivateFile(file(), out);
  }

  std::string dir_;
  PassphraseSource passphrase_;
  Bytes salt_;
  crypto::ScryptParams params_;
};

}  // namespace

std::unique_ptr<SecretStore> OpenFileSecretStore(const std::string& home,
                                                 PassphraseSource passphrase) {
  return std::make_unique<FileSecretStore>(home, std::move(passphrase));
}

}  // namespace jsync::auth
