// How the CLI shows entries, sync reports and status: as text for people, JSON for scripts.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "core/journal/journal.h"

namespace jsync::cli {

std::string IsoTime(uint64_t unix_ms);  // "2026-11-21T22:31:52.123Z"

nlohmann::json EntryJson(const Entry& e);
std::string EntryText(const Entry& e);
std::string EntryLine(const Entry& e);
// The same line from the store's summary (what `jsync list` prints).
std::string EntryLine(const EntrySummary& e);

// Writes a JSON array element by element, byte for byte as nlohmann::json::dump(2) writes the
// whole array (so `list --json` streams without holding every entry).
class JsonArrayWriter {
 public:
  explicit JsonArrayWriter(std::ostream& out) : out_(out) {}
  void Add(const nlohmann::json& element);
  void Finish();  // "]" and a newline ("[]" when empty)

 private:
  std::ostream& out_;
  size_t count_ = 0;
};

nlohmann::json SyncJson(const SyncResult& r);
std::string SyncText(const SyncResult& r);

// What `status` adds from the home's watcher (live/): who runs it, whom it hears online.
struct LiveStatus {
  std::string watch;            // "pid N, since T"; empty: no watcher runs
  std::vector<DeviceId> online;  // other devices online now (relay presence)
};
nlohmann::json StatusJson(const JournalStatus& s, const LiveStatus& live);
std::string StatusText(const JournalStatus& s, const LiveStatus& live);

}  // namespace jsync::cli
