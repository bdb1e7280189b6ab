// Verification of one downloaded change file against what its name and the device's chain
// promise. Nothing from a file is used before this passes.
#pragma once

#include <vector>

#include "core/crypto/secret.h"
#include "core/format/change_file.h"
#include "core/store/store.h"

namespace jsync::sync {

struct VerifiedChange {
  format::ChangeHeader header;
  std::vector<Op> ops;
  crypto::Sha256 hash{};  // SHA-256 of the whole file: the next file's prev_hash
};

struct Expected {
  JournalId journal{};
  DeviceId device = 0;  // from the object name
  uint64_t seq = 0;     // from the object name
  format::KeyId key_id = 0;
  store::Cursor previous;  // the device's chain head (seq - 1 and its hash)
};

// kCorrupt with a sentence a user can act on; the label names the file in messages.
// `chain_broken`, when given, is set when the file is authentic and in place but follows
// another previous change than the merged chain head: the device's log forked.
Result<VerifiedChange> VerifyChange(const crypto::SecretKey& master, const Expected& expected,
                                    ByteSpan file, bool* chain_broken = nullptr);

}  // namespace jsync::sync
