// What a sync costs against the length of the history, and how long catching up takes.
//
// poll-cost: a writer builds a history of N change files (one entry per change, one sync per
// change, on a local folder), which is then copied as-is (real files the engine wrote) to each
// backend: the folder provider, WebDAV (rclone serving a folder), the Drive emulator, the
// Microsoft Graph (OneDrive) emulator and the CloudKit (iCloud, mode A) emulator. On each, a reader joins and catches up (its cold sync);
// then the program measures one quiet poll (a sync with nothing new) and catching up one new
// change another device just uploaded: requests (the engine's provider counters, as `jsync
// sync --json` shows them; for the emulators also their request logs) and wall time. The
// emulators answer after --poll-latency ms (default 0).
//
// catch-up: M new changes on each of --catchup-backends (gdrive, onedrive) at --latency RTT ms,
// fetched by a new device with K = 1 and with the default K; printed beside M·RTT/K.
//
//   poll_cost_bench [--sizes 10,1000,10000] [--backends folder,webdav,gdrive,onedrive,icloud]
//                   [--poll-latency MS] [--catchup M] [--catchup-backends gdrive,onedrive]
//                   [--latencies 20,100] [--no-poll] [--no-catchup] [--dir D]
//                   [--history-dir D]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/journal/journal.h"
#include "core/sync/remote_layout.h"
#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "host/transfer_pool.h"
#include "tests/support/cloudkit_account.h"
#include "tests/support/gdrive_emulator.h"
#include "tests/support/linked_account.h"
#include "tests/support/onedrive_emulator.h"
#include "tests/support/test_support.h"
#include "tests/support/webdav_servers.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace jsync;

namespace {

struct Options {
  std::vector<uint64_t> sizes = {10, 1000, 10000};
  std::vector<std::string> backends = {"folder", "webdav", "gdrive", "onedrive", "icloud"};
  int poll_latency_ms = 0;
  uint64_t catchup = 1000;
  std::vector<std::string> catchup_backends = {"gdrive", "onedrive"};
  std::vector<int> latencies = {20, 100};
  bool poll = true;
  bool catchup_run = true;
  std::string dir;
  std::string history_dir;  // where the writer builds the history (a tmpfs makes it fast)
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "poll_cost_bench: %s\n", msg.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}
void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--sizes") {
      o.sizes.clear();
      for (auto& p : Split(value())) o.sizes.push_back(std::stoull(p));
    } else if (a == "--backends") {
      o.backends = Split(value());
    } else if (a == "--poll-latency") {
      o.poll_latency_ms = std::stoi(value());
    } else if (a == "--catchup-backends") {
      o.catchup_backends = Split(value());
    } else if (a == "--catchup") {
      o.catchup = std::stoull(value());
    } else if (a == "--latencies") {
      o.latencies.clear();
      for (auto& p : Split(value())) o.latencies.push_back(std::stoi(p));
    } else if (a == "--no-poll") {
      o.poll = false;
    } else if (a == "--no-catchup") {
      o.catchup_run = false;
    } else if (a == "--dir") {
      o.dir = value();
    } else if (a == "--history-dir") {
      o.history_dir = value();
    } else {
      Die("unknown argument " + a +
          " (see the comment at the top of bench/poll_cost_bench.cc for the usage)");
    }
  }
  return o;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

uint64_t LineCount(const fs::path& p) {
  std::ifstream in(p);
  uint64_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// One writer's history on a local folder, grown as needed; change files are appended in seq
// order, so a prefix of the log is a valid history of any shorter length.
class History {
 public:
  explicit History(const fs::path& root) : root_(root) {
    cloud_ = root_ / "cloud";
    auto init = Must(Journal::Init((root_ / "writer").string(),
                                   testing::TestInitOptions(cloud_.string(), "writer")),
                     "creating the writer");
    journal_ = init.journal;
    device_ = init.device;
    writer_ = Must(Journal::Open((root_ / "writer").string(), testing::HostStorage()),
                   "opening the writer");
  }
  void GrowTo(uint64_t n) {
    const auto start = Clock::now();
    for (; have_ < n; ++have_) {
      Must(writer_->NewEntry({"entry " + std::to_string(have_), "a short day", {"bench"}}),
           "new entry");
      Must(writer_->Sync(), "writer sync");
    }
    std::fprintf(stderr, "history: %llu change files (%.1f s)\n",
                 static_cast<unsigned long long>(have_), Ms(Clock::now() - start) / 1000);
  }
  // Every file of the first n changes (plus the key and device files): path relative to the
  // cloud folder.
  std::vector<std::string> FilesUpTo(uint64_t n) const {
    std::vector<std::string> out;
    for (const auto& f : testing::ListFiles(cloud_)) {
      std::string rel = fs::relative(f, cloud_).generic_string();
      if (auto c = sync::ParseChangePath(journal_, rel); c && c->seq > n) continue;
      out.push_back(rel);
    }
    return out;
  }
  const fs::path& cloud() const { return cloud_; }

 private:
  fs::path root_, cloud_;
  JournalId journal_{};
  DeviceId device_ = 0;
  std::unique_ptr<Journal> writer_;
  uint64_t have_ = 0;
};

// One place the journal lives: how to open it and how to count its requests server-side.
struct Backend {
  std::string name;
  std::string provider;
  std::string location;
  provider::StorageOpener opener;                   // for every device's home
  std::function<Status(const std::string&)> link;   // per home, before Init (Drive)
  std::function<uint64_t()> server_requests;        // null: not counted server-side
};

// Copies the history's first n changes to the backend through its own provider (Drive) or
// straight into the served folder (folder, WebDAV: the files are the same either way).
void Seed(const History& h, uint64_t n, provider::Provider* via, const fs::path& folder) {
  const auto files = h.FilesUpTo(n);
  if (via == nullptr) {
    for (const auto& rel : files) {
      fs::create_directories((folder / rel).parent_path());
      fs::copy_file(h.cloud() / rel, folder / rel, fs::copy_options::overwrite_existing);
    }
    return;
  }
  for (const auto& rel : files) {
    const std::string bytes = testing::ReadFileBytes(h.cloud() / rel);
    Must(via->PutIfAbsent(rel, ByteSpan(reinterpret_cast<const uint8_t*>(bytes.data()),
                                        bytes.size())),
         "seeding " + rel);
  }
}

std::unique_ptr<Journal> Join(const Backend& b, const fs::path& home, const std::string& name) {
  if (b.link) Must(b.link(home.string()), "linking " + home.string());
  InitOptions o = testing::TestInitOptions(b.location, name);
  o.provider = b.provider;
  o.storage = b.opener;
  Must(Journal::Init(home.string(), o), "joining " + b.name);
  return Must(Journal::Open(home.string(), b.opener), "opening " + home.string());
}

struct Measured {
  uint64_t requests = 0;  // engine-side provider calls
  uint64_t server = 0;    // server-side requests (Drive's request log), 0 when not counted
  uint64_t downloaded = 0;
  double ms = 0;
};

Measured TimedSync(Journal& j, const Backend& b) {
  const uint64_t before = b.server_requests ? b.server_requests() : 0;
  const auto start = Clock::now();
  auto r = Must(j.Sync(), "sync");
  Measured m;
  m.ms = Ms(Clock::now() - start);
  m.requests = r.calls.calls();
  m.downloaded = r.report.downloaded_changes;
  if (b.server_requests) m.server = b.server_requests() - before;
  for (const auto& p : r.report.problems) std::fprintf(stderr, "  problem: %s\n", p.message.c_str());
  return m;
}

// A built plugin ("gdrive", "onedrive"), from the host's search path.
provider::PluginInfo PluginNamed(const std::string& name) {
  for (auto& p : provider::LoadAllPlugins().loaded)
    if (p.name == name) return p;
  Die("the " + name + " plugin is not built");
}

// A cloud emulator as a child process: either kind, seen through what the bench needs.
struct CloudEmulator {
  std::string kind;  // "gdrive", "onedrive", "icloud"
  std::string base;
  fs::path request_log;
  std::shared_ptr<void> process;  // the GdriveEmulator or OnedriveEmulator
  std::shared_ptr<testing::CloudKitEmulator> cloudkit;  // icloud: linking needs it
  uint16_t callback_port = 0;                          // icloud: the sign-in callback
};

CloudEmulator StartCloud(const std::string& kind, const fs::path& state, int latency_ms) {
  std::vector<std::string> args;
  if (kind != "icloud") args = {"--device-interval", "0"};
  if (latency_ms > 0) {
    args.push_back("--latency");
    args.push_back(std::to_string(latency_ms));
  }
  std::string error;
  CloudEmulator c;
  c.kind = kind;
  if (kind == "gdrive") {
    testing::GdriveEmulatorOptions eo;
    eo.state_dir = state;
    eo.args = args;
    std::shared_ptr<testing::GdriveEmulator> emu = testing::GdriveEmulator::Start(eo, &error);
    if (!emu) Die("cannot start the Drive emulator: " + error);
    c.base = emu->base_url();
    c.request_log = emu->request_log_path();
    c.process = emu;
  } else if (kind == "onedrive") {
    testing::OnedriveEmulatorOptions eo;
    eo.state_dir = state;
    eo.args = args;
    std::shared_ptr<testing::OnedriveEmulator> emu = testing::OnedriveEmulator::Start(eo, &error);
    if (!emu) Die("cannot start the Graph emulator: " + error);
    c.base = emu->base_url();
    c.request_log = emu->request_log_path();
    c.process = emu;
  } else if (kind == "icloud") {
    c.callback_port = cloudkit_testing::FreePort();
    testing::CloudKitEmulatorOptions eo;
    eo.state_dir = state;
    eo.args = args;
    eo.args.insert(eo.args.end(), {"--callback-url", "http://127.0.0.1:" +
                                                         std::to_string(c.callback_port) + "/"});
    c.cloudkit = testing::CloudKitEmulator::Start(eo, &error);
    if (!c.cloudkit) Die("cannot start the CloudKit emulator: " + error);
    c.base = c.cloudkit->base_url();
    c.request_log = c.cloudkit->request_log_path();
  } else {
    Die("no emulator for " + kind);
  }
  return c;
}

// Each home links the emulator's account; the opener finds it by home.
struct CloudAccounts {
  std::string base;
  std::string cloudkit_api_base;  // icloud
  std::map<std::string, std::shared_ptr<provider::CredentialSource>> by_home;
  std::string Config() const {
    if (!cloudkit_api_base.empty()) {
      return nlohmann::json{{"cloudkit_api_base", cloudkit_api_base}}.dump();
    }
    return nlohmann::json{{"api_base", base},
                          {"auth_base", base},
                          {"client_id", gdrive_testing::kEmulatorClientId}}
        .dump();
  }
};

Backend CloudBackend(const CloudEmulator& emu, std::shared_ptr<CloudAccounts> acc,
                     int transfers) {
  Backend b;
  b.name = emu.kind;
  b.provider = emu.kind;
  b.location = "journal";
  acc->base = emu.base;
  if (emu.cloudkit) acc->cloudkit_api_base = emu.cloudkit->api_base();
  b.link = [acc, kind = emu.kind, ck = emu.cloudkit,
            port = emu.callback_port](const std::string& home) -> Status {
    if (ck) {
      JSYNC_ASSIGN_OR_RETURN(
          acc->by_home[home],
          cloudkit_testing::LinkCloudKitEmulatorAccount(PluginNamed(kind), *ck, port, home));
      return Status::Ok();
    }
    JSYNC_ASSIGN_OR_RETURN(auto cred,
                           gdrive_testing::LinkEmulatorAccount(PluginNamed(kind), acc->base, home));
    acc->by_home[home] = cred;
    return Status::Ok();
  };
  b.opener = [acc, transfers](const provider::StorageSpec& spec)
      -> Result<provider::OpenedStorage> {
    provider::OpenOptions o;
    o.create_location = spec.create;
    o.config_json = acc->Config();
    o.credentials = acc->by_home.at(spec.home);
    o.transfers = transfers;
    return provider::OpenStorage(spec.provider, spec.location, o);
  };
  const fs::path log = emu.request_log;
  b.server_requests = [log] { return LineCount(log); };
  return b;
}

// Puts the history's first n changes into the emulator's account through its own plugin.
void SeedCloud(const History& h, uint64_t n, const Backend& b, const fs::path& seeder) {
  Must(b.link(seeder.string()), "linking the seeder");
  auto opened = Must(b.opener({seeder.string(), b.provider, "journal", true}),
                     "opening " + b.name);
  Seed(h, n, opened.provider.get(), {});
}

void PollCost(const Options& o, History& h, const fs::path& work) {
  std::printf("\n## poll cost (one quiet poll; catching up one new change)\n\n");
  std::printf("| backend | N change files | quiet poll: requests | quiet poll: ms | "
              "one new change: requests | one new change: ms | reader's first sync: s |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  std::fflush(stdout);
  for (const std::string& name : o.backends) {
    for (uint64_t n : o.sizes) {
      h.GrowTo(n);
      const fs::path here = work / (name + "-" + std::to_string(n));
      fs::create_directories(here);
      Backend b;
      std::unique_ptr<testing::WebDavServer> dav;
      CloudEmulator emu;
      auto acc = std::make_shared<CloudAccounts>();
      if (name == "folder") {
        b.name = b.provider = "folder";
        b.location = (here / "cloud").string();
        b.opener = testing::HostStorage();
        Seed(h, n, nullptr, here / "cloud");
      } else if (name == "webdav") {
        std::string error;
        dav = testing::WebDavServer::Start(testing::WebDavServerKind::kRclone, here / "served",
                                           &error);
        if (!dav) Die("cannot start rclone (bash scripts/install-test-peers.sh): " + error);
        b.name = b.provider = "webdav";
        b.location = dav->Url("dav");
        auto cred = provider::BasicCredentials(dav->user(), dav->password());
        b.opener = provider::MakeStorageOpener(
            [cred](const std::string&, const std::string&) -> Result<provider::AccountForStorage> {
              return provider::AccountForStorage{"{}", cred};
            });
        Seed(h, n, nullptr, here / "served" / "dav");
      } else if (name == "gdrive" || name == "onedrive" || name == "icloud") {
        // Seeded without latency (the seeding is not measured), then served with it.
        {
          CloudEmulator seeding = StartCloud(name, here / "cloud-state", 0);
          auto seed_acc = std::make_shared<CloudAccounts>();
          SeedCloud(h, n, CloudBackend(seeding, seed_acc, 0), here / "seeder");
        }
        emu = StartCloud(name, here / "cloud-state", o.poll_latency_ms);
        b = CloudBackend(emu, acc, 0);
      } else {
        Die("unknown backend " + name);
      }
      auto other = Join(b, here / "other", "other");
      auto reader = Join(b, here / "reader", "reader");
      Must(other->Sync(), "first sync of the other device");
      const Measured first = TimedSync(*reader, b);
      const Measured quiet = TimedSync(*reader, b);
      Must(other->NewEntry({"new", "one new change", {}}), "new entry");
      Must(other->Sync(), "upload of the new change");
      const Measured one = TimedSync(*reader, b);
      auto req = [&](const Measured& m) {
        return b.server_requests ? std::to_string(m.requests) + " (server: " +
                                       std::to_string(m.server) + ")"
                                 : std::to_string(m.requests);
      };
      std::printf("| %s | %llu | %s | %.1f | %s | %.1f | %.2f |\n", name.c_str(),
                  static_cast<unsigned long long>(n), req(quiet).c_str(), quiet.ms,
                  req(one).c_str(), one.ms, first.ms / 1000);
      std::fflush(stdout);
    }
  }
}

void CatchUp(const Options& o, History& h, const fs::path& work, const std::string& kind) {
  h.GrowTo(o.catchup);
  const fs::path state = work / ("catchup-" + kind);
  {
    CloudEmulator emu = StartCloud(kind, state, 0);
    auto acc = std::make_shared<CloudAccounts>();
    SeedCloud(h, o.catchup, CloudBackend(emu, acc, 0), work / ("catchup-seeder-" + kind));
  }
  std::printf("\n## catching up %llu changes on the %s emulator\n\n",
              static_cast<unsigned long long>(o.catchup), kind.c_str());
  std::printf("| RTT ms | K | downloads M | requests | measured s | M·RTT/K s | ratio |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  std::fflush(stdout);
  int run = 0;
  for (int rtt : o.latencies) {
    CloudEmulator emu = StartCloud(kind, state, rtt);
    for (int k : {1, provider::kDefaultTransfers}) {
      auto acc = std::make_shared<CloudAccounts>();
      Backend b = CloudBackend(emu, acc, k);
      auto reader =
          Join(b, work / ("catchup-reader-" + kind + std::to_string(++run)), "reader");
      const Measured m = TimedSync(*reader, b);
      const double ideal = static_cast<double>(m.downloaded) * rtt / k / 1000;
      std::printf("| %d | %d | %llu | %llu | %.1f | %.1f | %.2f |\n", rtt, k,
                  static_cast<unsigned long long>(m.downloaded),
                  static_cast<unsigned long long>(m.requests), m.ms / 1000, ideal,
                  ideal > 0 ? m.ms / 1000 / ideal : 0.0);
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  const fs::path work = fs::path(o.dir.empty() ? fs::temp_directory_path().string() : o.dir) /
                        ("poll-cost-" + std::to_string(::getpid()));
  fs::create_directories(work);
  std::fprintf(stderr, "poll_cost_bench: working in %s\n", work.c_str());
  const fs::path history =
      o.history_dir.empty() ? work / "history"
                            : fs::path(o.history_dir) / ("poll-cost-" + std::to_string(::getpid()));
  History h(history);
  if (o.poll) PollCost(o, h, work);
  if (o.catchup_run) {
    for (const std::string& kind : o.catchup_backends) CatchUp(o, h, work, kind);
  }
  std::error_code ec;
  fs::remove_all(work, ec);
  fs::remove_all(history, ec);
  return 0;
}
