// Builds a benchmark journal home of N realistic entries (bench/journal_gen.h) for programs
// that read one, e.g. `/usr/bin/time -v jsync --home D/home list > /dev/null`.
//
//   make_journal --dir D [--entries N] [--seed S] [--sync] [--json]
//
// D must not exist yet (or be empty). The journal syncs to the folder provider at D/cloud;
// its passphrase is "benchmark passphrase".
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "bench/journal_gen.h"

namespace fs = std::filesystem;

namespace {

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "make_journal: %s\nusage: make_journal --dir D [--entries N] [--seed S] [--sync] "
               "[--json]\n",
               why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  jsync::bench::JournalSpec spec;
  std::string dir;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--dir") {
        dir = value();
      } else if (a == "--entries") {
        spec.entries = std::stoull(value());
      } else if (a == "--seed") {
        spec.seed = std::stoull(value());
      } else if (a == "--sync") {
        spec.sync = true;
      } else if (a == "--json") {
        json = true;
      } else {
        Usage("unknown argument " + a);
      }
    } catch (const std::exception&) {
      Usage("bad number for " + a);
    }
  }
  if (dir.empty()) Usage("--dir is required");
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) Usage(dir + " is not empty");
  if (!json) {
    spec.progress_every = 10000;
    spec.progress = [](uint64_t n) {
      std::fprintf(stderr, "make_journal: %llu entries written\n",
                   static_cast<unsigned long long>(n));
    };
  }
  auto built = jsync::bench::BuildJournal(dir, spec);
  if (!built.ok()) {
    std::fprintf(stderr, "make_journal: %s\n", built.status().ToString().c_str());
    return 1;
  }
  const auto& b = *built;
  std::uintmax_t db_bytes = fs::file_size(b.home + "/journal.db", ec);
  if (json) {
    std::printf(
        "{\"entries\": %llu, \"seed\": %llu, \"home\": \"%s\", \"write_s\": %.3f, "
        "\"sync_s\": %.3f, \"title_bytes\": %llu, \"body_bytes\": %llu, \"tags\": %llu, "
        "\"db_bytes\": %llu}\n",
        static_cast<unsigned long long>(spec.entries), static_cast<unsigned long long>(spec.seed),
        b.home.c_str(), b.write_s, b.sync_s, static_cast<unsigned long long>(b.title_bytes),
        static_cast<unsigned long long>(b.body_bytes), static_cast<unsigned long long>(b.tag_count),
        static_cast<unsigned long long>(db_bytes));
  } else {
    std::printf("%llu entries in %s (seed %llu): written in %.3f s (%.0f entries/s)%s, "
                "%.1f MB of bodies, journal.db %.1f MB\n",
                static_cast<unsigned long long>(spec.entries), b.home.c_str(),
                static_cast<unsigned long long>(spec.seed), b.write_s,
                static_cast<double>(spec.entries) / b.write_s,
                spec.sync ? (", synced in " + std::to_string(b.sync_s) + " s").c_str() : "",
                static_cast<double>(b.body_bytes) / 1e6, static_cast<double>(db_bytes) / 1e6);
  }
  return 0;
}
