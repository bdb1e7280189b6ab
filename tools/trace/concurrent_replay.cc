#include "tools/trace/concurrent_replay.h"

#include <algorithm>

namespace jsync::trace {
namespace {

// One of the two (not a std::variant: GCC 12 warns falsely on moving one into a vector).
struct TextOp {
  bool insert = false;
  text::InsertOp ins;
  text::DeleteOp del;
};

struct Agent {
  text::TextDocument doc;
  std::vector<bool> seen;  // txns whose ops are in doc (a downward-closed set)
  uint64_t next_seq = 1;
};

}  // namespace

Result<ReplayResult> ReplayConcurrent(const ConcurrentTrace& trace) {
  const size_t n = trace.txns.size();
  std::vector<std::vector<TextOp>> log(n);
  std::vector<Agent> agents(trace.agents);
  for (Agent& a : agents) a.seen.assign(n, false);
  ReplayResult result;

  // Brings `a` to the state after `heads` and everything before them.
  auto catch_up = [&](Agent& a, const std::vector<size_t>& heads) -> Status {
    std::vector<size_t> missing, stack;
    for (size_t h : heads) {
      if (!a.seen[h]) stack.push_back(h);
    }
    while (!stack.empty()) {
      const size_t t = stack.back();
      stack.pop_back();
      if (a.seen[t]) continue;
      a.seen[t] = true;  // marked now so it is collected once; applied below, in order
      missing.push_back(t);
      for (size_t p : trace.txns[t].parents) {
        if (!a.seen[p]) stack.push_back(p);
      }
    }
    // Index order is a causal order: parents have lower indexes.
    std::sort(missing.begin(), missing.end());
    for (size_t t : missing) {
      for (const TextOp& op : log[t]) {
        const Status s = op.insert ? a.doc.ApplyInsert(op.ins) : a.doc.ApplyDelete(op.del);
        if (!s.ok()) return s;
        ++result.ops_merged;
      }
    }
    return Status::Ok();
  };

  for (size_t i = 0; i < n; ++i) {
    const ConcurrentTxn& txn = trace.txns[i];
    if (txn.parents.size() > 1) ++result.merges;
    Agent& a = agents[txn.agent];
    JSYNC_RETURN_IF_ERROR(catch_up(a, txn.parents));
    const DeviceId device = txn.agent + 1;
    for (const Patch& p : txn.patches) {
      if (p.del > 0) {
        auto del = a.doc.LocalDelete(p.pos, p.del);
        if (!del.ok()) return Status::Corrupt("txn " + std::to_string(i) + ": " + del.status().ToString());
        log[i].push_back({false, {}, std::move(*del)});
      }
      if (!p.ins.empty()) {
        auto ins = a.doc.LocalInsert(device, a.next_seq, p.pos, p.ins);
        if (!ins.ok()) return Status::Corrupt("txn " + std::to_string(i) + ": " + ins.status().ToString());
        a.next_seq += p.ins.size();
        log[i].push_back({true, std::move(*ins), {}});
      }
    }
    a.seen[i] = true;
  }
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  for (Agent& a : agents) {
    JSYNC_RETURN_IF_ERROR(catch_up(a, all));
    result.docs.push_back(std::move(a.doc));
  }
  return result;
}

}  // namespace jsync::trace
