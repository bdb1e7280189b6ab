// `jsync watch`: keeps one home in sync while it runs. One thread, one poll() over three
// sources — the home folder (a local edit by any process: HomeWatch), the relay (pushes and
// other devices' changes: RelaySession) and a stop descriptor — plus three timers: the seal
// debounce (a burst of typing becomes one change), the adaptive poll (PollSchedule) and the
// provider webhook renewal. Everything durable is in the store, so the watcher can be killed
// at any point; SIGTERM/SIGINT (Stop()) end it between steps.
//
// The embedder hands it a way to open the journal (the CLI's opener; reopened after the
// storage refused our sign-in, so a `jsync link` in another terminal is picked up).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/journal/journal.h"
#include "live/poll_schedule.h"
#include "live/relay_session.h"
#include "live/seal_debounce.h"

namespace jsync::live {

struct WatchOptions {
  SealOptions seal;
  PollOptions poll;
  RelaySessionOptions relay;  // urls empty: polling only
  bool once = false;          // one full cycle (and its relay messages), then return
  int64_t push_renew_ms = 12LL * 3600 * 1000;  // provider webhooks (Drive channels, Graph
                                               // subscriptions) expire: renewed this often
  uint64_t seed = 0;                           // jitter
  // Called on the watcher's thread once other devices' changes were merged (by a cycle or from
  // the relay): where an embedding app refreshes what it shows.
  std::function<void(uint64_t merged_changes)> on_merged;
};

enum class LogLevel { kInfo, kNotice, kWarning, kError, kDebug };

// What the watcher did, for tests, benchmarks and the final log line.
struct WatchCounters {
  uint64_t cycles = 0;           // full sync cycles
  uint64_t publishes = 0;        // fast paths after local edits
  uint64_t relay_merges = 0;     // MergeRelayed calls that merged something
  uint64_t relay_sent = 0;       // messages sent to the relay
  uint64_t failures = 0;         // cycles that failed
};

class Watcher {
 public:
  using OpenJournal = std::function<Result<std::unique_ptr<Journal>>()>;
  using Log = std::function<void(LogLevel, const std::string&)>;
  Watcher(std::string home, OpenJournal open, WatchOptions options, Log log);
  ~Watcher();

  // Until Stop() (or one cycle with `once`). Fails only when the home cannot be watched or
  // opened at all, or another watcher holds it; with `once`, also when the cycle failed.
  Status Run();
  // Async-signal-safe: asks Run() to return after the step it is in.
  void Stop();
  const WatchCounters& counters() const { return counters_; }

 private:
  struct State;
  Status Loop();
  Status EnsureJournal();
  void FullCycle(const char* trigger);
  void PublishLocal();
  // Is a local edit waiting (ops in the outbox)? Starts the seal debounce if so.
  void CheckForEdit(int64_t now);
  int64_t RecheckDue() const;
  void HandleRelay(int64_t now);
  void UpdatePresence(int64_t now);
  void MergeRelayedChanges(const std::vector<Journal::RelayedChange>& changes, bool& poll_soon);
  // (Re)creates the relay session for the journal's current device id.
  Status StartRelay();
  void SendOwnChanges();
  void RenewPushIfDue(int64_t now);
  void Report(const sync::SyncReport& report, const char* trigger, uint64_t ms,
              const provider::ProviderCounters& calls);
  void Failed(const Status& status, const char* what);

  std::string home_;
  OpenJournal open_;
  WatchOptions options_;
  Log log_;
  int stop_fd_ = -1;
  WatchCounters counters_;
  std::unique_ptr<State> s_;
};

}  // namespace jsync::live
