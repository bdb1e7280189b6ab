// `jsync watch` (the live-sync daemon, live/watcher.h) and `jsync relay` (its relay addresses).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "auth/credential_store.h"
#include "core/journal/journal.h"
#include "host/open_provider.h"
#include "live/relay_config.h"
#include "live/watcher.h"
#include "tools/jsync/lifecycle_env.h"
#include "tools/jsync/commands.h"

namespace jsync::cli {
namespace {

std::atomic<live::Watcher*> running_watcher{nullptr};

extern "C" void OnStopSignal(int) {
  if (live::Watcher* w = running_watcher.load()) w->Stop();
}

// Under systemd (JOURNAL_STREAM names stderr's stream) each line starts with its syslog
// priority, which journald keeps as the entry's level; on a terminal a UTC time instead.
void LogLine(live::LogLevel level, const std::string& message, bool verbose) {
  if (level == live::LogLevel::kDebug && !verbose) return;
  static const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
  const char* name = "info";
  int priority = 6;
  switch (level) {
    case live::LogLevel::kInfo: break;
    case live::LogLevel::kDebug: name = "debug"; priority = 7; break;
    case live::LogLevel::kNotice: name = "notice"; priority = 5; break;
    case live::LogLevel::kWarning: name = "warning"; priority = 4; break;
    case live::LogLevel::kError: name = "error"; priority = 3; break;
  }
  if (journald) {
    std::fprintf(stderr, "<%d>jsync watch: %s\n", priority, message.c_str());
    return;
  }
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char at[32];
  std::strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ jsync watch: %s: %s\n", at, ms, name, message.c_str());
}

void SayWait(const std::string& message) { LogLine(live::LogLevel::kNotice, message, false); }

}  // namespace

int RunWatch(const std::string& home, const WatchArgs& args) {
  auto opener = provider::MakeStorageOpener(auth::LinkedAccountFor, SayWait);
  auto first = Journal::Open(home, opener);
  if (!first.ok()) return Fail(first.status().message(), kExitError, first.status().code());
  auto config = live::LoadRelayConfig((*first)->store());
  if (!config.ok()) return Fail(config.status().message());

  live::WatchOptions options;
  options.once = args.once;
  options.seal.quiet_ms = args.seal_quiet_ms;
  options.seal.max_ms = args.seal_max_ms;
  options.poll.min_ms = args.poll_min_s * 1000;
  options.poll.max_ms = args.poll_max_s * 1000;
  options.relay.urls = args.relay_urls.empty() ? config->urls : args.relay_urls;
  if (args.no_relay) options.relay.urls.clear();
  for (const auto& url : options.relay.urls) {
    if (Status s = live::CheckRelayUrl(url); !s.ok()) return Fail(s.message(), kExitUsage);
  }
  options.relay.presence = config->presence;
  options.relay.ca_file = args.relay_ca_file;
  options.seed = static_cast<uint64_t>(::getpid()) ^
                 static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  options.relay.seed = options.seed * 31 + 7;

  // The first journal is handed over; later ones (after the storage refused our sign-in) are
  // opened afresh, so a `jsync link` meanwhile takes effect.
  std::unique_ptr<Journal> handed = std::move(first).value();
  auto lifecycle = LifecycleFromEnv();
  if (!lifecycle.ok()) return Fail(lifecycle.status().message(), kExitUsage);
  handed->SetLifecycle(*lifecycle);
  auto open = [&]() -> Result<std::unique_ptr<Journal>> {
    if (handed) return std::move(handed);
    auto opened = Journal::Open(home, opener);
    if (opened.ok()) (*opened)->SetLifecycle(*lifecycle);
    return opened;
  };
  const bool verbose = args.verbose;
  live::Watcher watcher(home, open, options,
                        [verbose](live::LogLevel level, const std::string& line) {
                          LogLine(level, line, verbose);
                        });
  running_watcher.store(&watcher);
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  Status st = watcher.Run();
  running_watcher.store(nullptr);
  if (!st.ok()) return Fail(st.message(), kExitError, st.code());
  return kExitOk;
}

int RunRelay(const std::string& home, const RelayArgs& args) {
  auto journal = Journal::Open(home, provider::MakeStorageOpener(auth::LinkedAccountFor, SayWait));
  if (!journal.ok()) return Fail(journal.status().message(), kExitError, journal.status().code());
  store::Store& store = (*journal)->store();
  auto config = live::LoadRelayConfig(store);
  if (!config.ok()) return Fail(config.status().message());
  bool changed = false;
  if (args.action == "set") {
    if (args.urls.empty()) return Fail("relay set needs at least one ws:// or wss:// address",
                                       kExitUsage);
    for (const auto& url : args.urls) {
      if (Status s = live::CheckRelayUrl(url); !s.ok()) return Fail(s.message(), kExitUsage);
    }
    config->urls = args.urls;
    changed = true;
  } else if (args.action == "off") {
    config->urls.clear();
    changed = true;
  } else if (args.action == "presence") {
    if (args.urls.size() != 1 || (args.urls[0] != "on" && args.urls[0] != "off")) {
      return Fail("relay presence takes 'on' or 'off'", kExitUsage);
    }
    config->presence = args.urls[0] == "on";
    changed = true;
  } else if (!args.action.empty()) {
    return Fail("unknown relay action '" + args.action + "' (set, off, presence)", kExitUsage);
  }
  if (changed) {
    if (Status s = live::SaveRelayConfig(store, *config); !s.ok()) return Fail(s.message());
  }
  if (args.json) {
    nlohmann::json out = {{"urls", config->urls}, {"presence", config->presence}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (config->urls.empty()) {
    std::cout << "relay: off (jsync watch polls only)\n";
  } else {
    std::cout << "relay: on; addresses tried in order:\n";
    for (const auto& url : config->urls) std::cout << "  " << url << "\n";
  }
  std::cout << "presence: " << (config->presence ? "on" : "off") << "\n";
  if (changed) std::cout << "(a running jsync watch picks this up when restarted)\n";
  return kExitOk;
}

}  // namespace jsync::cli
