// The epoch keys a device holds: every key id it has unwrapped, and which one is current (what
// new files are sealed under). Old epochs stay so files sealed under them stay readable
// (docs/decisions/0037-key-epochs.md).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "core/crypto/secret.h"

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

}  // namespace jsync::crypto
