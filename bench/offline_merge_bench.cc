// Two devices each offline for a week of journaling, then one sync: A and B share E entries;
// each makes N edits (default 10,000) to the bodies of the same entries without syncing
// (a sentence inserted at a random place, now and then a few words deleted), then A syncs
// up its week, B syncs (uploads its own and merges A's: the measured merge), and A syncs again
// (merges B's). Prints both merge syncs (wall time, provider calls, changes and ops merged),
// peak RSS, and checks A and B end with the same entries; exits 1 if not.
// Everything goes through the real Journal API and the folder provider.
//
//   offline_merge_bench [--edits N] [--entries E] [--seed S] [--dir D]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/prose.h"
#include "core/journal/journal.h"
#include "core/model/text/text_document.h"
#include "host/open_provider.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void Die(const std::string& what, const jsync::Status& s) {
  std::fprintf(stderr, "offline_merge_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::unique_ptr<jsync::Journal> OpenJournal(const std::string& home) {
  auto j = jsync::Journal::Open(home, jsync::provider::MakeStorageOpener());
  if (!j.ok()) Die("open " + home, j.status());
  return std::move(j).value();
}

jsync::SyncResult CheckedSync(jsync::Journal& j, const char* what) {
  auto r = j.Sync();
  if (!r.ok()) Die(what, r.status());
  if (!r->report.ok()) Die(what, jsync::Status::Corrupt(r->report.problems[0].message));
  return std::move(r).value();
}

// A week of journaling on one device: N edits to the bodies of `ids`.
double Week(jsync::Journal& j, const std::vector<std::string>& ids, uint64_t edits,
            jsync::bench::ProseGenerator& gen) {
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < edits; ++i) {
    const std::string& id = ids[gen.rng().Range(0, ids.size() - 1)];
    auto entry = j.GetEntry(id);
    if (!entry.ok()) Die("GetEntry", entry.status());
    const size_t len = jsync::text::Utf8ToUtf32(entry->body).size();
    jsync::EntryEdit edit;
    jsync::Splice s;
    s.pos = gen.rng().Range(0, len);
    if (len > 40 && gen.rng().Range(0, 3) == 0) {
      s.pos = gen.rng().Range(0, len - 20);
      s.del = gen.rng().Range(1, 20);
    } else {
      std::string sentence = gen.Sentence();
      sentence.insert(sentence.begin(), ' ');
      s.ins = jsync::text::Utf8ToUtf32(sentence);
    }
    edit.body_splices.push_back(std::move(s));
    if (auto st = j.EditEntry(id, edit); !st.ok()) Die("EditEntry", st);
  }
  return Since(t0);
}

void Print(const char* who, double s, const jsync::SyncResult& r) {
  std::printf("%-28s %8.3f s  %4llu calls  %6llu changes  %8llu ops merged\n", who, s,
              static_cast<unsigned long long>(r.calls.calls()),
              static_cast<unsigned long long>(r.report.merged_changes),
              static_cast<unsigned long long>(r.report.merged_ops));
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t edits = 10000, entries = 20, seed = 42;
  std::string base;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--edits") {
      edits = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--entries") {
      entries = std::max<uint64_t>(1, std::strtoull(v.c_str(), nullptr, 10));
    } else if (a == "--seed") {
      seed = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--dir") {
      base = v;
    } else {
      std::fprintf(stderr, "usage: offline_merge_bench [--edits N] [--entries E] [--seed S] [--dir D]\n");
      return 2;
    }
  }
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = t && *t ? t : "/tmp";
  }
  std::string root = base + "/jsync-offline-XXXXXX";
  if (!::mkdtemp(root.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string cloud = root + "/cloud", home_a = root + "/device-a",
                    home_b = root + "/device-b";
  fs::create_directories(cloud);
  jsync::InitOptions init;
  init.storage = jsync::provider::MakeStorageOpener();
  init.provider = "folder";
  init.location = cloud;
  init.passphrase = "correct horse battery staple";
  init.scrypt.log2_n = 14;  // the key's cost is not what is measured here
  init.device_name = "device A";
  if (auto r = jsync::Journal::Init(home_a, init); !r.ok()) Die("init A", r.status());
  auto a = OpenJournal(home_a);
  jsync::bench::ProseGenerator gen_a(seed), gen_b(seed + 1);
  std::vector<std::string> ids;
  for (uint64_t i = 0; i < entries; ++i) {
    jsync::NewEntryInput in;
    in.title = gen_a.Title();
    in.body = gen_a.Body(gen_a.rng().Range(512, 5000));
    auto id = a->NewEntry(in);
    if (!id.ok()) Die("NewEntry", id.status());
    ids.push_back(jsync::RecordIdHex(*id));
  }
  CheckedSync(*a, "sync A");
  init.device_name = "device B";
  if (auto r = jsync::Journal::Init(home_b, init); !r.ok()) Die("join B", r.status());
  auto b = OpenJournal(home_b);
  CheckedSync(*b, "first sync B");

  // The week offline: neither syncs.
  const double week_a = Week(*a, ids, edits, gen_a);
  const double week_b = Week(*b, ids, edits, gen_b);

  auto t0 = Clock::now();
  const jsync::SyncResult up_a = CheckedSync(*a, "A syncs its week up");
  const double up_a_s = Since(t0);
  t0 = Clock::now();
  const jsync::SyncResult merge_b = CheckedSync(*b, "B syncs (merges A's week)");
  const double merge_b_s = Since(t0);
  t0 = Clock::now();
  const jsync::SyncResult merge_a = CheckedSync(*a, "A syncs (merges B's week)");
  const double merge_a_s = Since(t0);

  auto list_a = a->ListEntries();
  auto list_b = b->ListEntries();
  if (!list_a.ok() || !list_b.ok()) Die("list", list_a.ok() ? list_b.status() : list_a.status());
  bool same = list_a->size() == list_b->size() && list_a->size() == entries;
  size_t body_chars = 0;
  for (size_t i = 0; same && i < list_a->size(); ++i) {
    const auto& x = (*list_a)[i];
    const auto& y = (*list_b)[i];
    same = x.id == y.id && x.title == y.title && x.body == y.body && x.tags == y.tags;
    body_chars += x.body.size();
  }
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  a.reset();
  b.reset();
  std::error_code ec;
  fs::remove_all(root, ec);

  std::printf("offline_merge_bench: %llu entries, %llu edits on each device, seed %llu\n",
              static_cast<unsigned long long>(entries), static_cast<unsigned long long>(edits),
              static_cast<unsigned long long>(seed));
  std::printf("week offline:                A %.2f s, B %.2f s (%.0f edits/s)\n", week_a, week_b,
              2.0 * static_cast<double>(edits) / (week_a + week_b));
  Print("A syncs its week up", up_a_s, up_a);
  Print("B syncs: merges A's week", merge_b_s, merge_b);
  Print("A syncs: merges B's week", merge_a_s, merge_a);
  std::printf("bodies after the merge:      %zu bytes in all; peak RSS %ld MiB (both devices, one process)\n",
              body_chars, ru.ru_maxrss / 1024);
  if (!same) {
    std::fprintf(stderr, "offline_merge_bench: A and B differ after the merge\n");
    return 1;
  }
  std::printf("A and B hold the same entries\n");
  return 0;
}
