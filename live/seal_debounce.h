// A burst of typing becomes one change: after a local edit the watcher waits until edits have
// been quiet for `quiet_ms`, but never longer than `max_ms` after the first unsent one.
#pragma once

#include <cstdint>
#include <optional>

namespace jsync::live {

struct SealOptions {
  int64_t quiet_ms = 300;
  int64_t max_ms = 2'000;
};

class SealDebounce {
 public:
  explicit SealDebounce(const SealOptions& options) : options_(options) {}

  void Edited(int64_t now);
  // When to publish; nullopt while nothing is waiting.
  std::optional<int64_t> due() const;
  void Published() { first_ = last_ = -1; }
  bool pending() const { return first_ >= 0; }

 private:
  SealOptions options_;
  int64_t first_ = -1;
  int64_t last_ = -1;
};

}  // namespace jsync::live
