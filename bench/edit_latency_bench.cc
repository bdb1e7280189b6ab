// Local edit commit latency: Journal::NewEntry and Journal::EditEntry, each one SQLite
// transaction (op rows in the outbox + materialised record + clock), on a real journal in a
// temporary home with the folder provider. BM_SyncAfterEdit adds the cost of one sync cycle
// that seals and uploads a single edit (fsyncs included).
//
// Each iteration times only the journal call (manual time), so generating text and picking
// the entry are not measured; every sample is kept and p50/p90/p99/max are reported as
// counters in microseconds. Iteration counts are fixed so each benchmark runs exactly once
// and its percentiles cover all of its samples. Journals of 100,000 entries take the
// generator about a minute each to write; --benchmark_filter='/prefill:100000' runs only those.
//
// The temporary folder is under $JSYNC_BENCH_DIR, else $TMPDIR, else /tmp: put it on the
// file system you care about, since fsync cost dominates some figures.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/journal_gen.h"
#include "bench/prose.h"
#include "core/journal/journal.h"

namespace fs = std::filesystem;
using jsync::bench::ProseGenerator;

namespace {

[[noreturn]] void Die(const std::string& what, const jsync::Status& s) {
  std::fprintf(stderr, "edit_latency_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

std::string BaseTempDir() {
  for (const char* var : {"JSYNC_BENCH_DIR", "TMPDIR"}) {
    if (const char* v = std::getenv(var); v && *v) return v;
  }
  return "/tmp";
}

std::vector<std::string>& TempDirs() {
  static std::vector<std::string> dirs;
  return dirs;
}

std::string MakeTempDir() {
  std::string pattern = BaseTempDir() + "/jsync-bench-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  TempDirs().push_back(pattern);
  return pattern;
}

struct BenchJournal {
  std::unique_ptr<jsync::Journal> journal;
  std::vector<std::string> ids;     // hex ids of the entries, for EditEntry
  std::vector<std::string> bodies;  // their current bodies
  ProseGenerator gen{0};
};

using jsync::bench::RealisticEntry;

// A fresh journal (one per benchmark, so they do not disturb each other) holding `prefill`
// realistic entries, written by the benchmark journal generator (bench/journal_gen.h).
std::unique_ptr<BenchJournal> MakeJournal(int64_t prefill, uint64_t seed) {
  auto bj = std::make_unique<BenchJournal>();
  jsync::bench::JournalSpec spec;
  spec.entries = static_cast<uint64_t>(prefill);
  spec.seed = seed;
  spec.on_entry = [&](const jsync::RecordId& id, const jsync::NewEntryInput& in) {
    bj->ids.push_back(jsync::RecordIdHex(id));
    bj->bodies.push_back(in.body);
  };
  auto built = jsync::bench::BuildJournal(MakeTempDir(), spec);
  if (!built.ok()) Die("prefill", built.status());
  bj->journal = std::move(built->journal);
  // Another stream for the text of the timed edits.
  bj->gen = ProseGenerator(seed ^ 0x5eed);
  return bj;
}

void ReportPercentiles(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(us.size() - 1) + 0.5);
    return us[std::min(i, us.size() - 1)];
  };
  state.counters["p50_us"] = at(0.50);
  state.counters["p90_us"] = at(0.90);
  state.counters["p99_us"] = at(0.99);
  state.counters["max_us"] = us.back();
}

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// New entries with 0.5-5 KB bodies and 0-4 tags.
void BM_NewEntry(benchmark::State& state) {
  auto bj = MakeJournal(state.range(0), 1);
  // Inputs are generated before timing; a pool is cycled so memory stays small.
  std::vector<jsync::NewEntryInput> inputs;
  for (int i = 0; i < 512; ++i) inputs.push_back(RealisticEntry(bj->gen));
  std::vector<double> us;
  us.reserve(static_cast<size_t>(state.max_iterations));
  size_t k = 0, bytes = 0;
  for (auto _ : state) {
    const auto& in = inputs[k++ % inputs.size()];
    auto t0 = Clock::now();
    auto id = bj->journal->NewEntry(in);
    auto t1 = Clock::now();
    if (!id.ok()) Die("NewEntry", id.status());
    state.SetIterationTime(Seconds(t0, t1));
    us.push_back(Seconds(t0, t1) * 1e6);
    bytes += in.title.size() + in.body.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  ReportPercentiles(state, us);
}

// Edits of a random existing entry's body: one sentence appended (the body is a register,
// so the whole new body is written), and every fourth edit also adds a tag.
void BM_EditEntry(benchmark::State& state) {
  auto bj = MakeJournal(state.range(0), 2);
  auto& rng = bj->gen.rng();
  std::vector<double> us;
  us.reserve(static_cast<size_t>(state.max_iterations));
  size_t n = 0, bytes = 0;
  for (auto _ : state) {
    const size_t i = rng.Range(0, bj->ids.size() - 1);
    jsync::EntryEdit edit;
    edit.body = bj->bodies[i] + " " + bj->gen.Sentence();
    if (++n % 4 == 0) {
      edit.add_tags.push_back(jsync::bench::TagPool()[rng.Range(0, 31)]);
    }
    auto t0 = Clock::now();
    jsync::Status st = bj->journal->EditEntry(bj->ids[i], edit);
    auto t1 = Clock::now();
    if (!st.ok()) Die("EditEntry", st);
    state.SetIterationTime(Seconds(t0, t1));
    us.push_back(Seconds(t0, t1) * 1e6);
    bytes += edit.body->size();
    bj->bodies[i] = std::move(*edit.body);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  ReportPercentiles(state, us);
}

// One edit, then time Sync(): seal (durable transaction), upload one change file to the
// folder (write + fsync + link + directory fsync), list the changes and devices folders.
// The listing grows by one file per iteration, as a device's own log would.
void BM_SyncAfterEdit(benchmark::State& state) {
  auto bj = MakeJournal(state.range(0), 3);
  if (auto r = bj->journal->Sync(); !r.ok()) Die("initial sync", r.status());
  auto& rng = bj->gen.rng();
  std::vector<double> us;
  us.reserve(static_cast<size_t>(state.max_iterations));
  uint64_t calls = 0, up = 0;
  for (auto _ : state) {
    const size_t i = rng.Range(0, bj->ids.size() - 1);
    jsync::EntryEdit edit;
    edit.body = bj->bodies[i] + " " + bj->gen.Sentence();
    if (auto st = bj->journal->EditEntry(bj->ids[i], edit); !st.ok()) Die("EditEntry", st);
    bj->bodies[i] = std::move(*edit.body);
    auto t0 = Clock::now();
    auto r = bj->journal->Sync();
    auto t1 = Clock::now();
    if (!r.ok()) Die("Sync", r.status());
    if (!r->report.ok()) Die("Sync", jsync::Status::Corrupt(r->report.problems[0].message));
    state.SetIterationTime(Seconds(t0, t1));
    us.push_back(Seconds(t0, t1) * 1e6);
    calls += r->calls.calls();
    up += r->calls.bytes_up;
  }
  state.counters["calls/sync"] =
      benchmark::Counter(static_cast<double>(calls), benchmark::Counter::kAvgIterations);
  state.counters["up_B/sync"] =
      benchmark::Counter(static_cast<double>(up), benchmark::Counter::kAvgIterations);
  ReportPercentiles(state, us);
}

}  // namespace

BENCHMARK(BM_NewEntry)
    ->ArgName("prefill")
    ->Arg(0)
    ->Arg(10000)
    ->Arg(100000)
    ->Iterations(3000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EditEntry)
    ->ArgName("prefill")
    ->Arg(100)
    ->Arg(10000)
    ->Arg(100000)
    ->Iterations(3000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SyncAfterEdit)
    ->ArgName("prefill")
    ->Arg(100)
    ->Iterations(300)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("temp_dir", BaseTempDir());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (const auto& dir : TempDirs()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return 0;
}
