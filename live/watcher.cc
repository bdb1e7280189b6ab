#include "live/watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "core/util/bytes.h"
#include "live/home_watch.h"
#include "live/relay_config.h"
#include "live/watch_lock.h"

namespace jsync::live {
namespace {

int64_t MonoMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// More new own changes than this at once go to the relay as one nudge.
constexpr uint64_t kMaxRelayedPerCycle = 16;

uint64_t WallMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

struct Watcher::State {
  explicit State(const WatchOptions& o)
      : schedule(o.poll, o.seed), debounce(o.seal) {}
  std::unique_ptr<Journal> journal;
  std::optional<HomeWatch> home_watch;
  std::unique_ptr<RelaySession> relay;
  PollSchedule schedule;
  SealDebounce debounce;
  uint64_t published_through = 0;  // own changes already announced to the relay
  format::KeyId relay_key_id = 0;  // the key epoch the relay room was derived from
  std::set<std::string> problems;  // what the last cycle reported, so each is said once
  bool failing = false;
  std::string last_failure;
  Code last_failure_code = Code::kOk;
  int64_t push_due = 0;
  bool push_off = false;  // the storage cannot push, or not through this relay
  int64_t push_retry_ms = 0;
  bool push_warned = false;
  // Pushes that found nothing new make the next ones wait longer (1 s doubling to 1 min): a
  // flood of hook frames (anyone who knows the hook id can post to the relay) cannot make the
  // watcher poll the provider every second.
  int64_t push_floor_ms = 1'000;
  bool pushed_cycle = false;
  std::set<DeviceId> online;
  // After a write to the store's files: when it was seen, and which re-check comes next (-1:
  // none pending).
  int64_t recheck_from = 0;
  int recheck_step = -1;
};

Watcher::Watcher(std::string home, OpenJournal open, WatchOptions options, Log log)
    : home_(std::move(home)),
      open_(std::move(open)),
      options_(std::move(options)),
      log_(std::move(log)),
      stop_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      s_(std::make_unique<State>(options_)) {}

Watcher::~Watcher() {
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void Watcher::Stop() {
  const uint64_t one = 1;
  // write(2) is async-signal-safe; a full counter means a stop is already pending.
  (void)!::write(stop_fd_, &one, sizeof one);
}

Status Watcher::EnsureJournal() {
  if (s_->journal) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(s_->journal, open_());
  return Status::Ok();
}

Status Watcher::StartRelay() {
  if (s_->relay) s_->relay->Close(WallMs());
  s_->relay.reset();
  Journal& j = *s_->journal;
  JSYNC_ASSIGN_OR_RETURN(format::RelayKeys keys, j.RelayKeys());
  s_->relay_key_id = j.current_key_id();
  JSYNC_ASSIGN_OR_RETURN(s_->published_through, j.store().UploadedThrough());
  auto log = [this](const std::string& line) { log_(LogLevel::kInfo, line); };
  s_->relay = std::make_unique<RelaySession>(options_.relay, std::move(keys), j.device_id(),
                                             std::move(log));
  return Status::Ok();
}

Status Watcher::Run() {
  if (stop_fd_ < 0) return Status::Fatal("cannot create the watcher's stop descriptor");
  JSYNC_ASSIGN_OR_RETURN(WatchLock lock, WatchLock::Take(home_, static_cast<int64_t>(WallMs())));
  JSYNC_RETURN_IF_ERROR(EnsureJournal());
  Journal& j = *s_->journal;
  if (!options_.once) {
    JSYNC_ASSIGN_OR_RETURN(HomeWatch hw, HomeWatch::Start(home_));
    s_->home_watch.emplace(std::move(hw));
  }
  if (!options_.relay.urls.empty()) {
    JSYNC_RETURN_IF_ERROR(StartRelay());
  } else {
    s_->push_off = true;
  }
  log_(LogLevel::kInfo,
       "watching device " + DeviceIdHex(j.device_id()) + " of journal " +
           JournalIdHex(j.journal_id()) + "; " +
           (s_->relay ? "relay " + std::to_string(options_.relay.urls.size()) + " address(es)"
                      : std::string("relay off: polling only")) +
           ", poll every " + std::to_string(options_.poll.min_ms / 1000) + "-" +
           std::to_string(options_.poll.max_ms / 1000) + " s");
  if (options_.once) {
    if (s_->relay) s_->relay->Tick(MonoMs(), WallMs());
    FullCycle("once");
    if (s_->relay) s_->relay->Close(WallMs());
    if (s_->failing) return Status(s_->last_failure_code, s_->last_failure);
    // Like `jsync sync`: a cycle that reported problems (logged above) is not a success.
    if (!s_->problems.empty()) {
      return Status(Code::kCorrupt, "the sync cycle reported " +
                                        Plural(s_->problems.size(), "problem", "problems") +
                                        " (logged above)");
    }
    return Status::Ok();
  }
  Status loop = Loop();
  if (s_->relay) s_->relay->Close(WallMs());
  if (s_->journal && !s_->online.empty()) (void)SaveOnlineDevices(s_->journal->store(), {});
  log_(LogLevel::kInfo, "stopped after " + Plural(counters_.cycles, "sync cycle", "sync cycles") +
                            " and " + Plural(counters_.publishes, "publish", "publishes"));
  return loop;
}

Status Watcher::Loop() {
  for (;;) {
    const int64_t now = MonoMs();
    if (s_->relay) {
      s_->relay->Tick(now, WallMs());
      UpdatePresence(now);  // a device unheard for too long is offline, frames or not
    }
    RenewPushIfDue(now);

    int64_t due = s_->schedule.due();
    if (auto seal = s_->debounce.due()) due = std::min(due, *seal);
    if (s_->relay) due = std::min(due, s_->relay->next_due());
    if (!s_->push_off) due = std::min(due, s_->push_due);
    if (s_->recheck_step >= 0) due = std::min(due, RecheckDue());
    const int64_t wait = std::clamp<int64_t>(due - now, 0, 3'600'000);

    pollfd fds[3] = {{stop_fd_, POLLIN, 0}, {s_->home_watch->fd(), POLLIN, 0}, {-1, POLLIN, 0}};
    if (s_->relay) fds[2].fd = s_->relay->fd();
    const int n = ::poll(fds, 3, static_cast<int>(wait));
    if (n < 0 && errno != EINTR) return Status::Fatal("poll failed");
    if ((fds[0].revents & POLLIN) != 0) return Status::Ok();

    const int64_t after = MonoMs();
    const bool home_event = (fds[1].revents & POLLIN) != 0;
    const bool store_event = home_event && s_->home_watch->Drain();
    if (home_event && s_->home_watch->TakeAccountsChanged()) {
      // `jsync link` or `unlink` in another process rewrote accounts.json: the storage is
      // opened again with what it says now (an unlinked account stops being used at once, even
      // on a provider that cannot revoke), and a cycle runs now if sign-in was what failed.
      s_->journal.reset();
      if (s_->failing && s_->last_failure_code == Code::kAuthExpired) {
        log_(LogLevel::kInfo, "the linked accounts changed: syncing now");
        s_->schedule.Retry(after);
      }
    }
    if (home_event && s_->home_watch->TakeReplaced()) {
      // journal.db itself was replaced (a restore, a new init): the open store is the old file.
      log_(LogLevel::kNotice, "the home's store was replaced: opening it again");
      s_->journal.reset();
      if (EnsureJournal().ok() && s_->relay) (void)StartRelay();
      s_->schedule.Retry(after);
    }
    if (s_->home_watch->gone()) {
      return Status::Fatal("the home folder " + home_ + " was removed or moved; jsync watch stops");
    }
    if (store_event) {
      // The WAL is written before the commit becomes visible to other connections (the
      // wal-index is updated last, after the fsync): look now, and again a few times shortly
      // after if nothing is visible yet.
      s_->recheck_from = after;
      s_->recheck_step = 0;
      CheckForEdit(after);
    } else if (s_->recheck_step >= 0 && after >= RecheckDue()) {
      CheckForEdit(after);
    }
    if (s_->relay && (fds[2].revents & (POLLIN | POLLERR | POLLHUP)) != 0) HandleRelay(after);

    if (auto seal = s_->debounce.due(); seal && *seal <= MonoMs()) PublishLocal();
    if (s_->schedule.due() <= MonoMs()) FullCycle("poll");
  }
}

int64_t Watcher::RecheckDue() const {
  static constexpr int64_t kAfterMs[] = {10, 50, 200, 1000};
  return s_->recheck_from + kAfterMs[std::min<size_t>(s_->recheck_step, std::size(kAfterMs) - 1)];
}

void Watcher::CheckForEdit(int64_t now) {
  // Our own syncs write the store too; only ops waiting to be sealed are an edit.
  bool edited = false;
  if (EnsureJournal().ok()) {
    auto outbox = s_->journal->store().OutboxSize();
    edited = outbox.ok() && *outbox > 0;
  }
  if (edited) {
    s_->debounce.Edited(now);
    s_->schedule.Activity(now);
    s_->recheck_step = -1;
  } else if (now >= s_->recheck_from + 1000 || s_->recheck_step >= 3) {
    s_->recheck_step = -1;  // it was one of our own writes
  } else {
    ++s_->recheck_step;
  }
}

void Watcher::PublishLocal() {
  s_->debounce.Published();
  // While the storage fails, edits wait in the store for the backoff's cycle, which seals
  // them: no upload attempt per keystroke burst against a provider that is down.
  if (s_->failing) return;
  if (!EnsureJournal().ok()) return;
  auto result = s_->journal->Publish();
  if (!result.ok()) {
    Failed(result.status(), "publishing local edits");
    return;
  }
  ++counters_.publishes;
  const auto& r = result->report;
  if (r.uploaded_changes == 0 && !r.problems.empty()) {
    if (s_->problems.contains(r.problems.front().message)) return;  // known: the cycle retries
    // Sealed but not uploaded (the storage is down or refused the slot): the same backoff as a
    // failed cycle, whose sync retries the upload; said once. A full cloud is reported by the
    // cycles (downloads go on), and not again per burst of edits.
    if (r.problems.front().code == Code::kQuotaExceeded) {
      s_->problems.insert(r.problems.front().message);
      log_(LogLevel::kWarning, "problem: " + r.problems.front().message);
      return;
    }
    Failed(Status(r.problems.front().code, r.problems.front().message), "publishing local edits");
    return;
  }
  if (r.uploaded_changes > 0) {
    log_(LogLevel::kInfo, "published " + Plural(r.uploaded_changes, "change", "changes") + " (" +
                              std::to_string(result->elapsed_ms) + " ms)");
  }
  SendOwnChanges();
  if (result->report.needs_full_cycle) s_->schedule.Pushed(MonoMs());
}

void Watcher::FullCycle(const char* trigger) {
  s_->debounce.Published();  // a full cycle seals whatever waits
  Status open = EnsureJournal();
  if (!open.ok()) {
    Failed(open, "opening the journal");
    return;
  }
  auto result = s_->journal->Sync();
  ++counters_.cycles;
  if (!result.ok()) {
    Failed(result.status(), "syncing");
    return;
  }
  if (s_->failing) {
    log_(LogLevel::kNotice, result->report.ok()
                                ? std::string("sync works again")
                                : "the storage answers again (problems below)");
  }
  s_->failing = false;
  s_->last_failure.clear();
  Report(result->report, trigger, result->elapsed_ms, result->calls);
  const auto& r = result->report;
  if (r.reidentified_from != 0) {
    // This home took a new device id (a copied home): the relay speaks for the new one.
    log_(LogLevel::kNotice, "this device now writes as " + DeviceIdHex(r.device) +
                                " (its former id was in use by a copy of this home)");
    if (s_->relay) {
      if (Status st = StartRelay(); !st.ok()) log_(LogLevel::kWarning, "relay: " + st.message());
    }
  }
  if (s_->relay && s_->journal->current_key_id() != s_->relay_key_id) {
    // A new key epoch (a rotation, passwd or revocation here or elsewhere): the room is
    // derived from the current key, so the watcher moves to the room of the devices on it, and
    // a revoked device, which cannot derive it, is left behind.
    log_(LogLevel::kNotice, "relay: the journal key changed; joining the room of the new key");
    s_->push_due = 0;  // the webhook address follows the key too
    if (Status st = StartRelay(); !st.ok()) log_(LogLevel::kWarning, "relay: " + st.message());
  }
  SendOwnChanges();
  if (r.merged_changes > 0 && options_.on_merged) options_.on_merged(r.merged_changes);
  const bool moved = r.merged_changes > 0 || r.uploaded_changes > 0;
  if (s_->pushed_cycle) {
    s_->push_floor_ms = moved ? 1'000 : std::min<int64_t>(60'000, 2 * s_->push_floor_ms);
    s_->pushed_cycle = false;
  }
  s_->schedule.Succeeded(MonoMs(), moved);
}

void Watcher::Failed(const Status& status, const char* what) {
  ++counters_.failures;
  s_->schedule.Failed(MonoMs());
  const bool auth = status.Is(Code::kAuthExpired);
  const std::string line = what + std::string(" failed: ") + status.message();
  // One message per kind of outage, not one per retry (nor per wording of the same refusal:
  // a revoked account answers 401 first, then "not linked"); local edits stay in the store.
  const bool same_outage = s_->failing && (line == s_->last_failure ||
                                           s_->last_failure_code == status.code());
  s_->last_failure_code = status.code();
  if (!same_outage) {
    log_(auth ? LogLevel::kError : LogLevel::kWarning,
         line + (auth ? "; local edits are kept and sync resumes once the account is linked"
                      : "; local edits are kept; retrying in " +
                            std::to_string((s_->schedule.due() - MonoMs() + 999) / 1000) + " s"));
  }
  s_->failing = true;
  s_->last_failure = line;
  // The storage is opened again for the next try: a re-link in another process, a plugin
  // that lost its connection, a token store unlocked meanwhile all take effect.
  if (auth) s_->journal.reset();
}

void Watcher::Report(const sync::SyncReport& r, const char* trigger, uint64_t ms,
                     const provider::ProviderCounters& calls) {
  std::set<std::string> now;
  for (const auto& p : r.problems) {
    now.insert(p.message);
    if (!s_->problems.contains(p.message)) {
      log_(p.code == Code::kQuotaExceeded ? LogLevel::kWarning : LogLevel::kError,
           "problem: " + p.message);
    }
  }
  s_->problems = std::move(now);
  const uint64_t requests = calls.puts + calls.gets + calls.lists + calls.removes + calls.feeds;
  if (r.merged_changes > 0 || r.uploaded_changes > 0 || r.repaired_changes > 0) {
    log_(LogLevel::kInfo, std::string("sync (") + trigger + "): merged " +
                              Plural(r.merged_changes, "change", "changes") + " (" +
                              Plural(r.merged_ops, "op", "ops") + "), uploaded " +
                              std::to_string(r.uploaded_changes) + ", " +
                              Plural(requests, "request", "requests") + ", " + std::to_string(ms) +
                              " ms");
  } else {
    log_(LogLevel::kDebug, std::string("sync (") + trigger + "): nothing new, " +
                               Plural(requests, "request", "requests") + ", " +
                               std::to_string(ms) + " ms");
  }
}

void Watcher::SendOwnChanges() {
  if (!s_->journal) return;
  auto uploaded = s_->journal->store().UploadedThrough();
  if (!uploaded.ok()) return;
  // The sender always uploads first: the relay only ever carries what the cloud holds. A long
  // backlog (back online after a while) is one nudge, not a burst the relay's rate limit would
  // drop: the others fetch it from the cloud in one cycle anyway.
  if (*uploaded > s_->published_through + kMaxRelayedPerCycle && s_->relay &&
      s_->relay->connected()) {
    format::RelayMessage m;
    m.type = format::RelayType::kNudge;
    m.seq = *uploaded;
    s_->relay->Send(std::move(m), WallMs());
    ++counters_.relay_sent;
    s_->published_through = *uploaded;
    return;
  }
  for (uint64_t seq = s_->published_through + 1; seq <= *uploaded; ++seq) {
    if (!s_->relay || !s_->relay->connected()) break;
    auto bytes = s_->journal->UploadedChange(seq);
    if (!bytes.ok() || !bytes->has_value()) break;
    format::RelayMessage m;
    m.seq = seq;
    if ((*bytes)->size() <= format::kRelayMaxInlineChange) {
      m.type = format::RelayType::kChange;
      m.change = std::move(**bytes);
    } else {
      m.type = format::RelayType::kNudge;
    }
    s_->relay->Send(std::move(m), WallMs());
    ++counters_.relay_sent;
  }
  // What could not be sent now is found by the others' polls.
  s_->published_through = std::max(s_->published_through, *uploaded);
}

void Watcher::HandleRelay(int64_t now) {
  std::vector<RelayEvent> events = s_->relay->Drain(now, WallMs());
  std::vector<Journal::RelayedChange> changes;
  bool poll_soon = false;
  std::map<DeviceId, store::Cursor> cursors;
  if (EnsureJournal().ok()) {
    if (auto c = s_->journal->store().Cursors(); c.ok()) cursors = std::move(c).value();
  }
  for (auto& ev : events) {
    switch (ev.kind) {
      case RelayEvent::kHook:
        poll_soon = true;
        break;
      case RelayEvent::kNudge:
        if (ev.message.seq > cursors[ev.message.sender].seq) poll_soon = true;
        break;
      case RelayEvent::kChange:
        if (ev.message.seq > cursors[ev.message.sender].seq) {
          changes.push_back({ev.message.sender, ev.message.seq, std::move(ev.message.change)});
        }
        break;
      case RelayEvent::kPresence:
        break;
    }
  }
  UpdatePresence(now);

  // Merged even while the storage fails: the relay needs nothing from it.
  if (!changes.empty() && s_->journal) {
    MergeRelayedChanges(changes, poll_soon);
  }
  if (poll_soon) {
    s_->pushed_cycle = true;
    s_->schedule.Pushed(MonoMs(), s_->push_floor_ms);
  }
}

void Watcher::UpdatePresence(int64_t now) {
  if (!s_->relay) return;
  // Presence, as the log shows it: changes of who is online only.
  std::set<DeviceId> online;
  for (DeviceId d : s_->relay->Online(now)) online.insert(d);
  for (DeviceId d : online) {
    if (!s_->online.contains(d)) log_(LogLevel::kInfo, "device " + DeviceIdHex(d) + " is online");
  }
  for (DeviceId d : s_->online) {
    if (!online.contains(d)) log_(LogLevel::kInfo, "device " + DeviceIdHex(d) + " went offline");
  }
  if (online != s_->online && s_->journal) {
    (void)SaveOnlineDevices(s_->journal->store(), {online.begin(), online.end()});
  }
  s_->online = std::move(online);
}

void Watcher::MergeRelayedChanges(const std::vector<Journal::RelayedChange>& changes,
                                  bool& poll_soon) {
  {
    auto merged = s_->journal->MergeRelayed(changes);
    if (!merged.ok()) {
      poll_soon = true;
    } else {
      const auto& r = merged->report;
      if (r.merged_changes > 0) {
        ++counters_.relay_merges;
        if (options_.on_merged) options_.on_merged(r.merged_changes);
        s_->schedule.Activity(MonoMs());
        log_(LogLevel::kInfo, "merged " + Plural(r.merged_changes, "change", "changes") +
                                  " from the relay (" + std::to_string(merged->elapsed_ms) +
                                  " ms)");
      }
      // A refused relayed change is the next cycle's to download and judge (and report).
      poll_soon |= r.needs_full_cycle;
    }
  }
}

void Watcher::RenewPushIfDue(int64_t now) {
  if (s_->push_off || now < s_->push_due) return;
  // Whatever keeps it from registering now, the next try is a minute away: a due time left in
  // the past would make every poll() return at once.
  s_->push_due = now + 60'000;
  if (!s_->relay || s_->failing || !EnsureJournal().ok()) return;
  auto keys = s_->journal->RelayKeys();
  if (!keys.ok()) return;
  const std::string url = HookUrl(options_.relay.urls.front(), ToHex(keys->hook));
  Status st = s_->journal->WatchStorage(url);
  s_->push_due = now + options_.push_renew_ms;
  if (st.ok()) {
    s_->push_retry_ms = 0;
    s_->push_warned = false;
    log_(LogLevel::kInfo, "push: the storage notifies the relay of changes");
  } else if (st.Is(Code::kNotFound)) {
    s_->push_off = true;  // the provider has no push: polling it is
  } else if (st.Is(Code::kInvalid)) {
    s_->push_off = true;
    log_(LogLevel::kNotice, "push: not used (" + st.message() + "); polling covers it");
  } else {
    // Said once; tried again with the renewal period doubling (10 min to 12 h), so a provider
    // that refuses this relay's address is not asked every few minutes forever.
    s_->push_retry_ms = std::min<int64_t>(options_.push_renew_ms,
                                          s_->push_retry_ms == 0 ? 600'000 : 2 * s_->push_retry_ms);
    s_->push_due = now + s_->push_retry_ms;
    if (!s_->push_warned) {
      log_(LogLevel::kWarning, "push: registering the webhook failed (" + st.message() +
                                   "); polling covers it, trying again later");
    }
    s_->push_warned = true;
  }
}

}  // namespace jsync::live
