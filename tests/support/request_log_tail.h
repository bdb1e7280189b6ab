// Follows an emulator's --request-log while a test runs and stamps each line with the moment it
// was seen (steady clock, ms). The Drive emulator's log carries no times; it appends and
// flushes a line when a request arrives (the Graph emulator when it answers), and this reads
// every 5 ms, so a stamp is at most a few ms late — precise enough to check that a client kept
// quiet for a second or more after a 429 (its next request arrives, and is answered, at least
// Retry-After after the 429 was answered) or to count the requests of the first seconds after
// an outage.
//
// Header-only (tests/CMakeLists.txt lists the support library's sources; this needs none).
// Thread-safety: the reading thread is internal; every public method may be called from any
// thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace jsync::testing {

inline int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct StampedRequest {
  int64_t seen_ms = 0;  // SteadyMs() when the line was read
  nlohmann::json line;  // {"method","path","query",...}
  // Drive (/drive/v3/, /upload/drive/v3/) or Graph (/v1.0/, its /upload/ and /download/ URLs)
  // rather than OAuth.
  bool Api() const {
    const std::string path = line.value("path", "");
    return path.rfind("/drive/v3/", 0) == 0 || path.rfind("/v1.0/", 0) == 0 ||
           path.rfind("/upload/", 0) == 0 || path.rfind("/download/", 0) == 0;
  }
  std::string Shown() const {
    return line.value("method", "") + " " + line.value("path", "");
  }
};

class RequestLogTail {
 public:
  explicit RequestLogTail(std::filesystem::path file) : file_(std::move(file)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~RequestLogTail() {
    stop_ = true;
    thread_.join();
  }
  RequestLogTail(const RequestLogTail&) = delete;
  RequestLogTail& operator=(const RequestLogTail&) = delete;

  std::vector<StampedRequest> Requests() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  // Requests seen in [from_ms, to_ms).
  std::vector<StampedRequest> Between(int64_t from_ms, int64_t to_ms) const {
    std::vector<StampedRequest> out;
    for (auto& r : Requests()) {
      if (r.seen_ms >= from_ms && r.seen_ms < to_ms) out.push_back(r);
    }
    return out;
  }
  // One line per request with its time relative to `origin_ms`, for failure messages.
  std::string Describe(int64_t origin_ms) const {
    std::string out;
    for (auto& r : Requests()) {
      out += "  +" + std::to_string(r.seen_ms - origin_ms) + " ms " + r.Shown() + "\n";
    }
    return out;
  }

 private:
  void Run() {
    std::string pending;  // a line not yet complete
    std::streamoff offset = 0;
    while (!stop_) {
      std::ifstream in(file_, std::ios::binary);
      if (in) {
        in.seekg(offset);
        std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        offset += static_cast<std::streamoff>(chunk.size());
        pending += chunk;
        const int64_t now = SteadyMs();
        for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
          auto j = nlohmann::json::parse(pending.substr(0, nl), nullptr, false);
          pending.erase(0, nl + 1);
          if (!j.is_object()) continue;
          std::lock_guard lock(mu_);
          seen_.push_back({now, std::move(j)});
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::filesystem::path file_;
  mutable std::mutex mu_;
  std::vector<StampedRequest> seen_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace jsync::testing
