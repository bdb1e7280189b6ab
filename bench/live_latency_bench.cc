// Edit -> other screen: device A commits an edit (as an app would, through its own Journal on
// A's home); A's watcher notices it (inotify), publishes it (seal + upload to the folder
// provider) and sends it to the relay; device B's watcher merges it and calls on_merged. The
// time from A's commit returning to B's on_merged, over N edits one after another, for:
//   relay       one jsync-relay instance
//   relay+redis A on relay 1, B on relay 2, both on one Redis
//   poll        relay off; B polls every --poll-ms (A publishes at once either way)
// Edits are at least 25 ms apart (the relay's per-connection rate limit is 50 frames/s).
// Prints p50/p95/p99/max per mode and the ratio of each to the poll-only path. A's seal quiet
// period is --quiet-ms (0 by default: the latency of the path itself; the watch default of
// 300 ms adds that much to every edit of a burst's end — run with --quiet-ms 300 to see it).
//
//   live_latency_bench [--edits 500] [--poll-edits 40] [--poll-ms 1000] [--quiet-ms 0]
//                      [--modes relay,relay+redis,poll] [--dir D]
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/journal/journal.h"
#include "live/watcher.h"
#include "tests/support/relay_process.h"
#include "tests/support/test_support.h"

namespace {

using namespace jsync;
using Clock = std::chrono::steady_clock;

struct Args {
  int edits = 500;
  int poll_edits = 40;
  int64_t poll_ms = 1000;
  int64_t quiet_ms = 0;
  std::vector<std::string> modes = {"relay", "relay+redis", "poll"};
  std::string dir;
  bool verbose = false;  // the watchers' logs on stderr
};
bool g_verbose = false;

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= s.size()) {
    size_t comma = s.find(',', at);
    if (comma == std::string::npos) comma = s.size();
    if (comma > at) out.push_back(s.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

// B's side: merges arrive on B's watcher thread.
struct MergeSignal {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t merges = 0;
  Clock::time_point last;
};

struct Running {
  std::unique_ptr<live::Watcher> watcher;
  std::thread thread;
  void Stop() {
    if (!watcher) return;
    watcher->Stop();
    thread.join();
    watcher.reset();
  }
  ~Running() { Stop(); }
};

std::unique_ptr<Running> StartWatcher(const std::string& home, live::WatchOptions options,
                                      const char* name) {
  auto r = std::make_unique<Running>();
  auto open = [home]() { return Journal::Open(home, testing::HostStorage()); };
  r->watcher = std::make_unique<live::Watcher>(home, open, std::move(options),
                                               [name](live::LogLevel, const std::string& line) {
                                                 if (g_verbose) {
                                                   std::fprintf(stderr, "%s: %s\n", name,
                                                                line.c_str());
                                                 }
                                               });
  live::Watcher* w = r->watcher.get();
  r->thread = std::thread([w] {
    Status s = w->Run();
    if (!s.ok()) std::fprintf(stderr, "watcher: %s\n", s.message().c_str());
  });
  return r;
}

struct Latencies {
  std::string mode;
  int edits = 0;
  int lost = 0;
  std::vector<double> ms;
  double Pct(double p) const {
    if (ms.empty()) return 0;
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
  }
};

Latencies RunMode(const Args& args, const std::string& mode, const std::filesystem::path& root) {
  Latencies result;
  result.mode = mode;
  const bool poll_only = mode == "poll";
  result.edits = poll_only ? args.poll_edits : args.edits;
  std::string error;
  std::unique_ptr<testing::RedisProcess> redis;
  std::unique_ptr<testing::RelayProcess> relay1, relay2;
  if (!poll_only) {
    testing::RelayOptions ro;
    if (mode == "relay+redis") {
      redis = testing::RedisProcess::Start(&error);
      if (!redis) {
        std::fprintf(stderr, "redis: %s\n", error.c_str());
        std::exit(1);
      }
      ro.redis_url = redis->url();
    }
    relay1 = testing::RelayProcess::Start(ro, &error);
    if (redis) relay2 = testing::RelayProcess::Start(ro, &error);
    if (!relay1 || (redis && !relay2)) {
      std::fprintf(stderr, "relay: %s\n", error.c_str());
      std::exit(1);
    }
  }
  const std::filesystem::path dir = root / mode;
  std::filesystem::create_directories(dir);
  const std::string location = (dir / "cloud").string();
  for (const char* d : {"a", "b"}) {
    auto init = Journal::Init((dir / d).string(), testing::TestInitOptions(location, d));
    if (!init.ok()) {
      std::fprintf(stderr, "init: %s\n", init.status().message().c_str());
      std::exit(1);
    }
  }
  // The app on device A: its own Journal on A's home, beside A's watcher.
  auto app = Journal::Open((dir / "a").string(), testing::HostStorage());
  auto entry = (*app)->NewEntry({"latency", "", {}});
  const std::string id = RecordIdHex(*entry);

  MergeSignal merged;
  live::WatchOptions a_opts;
  a_opts.seal.quiet_ms = args.quiet_ms;
  a_opts.seal.max_ms = std::max<int64_t>(args.quiet_ms, 2000);
  a_opts.poll.min_ms = a_opts.poll.max_ms = 3'600'000;  // A never needs to poll here
  live::WatchOptions b_opts;
  b_opts.seal = a_opts.seal;
  if (poll_only) {
    b_opts.poll.min_ms = b_opts.poll.max_ms = args.poll_ms;
  } else {
    b_opts.poll.min_ms = b_opts.poll.max_ms = 3'600'000;  // only the relay delivers
    a_opts.relay.urls = {relay1->url()};
    b_opts.relay.urls = {relay2 ? relay2->url() : relay1->url()};
  }
  b_opts.on_merged = [&merged](uint64_t) {
    std::lock_guard lock(merged.mu);
    ++merged.merges;
    merged.last = Clock::now();
    merged.cv.notify_all();
  };
  auto a = StartWatcher((dir / "a").string(), a_opts, "A");
  auto b = StartWatcher((dir / "b").string(), b_opts, "B");
  // The entry itself reaches B first; then the measured edits.
  {
    std::unique_lock lock(merged.mu);
    merged.cv.wait_for(lock, std::chrono::seconds(30), [&] { return merged.merges > 0; });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both relay links settled
  auto next_edit = Clock::now();
  for (int i = 0; i < result.edits; ++i) {
    // At most one edit per 25 ms: the relay allows a connection 50 frames/s (tools/relay), and
    // a watcher publishes at most once per quiet period in real use anyway.
    std::this_thread::sleep_until(next_edit);
    next_edit = Clock::now() + std::chrono::milliseconds(25);
    uint64_t before;
    {
      std::lock_guard lock(merged.mu);
      before = merged.merges;
    }
    EntryEdit edit;
    edit.body_splices.push_back({0, 0, U"x"});
    Status st = (*app)->EditEntry(id, edit);
    const auto committed = Clock::now();
    if (!st.ok()) {
      std::fprintf(stderr, "edit: %s\n", st.message().c_str());
      std::exit(1);
    }
    std::unique_lock lock(merged.mu);
    const bool got = merged.cv.wait_for(lock, std::chrono::milliseconds(poll_only ? 10 * args.poll_ms + 5000 : 10000),
                                        [&] { return merged.merges > before; });
    if (!got) {
      if (g_verbose) std::fprintf(stderr, "edit %d: not merged in time\n", i);
      ++result.lost;
      continue;
    }
    result.ms.push_back(std::chrono::duration<double, std::milli>(merged.last - committed).count());
  }
  a->Stop();
  b->Stop();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--edits") args.edits = std::stoi(next());
    else if (a == "--poll-edits") args.poll_edits = std::stoi(next());
    else if (a == "--poll-ms") args.poll_ms = std::stoll(next());
    else if (a == "--quiet-ms") args.quiet_ms = std::stoll(next());
    else if (a == "--modes") args.modes = Split(next());
    else if (a == "--dir") args.dir = next();
    else if (a == "--verbose") g_verbose = args.verbose = true;
    else {
      std::fprintf(stderr,
                   "usage: live_latency_bench [--edits N] [--poll-edits N] [--poll-ms MS] "
                   "[--quiet-ms MS] [--modes relay,relay+redis,poll] [--dir D]\n");
      return 2;
    }
  }
  const std::filesystem::path root =
      args.dir.empty() ? std::filesystem::temp_directory_path() /
                             ("jsync-live-bench-" + std::to_string(::getpid()))
                       : std::filesystem::path(args.dir);
  std::vector<Latencies> results;
  for (const auto& mode : args.modes) results.push_back(RunMode(args, mode, root));
  std::filesystem::remove_all(root);

  double poll_p50 = 0;
  for (const auto& r : results) {
    if (r.mode == "poll") poll_p50 = r.Pct(0.5);
  }
  std::printf("A's seal quiet period: %lld ms; poll-only interval: %lld ms\n\n",
              static_cast<long long>(args.quiet_ms), static_cast<long long>(args.poll_ms));
  std::printf("| path | edits | lost | p50 ms | p95 ms | p99 ms | max ms | p50 vs poll |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : results) {
    const double p50 = r.Pct(0.5);
    std::printf("| %s | %d | %d | %.1f | %.1f | %.1f | %.1f | %s |\n", r.mode.c_str(), r.edits,
                r.lost, p50, r.Pct(0.95), r.Pct(0.99), r.Pct(1.0),
                poll_p50 > 0 && r.mode != "poll"
                    ? (std::to_string(static_cast<int>(poll_p50 / std::max(p50, 0.01))) + "x faster")
                          .c_str()
                    : "-");
  }
  return 0;
}
