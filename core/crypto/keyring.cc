#include "core/crypto/keyring.h"

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

}  // namespace jsync::crypto
