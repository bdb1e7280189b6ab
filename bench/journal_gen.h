// A benchmark journal of N realistic entries, built through the Journal API (one local edit
// per entry, no CLI process per entry): English-like bodies of 0.5-5 KB and 0-4 tags drawn
// deterministically from a seed, the same shape cold_sync_bench writes. Used by make_journal
// (a home on disk for `jsync list` and other programs) and by benchmarks that need a large
// journal (edit_latency_bench).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/prose.h"
#include "core/journal/journal.h"

namespace jsync::bench {

struct JournalSpec {
  uint64_t entries = 100000;
  uint64_t seed = 42;
  // Seal and upload everything at the end (one Sync), as a device that wrote the journal and
  // synced it would have; off, the ops stay in the outbox.
  bool sync = false;
  int scrypt_log2n = 10;  // key wrapping cost is irrelevant here
  std::string passphrase = "benchmark passphrase";
  std::string device_name = "bench";
  // Called every `progress_every` entries with the count written so far (0: never).
  uint64_t progress_every = 0;
  std::function<void(uint64_t written)> progress;
  // Called after each entry is written (a benchmark keeping bodies to edit them later).
  std::function<void(const RecordId& id, const NewEntryInput& input)> on_entry;
};

struct BuiltJournal {
  std::string home;   // <root>/home
  std::string cloud;  // <root>/cloud: the folder provider's location
  std::unique_ptr<Journal> journal;
  std::vector<RecordId> ids;  // in creation order
  uint64_t title_bytes = 0, body_bytes = 0, tag_count = 0;
  double write_s = 0, sync_s = 0;
};

// The entry the generator writes next.
NewEntryInput RealisticEntry(ProseGenerator& gen);

// Creates `root` (must not hold a journal) with a new journal in root/home on the folder
// provider at root/cloud, and writes spec.entries entries.
Result<BuiltJournal> BuildJournal(const std::string& root, const JournalSpec& spec);

}  // namespace jsync::bench
