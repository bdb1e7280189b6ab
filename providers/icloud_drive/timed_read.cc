#include "timed_read.h"

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace jsync_icloud_drive {
namespace {

using jsync_plugin::Fail;

std::atomic<int> g_running{0};

// A worker may outlive the call (and the instance): keep this library loaded for good once a
// worker ran, so a host that unloads plugins never pulls code out from under one.
void PinLibrary() {
  static std::once_flag once;
  std::call_once(once, [] {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&PinLibrary), &info) != 0 && info.dli_fname != nullptr) {
      ::dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    }
  });
}

// What the worker and the caller share.
struct Job {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::vector<uint8_t>> chunks;
  size_t queued = 0;
  bool done = false;
  bool cancelled = false;
  int rc = JSYNC_OK;
  jsync_error err{};
};

constexpr size_t kMaxQueued = size_t{4} << 20;  // the worker waits beyond this

void Work(std::shared_ptr<Job> job, jsync_plugin::Fd fd, uint64_t offset, uint64_t length,
          int64_t delay_ms, std::string shown) {
  if (delay_ms > 0) {
    std::unique_lock lock(job->mu);
    job->cv.wait_for(lock, std::chrono::milliseconds(delay_ms), [&] { return job->cancelled; });
  }
  struct Ctx {
    Job* job;
  } ctx{job.get()};
  jsync_sink sink{&ctx, [](void* c, const uint8_t* data, size_t n) -> int {
                    Job* j = static_cast<Ctx*>(c)->job;
                    std::unique_lock lock(j->mu);
                    j->cv.wait(lock, [&] { return j->cancelled || j->queued < kMaxQueued; });
                    if (j->cancelled) return 1;
                    j->chunks.emplace_back(data, data + n);
                    j->queued += n;
                    j->cv.notify_all();
                    return 0;
                  }};
  jsync_error err{};
  int rc = JSYNC_OK;
  {
    std::unique_lock lock(job->mu);
    if (job->cancelled) rc = -1;
  }
  if (rc == JSYNC_OK) rc = jsync_plugin::ReadFd(fd.get(), offset, length, &sink, shown, &err);
  std::lock_guard lock(job->mu);
  job->rc = rc < 0 ? JSYNC_OK : rc;
  job->err = err;
  job->done = true;
  job->cv.notify_all();
  --g_running;
}

}  // namespace

int64_t TestReadDelayMs() {
  const char* v = std::getenv("JSYNC_ICLOUD_DRIVE_TEST_READ_DELAY_MS");
  return v != nullptr && *v != '\0' ? std::strtoll(v, nullptr, 10) : 0;
}

int RunningReadWorkers() { return g_running.load(); }

int TimedRead(jsync_plugin::Fd fd, uint64_t offset, uint64_t length, jsync_sink* out,
              int64_t timeout_ms, int64_t delay_ms, const std::string& shown, jsync_error* err) {
  PinLibrary();
  auto job = std::make_shared<Job>();
  ++g_running;
  try {
    std::thread(Work, job, std::move(fd), offset, length, delay_ms, shown).detach();
  } catch (const std::exception& e) {
    --g_running;
    return Fail(err, JSYNC_RETRYABLE, "cannot start a read of " + shown + ": " + e.what());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock lock(job->mu);
  for (;;) {
    if (!job->cv.wait_until(lock, deadline, [&] { return job->done || !job->chunks.empty(); })) {
      job->cancelled = true;
      job->cv.notify_all();
      return Fail(err, JSYNC_RETRYABLE,
                  shown + ": the file is still downloading from iCloud (no answer within " +
                      std::to_string(timeout_ms) + " ms); try again later");
    }
    if (job->chunks.empty()) {  // done
      if (job->rc != JSYNC_OK) *err = job->err;
      return job->rc;
    }
    std::vector<uint8_t> chunk = std::move(job->chunks.front());
    job->chunks.pop_front();
    job->queued -= chunk.size();
    job->cv.notify_all();
    lock.unlock();
    const int stop = out->write(out->ctx, chunk.data(), chunk.size());
    lock.lock();
    if (stop != 0) {
      job->cancelled = true;
      job->cv.notify_all();
      return JSYNC_OK;
    }
  }
}

int TimedSameBytes(jsync_plugin::Fd fd, uint64_t size, const uint8_t* data, size_t len,
                   int64_t timeout_ms, int64_t delay_ms, const std::string& shown, bool* same,
                   jsync_error* err) {
  *same = false;
  if (size != len) return JSYNC_OK;
  jsync_plugin::SameBytesSink cmp(data, len);
  const int rc = TimedRead(std::move(fd), 0, static_cast<uint64_t>(len) + 1, &cmp.sink,
                           timeout_ms, delay_ms, shown, err);
  if (rc != JSYNC_OK) return rc;
  *same = cmp.Same();
  return JSYNC_OK;
}

}  // namespace jsync_icloud_drive
