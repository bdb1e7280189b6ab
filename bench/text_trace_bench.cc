// Replays an editing trace through the text CRDT's public API one edit at a time (as typing
// would), encodes the whole document as it would be sent to a new device, and loads that on a
// second document. Prints apply time, ops/s, encode time, encoded bytes, load time, and peak
// memory growth of each phase. `--json` prints one JSON object (used by compare-peers.sh).
// `--concurrent` replays a concurrent trace instead (default friendsforever): one document
// per agent, merging branches as the trace says; prints replay time, merges, ops merged, the
// heap the documents hold, and checks every document against endContent.
//
//   text_trace_bench [--json] [--repeat N] [TRACE.json[.gz]]
//   text_trace_bench --concurrent [--repeat N] [TRACE.json[.gz]]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <malloc.h>

#include <fstream>
#include <memory>
#include <string>

#include "core/model/text/text_document.h"
#include "tools/trace/concurrent_replay.h"
#include "tools/trace/editing_trace.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Bytes of heap in use (glibc). The documents are built and held in one phase, so the growth
// across a phase is the memory the CRDT holds at its peak (nothing is freed before the end).
long HeapKb() { return static_cast<long>(mallinfo2().uordblks / 1024); }

int RunConcurrent(const std::string& path, int repeat) {
  auto trace = jsync::trace::LoadConcurrentTrace(path);
  if (!trace.ok()) {
    std::fprintf(stderr, "text_trace_bench: %s\n", trace.status().ToString().c_str());
    return 1;
  }
  double best = 1e300;
  long held_kb = 0;
  size_t merges = 0, ops_merged = 0, items = 0;
  for (int round = 0; round < repeat; ++round) {
    const long base = HeapKb();
    auto t0 = Clock::now();
    auto replay = jsync::trace::ReplayConcurrent(*trace);
    auto t1 = Clock::now();
    if (!replay.ok()) {
      std::fprintf(stderr, "text_trace_bench: %s\n", replay.status().ToString().c_str());
      return 2;
    }
    held_kb = std::max(held_kb, HeapKb() - base);
    for (const auto& doc : replay->docs) {
      if (doc.Text() != trace->end) {
        std::fprintf(stderr, "text_trace_bench: a document differs from the trace's endContent\n");
        return 3;
      }
    }
    best = std::min(best, Ms(t0, t1));
    merges = replay->merges;
    ops_merged = replay->ops_merged;
    items = replay->docs[0].item_count();
  }
  std::printf("trace:          %s (%zu txns, %zu agents, %zu merges, final %zu chars)\n",
              path.c_str(), trace->txns.size(), trace->agents, merges, trace->end.size());
  std::printf("replay:         %.2f ms, %zu remote ops merged over all documents\n", best,
              ops_merged);
  std::printf("memory:         %ld KiB held by all %zu documents and the op log, %zu items each\n",
              held_kb, trace->agents, items);
  std::printf("(best of %d runs; every document checked against endContent)\n", repeat);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false, concurrent = false;
  int repeat = 5;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json")
      json = true;
    else if (a == "--concurrent")
      concurrent = true;
    else if (a == "--repeat" && i + 1 < argc)
      repeat = std::max(1, std::atoi(argv[++i]));
    else
      path = a;
  }
  if (path.empty()) {
    path = std::string(JSYNC_TRACE_DIR) +
           (concurrent ? "/friendsforever.json.gz" : "/automerge-paper.json.gz");
  }
  if (concurrent) return RunConcurrent(path, repeat);
  auto trace = jsync::trace::LoadEditingTrace(path);
  if (!trace.ok()) {
    std::fprintf(stderr, "text_trace_bench: %s\n", trace.status().ToString().c_str());
    return 1;
  }
  const jsync::DeviceId kDevice = 0x6a73796e63;
  double best_apply = 1e300, best_encode = 1e300, best_load = 1e300;
  size_t encoded_size = 0, items = 0;
  long apply_kb = 0, load_kb = 0;
  for (int round = 0; round < repeat; ++round) {
    long base = HeapKb();
    auto t0 = Clock::now();
    auto doc = std::make_unique<jsync::text::TextDocument>();
    uint64_t seq = 1;
    if (!trace->start.empty()) {
      (void)doc->LocalInsert(kDevice, seq, 0, trace->start);
      seq += trace->start.size();
    }
    for (const auto& p : trace->patches) {
      if (p.del > 0 && !doc->LocalDelete(p.pos, p.del).ok()) return 2;
      if (!p.ins.empty()) {
        if (!doc->LocalInsert(kDevice, seq, p.pos, p.ins).ok()) return 2;
        seq += p.ins.size();
      }
    }
    auto t1 = Clock::now();
    apply_kb = std::max(apply_kb, HeapKb() - base);
    jsync::Bytes encoded = doc->Encode();
    auto t2 = Clock::now();
    base = HeapKb();
    auto t3 = Clock::now();
    auto loaded = jsync::text::TextDocument::Decode(encoded);
    auto t4 = Clock::now();
    load_kb = std::max(load_kb, HeapKb() - base);
    if (!loaded.ok() || loaded->Text() != trace->end || doc->Text() != trace->end) {
      std::fprintf(stderr, "text_trace_bench: result differs from the trace's endContent\n");
      return 3;
    }
    best_apply = std::min(best_apply, Ms(t0, t1));
    best_encode = std::min(best_encode, Ms(t1, t2));
    best_load = std::min(best_load, Ms(t3, t4));
    encoded_size = encoded.size();
    items = doc->item_count();
  }
  const double ops = static_cast<double>(trace->patches.size());
  if (json) {
    std::printf(
        "{\"name\":\"journal-sync\",\"patches\":%zu,\"apply_ms\":%.2f,\"ops_per_s\":%.0f,"
        "\"encode_ms\":%.2f,\"encoded_bytes\":%zu,\"load_ms\":%.2f,\"apply_peak_kb\":%ld,"
        "\"load_peak_kb\":%ld,\"items\":%zu,\"final_length\":%zu}\n",
        trace->patches.size(), best_apply, ops / best_apply * 1000, best_encode, encoded_size,
        best_load, apply_kb, load_kb, items, trace->end.size());
  } else {
    std::printf("trace:          %s (%zu patches, final %zu chars)\n", path.c_str(),
                trace->patches.size(), trace->end.size());
    std::printf("apply:          %.2f ms (%.0f ops/s), %zu items after run-length encoding\n",
                best_apply, ops / best_apply * 1000, items);
    std::printf("encode:         %.2f ms, %zu bytes\n", best_encode, encoded_size);
    std::printf("load:           %.2f ms\n", best_load);
    std::printf("memory:         apply %ld KiB, load %ld KiB (heap held by the document)\n",
                apply_kb, load_kb);
    std::printf("(best of %d runs; result checked against endContent)\n", repeat);
  }
  return 0;
}
