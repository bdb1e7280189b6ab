// Verification of one downloaded change file against what its name and the device's chain
// promise. Nothing from a file is used before this passes.
#pragma once

#include <vector>

#include "core/crypto/keyring.h"
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
  // The author's pinned Ed25519 key (core/sync/key_sync.h). When given, a change from seq
  // `signed_from` on must be version 3 and signed by it (decision 0036); null: the device is
  // a legacy one (version 1 device file) and unsigned files are accepted.
  const crypto::PublicKey* signer = nullptr;
  uint64_t signed_from = 1;
  // Key ids the caller holds besides `key_id` (older epochs, decision 0037); `keys` opens
  // them. Null: only `key_id` with `master`.
  const crypto::Keyring* keys = nullptr;
};

// Whether `file` is a change file version 3 (signed) naming `journal` and `device`, before
// anything is verified (a misplaced file is left to VerifyChange to explain).
bool IsSignedChange(ByteSpan file, const JournalId& journal, DeviceId device);

// kCorrupt with a sentence a user can act on; the label names the file in messages.
// `chain_broken`, when given, is set when the file is authentic and in place but follows
// another previous change than the merged chain head: the device's log forked.
Result<VerifiedChange> VerifyChange(const crypto::SecretKey& master, const Expected& expected,
                                    ByteSpan file, bool* chain_broken = nullptr);

}  // namespace jsync::sync
