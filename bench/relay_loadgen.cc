// Relay capacity: N idle WebSocket connections plus M rooms x D devices each sending R frames/s
// (100-byte sealed-looking frames), against one jsync-relay, or two on one Redis (the devices of
// a room alternate between the instances). Prints connections held, frames/s forwarded
// (received by the devices), delivery latency, and each relay's CPU seconds and RSS over the
// measured window (/proc/<pid>/stat and status). Starts the relays and redis-server itself, as
// the tests do (tests/support/relay_process.h). Run it through bench/relay_capacity.sh, which
// raises the descriptor limit.
//
//   relay_loadgen [--idle 10000] [--rooms 100] [--devices 3] [--rate 10] [--seconds 10]
//                 [--instances 1|2] [--threads 1] [--relay-threads 1]
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/emulator_process.h"
#include "tests/support/relay_process.h"
#include "tests/support/ws_test_client.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using jsync::testing::HexId;

struct Args {
  int idle = 10000;
  int rooms = 100;
  int devices = 3;
  double rate = 10;
  int seconds = 10;
  int instances = 1;
  int threads = 1;
  int relay_threads = 1;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

struct Shared {
  std::atomic<int> open{0}, failed{0}, closed{0};
  std::atomic<uint64_t> sent{0}, received{0};
  std::atomic<bool> measuring{false}, stopping{false};
  std::mutex mu;
  std::vector<int64_t> latencies_us;  // while measuring
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(net::io_context& ioc, Shared& s, tcp::endpoint ep, std::string target, uint64_t device,
       double rate)
      : ws_(net::make_strand(ioc)), timer_(ws_.get_executor()), s_(s), ep_(ep),
        target_(std::move(target)), device_(device), rate_(rate) {}

  void Start(std::function<void()> on_ready) {
    on_ready_ = std::move(on_ready);
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(ws_).async_connect(ep_, [self = shared_from_this()](
                                                        beast::error_code ec) {
      if (ec) return self->Fail();
      beast::get_lowest_layer(self->ws_).expires_never();
      self->ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
      self->ws_.async_handshake("127.0.0.1", self->target_, [self](beast::error_code ec2) {
        if (ec2) return self->Fail();
        ++self->s_.open;
        self->ws_.binary(true);
        self->on_ready_();
        self->Read();
        if (self->rate_ > 0) self->ScheduleSend(true);
      });
    });
  }
  void Stop() {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      self->timer_.cancel();
      beast::error_code ec;
      beast::get_lowest_layer(self->ws_).socket().close(ec);
    });
  }

 private:
  void Fail() {
    ++s_.failed;
    on_ready_();
  }
  void Read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) {
        if (!self->s_.stopping) ++self->s_.closed;
        return;
      }
      ++self->s_.received;
      if (self->s_.measuring && n >= 26) {
        int64_t t = 0;
        std::memcpy(&t, static_cast<const char*>(self->buf_.data().data()) + 18, 8);
        std::lock_guard lock(self->s_.mu);
        self->s_.latencies_us.push_back((NowNs() - t) / 1000);
      }
      self->buf_.consume(self->buf_.size());
      self->Read();
    });
  }
  void ScheduleSend(bool first) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    const auto period = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / rate_));
    next_ = first ? Clock::now() + std::chrono::nanoseconds(std::uniform_int_distribution<int64_t>(
                                       0, period.count())(rng))
                  : next_ + period;
    timer_.expires_at(next_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->s_.stopping) return;
      self->Send();
      self->ScheduleSend(false);
    });
  }
  void Send() {
    if (writing_) return;  // behind: skip a beat rather than queue
    auto f = std::make_shared<std::string>(100, '\0');
    (*f)[0] = 1;
    (*f)[1] = 1;
    std::memcpy(f->data() + 2, &device_, 8);
    const uint64_t counter = ++counter_;
    std::memcpy(f->data() + 10, &counter, 8);
    const int64_t now = NowNs();
    std::memcpy(f->data() + 18, &now, 8);
    writing_ = true;
    ws_.async_write(net::buffer(*f), [self = shared_from_this(), f](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (!ec) ++self->s_.sent;
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer timer_;
  Shared& s_;
  tcp::endpoint ep_;
  std::string target_;
  uint64_t device_;
  double rate_;
  std::function<void()> on_ready_;
  beast::flat_buffer buf_;
  Clock::time_point next_;
  uint64_t counter_ = 0;
  bool writing_ = false;
};

struct ProcSample {
  double cpu_s = 0;
  long rss_kb = 0;
};

ProcSample Sample(pid_t pid) {
  ProcSample p;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t rparen = line.rfind(')');
  if (rparen != std::string::npos) {
    std::istringstream rest(line.substr(rparen + 2));
    std::vector<std::string> f;
    for (std::string x; rest >> x;) f.push_back(x);
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command.
    if (f.size() > 12)
      p.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) p.rss_kb = std::stol(line.substr(6));
  return p;
}

uint16_t PortOf(const std::string& url) {
  return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

int Run(const Args& a) {
  std::string error;
  std::unique_ptr<jsync::testing::RedisProcess> redis;
  jsync::testing::RelayOptions o;
  o.args = {"--threads", std::to_string(a.relay_threads), "--max-connections", "100000"};
  if (a.instances > 1) {
    redis = jsync::testing::RedisProcess::Start(&error);
    if (!redis) {
      std::fprintf(stderr, "relay_loadgen: %s\n", error.c_str());
      return 1;
    }
    o.redis_url = redis->url();
  }
  std::vector<std::unique_ptr<jsync::testing::RelayProcess>> relays;
  for (int i = 0; i < a.instances; ++i) {
    relays.push_back(jsync::testing::RelayProcess::Start(o, &error));
    if (!relays.back()) {
      std::fprintf(stderr, "relay_loadgen: %s\n", error.c_str());
      return 1;
    }
  }
  std::vector<tcp::endpoint> eps;
  for (const auto& r : relays) eps.emplace_back(net::ip::make_address("127.0.0.1"), PortOf(r->url()));

  Shared s;
  net::io_context ioc(a.threads);
  auto guard = net::make_work_guard(ioc);
  std::vector<std::thread> pool;
  for (int i = 0; i < a.threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });

  // Plan: idle connections spread over the instances (each alone in a room of its own), then
  // the active devices, device d of a room on instance d % instances.
  struct Plan {
    size_t instance;
    std::string target;
    uint64_t device;
    double rate;
  };
  std::vector<Plan> plan;
  for (int i = 0; i < a.idle; ++i)
    plan.push_back({static_cast<size_t>(i % a.instances),
                    "/v1/room/" + HexId("idle-" + std::to_string(i / 8)), 0, 0});
  for (int r = 0; r < a.rooms; ++r)
    for (int d = 0; d < a.devices; ++d)
      plan.push_back({static_cast<size_t>(d % a.instances), "/v1/room/" + HexId("active-" + std::to_string(r)),
                      static_cast<uint64_t>(r * 100 + d + 1), a.rate});

  // At most 200 handshakes in flight.
  const auto t0 = Clock::now();
  std::vector<std::shared_ptr<Conn>> conns;
  std::atomic<int> done{0};
  size_t next = 0;
  while (next < plan.size()) {
    while (next < plan.size() && static_cast<int>(next) - done.load() < 200) {
      const Plan& p = plan[next++];
      auto c = std::make_shared<Conn>(ioc, s, eps[p.instance], p.target, p.device, p.rate);
      conns.push_back(c);
      c->Start([&done] { ++done; });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  while (done.load() < static_cast<int>(plan.size()))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double ramp_s = std::chrono::duration<double>(Clock::now() - t0).count();

  std::this_thread::sleep_for(std::chrono::seconds(2));  // warm-up: every device sending
  std::vector<ProcSample> before;
  for (const auto& r : relays) before.push_back(Sample(r->pid()));
  const uint64_t recv0 = s.received.load(), sent0 = s.sent.load();
  s.measuring = true;
  const auto m0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(a.seconds));
  s.measuring = false;
  const double window = std::chrono::duration<double>(Clock::now() - m0).count();
  const uint64_t recv1 = s.received.load(), sent1 = s.sent.load();
  std::vector<ProcSample> after;
  for (const auto& r : relays) after.push_back(Sample(r->pid()));
  uint64_t held = 0;
  for (const auto& r : relays) {
    const auto stats = jsync::testing::RawHttp("GET", r->http_url() + "/v1/stats").Json();
    if (stats.is_object()) held += stats.value("connections", 0ull);
  }

  s.stopping = true;
  for (auto& c : conns) c->Stop();
  guard.reset();
  for (auto& t : pool) t.join();

  std::vector<int64_t> lat;
  {
    std::lock_guard lock(s.mu);
    lat = s.latencies_us;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&lat](double q) {
    return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(q * lat.size()))] / 1000.0;
  };
  std::printf("| %d relay%s%s | %d | %d | %llu | %.1f | %.0f | %.0f | %.2f | %.2f |",
              a.instances, a.instances > 1 ? "s" : "", a.instances > 1 ? " + Redis" : "",
              a.idle, a.rooms * a.devices, static_cast<unsigned long long>(held), ramp_s,
              (sent1 - sent0) / window, (recv1 - recv0) / window, pct(0.5), pct(0.99));
  for (size_t i = 0; i < relays.size(); ++i)
    std::printf(" %.2f s, %.1f MiB%s", after[i].cpu_s - before[i].cpu_s, after[i].rss_kb / 1024.0,
                i + 1 < relays.size() ? ";" : "");
  std::printf(" | %d/%d/%d |\n", s.open.load(), s.failed.load(), s.closed.load());
  std::fflush(stdout);
  return s.failed.load() == 0 && s.closed.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--idle") a.idle = std::stoi(v);
    else if (k == "--rooms") a.rooms = std::stoi(v);
    else if (k == "--devices") a.devices = std::stoi(v);
    else if (k == "--rate") a.rate = std::stod(v);
    else if (k == "--seconds") a.seconds = std::stoi(v);
    else if (k == "--instances") a.instances = std::max(1, std::stoi(v));
    else if (k == "--threads") a.threads = std::max(1, std::stoi(v));
    else if (k == "--relay-threads") a.relay_threads = std::max(1, std::stoi(v));
    else {
      std::fprintf(stderr, "relay_loadgen: unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  return Run(a);
}
