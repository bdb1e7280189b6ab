// Object names of a journal in the cloud (identical on every provider):
//   journal-<jid>/keys/<key-id>.jkey
//   journal-<jid>/devices/<device-id>.jdev
//   journal-<jid>/changes/<device-id>/<seq:016x>.jchg
#pragma once

#include <optional>
#include <string>

#include "core/format/change_file.h"

namespace jsync::sync {

inline constexpr const char* kJournalDirPrefix = "journal-";

std::string JournalRoot(const JournalId& j);  // "journal-<jid>/"
std::string KeysPrefix(const JournalId& j);
std::string KeyPath(const JournalId& j, format::KeyId k);
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
// Parses "journal-<jid>/devices/<device-id>.jdev".
std::optional<DeviceId> ParseDevicePath(const JournalId& j, const std::string& path);
// Parses the journal id out of any path under "journal-<jid>/".
std::optional<JournalId> ParseJournalRoot(const std::string& path);

}  // namespace jsync::sync
