// Cold sync of a new device through a snapshot, on a journal make_journal built (--sync: one
// device wrote N entries, synced, and its sync wrote a snapshot).
//
//   snapshot_cold_sync_bench seed --cloud D/cloud --state S
//       copies every file of the folder cloud into a Drive emulator's state at S, through the
//       gdrive plugin (not measured)
//   snapshot_cold_sync_bench measure --backend folder|gdrive --cloud D/cloud [--state S]
//                            [--latency MS] --home H [--json]
//       a new device joins (passphrase "benchmark passphrase") and runs its first sync: wall
//       time, provider requests (engine side; for Drive also the emulator's request log), bytes
//       and files downloaded, whether a snapshot was loaded, entries listed, and the process's
//       peak RSS right after the sync (each measure runs in its own process, so the figure is
//       the reader's alone; the emulator is another process)
//
// bench/snapshot_cold_sync.sh runs make_journal, seed and both measures and prints a table.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/journal/journal.h"
#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "tests/support/gdrive_emulator.h"
#include "tests/support/linked_account.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace jsync;

namespace {

struct Options {
  std::string mode;
  std::string backend = "folder";
  std::string cloud, state, home;
  int latency_ms = 0;
  bool json = false;
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "snapshot_cold_sync_bench: %s\n", why.c_str());
  std::exit(1);
}

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "snapshot_cold_sync_bench: %s\nusage: snapshot_cold_sync_bench seed --cloud D "
               "--state S\n       snapshot_cold_sync_bench measure --backend folder|gdrive "
               "--cloud D [--state S] [--latency MS] --home H [--json]\n",
               why.c_str());
  std::exit(2);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}
void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  if (argc < 2) Usage("no mode");
  o.mode = argv[1];
  if (o.mode != "seed" && o.mode != "measure") Usage("unknown mode " + o.mode);
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--backend") {
        o.backend = value();
      } else if (a == "--cloud") {
        o.cloud = value();
      } else if (a == "--state") {
        o.state = value();
      } else if (a == "--home") {
        o.home = value();
      } else if (a == "--latency") {
        o.latency_ms = std::stoi(value());
      } else if (a == "--json") {
        o.json = true;
      } else {
        Usage("unknown argument " + a);
      }
    } catch (const std::exception&) {
      Usage("bad value for " + a);
    }
  }
  if (o.cloud.empty()) Usage("--cloud is required");
  if (o.backend != "folder" && o.backend != "gdrive") Usage("--backend is folder or gdrive");
  if ((o.mode == "seed" || o.backend == "gdrive") && o.state.empty()) Usage("--state is required");
  if (o.mode == "measure" && o.home.empty()) Usage("--home is required");
  return o;
}

provider::PluginInfo DrivePlugin() {
  for (auto& p : provider::LoadAllPlugins().loaded)
    if (p.name == "gdrive") return p;
  Die("the gdrive plugin is not built");
}

std::unique_ptr<testing::GdriveEmulator> StartDrive(const std::string& state, int latency_ms) {
  testing::GdriveEmulatorOptions eo;
  eo.state_dir = state;
  eo.args = {"--device-interval", "0"};
  if (latency_ms > 0) eo.args.insert(eo.args.end(), {"--latency", std::to_string(latency_ms)});
  std::string error;
  auto emu = testing::GdriveEmulator::Start(eo, &error);
  if (!emu) Die("cannot start the Drive emulator: " + error);
  return emu;
}

provider::StorageOpener DriveOpener(const std::string& base,
                                    std::shared_ptr<provider::CredentialSource> cred) {
  return [base, cred](const provider::StorageSpec& spec) -> Result<provider::OpenedStorage> {
    provider::OpenOptions o;
    o.create_location = spec.create;
    o.config_json = nlohmann::json{{"api_base", base},
                                   {"auth_base", base},
                                   {"client_id", gdrive_testing::kEmulatorClientId}}
                        .dump();
    o.credentials = cred;
    return provider::OpenStorage(spec.provider, spec.location, o);
  };
}

void Seed(const Options& o) {
  fs::create_directories(o.state);
  auto emu = StartDrive(o.state, 0);
  const fs::path home = fs::path(o.state) / "seeder";
  auto cred =
      Must(gdrive_testing::LinkEmulatorAccount(DrivePlugin(), emu->base_url(), home.string()),
           "linking the seeder");
  auto opened = Must(DriveOpener(emu->base_url(), cred)({home.string(), "gdrive", "journal", true}),
                     "opening the Drive emulator");
  uint64_t files = 0, bytes = 0;
  for (const auto& f : testing::ListFiles(o.cloud)) {
    const std::string rel = fs::relative(f, o.cloud).generic_string();
    const std::string data = testing::ReadFileBytes(f);
    Must(opened.provider->PutIfAbsent(
             rel, ByteSpan(reinterpret_cast<const uint8_t*>(data.data()), data.size())),
         "seeding " + rel);
    ++files;
    bytes += data.size();
  }
  std::fprintf(stderr, "seeded %llu files (%.1f MiB) into %s\n",
               static_cast<unsigned long long>(files), bytes / 1048576.0, o.state.c_str());
}

uint64_t LineCount(const fs::path& p) {
  std::ifstream in(p);
  uint64_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

void Measure(const Options& o) {
  std::unique_ptr<testing::GdriveEmulator> emu;
  InitOptions init = testing::TestInitOptions(o.cloud, "reader");
  init.passphrase = "benchmark passphrase";
  provider::StorageOpener opener = testing::HostStorage();
  if (o.backend == "gdrive") {
    emu = StartDrive(o.state, o.latency_ms);
    auto cred = Must(gdrive_testing::LinkEmulatorAccount(DrivePlugin(), emu->base_url(), o.home),
                     "linking the reader");
    opener = DriveOpener(emu->base_url(), cred);
    init.provider = "gdrive";
    init.location = "journal";
  }
  init.storage = opener;
  Must(Journal::Init(o.home, init), "joining");
  auto j = Must(Journal::Open(o.home, opener), "opening the reader");
  const uint64_t server_before = emu ? LineCount(emu->request_log_path()) : 0;
  const auto t0 = Clock::now();
  SyncResult r = Must(j->Sync(), "the first sync");
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const uint64_t server = emu ? LineCount(emu->request_log_path()) - server_before : 0;
  for (const auto& p : r.report.problems) std::fprintf(stderr, "problem: %s\n", p.message.c_str());
  uint64_t entries = 0;
  Must(j->ForEachEntrySummary([&](const auto&) {
    ++entries;
    return Status::Ok();
  }),
       "listing");
  nlohmann::json out = {{"backend", o.backend},
                        {"latency_ms", o.latency_ms},
                        {"sync_s", seconds},
                        {"requests", r.calls.calls()},
                        {"gets", r.calls.gets},
                        {"lists", r.calls.lists},
                        {"puts", r.calls.puts},
                        {"feeds", r.calls.feeds},
                        {"server_requests", server},
                        {"downloaded_bytes", r.report.downloaded_bytes},
                        {"downloaded_changes", r.report.downloaded_changes},
                        {"snapshot_loaded", r.report.snapshot_loaded},
                        {"entries", entries},
                        {"peak_rss_mib", ru.ru_maxrss / 1024.0},
                        {"problems", r.report.problems.size()}};
  if (o.json) {
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%s\n", out.dump(2).c_str());
  }
  if (!r.report.problems.empty() || r.report.snapshot_loaded.empty()) std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  if (o.mode == "seed") {
    Seed(o);
  } else {
    Measure(o);
  }
  return 0;
}
