// The epoch keys a device holds: every key id it has unwrapped, and which one is current (what
// new files are sealed under). Old epochs stay so files sealed under them stay readable
// (docs/decisions/0037-key-epochs.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/crypto/secret.h"
#include "core/util/status.h"

namespace jsync::crypto {

class Keyring {
 public:
  Keyring() = default;
  Keyring(uint64_t id, const SecretKey& key) { Add(id, key); }

  // Adds (or replaces) a key; the first one added becomes current.
  void Add(uint64_t id, const SecretKey& key);
  // REQUIRES: Find(id) != nullptr.
  void SetCurrent(uint64_t id) { current_ = id; }
  const SecretKey* Find(uint64_t id) const;
  uint64_t current_id() const { return current_; }
  // REQUIRES: !empty().
  const SecretKey& current() const { return *Find(current_); }
  bool empty() const { return keys_.empty(); }
  const std::vector<std::pair<uint64_t, SecretKey>>& keys() const { return keys_; }

 private:
  std::vector<std::pair<uint64_t, SecretKey>> keys_;
  uint64_t current_ = 0;
};

// The device's keyring file, <home>/keyring (mode 0600, written atomically):
// "JSYNCKR1" || current key id u64 || count u32 || count x (key id u64 || key 32 bytes).
inline constexpr const char* kKeyringFileName = "keyring";
Status SaveKeyringFile(const std::string& path, const Keyring& keyring);
// nullopt when the file does not exist (a home made before epochs: master.key only);
// kCorrupt when damaged, kFatal when others may read it.
Result<std::optional<Keyring>> LoadKeyringFile(const std::string& path);

}  // namespace jsync::crypto
