// The iCloud Drive simulator: local folders ("roots", one per simulated Mac) kept in sync the
// way iCloud Drive keeps a user's Macs in sync (reference/icloud.md §6, "EMU"): a file written
// in one root appears in the others after a delay (per file and root, so files arrive out of
// order), written through a temporary file and a rename; removals travel too. On top, what
// iCloud does to a folder: eviction to ".name.icloud" stubs, hydration when a stub is asked for
// (opened for writing; after hydrate_ms), duplicates "name 2.ext", lost file events (the change
// waits for the next full rescan), "storage full" (nothing uploads) and pause.
//
// Changes are seen through inotify (Linux) plus a full rescan every rescan_ms. One thread runs
// the loop (Run); the control API calls the other methods from its own threads: every method
// takes the one lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/util/status.h"
#include "tools/emulators/icloud_drive/sim_faults.h"
#include "tools/emulators/icloud_drive/sim_files.h"

namespace jsync::emulator::icloud_drive {

struct SimOptions {
  std::string state_dir;
  std::vector<std::string> roots;  // absolute
  int64_t delay_ms = 200;
  int64_t jitter_ms = 300;
  int64_t hydrate_ms = 200;
  int64_t rescan_ms = 1000;
  uint64_t seed = 1;
  FaultPlan faults;
};

class Simulator {
 public:
  static Result<std::unique_ptr<Simulator>> Create(SimOptions options);
  ~Simulator();

  // The loop: events, rescans, due deliveries, until *stop.
  void Run(const std::atomic<bool>* stop);

  // ---- the control API (any thread) ----
  // {"settled": bool, "pending": N, "differences": [...]}: nothing in flight and every root
  // holds the cloud's current version of every file (as the file or its stub).
  nlohmann::json Settled();
  nlohmann::json Counters();
  // Evicts root's rel (all of root's synced files when rel is empty); *count evicted.
  Status Evict(size_t root, const std::string& rel, int* count);
  // Hydrates root's evicted rel now.
  Status Hydrate(size_t root, const std::string& rel);
  // A duplicate of root's rel beside it; *made its relative path.
  Status InjectDuplicate(size_t root, const std::string& rel, const std::string& style, bool same,
                         std::string* made);
  void SetHydrateMs(int64_t ms);
  void SetDropEvents(bool on);
  void SetStorageFull(bool on);
  void SetPaused(bool on);
  void RequestRescan();
  size_t root_count() const { return options_.roots.size(); }

 private:
  struct CloudEntry {
    uint64_t version = 0;
    bool deleted = false;
    std::string hash;  // of the bytes in blobs/<hash>
    uint64_t size = 0;
  };
  // What the simulator knows a root holds at a path (as of its last look or write).
  struct Known {
    uint64_t version = 0;
    std::string hash;
    FileStat stat;
    bool evicted = false;
  };
  enum class Job { kDeliver, kHydrate };
  struct Pending {
    int64_t due_ms;
    size_t root;
    std::string rel;
    uint64_t version;
    Job job;
  };

  explicit Simulator(SimOptions options);
  Status Start();

  // Under mu_:
  void ScanLocked(size_t root, const std::string& under);
  void LookLocked(size_t root, const std::string& rel);  // one path changed (an event)
  void UploadLocked(size_t root, const std::string& rel, const FileStat& st);
  void DeleteLocked(size_t root, const std::string& rel);
  void ScheduleLocked(const std::string& rel, size_t except_root);
  void RunDueLocked(int64_t now);
  void DeliverLocked(const Pending& p);
  void HydrateLocked(size_t root, const std::string& rel);
  Status EvictLocked(size_t root, const std::string& rel);
  void StubAskedLocked(size_t root, const std::string& rel);
  void EventsLocked();
  void WatchTreeLocked(size_t root, const std::string& under);
  std::string BlobPath(const std::string& hash) const;
  std::vector<std::string> DifferencesLocked(size_t max);
  int64_t Jitter();

  SimOptions options_;
  std::string staging_;
  std::mutex mu_;
  std::map<std::string, CloudEntry> cloud_;
  std::vector<std::map<std::string, Known>> known_;
  std::vector<Pending> pending_;
  std::mt19937_64 rng_;
  bool paused_ = false;
  bool storage_full_ = false;
  bool drop_events_ = false;
  bool rescan_now_ = true;
  int64_t next_rescan_ms_ = 0;
  // inotify
  int inotify_fd_ = -1;
  std::map<int, std::pair<size_t, std::string>> watches_;  // wd -> (root, relative folder)
  std::set<std::pair<size_t, std::string>> watched_;
  // counters
  uint64_t events_ = 0, dropped_events_ = 0, uploads_ = 0, deliveries_ = 0, removals_ = 0,
           evictions_ = 0, hydrations_ = 0, duplicates_ = 0, held_by_full_ = 0, rescans_ = 0;
};

}  // namespace jsync::emulator::icloud_drive
