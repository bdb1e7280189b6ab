// DiffToSplices (what `jsync edit --body-file` runs) on bodies of 10 KB to 16 MiB of English-like
// prose, for three kinds of change: a small edit (one word replaced at a third of the body and a
// sentence added at two thirds), scattered edits (one word in every 2,000 characters replaced),
// a paragraph moved from a quarter to three quarters, and a complete rewrite (a new body of the
// same size).
//
// Counters per case: peak_heap is the most heap the call held at once beyond what was live
// before it (this binary counts every operator new/delete by malloc_usable_size), splices and
// changed (code points deleted plus inserted) show how small the result is, steps and coarse
// are DiffStats (Myers steps spent, regions replaced whole at a limit).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <utility>

#include "bench/prose.h"
#include "core/journal/text_diff.h"
#include "core/model/text/text_document.h"

namespace {

std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};

void* Allocate(size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (!p) throw std::bad_alloc();
  const int64_t live = g_live += static_cast<int64_t>(malloc_usable_size(p));
  int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
  }
  return p;
}

void Release(void* p) {
  if (!p) return;
  g_live -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}

}  // namespace

void* operator new(size_t size) { return Allocate(size); }
void* operator new[](size_t size) { return Allocate(size); }
void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, size_t) noexcept { Release(p); }
void operator delete[](void* p, size_t) noexcept { Release(p); }

namespace {

using jsync::bench::ProseGenerator;

enum class Change { kSmallEdit, kScatteredEdits, kParagraphMoved, kRewrite };

struct Case {
  std::u32string from, to;
};

std::u32string ProseBody(uint64_t seed, size_t bytes) {
  ProseGenerator gen(seed);
  std::string body = gen.Body(bytes);
  // Body() may overshoot by a sentence; keep the 16 MiB case inside the body limit.
  while (body.size() > bytes && body.back() != ' ') body.pop_back();
  return jsync::text::Utf8ToUtf32(body);
}

const Case& GetCase(size_t bytes, Change change) {
  static std::map<std::pair<size_t, Change>, Case> cases;
  auto it = cases.find({bytes, change});
  if (it != cases.end()) return it->second;
  Case c;
  c.from = ProseBody(1, bytes);
  c.to = c.from;
  switch (change) {
    case Change::kSmallEdit: {
      const size_t word = c.to.find(U' ', c.to.size() / 3) + 1;
      const size_t word_end = c.to.find(U' ', word);
      c.to.replace(word, word_end - word, U"remarkably");
      const size_t sentence = c.to.find(U". ", c.to.size() * 2 / 3) + 2;
      c.to.insert(sentence, U"We stayed until the lights came on along the river. ");
      break;
    }
    case Change::kScatteredEdits:
      for (size_t at = 1000; at < c.to.size(); at += 2000) {
        const size_t word = c.to.find(U' ', at) + 1;
        if (word == 0) break;
        c.to.replace(word, c.to.find(U' ', word) - word, U"suddenly");
      }
      break;
    case Change::kParagraphMoved: {
      const size_t p0 = c.to.find(U"\n\n", c.to.size() / 4) + 2;
      const size_t p1 = c.to.find(U"\n\n", p0) + 2;
      const std::u32string paragraph = c.to.substr(p0, p1 - p0);
      c.to.erase(p0, p1 - p0);
      c.to.insert(c.to.find(U"\n\n", c.to.size() * 3 / 4) + 2, paragraph);
      break;
    }
    case Change::kRewrite:
      c.to = ProseBody(2, bytes);
      break;
  }
  return cases.emplace(std::make_pair(bytes, change), std::move(c)).first->second;
}

void BM_DiffToSplices(benchmark::State& state, size_t bytes, Change change) {
  const Case& c = GetCase(bytes, change);
  int64_t peak = 0;
  size_t splices = 0, changed = 0;
  jsync::DiffStats stats;
  for (auto _ : state) {
    const int64_t before = g_live.load();
    g_peak = before;
    auto result = jsync::DiffToSplices(c.from, c.to, jsync::DiffLimits{}, &stats);
    peak = std::max(peak, g_peak.load() - before);
    splices = result.size();
    changed = 0;
    for (const auto& s : result) changed += s.del + s.ins.size();
    benchmark::DoNotOptimize(result);
  }
  state.counters["peak_heap_MB"] = static_cast<double>(peak) / 1e6;
  state.counters["chars"] = static_cast<double>(c.from.size());
  state.counters["splices"] = static_cast<double>(splices);
  state.counters["changed"] = static_cast<double>(changed);
  state.counters["steps"] = static_cast<double>(stats.steps);
  state.counters["coarse"] = static_cast<double>(stats.coarse_regions);
}

}  // namespace

int main(int argc, char** argv) {
  const std::pair<const char*, size_t> sizes[] = {
      {"10KB", 10 * 1000}, {"100KB", 100 * 1000}, {"1MB", 1000 * 1000}, {"16MiB", 16 << 20}};
  const std::pair<const char*, Change> changes[] = {{"small_edit", Change::kSmallEdit},
                                                    {"scattered_edits", Change::kScatteredEdits},
                                                    {"paragraph_moved", Change::kParagraphMoved},
                                                    {"rewrite", Change::kRewrite}};
  for (const auto& [size_name, bytes] : sizes) {
    for (const auto& [change_name, change] : changes) {
      const std::string name = std::string("BM_DiffToSplices/") + size_name + "/" + change_name;
      auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_DiffToSplices, bytes, change);
      b->Unit(benchmark::kMillisecond);
      if (bytes >= (1u << 20)) b->Iterations(bytes > (4u << 20) ? 2 : 5);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
