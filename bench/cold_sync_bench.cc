// Cold sync of a new device.
//
// Device A creates a journal in a cloud folder (folder provider), writes N realistic entries
// (English-like prose bodies of 0.5-5 KB, 0-4 tags, generated deterministically from a seed)
// and syncs them up. Device B then joins with the same passphrase and runs its first sync,
// which downloads, verifies and merges everything. The program prints the time of each step,
// B's provider calls and bytes moved, the changes and ops it merged, and how many bytes the
// cloud folder holds against the plaintext size; then it checks that B lists exactly A's
// entries and exits 1 if not.
//
//   cold_sync_bench [--entries N] [--seed S] [--scrypt-log2n L] [--dir D] [--keep] [--json]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/prose.h"
#include "host/open_provider.h"
#include "core/journal/journal.h"
#include "host/open_provider.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  uint64_t entries = 10000;
  uint64_t seed = 42;
  int scrypt_log2n = 17;
  std::string dir;  // parent of the temporary folder
  bool keep = false;
  bool json = false;
};

[[noreturn]] void Usage(const char* msg) {
  std::fprintf(stderr,
               "cold_sync_bench: %s\nusage: cold_sync_bench [--entries N] [--seed S] "
               "[--scrypt-log2n L] [--dir D] [--keep] [--json]\n",
               msg);
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    try {
      if (a == "--entries") {
        o.entries = std::stoull(value());
      } else if (a == "--seed") {
        o.seed = std::stoull(value());
      } else if (a == "--scrypt-log2n") {
        o.scrypt_log2n = std::stoi(value());
      } else if (a == "--dir") {
        o.dir = value();
      } else if (a == "--keep") {
        o.keep = true;
      } else if (a == "--json") {
        o.json = true;
      } else if (a == "-h" || a == "--help") {
        Usage("measures the first sync of a new device");
      } else {
        Usage(("unknown argument " + a).c_str());
      }
    } catch (const std::exception&) {
      Usage(("bad value for " + a).c_str());
    }
  }
  if (o.entries == 0) Usage("--entries must be at least 1");
  return o;
}

[[noreturn]] void Die(const std::string& what, const jsync::Status& s) {
  std::fprintf(stderr, "cold_sync_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

uint64_t TreeBytes(const fs::path& dir, const std::string& only_under = "") {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    if (!only_under.empty() &&
        fs::relative(e.path(), dir).generic_string().find(only_under) == std::string::npos) {
      continue;
    }
    total += e.file_size();
  }
  return total;
}

uint64_t CountFiles(const fs::path& dir, const std::string& only_under) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() &&
        fs::relative(e.path(), dir).generic_string().find(only_under) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

std::unique_ptr<jsync::Journal> OpenJournal(const std::string& home) {
  auto j = jsync::Journal::Open(home, jsync::provider::MakeStorageOpener());
  if (!j.ok()) Die("open " + home, j.status());
  return std::move(j).value();
}

void CheckSync(const char* what, const jsync::Result<jsync::SyncResult>& r) {
  if (!r.ok()) Die(what, r.status());
  if (!r->report.ok()) Die(what, jsync::Status::Corrupt(r->report.problems[0].message));
}

// Entries equal in id, title, body, tags and creation time; returns a description of the
// first difference, or "" when equal.
std::string Compare(const std::vector<jsync::Entry>& a, const std::vector<jsync::Entry>& b) {
  if (a.size() != b.size()) {
    return "A has " + std::to_string(a.size()) + " entries, B has " + std::to_string(b.size());
  }
  for (size_t i = 0; i < a.size(); ++i) {
    const auto& x = a[i];
    const auto& y = b[i];
    if (x.id != y.id || x.title != y.title || x.body != y.body || x.tags != y.tags ||
        x.created_ms != y.created_ms || !y.conflicts.empty()) {
      return "entry " + jsync::RecordIdHex(x.id) + " (position " + std::to_string(i) +
             ") differs between A and B";
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = ParseArgs(argc, argv);

  std::string base = opt.dir;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = t && *t ? t : "/tmp";
  }
  std::string root = base + "/jsync-coldsync-XXXXXX";
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
  init.scrypt.log2_n = static_cast<uint8_t>(opt.scrypt_log2n);

  // --- Device A: create, write N entries, sync up.
  init.device_name = "device A";
  auto t0 = Clock::now();
  if (auto r = jsync::Journal::Init(home_a, init); !r.ok()) Die("init A", r.status());
  const double init_a_s = Since(t0);
  auto a = OpenJournal(home_a);

  jsync::bench::ProseGenerator gen(opt.seed);
  uint64_t plain_title = 0, plain_body = 0, plain_tags = 0, tag_count = 0;
  t0 = Clock::now();
  for (uint64_t i = 0; i < opt.entries; ++i) {
    jsync::NewEntryInput in;
    in.title = gen.Title();
    in.body = gen.Body(gen.rng().Range(512, 5000));
    in.tags = gen.Tags();
    plain_title += in.title.size();
    plain_body += in.body.size();
    for (const auto& t : in.tags) plain_tags += t.size();
    tag_count += in.tags.size();
    auto id = a->NewEntry(in);
    if (!id.ok()) Die("NewEntry", id.status());
  }
  const double write_a_s = Since(t0);
  const uint64_t plain = plain_title + plain_body + plain_tags;

  t0 = Clock::now();
  auto sync_a = a->Sync();
  const double sync_a_s = Since(t0);
  CheckSync("sync A", sync_a);

  const uint64_t cloud_bytes = TreeBytes(cloud);
  const uint64_t change_bytes = TreeBytes(cloud, "/changes/");
  const uint64_t change_files = CountFiles(cloud, "/changes/");

  // --- Device B: join (unwraps the master key: one scrypt at A's cost), then cold sync.
  init.device_name = "device B";
  t0 = Clock::now();
  auto joined = jsync::Journal::Init(home_b, init);
  const double join_b_s = Since(t0);
  if (!joined.ok()) Die("join B", joined.status());
  if (!joined->joined) Die("join B", jsync::Status::Invalid("B created a new journal"));
  auto b = OpenJournal(home_b);

  t0 = Clock::now();
  auto sync_b = b->Sync();
  const double sync_b_s = Since(t0);
  CheckSync("cold sync B", sync_b);

  // A second sync on B: what a poll costs when nothing changed.
  t0 = Clock::now();
  auto poll_b = b->Sync();
  const double poll_b_s = Since(t0);
  CheckSync("second sync B", poll_b);

  // --- Verify.
  t0 = Clock::now();
  auto list_a = a->ListEntries();
  if (!list_a.ok()) Die("list A", list_a.status());
  auto list_b = b->ListEntries();
  if (!list_b.ok()) Die("list B", list_b.status());
  const double list_s = Since(t0) / 2;
  std::string diff = Compare(*list_a, *list_b);
  if (diff.empty() && list_a->size() != opt.entries) {
    diff = "A lists " + std::to_string(list_a->size()) + " entries, expected " +
           std::to_string(opt.entries);
  }

  uint64_t db_b = 0;
  for (const char* f : {"journal.db", "journal.db-wal"}) {
    std::error_code ec;
    auto s = fs::file_size(home_b + "/" + f, ec);
    if (!ec) db_b += s;
  }
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);

  a.reset();
  b.reset();
  if (!opt.keep) {
    std::error_code ec;
    fs::remove_all(root, ec);
  }

  const auto& rb = sync_b->report;
  const auto& cb = sync_b->calls;
  const double ratio = static_cast<double>(cloud_bytes) / static_cast<double>(plain);
  if (opt.json) {
    nlohmann::json j = {
        {"entries", opt.entries},
        {"seed", opt.seed},
        {"scrypt_log2n", opt.scrypt_log2n},
        {"plaintext_bytes", plain},
        {"plaintext",
         {{"title", plain_title},
          {"body", plain_body},
          {"tags", plain_tags},
          {"tag_count", tag_count}}},
        {"a",
         {{"init_s", init_a_s},
          {"write_s", write_a_s},
          {"entries_per_s", static_cast<double>(opt.entries) / write_a_s},
          {"sync_s", sync_a_s},
          {"sealed_changes", sync_a->report.sealed_changes},
          {"calls", sync_a->calls.calls()},
          {"bytes_up", sync_a->calls.bytes_up}}},
        {"cloud",
         {{"bytes", cloud_bytes},
          {"change_bytes", change_bytes},
          {"change_files", change_files},
          {"bytes_per_plaintext_byte", ratio}}},
        {"b",
         {{"join_s", join_b_s},
          {"cold_sync_s", sync_b_s},
          {"calls", cb.calls()},
          {"puts", cb.puts},
          {"gets", cb.gets},
          {"lists", cb.lists},
          {"bytes_down", cb.bytes_down},
          {"bytes_up", cb.bytes_up},
          {"downloaded_changes", rb.downloaded_changes},
          {"merged_changes", rb.merged_changes},
          {"merged_ops", rb.merged_ops},
          {"db_bytes", db_b},
          {"second_sync_s", poll_b_s},
          {"second_sync_calls", poll_b->calls.calls()}}},
        {"list_entries_s", list_s},
        {"max_rss_kib", ru.ru_maxrss},
        {"verified", diff.empty()},
    };
    if (!diff.empty()) j["error"] = diff;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("cold sync benchmark: %llu entries, seed %llu, scrypt log2 N = %d\n",
                static_cast<unsigned long long>(opt.entries),
                static_cast<unsigned long long>(opt.seed), opt.scrypt_log2n);
    std::printf(
        "  plaintext            %.2f MB (title %.2f, body %.2f, tags %.3f; %.1f tags/entry)\n",
        plain / 1e6, plain_title / 1e6, plain_body / 1e6, plain_tags / 1e6,
        static_cast<double>(tag_count) / static_cast<double>(opt.entries));
    std::printf("A init (new journal)   %.3f s\n", init_a_s);
    std::printf("A write %llu entries  %.3f s (%.0f entries/s, one transaction each)\n",
                static_cast<unsigned long long>(opt.entries), write_a_s,
                static_cast<double>(opt.entries) / write_a_s);
    std::printf("A sync up              %.3f s: %llu changes sealed, %llu calls, %.2f MB up\n",
                sync_a_s, static_cast<unsigned long long>(sync_a->report.sealed_changes),
                static_cast<unsigned long long>(sync_a->calls.calls()),
                sync_a->calls.bytes_up / 1e6);
    std::printf(
        "cloud folder           %.2f MB (%llu change files, %.2f MB); "
        "%.3f bytes stored per plaintext byte\n",
        cloud_bytes / 1e6, static_cast<unsigned long long>(change_files), change_bytes / 1e6,
        ratio);
    std::printf("B join (scrypt unwrap) %.3f s\n", join_b_s);
    std::printf(
        "B cold sync            %.3f s: %llu calls (%llu get, %llu list, %llu put), "
        "%.2f MB down, %.4f MB up\n",
        sync_b_s, static_cast<unsigned long long>(cb.calls()),
        static_cast<unsigned long long>(cb.gets), static_cast<unsigned long long>(cb.lists),
        static_cast<unsigned long long>(cb.puts), cb.bytes_down / 1e6, cb.bytes_up / 1e6);
    std::printf("  merged               %llu changes, %llu ops (%.0f ops/s)\n",
                static_cast<unsigned long long>(rb.merged_changes),
                static_cast<unsigned long long>(rb.merged_ops),
                static_cast<double>(rb.merged_ops) / sync_b_s);
    std::printf("  B local database     %.2f MB\n", db_b / 1e6);
    std::printf("B second sync (no-op)  %.3f s, %llu calls\n", poll_b_s,
                static_cast<unsigned long long>(poll_b->calls.calls()));
    std::printf("ListEntries            %.3f s (mean of A and B)\n", list_s);
    std::printf("peak RSS (A and B)     %.1f MB\n", ru.ru_maxrss / 1024.0);
    std::printf("verify                 %s\n",
                diff.empty() ? "B holds exactly A's entries" : ("FAILED: " + diff).c_str());
  }
  if (opt.keep) std::fprintf(stderr, "kept %s\n", root.c_str());
  return diff.empty() ? 0 : 1;
}
