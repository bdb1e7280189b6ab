// jsync-relay: the untrusted WebSocket relay of live sync (README.md here; the protocol is the
// contract with the watcher). Prints its URL as the first stdout line, logs to stderr, and on
// SIGTERM/SIGINT closes every connection with 1001 and exits 0.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tools/relay/redis_bus.h"
#include "tools/relay/relay_server.h"
#include "tools/relay/room_hub.h"

namespace {

namespace net = boost::asio;
using namespace jsync::relay;

constexpr size_t kMaxPerRoom = 64;

// "HOST:PORT" or "[V6]:PORT"; false when malformed.
bool ParseListen(const std::string& s, std::string* host, uint16_t* port) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 == s.size()) return false;
  std::string h = s.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  const std::string p = s.substr(colon + 1);
  if (h.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos)
    return false;
  const int n = std::stoi(p);
  if (n > 65535) return false;
  *host = h;
  *port = static_cast<uint16_t>(n);
  return true;
}

std::string RandomInstanceId() {
  std::random_device rd;  // getrandom(2) on Linux
  std::string id(16, '\0');
  for (auto& c : id) c = static_cast<char>(rd() & 0xff);
  return id;
}

// Waits (on the io_context) until every WebSocket has gone or the grace period ran out, then
// stops the io_context.
void StopWhenDrained(net::io_context& ioc, RoomHub& hub, std::shared_ptr<net::steady_timer> t,
                     std::chrono::steady_clock::time_point deadline) {
  if (hub.connections() == 0 || std::chrono::steady_clock::now() > deadline) {
    ioc.stop();
    return;
  }
  t->expires_after(std::chrono::milliseconds(20));
  t->async_wait([&ioc, &hub, t, deadline](const boost::system::error_code&) {
    StopWhenDrained(ioc, hub, t, deadline);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"jsync-relay: untrusted WebSocket relay for jsync live sync"};
  std::string listen = "127.0.0.1:0", redis_url, cert, key;
  size_t max_connections = 20000;
  int threads = 1, ping_seconds = 20;
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)");
  app.add_option("--redis", redis_url, "redis://HOST:PORT shared by the relay instances");
  app.add_option("--cert", cert, "PEM certificate chain: serve wss:// and https://");
  app.add_option("--key", key, "PEM private key of --cert");
  app.add_option("--max-connections", max_connections, "connections in all (default 20000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "I/O threads (default 1)")->check(CLI::Range(1, 64));
  app.add_option("--ping-seconds", ping_seconds,
                 "ping after this many idle seconds, close after twice as many (default 20)")
      ->check(CLI::Range(1, 3600));
  CLI11_PARSE(app, argc, argv);

  RelayServerOptions options;
  if (!ParseListen(listen, &options.host, &options.port)) {
    std::fprintf(stderr, "jsync-relay: --listen wants HOST:PORT, not %s\n", listen.c_str());
    return 2;
  }
  options.cert = cert;
  options.key = key;
  options.ping_seconds = ping_seconds;
  RedisAddress redis;
  if (!redis_url.empty() && !ParseRedisUrl(redis_url, &redis)) {
    std::fprintf(stderr, "jsync-relay: --redis wants redis://HOST:PORT\n");
    return 2;
  }

  // Declared before the io_context so that timers still queued at the end die first.
  std::unique_ptr<RedisBus> bus;
  net::io_context* ioc_ptr = nullptr;
  RoomHub hub(max_connections, kMaxPerRoom,
              [&ioc_ptr](std::chrono::milliseconds delay, std::function<void()> fn) {
                auto t = std::make_shared<net::steady_timer>(*ioc_ptr, delay);
                t->async_wait([t, fn = std::move(fn)](const boost::system::error_code& ec) {
                  if (!ec) fn();
                });
              });
  net::io_context ioc(threads);
  ioc_ptr = &ioc;
  if (!redis_url.empty()) {
    bus = std::make_unique<RedisBus>(redis, [&hub](const std::string& ch, const std::string& p) {
      hub.OnBusMessage(ch, p);
    });
  }
  hub.SetBus(bus.get(), RandomInstanceId());

  std::string error;
  auto server = RelayServer::Create(ioc, hub, options, &error);
  if (!server) {
    std::fprintf(stderr, "jsync-relay: %s\n", error.c_str());
    return 1;
  }
  if (bus) bus->Start();
  server->Start();

  net::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    std::fprintf(stderr, "jsync-relay: signal %d: closing %zu connections (1001)\n", sig,
                 hub.connections());
    server->Shutdown();
    StopWhenDrained(ioc, hub, std::make_shared<net::steady_timer>(ioc),
                    std::chrono::steady_clock::now() + std::chrono::seconds(3));
  });
  std::signal(SIGPIPE, SIG_IGN);

  std::printf("%s\n", server->url().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "jsync-relay: listening on %s (%d thread%s, redis %s, max %zu connections)\n",
               server->url().c_str(), threads, threads == 1 ? "" : "s",
               redis_url.empty() ? "off" : (redis.host + ":" + std::to_string(redis.port)).c_str(),
               max_connections);

  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  if (bus) bus->Stop();
  std::fprintf(stderr, "jsync-relay: stopped\n");
  return 0;
}
