// Journal::Verify: the read-only audit of the cloud (core/sync/audit.h), run for one home.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>

#include "core/journal/journal.h"
#include "core/sync/snapshot_coverage.h"

namespace jsync {

Result<Journal::VerifyResult> Journal::Verify(const sync::AuditOptions& options) {
  // Works on a read-only home too: nothing here writes.
  JSYNC_ASSIGN_OR_RETURN(provider::CountingProvider * storage, Storage());
  // A sync of this home moves cursors and uploads while it runs: wait for it, and keep the
  // next one out until the audit is done, so the store and the cloud are looked at as of one
  // moment. The lock file is not created when absent (a home that never synced).
  const std::string lock_path = home_ + "/sync.lock";
  const int lock = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (lock >= 0 && ::flock(lock, LOCK_SH) != 0) {
    ::close(lock);
    return Status::Fatal("cannot lock " + lock_path);
  }
  const auto start = std::chrono::steady_clock::now();
  const provider::ProviderCounters before = storage->counters();
  sync::AuditOptions with_rules = options;
  if (!with_rules.rules.covered) {
    with_rules.rules.covered = sync::SnapshotCoverage(*storage, journal_);
  }
  auto report = sync::AuditRemote({*store_, *storage, master_, journal_, device_, key_id_, &keyring_},
                                  with_rules);
  if (lock >= 0) ::close(lock);
  if (!report.ok()) return report.status();
  VerifyResult result;
  result.report = std::move(report).value();
  const provider::ProviderCounters& after = storage->counters();
  result.calls.puts = after.puts - before.puts;
  result.calls.gets = after.gets - before.gets;
  result.calls.lists = after.lists - before.lists;
  result.calls.removes = after.removes - before.removes;
  result.calls.feeds = after.feeds - before.feeds;
  result.calls.bytes_up = after.bytes_up - before.bytes_up;
  result.calls.bytes_down = after.bytes_down - before.bytes_down;
  result.elapsed_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - start)
                                                .count());
  return result;
}

}  // namespace jsync
