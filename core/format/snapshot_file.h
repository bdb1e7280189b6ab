// Snapshot file v1 (`.jsnap`): a device's whole merged state (every record's CRDT state, with
// the text item ids and tombstones, set dots, register siblings and record tombstones later
// merges need) and the version vector it covers, with each device's chain head hash so the
// changes after it verify as a continuation. header || AES-256-GCM(zstd(body)) || tag ||
// Ed25519 signature, the header bound as associated data and the signature (by the author
// device) over everything before it, like a change file v3. Byte layout in docs/formats.md.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "core/crypto/asym.h"
#include "core/crypto/file_cipher.h"
#include "core/crypto/primitives.h"
#include "core/format/change_file.h"

namespace jsync::format {

inline constexpr char kSnapshotMagic[8] = {'J', 'S', 'Y', 'N', 'C', 'S', 'N', 'P'};
inline constexpr uint16_t kSnapshotVersion = 1;
inline constexpr std::string_view kSnapshotFileInfo = "jsync snapshot v1";
inline constexpr std::string_view kSnapshotSignatureLabel = "snapshot file v1";
// Refused before reading (file) or while decompressing (body).
inline constexpr size_t kMaxSnapshotFileSize = 512u << 20;
inline constexpr size_t kMaxSnapshotBodySize = 1u << 30;

struct SnapshotVvEntry {
  uint64_t seq = 0;
  crypto::Sha256 hash{};  // SHA-256 of that device's change `seq`: the chain head
  bool operator==(const SnapshotVvEntry&) const = default;
};
// Every device whose changes the state holds, the author included.
using SnapshotVv = std::map<DeviceId, SnapshotVvEntry>;

struct SnapshotHeader {
  JournalId journal{};
  DeviceId device = 0;  // the author
  uint64_t hlc = 0;     // the author's clock when it was made (also in the name)
  KeyId key_id = 0;
  crypto::Salt salt{};
  crypto::Nonce nonce{};
  SnapshotVv vv;
};

// One record as the store keeps it (RecordState::Encode bytes).
struct SnapshotRecord {
  std::string collection;
  RecordId id{};
  Bytes state;
};

// Calls `emit` for every record; the writer asks for them one at a time.
using RecordSource = std::function<Status(const std::function<Status(const SnapshotRecord&)>&)>;

// Seals under a fresh salt and nonce (written into `header`) and signs with `signer`, the
// author device's Ed25519 key: a holder of the journal key alone cannot make one.
Result<Bytes> SealSnapshot(const crypto::SecretKey& master, const crypto::SecretKey& signer,
                           SnapshotHeader& header, const RecordSource& records);

struct ParsedSnapshot {
  SnapshotHeader header;
  size_t header_size = 0;
};
// Plaintext header only; authenticates nothing.
Result<ParsedSnapshot> ParseSnapshotHeader(ByteSpan file);
// Whether the file's trailing signature is by `pub` (the author's pinned key). Check it before
// OpenSnapshot: a snapshot replaces a device's whole state.
bool SnapshotSignatureValid(ByteSpan file, const crypto::PublicKey& pub);
// The body after decryption (one zstd frame): hands every record to `sink` as it is read,
// holding one piece of plaintext at a time. Returns the number of records. OpenSnapshot calls
// it once the tag checks; exposed for the fuzz target.
Result<uint64_t> ReadSnapshotBody(ByteSpan compressed,
                                  const std::function<Status(const SnapshotRecord&)>& sink);
// Authenticates the whole file, then hands every record to `sink` (nothing before the tag
// checks). Returns the number of records.
Result<uint64_t> OpenSnapshot(const crypto::SecretKey& master, const ParsedSnapshot& parsed,
                              ByteSpan file,
                              const std::function<Status(const SnapshotRecord&)>& sink);

}  // namespace jsync::format
