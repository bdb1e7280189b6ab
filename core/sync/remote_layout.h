// Object names of a journal in the cloud (identical on every provider):
//   journal-<jid>/keys/<key-id>.jkey
//   journal-<jid>/devices/<device-id>.jdev
//   journal-<jid>/changes/<device-id>/<seq:016x>.jchg
//   journal-<jid>/changes/<device-id>/<first:016x>-<last:016x>.jseg   (segment of first..last)
//   journal-<jid>/snapshots/<device-id>-<hlc:016x>.jsnap
#pragma once

#include <optional>
#include <string>

#include "core/format/change_file.h"

namespace jsync::sync {

inline constexpr const char* kJournalDirPrefix = "journal-";

std::string JournalRoot(const JournalId& j);  // "journal-<jid>/"
std::string KeysPrefix(const JournalId& j);
std::string KeyPath(const JournalId& j, format::KeyId k);
// "<16 hex>.jkey" under keys/: the key id, or nullopt.
std::optional<format::KeyId> ParseKeyFilePath(const JournalId& j, const std::string& path);
std::string DevicesPrefix(const JournalId& j);
std::string DevicePath(const JournalId& j, DeviceId d);
std::string ChangesPrefix(const JournalId& j);
// "journal-<jid>/changes/<device-id>/": the folder of one device's changes.
std::string DeviceChangesPrefix(const JournalId& j, DeviceId d);
std::string ChangePath(const JournalId& j, DeviceId d, uint64_t seq);

struct ChangeName {
  DeviceId device = 0;
  uint64_t seq = 0;
};
// Parses a full change path of journal `j`; nullopt for anything else (foreign files).
std::optional<ChangeName> ParseChangePath(const JournalId& j, const std::string& path);
// A segment: one file holding a device's change files first..last (core/format/segment_file.h).
std::string SegmentPath(const JournalId& j, DeviceId d, uint64_t first, uint64_t last);
struct SegmentName {
  DeviceId device = 0;
  uint64_t first = 0;
  uint64_t last = 0;
};
std::optional<SegmentName> ParseSegmentPath(const JournalId& j, const std::string& path);

std::string SnapshotsPrefix(const JournalId& j);
std::string SnapshotPath(const JournalId& j, DeviceId d, uint64_t hlc);
struct SnapshotName {
  DeviceId device = 0;
  uint64_t hlc = 0;
};
std::optional<SnapshotName> ParseSnapshotPath(const JournalId& j, const std::string& path);

// Parses "journal-<jid>/devices/<device-id>.jdev".
std::optional<DeviceId> ParseDevicePath(const JournalId& j, const std::string& path);
// Parses the journal id out of any path under "journal-<jid>/".
std::optional<JournalId> ParseJournalRoot(const std::string& path);

// Later revisions of a device file (keys helper, decision 0036): objects are immutable, so a
// rename or the upgrade to device file v2 writes "devices/<device-id>-<rev:08x>.jdev"
// (rev >= 2; revision 1 is DevicePath). Readers take the newest valid revision.
std::string DeviceRevisionPath(const JournalId& j, DeviceId d, uint32_t rev);
struct DeviceFileName {
  DeviceId device = 0;
  uint32_t revision = 1;
};
// Parses DevicePath (revision 1) and DeviceRevisionPath names.
std::optional<DeviceFileName> ParseDeviceFilePath(const JournalId& j, const std::string& path);

}  // namespace jsync::sync
