#include "tools/emulators/icloud_drive/command.h"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "net/local_http_server.h"
#include "tools/emulators/icloud_drive/control_api.h"
#include "tools/emulators/icloud_drive/simulator.h"

namespace jsync::emulator::icloud_drive {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "jsync-emulator: %s\n", message.c_str());
  return 1;
}

std::vector<std::string> SplitRoots(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    if (comma > pos)
      out.push_back(
          std::filesystem::absolute(s.substr(pos, comma - pos)).lexically_normal().string());
    pos = comma + 1;
  }
  for (auto& r : out)
    while (r.size() > 1 && r.back() == '/') r.pop_back();
  return out;
}

}  // namespace

std::unique_ptr<Command> AddCommand(CLI::App* parent) {
  auto c = std::make_unique<Command>();
  CommandFlags* f = &c->flags;
  c->app = parent->add_subcommand(
      "icloud-drive",
      "An iCloud Drive simulator: local folders kept in sync like Macs' iCloud Drive");
  CLI::App* a = c->app;
  a->add_option("--port", f->port, "TCP port of the control API on 127.0.0.1 (0: pick a free one)")
      ->check(CLI::Range(0, 65535));
  a->add_option("--state", f->state_dir, "Folder for the cloud's copies (same volume as the roots)")
      ->required();
  a->add_option("--roots", f->roots, "R1,R2[,R3...]: the folders to keep in sync (one per Mac)")
      ->required();
  a->add_option("--delay-ms", f->delay_ms, "Delay before a change reaches the other roots")
      ->check(CLI::Range(int64_t{0}, int64_t{600000}));
  a->add_option("--jitter-ms", f->jitter_ms,
                "Up to this much more, per file and root (out of order)")
      ->check(CLI::Range(int64_t{0}, int64_t{600000}));
  a->add_option("--hydrate-ms", f->hydrate_ms, "How long an asked-for stub takes to download")
      ->check(CLI::Range(int64_t{0}, int64_t{600000}));
  a->add_option("--rescan-ms", f->rescan_ms, "Full rescan period (what lost events wait for)")
      ->check(CLI::Range(int64_t{10}, int64_t{600000}));
  a->add_option("--seed", f->seed, "Seed of the jitter");
  a->add_option("--faults", f->faults,
                "drop-event|evict|conflict|conflict-same@N[-M|+],... (README.md)");
  a->add_option("--request-log", f->request_log, "Append one JSON line per control request");
  return c;
}

int Run(const Command& command) {
  const CommandFlags& f = command.flags;
  auto faults = FaultPlan::Parse(f.faults);
  if (!faults.ok()) return Fail(faults.status().message());
  SimOptions options;
  options.state_dir = std::filesystem::absolute(f.state_dir).string();
  options.roots = SplitRoots(f.roots);
  options.delay_ms = f.delay_ms;
  options.jitter_ms = f.jitter_ms;
  options.hydrate_ms = f.hydrate_ms;
  options.rescan_ms = f.rescan_ms;
  options.seed = f.seed;
  options.faults = *faults;

  // Stop signals blocked in every thread; this one waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto sim = Simulator::Create(options);
  if (!sim.ok()) return Fail(sim.status().message());
  ControlApi api(sim->get(), f.request_log);
  net::LocalServerOptions server_options;
  server_options.port = static_cast<uint16_t>(f.port);
  auto server = net::LocalHttpServer::Start(
      [&api](const net::LocalRequest& req) { return api.Handle(req); }, server_options);
  if (!server.ok()) return Fail(server.status().message());
  std::atomic<bool> stop{false};
  std::thread loop([&] { (*sim)->Run(&stop); });
  const std::string base = (*server)->base_url();
  std::printf("%s\n", base.c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "jsync-emulator: iCloud Drive simulator at %s syncing %zu roots, state in %s\n",
               base.c_str(), options.roots.size(), options.state_dir.c_str());
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "jsync-emulator: stopping (signal %d)\n", sig);
  (*server)->Stop();
  stop = true;
  loop.join();
  return 0;
}

}  // namespace jsync::emulator::icloud_drive
