// `jsync watch` as a child process of a test, and waiting on conditions with a deadline; shared
// by tests/integration/watch_test.cc and watch_resilience_test.cc. Header-only.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/test_support.h"

namespace jsync::testing {

// Polls `done` every 20 ms until it holds or `timeout_ms` passes.
template <typename F>
bool WaitUntil(F done, int64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// `jsync --home HOME watch --verbose ARGS...` with extra environment; null (and a test
// failure) when it cannot start.
inline std::unique_ptr<ChildProcess> StartWatch(
    const std::string& home, const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> argv = {JsyncBinary(), "--home", home, "watch", "--verbose"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string error;
  auto p = ChildProcess::Start(argv, env, &error);
  EXPECT_NE(p, nullptr) << error;
  return p;
}

// The watcher finished its first cycle (--verbose logs every one).
inline bool WatchStarted(const ChildProcess& w, int64_t timeout_ms) {
  return WaitUntil([&] { return w.Stderr().find("sync (") != std::string::npos; }, timeout_ms);
}

}  // namespace jsync::testing
