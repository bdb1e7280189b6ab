// Crash tests: a `jsync sync` that dies at any point (a named crash point, or SIGKILL after a
// random delay) loses nothing and duplicates nothing once it is run again.
//
// After every crash and restart, all devices are synced and must agree: every entry made
// anywhere is present exactly once everywhere with the content its last edit gave it, every
// device's `list --json` is identical, the cloud holds for each device a contiguous, chained
// log in which no op appears twice, no temporary file is ever taken for a change, and no file
// once in the cloud was ever rewritten or deleted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/journal/journal.h"
#include "core/journal/local_key.h"
#include "host/open_provider.h"
#include "core/sync/remote_layout.h"
#include "core/sync/verify.h"
#include "core/util/crash_point.h"
#include "providers/sdk/jsync_provider.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using jsync::testing::JsyncBinary;
using jsync::testing::ListFiles;
using jsync::testing::ProcessResult;
using jsync::testing::ReadFileBytes;
using jsync::testing::RunJsync;
using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;

constexpr const char* kTempPrefix = JSYNC_TEMP_PREFIX;

const std::vector<std::string> kCrashPoints = {
    "folder.put.partial",    "sync.seal.before_commit",  "sync.seal.after_commit",
    "sync.upload.after_put", "sync.merge.before_commit", "sync.merge.after_commit",
};

bool IsTemp(const fs::path& p) { return p.filename().string().starts_with(kTempPrefix); }

// Remembers every file of the cloud folder (bytes, mtime, inode) and fails when one seen
// before is later changed or gone. Leftover temporary files of torn writes are not objects
// and are only counted.
class CloudWatcher {
 public:
  explicit CloudWatcher(fs::path root) : root_(std::move(root)) {}

  void Check(const std::string& when) {
    std::map<std::string, State> now;
    size_t temps = 0;
    for (const auto& p : ListFiles(root_)) {
      if (IsTemp(p)) {
        ++temps;
        continue;
      }
      struct stat st {};
      ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
      now[fs::relative(p, root_).generic_string()] = {
          ReadFileBytes(p),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, st.st_ino};
    }
    for (const auto& [path, state] : seen_) {
      auto it = now.find(path);
      ASSERT_NE(it, now.end()) << path << " disappeared from the cloud (" << when << ")";
      EXPECT_TRUE(it->second == state) << path << " was rewritten (" << when << ")";
    }
    seen_ = std::move(now);
    temps_ = temps;
  }
  size_t temps() const { return temps_; }

 private:
  struct State {
    std::string bytes;
    int64_t mtime_ns = 0;
    ino_t inode = 0;
    bool operator==(const State&) const = default;
  };
  fs::path root_;
  std::map<std::string, State> seen_;
  size_t temps_ = 0;
};

// What an entry must look like everywhere once all devices have converged.
struct ModelEntry {
  std::string owner;  // the device that created it; only it edits title/body/own tags
  std::string title;
  std::string body;
  std::set<std::string> own_tags;      // added and removed by the owner only
  std::set<std::string> foreign_tags;  // added by other devices, never removed
  bool permanent = false;              // never deleted, so others may tag it
  bool alive = true;
};

// Three devices sharing one cloud folder, with a model of what every entry must end up as.
class World {
 public:
  World() {
    fs::create_directories(cloud_);
    for (const std::string name : {"alpha", "bravo", "charlie"}) {
      auto r = Journal::Init(Home(name), TestInitOptions(cloud_, name));
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) continue;
      journal_ = r->journal;
      devices_[name] = r->device;
      names_.push_back(name);
    }
  }

  const std::vector<std::string>& names() const { return names_; }
  std::string Home(const std::string& device) const { return tmp_ / ("home-" + device); }
  const std::string& cloud() const { return cloud_; }
  CloudWatcher& watcher() { return watcher_; }
  std::map<std::string, ModelEntry>& model() { return model_; }

  std::unique_ptr<Journal> Open(const std::string& device) {
    auto j = Journal::Open(Home(device), ::jsync::testing::HostStorage());
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(j).value() : nullptr;
  }

  std::string New(const std::string& device, const std::string& title, bool permanent = false) {
    auto j = Open(device);
    if (!j) return "";
    NewEntryInput in{title, "body of " + title + "\nline two", {"t-" + title}};
    auto id = j->NewEntry(in);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return "";
    const std::string hex = RecordIdHex(*id);
    model_[hex] = {device, in.title, in.body, {in.tags[0]}, {}, permanent, true};
    return hex;
  }

  // An edit by the entry's owner.
  void Edit(const std::string& id, const EntryEdit& edit) {
    ModelEntry& m = model_.at(id);
    auto j = Open(m.owner);
    if (!j) return;
    Status s = j->EditEntry(id, edit);
    ASSERT_TRUE(s.ok()) << s.ToString();
    if (edit.title) m.title = *edit.title;
    if (edit.body) m.body = *edit.body;
    for (const auto& t : edit.remove_tags) m.own_tags.erase(t);
    for (const auto& t : edit.add_tags) m.own_tags.insert(t);
  }

  // Another device tags a permanent entry it has already received.
  void ForeignTag(const std::string& device, const std::string& id, const std::string& tag) {
    ModelEntry& m = model_.at(id);
    ASSERT_TRUE(m.permanent && m.owner != device);
    auto j = Open(device);
    if (!j) return;
    EntryEdit edit;
    edit.add_tags = {tag};
    Status s = j->EditEntry(id, edit);
    ASSERT_TRUE(s.ok()) << s.ToString();
    m.foreign_tags.insert(tag);
  }

  void Remove(const std::string& id) {
    ModelEntry& m = model_.at(id);
    ASSERT_FALSE(m.permanent);
    auto j = Open(m.owner);
    if (!j) return;
    Status s = j->RemoveEntry(id);
    ASSERT_TRUE(s.ok()) << s.ToString();
    m.alive = false;
  }

  // Ids of the entries `device` currently lists.
  std::set<std::string> Visible(const std::string& device) {
    std::set<std::string> out;
    auto j = Open(device);
    if (!j) return out;
    auto list = j->ListEntries();
    EXPECT_TRUE(list.ok());
    if (list.ok()) {
      for (const auto& e : *list) out.insert(RecordIdHex(e.id));
    }
    return out;
  }

  // A sync through the CLI, without any crash: it must succeed with no problem, and never
  // take a temporary file for anything.
  void CleanSync(const std::string& device) {
    ProcessResult r = RunJsync({"--home", Home(device), "sync", "--json"});
    ASSERT_EQ(r.exit_code, 0) << device << ": " << r.out << r.err;
    EXPECT_EQ(r.err, "") << device;
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(json.is_object()) << r.out;
    EXPECT_TRUE(json["problems"].empty()) << r.out;
    for (const auto& n : json["notices"]) {
      EXPECT_EQ(n.get<std::string>().find(kTempPrefix), std::string::npos) << n;
    }
  }

  // A sync in this process.
  void ApiSync(const std::string& device) {
    auto j = Open(device);
    ASSERT_TRUE(j);
    auto r = j->Sync();
    ASSERT_TRUE(r.ok()) << device << ": " << r.status().ToString();
    for (const auto& p : r->report.problems) ADD_FAILURE() << device << ": " << p.message;
    for (const auto& n : r->report.notices) {
      EXPECT_EQ(n.find(kTempPrefix), std::string::npos) << n;
    }
  }

  // A CLI sync that is to die at a crash point.
  ProcessResult CrashSync(const std::string& device, const std::string& spec) {
    return RunJsync({"--home", Home(device), "sync"}, {{"JSYNC_CRASH_AT", spec}});
  }

  // Syncs everyone until converged and checks every invariant.
  void ExpectConverged();

 private:
  void AuditCloud();

  TempDir tmp_;
  std::string cloud_ = tmp_ / "cloud";
  CloudWatcher watcher_{cloud_};
  JournalId journal_{};
  std::map<std::string, DeviceId> devices_;
  std::vector<std::string> names_;
  std::map<std::string, ModelEntry> model_;  // by entry id
};

void World::ExpectConverged() {
  watcher_.Check("before converging");
  // Round one publishes everything; round two delivers it everywhere.
  for (int round = 0; round < 2; ++round) {
    for (const auto& name : names_) {
      ASSERT_NO_FATAL_FAILURE(CleanSync(name));
      watcher_.Check(name + "'s converging sync");
    }
  }

  std::string first_json;
  for (const auto& name : names_) {
    SCOPED_TRACE("device " + name);
    auto j = Open(name);
    ASSERT_TRUE(j);
    auto status = j->GetStatus();
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(status->outbox_ops, 0u);
    EXPECT_EQ(status->unuploaded_changes, 0u);

    auto list = j->ListEntries();
    ASSERT_TRUE(list.ok());
    std::set<std::string> ids;
    for (const auto& e : *list) {
      const std::string id = RecordIdHex(e.id);
      EXPECT_TRUE(ids.insert(id).second) << "entry " << id << " listed twice";
      auto it = model_.find(id);
      if (it == model_.end()) {
        ADD_FAILURE() << "unknown entry " << id << " '" << e.title << "'";
        continue;
      }
      const ModelEntry& m = it->second;
      EXPECT_TRUE(m.alive) << "deleted entry " << id << " '" << e.title << "' is back";
      EXPECT_EQ(e.title, m.title) << id;
      EXPECT_EQ(e.body, m.body) << id;
      std::set<std::string> tags = m.own_tags;
      tags.insert(m.foreign_tags.begin(), m.foreign_tags.end());
      EXPECT_EQ(std::set<std::string>(e.tags.begin(), e.tags.end()), tags) << id;
      EXPECT_EQ(e.tags.size(), tags.size()) << id;
      EXPECT_TRUE(e.conflicts.empty()) << id;
    }
    for (const auto& [id, m] : model_) {
      if (m.alive) {
        EXPECT_TRUE(ids.contains(id)) << "entry " << id << " '" << m.title << "' lost";
      }
    }
    j.reset();

    ProcessResult json = RunJsync({"--home", Home(name), "list", "--json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    if (first_json.empty()) {
      first_json = json.out;
    } else {
      EXPECT_EQ(json.out, first_json) << name << "'s list differs from " << names_.front() << "'s";
    }
  }
  AuditCloud();
}

// Every device's log in the cloud is contiguous from 1 and hash-chained, every file opens
// under the journal key, no op was sealed twice, and every device has merged all of it.
void World::AuditCloud() {
  auto alpha = Open("alpha");
  ASSERT_TRUE(alpha);
  auto kid_hex = alpha->store().GetMeta("key_id");
  ASSERT_TRUE(kid_hex.ok() && kid_hex->has_value());
  const format::KeyId key_id = std::stoull(**kid_hex, nullptr, 16);
  alpha.reset();
  auto master = LoadLocalKey(Home("alpha") + "/master.key", key_id);
  ASSERT_TRUE(master.ok()) << master.status().ToString();

  auto folder = provider::OpenProvider("folder", cloud_);
  ASSERT_TRUE(folder.ok());
  auto objects = (*folder)->List(sync::ChangesPrefix(journal_));
  ASSERT_TRUE(objects.ok());
  std::map<DeviceId, std::vector<uint64_t>> logs;
  for (const auto& obj : *objects) {
    EXPECT_EQ(obj.path.find(kTempPrefix), std::string::npos) << obj.path << " listed";
    auto name = sync::ParseChangePath(journal_, obj.path);
    ASSERT_TRUE(name.has_value()) << "unexpected file " << obj.path;
    logs[name->device].push_back(name->seq);
  }
  std::set<OpId> ops;
  for (auto& [device, seqs] : logs) {
    std::sort(seqs.begin(), seqs.end());
    store::Cursor previous;
    for (size_t i = 0; i < seqs.size(); ++i) {
      ASSERT_EQ(seqs[i], i + 1) << "log of " << DeviceIdHex(device) << " is not contiguous";
      const std::string bytes =
          ReadFileBytes(fs::path(cloud_) / sync::ChangePath(journal_, device, seqs[i]));
      auto verified = sync::VerifyChange(*master, {journal_, device, seqs[i], key_id, previous},
                                         AsBytes(bytes));
      ASSERT_TRUE(verified.ok()) << "change " << seqs[i] << " of " << DeviceIdHex(device) << ": "
                                 << verified.status().ToString();
      EXPECT_FALSE(verified->ops.empty());
      for (const Op& op : verified->ops) {
        EXPECT_EQ(op.id.device, device);
        EXPECT_TRUE(ops.insert(op.id).second)
            << "op " << op.id.hlc << " of " << DeviceIdHex(device) << " was sealed twice";
      }
      previous = {seqs[i], verified->hash};
    }
  }
  for (const auto& name : names_) {
    auto j = Open(name);
    ASSERT_TRUE(j);
    auto status = j->GetStatus();
    ASSERT_TRUE(status.ok());
    for (const auto& d : status->devices) {
      const uint64_t in_cloud = logs.contains(d.device) ? logs[d.device].size() : 0;
      EXPECT_EQ(d.merged_seq, in_cloud)
          << name << (d.self ? " sealed " : " merged ") << d.merged_seq << " changes of "
          << DeviceIdHex(d.device) << ", the cloud holds " << in_cloud;
    }
  }
}

// --- One test per crash point ----------------------------------------------------------------

struct CrashCase {
  const char* name;
  std::string point;
  int count;        // crash at the count-th pass
  bool two_sealed;  // leave alpha with a sealed, not uploaded change before the crashing sync
  bool many_ops;    // give alpha more pending ops than one change file takes
};

void PrintTo(const CrashCase& c, std::ostream* os) { *os << c.name; }

class CrashPointTest : public ::testing::TestWithParam<CrashCase> {};

TEST_P(CrashPointTest, RestartLosesAndDuplicatesNothing) {
  const CrashCase& c = GetParam();
  World w;
  ASSERT_EQ(w.names().size(), 3u);
  // Everyone has an entry and has seen everyone else's.
  const std::string a1 = w.New("alpha", "alpha one", /*permanent=*/true);
  const std::string b1 = w.New("bravo", "bravo one", /*permanent=*/true);
  const std::string c1 = w.New("charlie", "charlie one");
  for (int round = 0; round < 2; ++round) {
    for (const auto& name : w.names()) ASSERT_NO_FATAL_FAILURE(w.ApiSync(name));
  }
  w.watcher().Check("baseline");

  // Remote changes for alpha to merge: two from bravo, one from charlie.
  w.New("bravo", "bravo two");
  ASSERT_NO_FATAL_FAILURE(w.ApiSync("bravo"));
  EntryEdit b_edit;
  b_edit.title = "bravo one, renamed";
  b_edit.add_tags = {"bravo-extra"};
  w.Edit(b1, b_edit);
  ASSERT_NO_FATAL_FAILURE(w.ForeignTag("bravo", a1, "tagged-by-bravo"));
  ASSERT_NO_FATAL_FAILURE(w.ApiSync("bravo"));
  w.Remove(c1);
  w.New("charlie", "charlie two");
  ASSERT_NO_FATAL_FAILURE(w.ApiSync("charlie"));

  // Pending local edits on alpha.
  if (c.two_sealed) {
    w.New("alpha", "alpha sealed early");
    ProcessResult r = w.CrashSync("alpha", "sync.seal.after_commit");
    ASSERT_EQ(r.exit_code, kCrashExitCode) << r.err;
    w.watcher().Check("after sealing early");
  }
  w.New("alpha", "alpha two");
  EntryEdit a_edit;
  a_edit.body = "alpha one's body, rewritten before the crash";
  a_edit.remove_tags = {"t-alpha one"};
  a_edit.add_tags = {"alpha-new-tag"};
  w.Edit(a1, a_edit);
  ASSERT_NO_FATAL_FAILURE(w.ForeignTag("alpha", b1, "tagged-by-alpha"));
  if (c.many_ops) {
    EntryEdit big;
    for (int i = 0; i < 2100; ++i) big.add_tags.push_back("bulk-" + std::to_string(i));
    w.Edit(a1, big);
  }
  w.watcher().Check("before the crash");

  const std::string spec = c.count == 1 ? c.point : c.point + ":" + std::to_string(c.count);
  ProcessResult r = w.CrashSync("alpha", spec);
  ASSERT_EQ(r.signal, 0);
  ASSERT_EQ(r.exit_code, kCrashExitCode) << "JSYNC_CRASH_AT=" << spec << " never fired\n"
                                         << r.out << r.err;
  w.watcher().Check("after the crash");
  if (c.point == "folder.put.partial") {
    EXPECT_GE(w.watcher().temps(), 1u) << "the torn write left no temporary file";
  }

  // The other devices sync while alpha is down: whatever alpha left behind must not trouble
  // them.
  ASSERT_NO_FATAL_FAILURE(w.ApiSync("bravo"));
  ASSERT_NO_FATAL_FAILURE(w.ApiSync("charlie"));
  w.watcher().Check("others synced after the crash");

  // Restart.
  ASSERT_NO_FATAL_FAILURE(w.CleanSync("alpha"));
  w.watcher().Check("after the restart");
  const auto visible = w.Visible("alpha");
  for (const auto& [id, m] : w.model()) {
    EXPECT_EQ(visible.contains(id), m.alive) << m.title;
  }

  ASSERT_NO_FATAL_FAILURE(w.ExpectConverged());
}

std::vector<CrashCase> CrashCases() {
  return {
      {"put_partial", "folder.put.partial", 1, false, false},
      {"put_partial_2nd", "folder.put.partial", 2, true, false},
      {"seal_before_commit", "sync.seal.before_commit", 1, false, false},
      {"seal_before_commit_2nd", "sync.seal.before_commit", 2, false, true},
      {"seal_after_commit", "sync.seal.after_commit", 1, false, false},
      {"seal_after_commit_2nd", "sync.seal.after_commit", 2, false, true},
      {"upload_after_put", "sync.upload.after_put", 1, false, false},
      {"upload_after_put_2nd", "sync.upload.after_put", 2, true, false},
      {"merge_before_commit", "sync.merge.before_commit", 1, false, false},
      {"merge_before_commit_3rd", "sync.merge.before_commit", 3, false, false},
      {"merge_after_commit", "sync.merge.after_commit", 1, false, false},
      {"merge_after_commit_2nd", "sync.merge.after_commit", 2, true, false},
  };
}

INSTANTIATE_TEST_SUITE_P(CrashPoints, CrashPointTest, ::testing::ValuesIn(CrashCases()),
                         [](const auto& info) { return std::string(info.param.name); });

// A crash while restarting after a crash, at every point in turn, on one device.
TEST(CrashRepeatedTest, CrashingAgainDuringEveryRestart) {
  World w;
  ASSERT_EQ(w.names().size(), 3u);
  const std::string a1 = w.New("alpha", "alpha one", true);
  int n = 0;
  for (const auto& point : kCrashPoints) {
    SCOPED_TRACE(point);
    w.New("bravo", "bravo " + std::to_string(n));
    ASSERT_NO_FATAL_FAILURE(w.ApiSync("bravo"));
    w.New("alpha", "alpha " + std::to_string(n));
    EntryEdit e;
    e.title = "alpha one, version " + std::to_string(n);
    w.Edit(a1, e);
    ProcessResult r = w.CrashSync("alpha", point);
    EXPECT_EQ(r.exit_code, kCrashExitCode) << r.err;
    w.watcher().Check("after crash at " + point);
    ++n;
  }
  ASSERT_NO_FATAL_FAILURE(w.ExpectConverged());
}

// --- Seeded random crashes ---------------------------------------------------------------------

struct KillOutcome {
  bool killed = false;
  int exit_code = -1;
  std::string err;
};

// Runs `jsync sync` and sends it SIGKILL after `delay` (unless it finished first).
KillOutcome SyncAndKill(const std::string& home, const std::string& err_path,
                        std::chrono::microseconds delay) {
  const std::string binary = JsyncBinary();
  pid_t pid = ::fork();
  if (pid < 0) return {};
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(err, 2);
    ::execl(binary.c_str(), binary.c_str(), "--home", home.c_str(), "sync",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(delay);  // the deliberate kill delay
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  KillOutcome out;
  out.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  out.err = ReadFileBytes(err_path);
  return out;
}

struct RandomStats {
  int killed = 0;
  int crashed = 0;
};

void RunRandomSeed(uint64_t seed, RandomStats& stats) {
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  World w;
  ASSERT_EQ(w.names().size(), 3u);
  std::vector<std::string> pending_restart;  // devices whose last sync died
  int serial = 0;

  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds; ++round) {
    // Random edits: new entries, owner edits and deletes, tags on others' permanent entries.
    for (const auto& device : w.names()) {
      const size_t edits = pick(4);
      for (size_t k = 0; k < edits; ++k) {
        const std::string tag = "r" + std::to_string(serial++);
        std::vector<std::string> own, others;
        const auto visible = w.Visible(device);
        for (const auto& [id, m] : w.model()) {
          if (!m.alive) continue;
          if (m.owner == device) own.push_back(id);
          if (m.owner != device && m.permanent && visible.contains(id)) others.push_back(id);
        }
        const size_t what = pick(10);
        if (what < 3 || own.empty()) {
          w.New(device, device + " entry " + tag, /*permanent=*/pick(2) == 0);
        } else if (what < 7) {
          const std::string& id = own[pick(own.size())];
          const ModelEntry& m = w.model().at(id);
          EntryEdit e;
          if (pick(2)) e.title = m.title + " / " + tag;
          if (pick(2)) e.body = m.body + "\nedited " + tag;
          if (pick(2)) e.add_tags = {"own-" + tag};
          if (!m.own_tags.empty() && pick(2)) {
            auto it = m.own_tags.begin();
            std::advance(it, pick(m.own_tags.size()));
            e.remove_tags = {*it};
          }
          if (!e.title && !e.body && e.add_tags.empty() && e.remove_tags.empty()) e.body = tag;
          ASSERT_NO_FATAL_FAILURE(w.Edit(id, e));
        } else if (what < 9 && !others.empty()) {
          ASSERT_NO_FATAL_FAILURE(w.ForeignTag(device, others[pick(others.size())], "f-" + tag));
        } else {
          const std::string& id = own[pick(own.size())];
          if (w.model().at(id).permanent) continue;
          ASSERT_NO_FATAL_FAILURE(w.Remove(id));
        }
      }
    }

    // Syncs in a random order, some of them killed.
    std::vector<std::string> order = w.names();
    std::shuffle(order.begin(), order.end(), rng);
    for (const auto& device : order) {
      SCOPED_TRACE("round " + std::to_string(round) + ", " + device);
      const size_t mode = pick(10);
      bool died = false;
      if (mode < 3) {
        ASSERT_NO_FATAL_FAILURE(w.CleanSync(device));
      } else if (mode < 7) {
        const auto delay = std::chrono::microseconds(pick(30000));
        KillOutcome k = SyncAndKill(w.Home(device), w.Home(device) + ".err", delay);
        if (!k.killed) {
          EXPECT_EQ(k.exit_code, 0)
              << "sync not killed after " << delay.count() << " us: " << k.err;
          EXPECT_EQ(k.err, "");
        }
        died = k.killed;
        stats.killed += k.killed;
      } else {
        const std::string spec =
            kCrashPoints[pick(kCrashPoints.size())] + ":" + std::to_string(1 + pick(3));
        ProcessResult r = w.CrashSync(device, spec);
        EXPECT_TRUE(r.exit_code == kCrashExitCode || r.exit_code == 0)
            << spec << " gave exit " << r.exit_code << ": " << r.err;
        if (r.exit_code == 0) {
          EXPECT_EQ(r.err, "") << spec;
        }
        died = r.exit_code == kCrashExitCode;
        stats.crashed += died;
      }
      w.watcher().Check("after a sync of " + device);
      // Restart now, or only after more edits in a later round.
      if (died && pick(2) == 0) {
        ASSERT_NO_FATAL_FAILURE(w.CleanSync(device));
        w.watcher().Check("after restarting " + device);
      }
    }
  }
  ASSERT_NO_FATAL_FAILURE(w.ExpectConverged());
}

TEST(CrashRandomTest, RandomKillsAndCrashPointsLoseNothing) {
  std::vector<uint64_t> seeds;
  if (const char* s = std::getenv("JSYNC_SEED"); s && *s) {
    seeds.push_back(jsync::testing::SeedFromEnv(0));
  } else {
    for (uint64_t s = 1; s <= 20; ++s) seeds.push_back(s);
  }
  RandomStats stats;
  for (uint64_t seed : seeds) {
    SCOPED_TRACE("seed " + std::to_string(seed) +
                 " (rerun with JSYNC_SEED=" + std::to_string(seed) + ")");
    RunRandomSeed(seed, stats);
    if (HasFatalFailure()) return;
  }
  std::printf("[ random  ] %zu seeds: %d syncs killed by SIGKILL, %d stopped at crash points\n",
              seeds.size(), stats.killed, stats.crashed);
  if (seeds.size() > 1) {
    // Otherwise the test would only have exercised clean syncs.
    EXPECT_GT(stats.killed, 0);
    EXPECT_GT(stats.crashed, 0);
  }
}

}  // namespace
}  // namespace jsync
