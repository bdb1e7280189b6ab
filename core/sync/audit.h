// A read-only audit of a journal's remote objects against what this device has merged
// (`jsync verify`, docs/decisions/0044-verify-request-cost.md).
//
// One full listing of the journal's folder, then, per object kind:
//   names     every object must fit the layout (core/sync/remote_layout.h) and be a file;
//   changes   each device's log is walked from its first held seq to its last: the name must
//             match the header (journal, device, seq, key id); seqs must be contiguous from 1
//             (or from what a snapshot covers: AuditRules::covered); the file at this device's
//             cursor must hash to the chain head it merged (else the cloud rolled back or
//             forked), the one after it must name that head as its previous; version vectors
//             must not name changes the cloud no longer holds, nor another branch of a device
//             than the one merged here; this device's own files must be its sealed bytes;
//   keys      the journal's key file is present, parses and names this journal and key id;
//   devices   every device with changes has an authentic device file.
// Without `read_data` a change file is read only as far as its header (a ranged read where the
// provider has them); the file at each cursor is read whole, to hash it. With `read_data`
// every file is downloaded and authenticated (AEAD), and each device's hash chain is checked
// end to end. One file is held at a time (a segment: one segment), so memory stays bounded.
// Nothing is written anywhere: no upload, no removal, no store write.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto/keyring.h"
#include "core/crypto/primitives.h"
#include "core/crypto/secret.h"
#include "core/format/change_file.h"
#include "core/provider/provider.h"
#include "core/store/store.h"

namespace jsync::sync {

// Stable problem codes (docs/cli.md, `verify --json`).
namespace audit_code {
inline constexpr const char* kUnexpectedName = "unexpected-name";  // off the layout
inline constexpr const char* kNotAFile = "not-a-file";   // symlink, FIFO, directory... at a name
inline constexpr const char* kUnreadable = "unreadable";  // over its size limit, refused
inline constexpr const char* kMismatch = "header-mismatch";  // the header disagrees with the name
inline constexpr const char* kDamaged = "damaged";  // does not parse or fails authentication
inline constexpr const char* kGap = "gap";          // seqs missing before later ones
inline constexpr const char* kRollback = "rollback";  // the cloud holds less or older than merged
inline constexpr const char* kFork = "fork";          // two branches of one device id
inline constexpr const char* kOwnMissing = "own-missing";  // this device's uploaded file is gone
inline constexpr const char* kKeyFileMissing = "key-file-missing";
inline constexpr const char* kKeyFileDamaged = "key-file-damaged";
inline constexpr const char* kDeviceFileMissing = "device-file-missing";
inline constexpr const char* kDeviceFileDamaged = "device-file-damaged";
}  // namespace audit_code

struct AuditProblem {
  std::string code;     // one of audit_code
  DeviceId device = 0;  // the device whose object it is; 0 when none
  std::string path;     // the object; "" when the problem is about something absent as a whole
  std::string message;  // what is wrong (a sentence, names escaped for display)
  std::string fix;      // what to do about it
};

// One device as the audit saw it.
struct AuditDevice {
  DeviceId device = 0;
  std::string name;  // from this device's store; "" when unknown
  bool self = false;
  uint64_t first = 0, last = 0;  // seqs the cloud holds (files or segments); 0 when none
  uint64_t files = 0;            // single change files listed
  uint64_t segments = 0;         // segment files listed
  uint64_t merged = 0;           // this device's cursor; for itself: its last sealed seq
  std::string device_file;       // "ok", "missing" or "damaged"
  uint64_t problems = 0;
};

struct AuditReport {
  bool read_data = false;
  uint64_t objects = 0;  // listed under the journal's folder
  uint64_t bytes_listed = 0;
  uint64_t bytes_read = 0;  // downloaded by the audit
  uint64_t change_files_checked = 0;
  uint64_t snapshots = 0;
  std::vector<AuditDevice> devices;  // sorted by id
  std::vector<AuditProblem> problems;

  bool ok() const { return problems.empty(); }
};

// A device's log may start after seq 1 when a snapshot covers what was pruned before it. The
// rule answers for `device` whose first held seq is `first_held`: nullopt when nothing covers
// 1..first_held-1 (a gap), else the chain head the snapshot names at first_held-1 (its hash,
// against which the first held file's previous hash is checked; nullopt hash: not known).
struct Coverage {
  std::optional<crypto::Sha256> head;
  std::string by;  // what covers it, for the report ("snapshot <path>")
};
using CoverageRule =
    std::function<std::optional<Coverage>(DeviceId device, uint64_t first_held)>;

struct AuditRules {
  // Empty: nothing is covered (today's layout; every log starts at 1).
  CoverageRule covered;
};

struct AuditOptions {
  bool read_data = false;
  // Bytes read for a header without --read-data (a ranged read); a header larger than this
  // (a version vector of more than ~120 devices) is read whole.
  uint64_t header_read_bytes = 4096;
  AuditRules rules;
};

struct AuditContext {
  store::Store& store;  // only read
  provider::Provider& provider;  // only listed and read
  const crypto::SecretKey& master;
  JournalId journal{};
  DeviceId device = 0;
  format::KeyId key_id = 0;
  // Older key ids this device holds (key rotation); null: only `key_id` with `master`.
  const crypto::Keyring* keys = nullptr;
};

// A Status only for what stops the audit (the store cannot be read, the provider cannot be
// listed or answers with something other than the object or its refusal); everything the
// cloud holds wrong is a problem in the report.
Result<AuditReport> AuditRemote(const AuditContext& ctx, const AuditOptions& options);

}  // namespace jsync::sync
