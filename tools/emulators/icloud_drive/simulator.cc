#include "tools/emulators/icloud_drive/simulator.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/inotify.h>
#endif

#include <algorithm>
#include <filesystem>

#include "tools/emulators/common/util.h"

namespace fs = std::filesystem;

namespace jsync::emulator::icloud_drive {
namespace {

bool Under(const std::string& rel, const std::string& under) {
  return under.empty() || rel == under || rel.rfind(under + "/", 0) == 0;
}

std::string FileName(const std::string& rel) {
  const size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

}  // namespace

Simulator::Simulator(SimOptions options)
    : options_(std::move(options)), known_(options_.roots.size()), rng_(options_.seed) {}

Simulator::~Simulator() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

Result<std::unique_ptr<Simulator>> Simulator::Create(SimOptions options) {
  std::unique_ptr<Simulator> sim(new Simulator(std::move(options)));
  JSYNC_RETURN_IF_ERROR(sim->Start());
  return sim;
}

Status Simulator::Start() {
  if (options_.roots.size() < 2) return Status::Invalid("--roots needs at least two folders");
  std::error_code ec;
  staging_ = options_.state_dir + "/staging";
  for (const std::string& d : {options_.state_dir + "/blobs", staging_}) {
    fs::create_directories(d, ec);
    if (ec) return Status::Fatal("cannot create " + d + ": " + ec.message());
  }
  struct stat s {};
  ::stat(staging_.c_str(), &s);
  for (const std::string& root : options_.roots) {
    fs::create_directories(root, ec);
    struct stat r {};
    if (ec || ::stat(root.c_str(), &r) != 0 || !S_ISDIR(r.st_mode)) {
      return Status::Fatal("cannot use the root " + root + (ec ? ": " + ec.message() : ""));
    }
    // Downloads are renamed into place from the state folder: same volume, or no atomicity.
    if (r.st_dev != s.st_dev) {
      return Status::Invalid("the root " + root + " is on another volume than --state " +
                             options_.state_dir + "; put them on one");
    }
  }
#if defined(__linux__)
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) return Status::Fatal("inotify_init1 failed");
  std::lock_guard lock(mu_);
  for (size_t r = 0; r < options_.roots.size(); ++r) WatchTreeLocked(r, "");
  return Status::Ok();
#else
  return Status::Invalid("the iCloud Drive simulator needs inotify (Linux)");
#endif
}

std::string Simulator::BlobPath(const std::string& hash) const {
  return options_.state_dir + "/blobs/" + hash;
}

int64_t Simulator::Jitter() {
  return options_.jitter_ms > 0 ? static_cast<int64_t>(rng_() % (options_.jitter_ms + 1)) : 0;
}

void Simulator::WatchTreeLocked(size_t root, const std::string& under) {
#if defined(__linux__)
  std::vector<std::string> dirs = {under};
  for (const std::string& d : WalkTree(options_.roots[root], under).dirs) dirs.push_back(d);
  for (const std::string& d : dirs) {
    if (!watched_.insert({root, d}).second) continue;
    const int wd = ::inotify_add_watch(
        inotify_fd_, Join(options_.roots[root], d).c_str(),
        IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
    if (wd < 0) {
      watched_.erase({root, d});
      continue;
    }
    watches_[wd] = {root, d};
  }
#else
  (void)root;
  (void)under;
#endif
}

void Simulator::EventsLocked() {
#if defined(__linux__)
  alignas(inotify_event) char buf[16384];
  for (;;) {
    const ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) return;
    for (char* p = buf; p < buf + n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + e->len;
      if (e->mask & IN_Q_OVERFLOW) {
        rescan_now_ = true;
        continue;
      }
      auto w = watches_.find(e->wd);
      if (w == watches_.end()) continue;
      const auto [root, dir] = w->second;
      if (e->mask & IN_IGNORED) {
        watched_.erase(w->second);
        watches_.erase(w);
        continue;
      }
      if (e->len == 0 || paused_) continue;
      const std::string name = e->name;
      const std::string rel = dir.empty() ? name : dir + "/" + name;
      if (e->mask & IN_ISDIR) {
        if (e->mask & (IN_CREATE | IN_MOVED_TO)) {
          WatchTreeLocked(root, rel);
          ScanLocked(root, rel);  // what was written before the watch
        }
        continue;
      }
      std::string real;
      if (IsStubName(name, &real)) {
        const std::string real_rel = dir.empty() ? real : dir + "/" + real;
        if (e->mask & IN_CLOSE_WRITE) StubAskedLocked(root, real_rel);
        if (e->mask & (IN_DELETE | IN_MOVED_FROM)) LookLocked(root, real_rel);
        continue;
      }
      ++events_;
      if (drop_events_ || options_.faults.Has(FaultKind::kDropEvent, events_)) {
        ++dropped_events_;
        continue;
      }
      LookLocked(root, rel);
    }
  }
#endif
}

void Simulator::LookLocked(size_t root, const std::string& rel) {
  const std::string& base = options_.roots[root];
  FileStat st;
  const bool present = StatFile(Join(base, rel), &st);
  auto& known = known_[root];
  auto it = known.find(rel);
  if (present) {
    if (it != known.end() && !it->second.evicted && it->second.stat == st) return;
    UploadLocked(root, rel, st);
    return;
  }
  if (it == known.end()) return;
  FileStat stub;
  if (StatFile(Join(base, StubPathFor(rel)), &stub)) return;  // evicted, or being evicted
  DeleteLocked(root, rel);
}

void Simulator::UploadLocked(size_t root, const std::string& rel, const FileStat& st) {
  const std::string& base = options_.roots[root];
  std::string bytes;
  if (!ReadWhole(Join(base, rel), &bytes)) return;
  const std::string hash = HexSha256(bytes);
  CloudEntry& c = cloud_[rel];
  if (!c.deleted && c.version > 0 && c.hash == hash) {
    known_[root][rel] = Known{c.version, hash, st, false};
    ::unlink(Join(base, StubPathFor(rel)).c_str());
    return;
  }
  if (storage_full_) {  // kept on this Mac; a later rescan uploads it
    if (c.version == 0) cloud_.erase(rel);
    ++held_by_full_;
    return;
  }
  if (!fs::exists(BlobPath(hash)) && !WriteFileAtomic(BlobPath(hash), bytes)) return;
  static uint64_t next_version = 0;
  c = CloudEntry{++next_version, false, hash, bytes.size()};
  known_[root][rel] = Known{c.version, hash, st, false};
  ::unlink(Join(base, StubPathFor(rel)).c_str());
  ++uploads_;
  ScheduleLocked(rel, root);
}

void Simulator::DeleteLocked(size_t root, const std::string& rel) {
  if (storage_full_) return;  // looked at again by the next rescan
  auto& known = known_[root];
  auto it = known.find(rel);
  if (it == known.end()) return;
  const uint64_t had = it->second.version;
  known.erase(it);
  auto c = cloud_.find(rel);
  if (c == cloud_.end() || c->second.deleted || c->second.version != had) return;
  static uint64_t next_removal = uint64_t{1} << 62;  // versions of removals, apart from files'
  c->second.deleted = true;
  c->second.version = ++next_removal;
  ++removals_;
  ScheduleLocked(rel, root);
}

void Simulator::ScheduleLocked(const std::string& rel, size_t except_root) {
  const int64_t now = NowMs();
  const uint64_t version = cloud_[rel].version;
  for (size_t q = 0; q < options_.roots.size(); ++q) {
    if (q == except_root) continue;
    pending_.push_back(Pending{now + options_.delay_ms + Jitter(), q, rel, version, Job::kDeliver});
  }
}

void Simulator::RunDueLocked(int64_t now) {
  if (paused_) return;
  std::vector<Pending> due;
  auto split = std::stable_partition(pending_.begin(), pending_.end(),
                                     [&](const Pending& p) { return p.due_ms > now; });
  due.assign(split, pending_.end());
  pending_.erase(split, pending_.end());
  std::stable_sort(due.begin(), due.end(),
                   [](const Pending& a, const Pending& b) { return a.due_ms < b.due_ms; });
  for (const Pending& p : due) {
    if (p.job == Job::kDeliver) {
      DeliverLocked(p);
    } else {
      HydrateLocked(p.root, p.rel);
    }
  }
}

void Simulator::DeliverLocked(const Pending& p) {
  auto c = cloud_.find(p.rel);
  if (c == cloud_.end() || c->second.version != p.version) return;  // superseded
  const std::string& base = options_.roots[p.root];
  const std::string path = Join(base, p.rel);
  auto& known = known_[p.root];
  FileStat st;
  auto it = known.find(p.rel);
  const bool present = StatFile(path, &st);
  const bool changed_here =
      present ? it == known.end() || it->second.evicted || !(it->second.stat == st)
              : it != known.end() && !it->second.evicted;
  if (changed_here) {
    // This Mac changed the file too and iCloud has not seen it yet: it goes up first.
    LookLocked(p.root, p.rel);
    c = cloud_.find(p.rel);
    if (c == cloud_.end() || c->second.version != p.version) return;
    if (storage_full_) {
      pending_.push_back(Pending{NowMs() + options_.delay_ms, p.root, p.rel, p.version, p.job});
      return;
    }
  }
  ++deliveries_;
  if (c->second.deleted) {
    ::unlink(path.c_str());
    ::unlink(Join(base, StubPathFor(p.rel)).c_str());
    known.erase(p.rel);
    RemoveEmptyParents(base, p.rel);
    return;
  }
  std::string bytes;
  if (!ReadWhole(BlobPath(c->second.hash), &bytes)) return;
  if (!Publish(staging_, base, p.rel, bytes).empty()) return;
  WatchTreeLocked(p.root,
                  p.rel.rfind('/') == std::string::npos ? "" : p.rel.substr(0, p.rel.rfind('/')));
  StatFile(path, &st);
  known[p.rel] = Known{c->second.version, c->second.hash, st, false};
  ::unlink(Join(base, StubPathFor(p.rel)).c_str());
  if (options_.faults.Has(FaultKind::kEvict, deliveries_)) (void)EvictLocked(p.root, p.rel);
  const bool other = options_.faults.Has(FaultKind::kConflict, deliveries_);
  if (other || options_.faults.Has(FaultKind::kConflictSame, deliveries_)) {
    static const char* const kStyles[] = {"space", "paren", "underscore"};
    const std::string dup = DuplicateName(p.rel, kStyles[deliveries_ % 3]);
    if (Publish(staging_, base, dup, other ? bytes + "(edited on another Mac)" : bytes).empty())
      ++duplicates_;
  }
}

Status Simulator::EvictLocked(size_t root, const std::string& rel) {
  const std::string& base = options_.roots[root];
  auto it = known_[root].find(rel);
  FileStat st;
  if (it == known_[root].end() || it->second.evicted || !StatFile(Join(base, rel), &st) ||
      !(st == it->second.stat)) {
    return Status::NotFound("root " + std::to_string(root) + " holds no synced file " + rel);
  }
  const std::string why =
      Publish(staging_, base, StubPathFor(rel), StubBytes(FileName(rel), st.size));
  if (!why.empty()) return Status::Fatal(why);
  it->second.evicted = true;
  ::unlink(Join(base, rel).c_str());
  ++evictions_;
  return Status::Ok();
}

void Simulator::StubAskedLocked(size_t root, const std::string& rel) {
  auto it = known_[root].find(rel);
  if (it == known_[root].end() || !it->second.evicted) return;
  for (const Pending& p : pending_)
    if (p.job == Job::kHydrate && p.root == root && p.rel == rel) return;
  pending_.push_back(Pending{NowMs() + options_.hydrate_ms, root, rel, 0, Job::kHydrate});
}

void Simulator::HydrateLocked(size_t root, const std::string& rel) {
  const std::string& base = options_.roots[root];
  auto it = known_[root].find(rel);
  if (it == known_[root].end() || !it->second.evicted) return;
  auto c = cloud_.find(rel);
  if (c == cloud_.end() || c->second.deleted) {
    ::unlink(Join(base, StubPathFor(rel)).c_str());
    known_[root].erase(it);
    return;
  }
  std::string bytes;
  if (!ReadWhole(BlobPath(c->second.hash), &bytes)) return;
  if (!Publish(staging_, base, rel, bytes).empty()) return;
  FileStat st;
  StatFile(Join(base, rel), &st);
  it->second = Known{c->second.version, c->second.hash, st, false};
  ::unlink(Join(base, StubPathFor(rel)).c_str());
  ++hydrations_;
}

void Simulator::ScanLocked(size_t root, const std::string& under) {
  if (paused_) return;
  const Walk w = WalkTree(options_.roots[root], under);
  for (const std::string& d : w.dirs)
    if (!watched_.count({root, d})) WatchTreeLocked(root, d);
  for (const auto& [rel, st] : w.files) LookLocked(root, rel);
  std::vector<std::string> gone;
  for (const auto& [rel, k] : known_[root]) {
    if (!Under(rel, under) || w.files.count(rel)) continue;
    if (k.evicted && w.stubs.count(rel)) continue;
    gone.push_back(rel);
  }
  for (const std::string& rel : gone) LookLocked(root, rel);
  if (under.empty()) ++rescans_;
}

std::vector<std::string> Simulator::DifferencesLocked(size_t max) {
  std::vector<std::string> out;
  auto add = [&](std::string s) {
    if (out.size() < max) out.push_back(std::move(s));
  };
  if (paused_) add("paused");
  if (!pending_.empty())
    add(std::to_string(pending_.size()) + " deliveries or hydrations in flight");
  for (size_t r = 0; r < options_.roots.size(); ++r) {
    const std::string who = "root " + std::to_string(r) + ": ";
    const Walk w = WalkTree(options_.roots[r], "");
    const auto& known = known_[r];
    for (const auto& [rel, st] : w.files) {
      auto it = known.find(rel);
      if (it == known.end() || it->second.evicted || !(it->second.stat == st)) {
        add(who + rel + " is not uploaded");
        continue;
      }
      auto c = cloud_.find(rel);
      if (c == cloud_.end() || c->second.deleted || c->second.version != it->second.version)
        add(who + rel + " is not the cloud's version");
    }
    for (const auto& [rel, k] : known) {
      if (!k.evicted && !w.files.count(rel)) add(who + rel + " was removed, not yet propagated");
      if (k.evicted && !w.stubs.count(rel)) add(who + "the stub of " + rel + " was removed");
    }
    for (const auto& [rel, c] : cloud_)
      if (!c.deleted && !known.count(rel)) add(who + rel + " has not arrived");
  }
  return out;
}

nlohmann::json Simulator::Settled() {
  std::lock_guard lock(mu_);
  const auto diffs = DifferencesLocked(20);
  return {{"settled", diffs.empty()}, {"pending", pending_.size()}, {"differences", diffs}};
}

nlohmann::json Simulator::Counters() {
  std::lock_guard lock(mu_);
  return {{"events", events_},
          {"dropped_events", dropped_events_},
          {"uploads", uploads_},
          {"deliveries", deliveries_},
          {"removals", removals_},
          {"evictions", evictions_},
          {"hydrations", hydrations_},
          {"duplicates", duplicates_},
          {"held_by_full", held_by_full_},
          {"rescans", rescans_},
          {"paused", paused_},
          {"storage_full", storage_full_},
          {"drop_events", drop_events_},
          {"hydrate_ms", options_.hydrate_ms},
          {"files", cloud_.size()}};
}

Status Simulator::Evict(size_t root, const std::string& rel, int* count) {
  std::lock_guard lock(mu_);
  *count = 0;
  if (root >= options_.roots.size()) return Status::Invalid("no root " + std::to_string(root));
  if (!rel.empty()) {
    JSYNC_RETURN_IF_ERROR(EvictLocked(root, rel));
    *count = 1;
    return Status::Ok();
  }
  std::vector<std::string> all;
  for (const auto& [r, k] : known_[root])
    if (!k.evicted) all.push_back(r);
  for (const std::string& r : all) *count += EvictLocked(root, r).ok() ? 1 : 0;
  return Status::Ok();
}

Status Simulator::Hydrate(size_t root, const std::string& rel) {
  std::lock_guard lock(mu_);
  if (root >= options_.roots.size()) return Status::Invalid("no root " + std::to_string(root));
  auto it = known_[root].find(rel);
  if (it == known_[root].end() || !it->second.evicted)
    return Status::NotFound(rel + " is not evicted in root " + std::to_string(root));
  HydrateLocked(root, rel);
  return Status::Ok();
}

Status Simulator::InjectDuplicate(size_t root, const std::string& rel, const std::string& style,
                                  bool same, std::string* made) {
  std::lock_guard lock(mu_);
  if (root >= options_.roots.size()) return Status::Invalid("no root " + std::to_string(root));
  const std::string dup = DuplicateName(rel, style);
  if (dup.empty()) return Status::Invalid("style must be space, paren or underscore");
  const std::string& base = options_.roots[root];
  std::string bytes;
  if (!ReadWhole(Join(base, rel), &bytes)) {
    return Status::NotFound("root " + std::to_string(root) + " holds no file " + rel);
  }
  if (!same) bytes += "(edited on another Mac)";
  const std::string why = Publish(staging_, base, dup, bytes);
  if (!why.empty()) return Status::Fatal(why);
  ++duplicates_;
  *made = dup;
  return Status::Ok();
}

void Simulator::SetHydrateMs(int64_t ms) {
  std::lock_guard lock(mu_);
  options_.hydrate_ms = ms;
}

void Simulator::SetDropEvents(bool on) {
  std::lock_guard lock(mu_);
  drop_events_ = on;
}

void Simulator::SetStorageFull(bool on) {
  std::lock_guard lock(mu_);
  storage_full_ = on;
  if (!on) rescan_now_ = true;  // what was held goes up now
}

void Simulator::SetPaused(bool on) {
  std::lock_guard lock(mu_);
  paused_ = on;
  if (!on) rescan_now_ = true;
}

void Simulator::RequestRescan() {
  std::lock_guard lock(mu_);
  rescan_now_ = true;
}

void Simulator::Run(const std::atomic<bool>* stop) {
  while (!stop->load()) {
    pollfd p{inotify_fd_, POLLIN, 0};
    ::poll(&p, 1, 20);
    std::lock_guard lock(mu_);
    EventsLocked();
    const int64_t now = NowMs();
    if (rescan_now_ || now >= next_rescan_ms_) {
      if (!paused_) {
        for (size_t r = 0; r < options_.roots.size(); ++r) ScanLocked(r, "");
      }
      rescan_now_ = false;
      next_rescan_ms_ = now + options_.rescan_ms;
    }
    RunDueLocked(now);
  }
}

}  // namespace jsync::emulator::icloud_drive
