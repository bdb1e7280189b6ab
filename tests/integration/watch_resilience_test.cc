// `jsync watch` through bad weather on the Drive and Graph emulators, driven through the CLI as
// a user runs it: the emulator goes down and comes back on the same port and state (an
// outage), the access token expires while the watchers run (with OneDrive's strict refresh
// token rotation, and a `jsync status` in another process refreshing too), the account is
// unlinked under a running watcher and linked again, and the service throttles with 429 +
// Retry-After. Each time the watchers keep local edits, say what is wrong once, resume by
// themselves, and the request log of the emulator shows no storm when they do. Last, a
// provider push (webhook -> relay -> hook frame) wakes a watcher whose poll is an hour away.
//
// The outage lasts kShortOutageS in the normal suite; JSYNC_RESILIENCE_LONG=1 (ctest -L long,
// watch_resilience_long) makes it a minute and the Retry-After 30 s (an HTTP date).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "auth/oauth_credentials.h"
#include "auth/secret_store.h"
#include "tests/support/child_process.h"
#include "tests/support/gdrive_emulator.h"
#include "tests/support/onedrive_emulator.h"
#include "tests/support/relay_process.h"
#include "tests/support/request_log_tail.h"
#include "tests/support/test_support.h"
#include "tests/support/watch_process.h"

namespace jsync {
namespace {

using testing::ProcessResult;
using testing::RunJsync;
using testing::SteadyMs;
using testing::WaitUntil;

constexpr const char* kPassphrase = "resilience passphrase";
constexpr int kShortOutageS = 8;
constexpr int kLongOutageS = 60;
// What the host does inside one provider call while the service is unreachable
// (host/host_policy.h, RetryPolicy{}): 7 attempts, full-jitter delays capped at 250 ms * 2^n,
// so a call gives up at most 250+500+...+8000 ms = 15.75 s after its first attempt. An outage
// shorter than that may be ridden out inside one sync without the watcher seeing a failure.
constexpr int64_t kHostRetrySpanMs = 15'750;

bool LongRun() { return std::getenv("JSYNC_RESILIENCE_LONG") != nullptr; }
int OutageSeconds() { return LongRun() ? kLongOutageS : kShortOutageS; }

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(needle, at)) != std::string::npos; at += needle.size()) ++n;
  return n;
}

// The lines of `text` that contain `needle`, for failure messages and counting.
std::vector<std::string> LinesWith(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

// The watcher's own failure reports (live/watcher.cc, Watcher::Failed): "syncing failed: ...",
// "publishing local edits failed: ...", "opening the journal failed: ..." at warning or error
// level. Problems a cycle reports ("problem: ...") are not among them.
std::vector<std::string> FailureReports(const std::string& log) {
  std::vector<std::string> out;
  for (const char* level : {": warning: ", ": error: "}) {
    for (const std::string& line : LinesWith(log, level)) {
      const std::string rest = line.substr(line.find(level) + std::string(level).size());
      for (const char* what : {"syncing failed: ", "publishing local edits failed: ",
                               "opening the journal failed: "}) {
        if (rest.rfind(what, 0) == 0) out.push_back(line);
      }
    }
  }
  return out;
}

// Everything logged above info level.
size_t Complaints(const std::string& log) {
  return LinesWith(log, ": warning: ").size() + LinesWith(log, ": error: ").size();
}

// CPU seconds (user + system) the process used so far, from /proc/PID/stat.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x;) f.push_back(x);
  if (f.size() < 13) return -1;  // f[0] is field 3 (state); utime is field 14, stime 15
  return static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

class WatchResilienceTest : public ::testing::Test {
 protected:
  // Starts (or restarts, on the port and state of the previous one) the Drive emulator.
  void StartEmulator(std::vector<std::string> args) {
    testing::EmulatorOptions options;
    options.args = std::move(args);
    options.args.insert(options.args.end(), {"--device-interval", "0"});
    options.state_dir = dir_ / "cloud-state";
    options.port = port_;
    std::string error;
    tail_.reset();
    if (cloud_ == "onedrive") {
      onedrives_.push_back(testing::OnedriveEmulator::Start(options, &error));
      ASSERT_NE(onedrives_.back(), nullptr) << error;
      emulator_ = onedrives_.back().get();
    } else {
      gdrives_.push_back(testing::GdriveEmulator::Start(options, &error));
      ASSERT_NE(gdrives_.back(), nullptr) << error;
      emulator_ = gdrives_.back().get();
    }
    all_.push_back(emulator_);
    const std::string& url = emulator_->base_url();
    port_ = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    tail_ = std::make_unique<testing::RequestLogTail>(emulator_->request_log_path());
    config_ = dir_ / (cloud_ + ".json");
    testing::WriteFileBytes(config_, emulator_->LinkConfig().dump());
  }
  // An outage ends: the same service, at the same address, with the same files.
  void RestartEmulator(std::vector<std::string> args = {}) {
    emulator_->Stop();
    StartEmulator(std::move(args));
  }

  std::string Home(const std::string& device) { return dir_ / device; }
  std::vector<std::pair<std::string, std::string>> Env() {
    return {{"JSYNC_PASSPHRASE", kPassphrase}, {"JSYNC_TOKEN_STORE", "file"}};
  }

  ProcessResult Jsync(const std::string& device, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", Home(device)});
    std::map<std::string, std::string> env;
    for (auto& [k, v] : Env()) env[k] = v;
    ProcessResult r = RunJsync(args, env);
    outputs_ += r.out + r.err;
    return r;
  }

  void Link(const std::string& device) {
    ProcessResult r = Jsync(device, {"link", cloud_, "--config", config_, "--device-code"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Both devices linked and on one journal, "Before" made on a and seen by b.
  void TwoDevices() {
    ASSERT_NO_FATAL_FAILURE(Link("a"));
    ASSERT_NO_FATAL_FAILURE(Link("b"));
    ASSERT_EQ(Jsync("a", {"init", "--provider", cloud_, "--device-name", "a", "--scrypt-log-n",
                          "10"})
                  .exit_code,
              0)
        << outputs_;
    ASSERT_EQ(Jsync("a", {"new", "--title", "Before"}).exit_code, 0) << outputs_;
    ASSERT_EQ(Jsync("a", {"sync"}).exit_code, 0) << outputs_;
    ASSERT_EQ(Jsync("b", {"init", "--provider", cloud_, "--device-name", "b"}).exit_code, 0)
        << outputs_;
    ASSERT_EQ(Jsync("b", {"sync"}).exit_code, 0) << outputs_;
    ASSERT_EQ(Titles("b"), "Before\n") << outputs_;
  }

  std::unique_ptr<testing::ChildProcess> Watch(
      const std::string& device,
      const std::vector<std::string>& args = {"--no-relay", "--poll-min", "1", "--poll-max",
                                              "2"}) {
    return testing::StartWatch(Home(device), args, Env());
  }
  // The watcher finished a cycle (each logs a line with --verbose).
  static bool Started(const testing::ChildProcess& w) {
    return testing::WatchStarted(w, 20000);
  }

  std::string Titles(const std::string& device) {
    ProcessResult r = Jsync(device, {"list", "--json"});
    if (r.exit_code != 0) return "error: " + r.err;
    std::vector<std::string> titles;
    for (const auto& e : nlohmann::json::parse(r.out)) titles.push_back(e["title"]);
    std::sort(titles.begin(), titles.end());
    std::string out;
    for (const auto& t : titles) out += t + "\n";
    return out;
  }

  // Local work not yet in the cloud, as `jsync status --json` reports it.
  uint64_t Waiting(const std::string& device) {
    ProcessResult r = Jsync(device, {"status", "--json"});
    auto status = nlohmann::json::parse(r.out, nullptr, false);
    if (r.exit_code != 0 || !status.is_object()) {
      ADD_FAILURE() << "jsync status --json: " << r.err;
      return 0;
    }
    return status["outbox"]["ops"].get<uint64_t>() +
           status["outbox"]["unuploaded_changes"].get<uint64_t>();
  }

  // No token in anything printed or logged: the ones the token stores hold now, and any the
  // emulator ever issued by its shape (Google: "ya29." access, "1//0" refresh; Microsoft:
  // "M.C5_BAY." refresh — its "EwB" access prefix is too short to scan binary files for).
  void ExpectNoTokenAnywhere(const std::vector<const testing::ChildProcess*>& watchers) {
    std::string everything = outputs_;
    for (const auto* w : watchers) everything += w->Stdout() + w->Stderr();
    for (const auto* e : all_) {
      everything += e->Log() + testing::ReadFileBytes(e->request_log_path());
    }
    for (const char* device : {"a", "b"}) {
      for (const auto& file : testing::ListFiles(Home(device))) {
        const std::string name = file.filename().string();
        if (name == "secrets.enc" || name == "secrets.key" || name == "master.key") continue;
        everything += testing::ReadFileBytes(file);
      }
    }
    for (const char* shape : {"ya29.", "1//0", "M.C5_BAY."}) {
      EXPECT_EQ(everything.find(shape), std::string::npos) << "a token (" << shape << ") leaked";
    }
    for (const char* device : {"a", "b"}) {
      auto store = auth::OpenFileSecretStore(Home(device), nullptr);
      if (!store) continue;
      auto text = store->Get(cloud_);
      if (!text.ok() || !text->has_value()) continue;
      auto secret = auth::OAuthSecret::Parse(**text);
      if (!secret.ok()) continue;
      for (const std::string& t : {secret->tokens.access_token, secret->tokens.refresh_token}) {
        if (t.empty()) continue;
        EXPECT_EQ(everything.find(t), std::string::npos) << device << " token";
      }
    }
  }

  static void StopCleanly(testing::ChildProcess& w, const char* who) {
    const int status = w.SignalAndWait(SIGTERM, 15000);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << who << " " << status << "\n"
                                                               << w.Stderr();
  }

  void OutageBody();
  void TokenBody();
  void RetryAfterBody(const std::string& faults, int64_t window_ms);
  void PushBody();
  void UnlinkBody();

  testing::TempDir dir_;
  std::string cloud_ = "gdrive";  // the provider and its emulator
  uint16_t port_ = 0;
  std::string config_;
  // Every emulator started (after an outage the old one stays, stopped, for its logs); the
  // current one; the tail of its request log.
  std::vector<std::unique_ptr<testing::GdriveEmulator>> gdrives_;
  std::vector<std::unique_ptr<testing::OnedriveEmulator>> onedrives_;
  std::vector<testing::EmulatorHandle*> all_;
  testing::EmulatorHandle* emulator_ = nullptr;
  std::unique_ptr<testing::RequestLogTail> tail_;
  std::string outputs_;
};

void WatchResilienceTest::OutageBody() {
  const int outage_s = OutageSeconds();
  SCOPED_TRACE("outage of " + std::to_string(outage_s) + " s");
  ASSERT_NO_FATAL_FAILURE(StartEmulator({}));
  ASSERT_NO_FATAL_FAILURE(TwoDevices());
  auto a = Watch("a");
  auto b = Watch("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(Started(*a) && Started(*b)) << a->Stderr() << b->Stderr();

  // Down. An edit on a meanwhile stays in its store, waiting.
  emulator_->Stop();
  const int64_t down_at = SteadyMs();
  const size_t a_before = a->Stderr().size();
  const size_t b_before = b->Stderr().size();
  const double cpu_before = CpuSeconds(a->pid()) + CpuSeconds(b->pid());
  ASSERT_EQ(Jsync("a", {"new", "--title", "During the outage"}).exit_code, 0) << outputs_;
  // `jsync status` reads the outbox first, then asks for the quota, which retries while the
  // cloud is down: started now, it reports the outage's state whenever it ends.
  testing::JsyncProcess status({"--home", Home("a"), "status", "--json"},
                               {{"JSYNC_PASSPHRASE", kPassphrase}, {"JSYNC_TOKEN_STORE", "file"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(down_at + outage_s * 1000 - SteadyMs()));
  // Backoff, not a busy loop: two watchers used far less than 10 % of a core while down.
  const double cpu = CpuSeconds(a->pid()) + CpuSeconds(b->pid()) - cpu_before;
  EXPECT_LT(cpu, 0.1 * outage_s) << cpu << " CPU s";

  // Back, same port, same files.
  ASSERT_NO_FATAL_FAILURE(RestartEmulator());
  const int64_t up_at = SteadyMs();
  // The worst case for when the watchers look again: a call inside its host retries (up to
  // 8 s apart) or a watcher inside its failure backoff (5 s doubling per failed cycle, equal
  // jitter), whichever the outage left them in; twice the outage plus 30 s covers both.
  const int64_t deadline_ms = 2LL * outage_s * 1000 + 30'000;
  EXPECT_TRUE(WaitUntil([&] { return Titles("b") == "Before\nDuring the outage\n"; }, deadline_ms))
      << Titles("b") << a->Stderr() << b->Stderr();
  const int64_t converged_ms = SteadyMs() - up_at;
  ProcessResult during = status.Wait();
  auto shown = nlohmann::json::parse(during.out, nullptr, false);
  ASSERT_TRUE(shown.is_object()) << during.out << during.err;
  EXPECT_GT(shown["outbox"]["ops"].get<uint64_t>() +
                shown["outbox"]["unuploaded_changes"].get<uint64_t>(),
            0u)
      << "the edit was not kept while the cloud was down: " << during.out;
  EXPECT_EQ(Waiting("a"), 0u);

  // No storm: in the first 2 s after the return the two watchers sent at most what two sync
  // cycles each cost (a quiet cycle is the change feed and the journal's listing; a's upload
  // adds its few calls), never the backlog of the retries they skipped while it was down.
  std::this_thread::sleep_for(std::chrono::milliseconds(std::max<int64_t>(0, up_at + 2000 -
                                                                                 SteadyMs())));
  // (GET about, GET me/drive: the quota query of the test's own `jsync status`.)
  std::vector<testing::StampedRequest> first;
  for (auto& r : tail_->Between(up_at, up_at + 2000)) {
    const std::string path = r.line.value("path", "");
    if (path != "/drive/v3/about" && path != "/v1.0/me/drive") first.push_back(r);
  }
  EXPECT_LE(first.size(), 10u) << tail_->Describe(up_at);
  const std::string a_outage = a->Stderr().substr(a_before);
  const std::string b_outage = b->Stderr().substr(b_before);
  std::cout << "[ outage ] converged " << converged_ms << " ms after the return; "
            << first.size() << " requests in its first 2 s; a's log:\n"
            << a_outage << "[ outage ] b's log:\n" << b_outage << "[ outage ] requests:\n"
            << tail_->Describe(up_at);

  // Each watcher says "failed" at most once for the whole outage (not once per retry), and a
  // watcher that said it also says it works again. An outage longer than the host's retries
  // inside one call is always seen.
  for (const auto& [name, log] : {std::pair{"a", a_outage}, std::pair{"b", b_outage}}) {
    const auto failed = FailureReports(log);
    EXPECT_LE(failed.size(), 1u) << name << ":\n" << log;
    if (!failed.empty()) {
      EXPECT_NE(failed[0].find("local edits are kept"), std::string::npos) << failed[0];
      // Said when the storage answers again; "sync works again" only after a clean cycle,
      // so no problem of the outage is reported after it.
      const size_t back = log.find("sync works again");
      EXPECT_NE(back, std::string::npos) << name << ":\n" << log;
      if (back != std::string::npos) {
        EXPECT_EQ(log.find(": problem: ", back), std::string::npos) << name << ":\n" << log;
      }
    }
    // A publish whose upload failed is a failure, not "published 0 changes".
    EXPECT_EQ(log.find("published 0 changes"), std::string::npos) << name << ":\n" << log;
    if (outage_s * 1000 > kHostRetrySpanMs + 2000) {
      EXPECT_EQ(failed.size(), 1u) << name << ":\n" << log;
    }
  }
  StopCleanly(*a, "a");
  StopCleanly(*b, "b");
  ExpectNoTokenAnywhere({a.get(), b.get()});
}

void WatchResilienceTest::TokenBody() {
  // Every access token lives 2 s: the watchers' runs below outlive several.
  ASSERT_NO_FATAL_FAILURE(StartEmulator({"--token-lifetime", "2"}));
  ASSERT_NO_FATAL_FAILURE(TwoDevices());
  auto a = Watch("a");
  auto b = Watch("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(Started(*a) && Started(*b)) << a->Stderr() << b->Stderr();
  const size_t tokens_before = LinesWith(testing::ReadFileBytes(emulator_->request_log_path()),
                                         "/token\"")
                                   .size();
  std::string want = "Before\n";
  for (int i = 0; i < 3; ++i) {
    // Let the current tokens expire; a `jsync status` in another process (it asks for the
    // quota) refreshes too — with OneDrive's rotation that retires the refresh token the
    // watcher holds. Then an edit on each side.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    ASSERT_EQ(Jsync("a", {"status", "--json"}).exit_code, 0) << outputs_;
    const std::string from_a = "a" + std::to_string(i), from_b = "b" + std::to_string(i);
    ASSERT_EQ(Jsync("a", {"new", "--title", from_a}).exit_code, 0) << outputs_;
    ASSERT_EQ(Jsync("b", {"new", "--title", from_b}).exit_code, 0) << outputs_;
    want += from_a + "\n" + from_b + "\n";
    std::vector<std::string> sorted;
    std::istringstream in(want);
    for (std::string t; std::getline(in, t);) sorted.push_back(t);
    std::sort(sorted.begin(), sorted.end());
    std::string expected;
    for (const auto& t : sorted) expected += t + "\n";
    EXPECT_TRUE(WaitUntil([&] { return Titles("a") == expected && Titles("b") == expected; },
                          30000))
        << Titles("a") << "--\n" << Titles("b") << a->Stderr() << b->Stderr();
  }
  // Tokens were refreshed meanwhile (each refresh is a POST /token), and no cycle failed.
  const size_t refreshes =
      LinesWith(testing::ReadFileBytes(emulator_->request_log_path()), "/token\"").size() -
      tokens_before;
  // Each watcher ran through at least 3 lifetimes; a's three `jsync status` refreshed too.
  std::cout << "[ token ] " << refreshes << " token requests while watching\n";
  EXPECT_GE(refreshes, 5u);
  EXPECT_EQ(Complaints(a->Stderr()), 0u) << a->Stderr();
  EXPECT_EQ(Complaints(b->Stderr()), 0u) << b->Stderr();
  StopCleanly(*a, "a");
  StopCleanly(*b, "b");
  ExpectNoTokenAnywhere({a.get(), b.get()});
}

void WatchResilienceTest::UnlinkBody() {
  ASSERT_NO_FATAL_FAILURE(StartEmulator({}));
  ASSERT_NO_FATAL_FAILURE(TwoDevices());
  auto a = Watch("a");
  auto b = Watch("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(Started(*a) && Started(*b)) << a->Stderr() << b->Stderr();

  // Unlinked under a's running watcher (Google: the grant revoked at the emulator too).
  ProcessResult unlink = Jsync("a", {"unlink", cloud_});
  ASSERT_EQ(unlink.exit_code, 0) << unlink.err;
  if (cloud_ == "gdrive") {
    EXPECT_NE(unlink.err.find("tokens revoked"), std::string::npos) << unlink.err;
  }
  const std::string hint = "run `jsync link " + cloud_ + "`";
  ASSERT_TRUE(WaitUntil([&] { return a->Stderr().find(hint) != std::string::npos; }, 20000))
      << a->Stderr();
  ASSERT_EQ(Jsync("a", {"new", "--title", "While unlinked"}).exit_code, 0) << outputs_;
  // Long enough for the watcher to retry (its first failure backoff is at most 5 s) and stay
  // quiet about it.
  std::this_thread::sleep_for(std::chrono::seconds(8));
  EXPECT_GT(Waiting("a"), 0u) << "the edit was not kept";
  EXPECT_EQ(Titles("b"), "Before\n");

  // Linked again from another terminal: the running watcher notices (accounts.json rewritten)
  // and retries at once rather than at the end of its backoff; b's next poll (1-2 s) merges.
  ASSERT_NO_FATAL_FAILURE(Link("a"));
  const int64_t linked_at = SteadyMs();
  EXPECT_TRUE(WaitUntil([&] { return Titles("b") == "Before\nWhile unlinked\n"; }, 60000))
      << Titles("b") << a->Stderr();
  EXPECT_LT(SteadyMs() - linked_at, 8000) << a->Stderr();
  EXPECT_NE(a->Stderr().find("the linked accounts changed: syncing now"), std::string::npos)
      << a->Stderr();
  EXPECT_EQ(Waiting("a"), 0u);
  const std::string log = a->Stderr();
  std::cout << "[ unlinked ] a's log:\n" << log;
  EXPECT_EQ(Count(log, hint), 1u) << log;
  EXPECT_EQ(FailureReports(log).size(), 1u) << log;
  EXPECT_NE(log.find("sync works again"), std::string::npos) << log;
  StopCleanly(*a, "a");
  StopCleanly(*b, "b");
  ExpectNoTokenAnywhere({a.get(), b.get()});
}

// `faults` throttles the first kThrottled API requests of an emulator, each with a Retry-After
// of window_ms.
constexpr int kThrottled = 3;
void WatchResilienceTest::RetryAfterBody(const std::string& faults, int64_t window_ms) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator({}));
  ASSERT_NO_FATAL_FAILURE(TwoDevices());
  // The throttling service: its request count starts over at the restart.
  ASSERT_NO_FATAL_FAILURE(RestartEmulator({"--faults", faults}));
  // Only a's watcher talks to the emulator until the end: every request in the log is a's.
  auto a = Watch("a");
  ASSERT_TRUE(a);
  ASSERT_EQ(Jsync("a", {"new", "--title", "Throttled"}).exit_code, 0) << outputs_;
  // Waited for in the watcher's log: `jsync status` would send requests of its own (the quota).
  auto uploaded = [&] {
    const std::string log = a->Stderr();
    return log.find("uploaded 1") != std::string::npos ||
           log.find("published 1 change") != std::string::npos;
  };
  ASSERT_TRUE(WaitUntil(uploaded, 4 * window_ms + 30'000)) << a->Stderr() << tail_->Describe(0);

  // After each throttled request: nothing at all (Drive or OAuth) until its Retry-After ran out.
  const auto all = tail_->Requests();
  std::vector<size_t> api;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].Api()) api.push_back(i);
  }
  const int64_t origin = all.empty() ? 0 : all.front().seen_ms;
  ASSERT_GT(api.size(), static_cast<size_t>(kThrottled)) << tail_->Describe(origin);
  for (int k = 0; k < kThrottled; ++k) {
    const auto& throttled = all[api[k]];
    ASSERT_LT(api[k] + 1, all.size());
    const auto& next = all[api[k] + 1];
    // 20 ms for the stamps (the log is read every 5 ms).
    EXPECT_GE(next.seen_ms - throttled.seen_ms, window_ms - 20)
        << "request " << k + 1 << " (" << throttled.Shown() << ") was throttled; "
        << next.Shown() << " came too soon\n"
        << tail_->Describe(origin);
  }
  std::cout << "[ 429 ] a's requests:\n" << tail_->Describe(origin) << "[ 429 ] a's log:\n"
            << a->Stderr();

  // The edit still arrives.
  EXPECT_EQ(Waiting("a"), 0u);
  ASSERT_EQ(Jsync("b", {"sync"}).exit_code, 0) << outputs_;
  EXPECT_EQ(Titles("b"), "Before\nThrottled\n");
  StopCleanly(*a, "a");
  ExpectNoTokenAnywhere({a.get()});
}


// Provider push end to end: the storage's webhook (Drive changes.watch, a Graph subscription)
// reaches the relay's hook URL, the relay turns it into a hook frame for the room, and a
// watcher whose poll is an hour away syncs. a has no watcher (so the relay carries no frame
// from a): only the storage can tell b.
void WatchResilienceTest::PushBody() {
  std::string error;
  auto relay = testing::RelayProcess::Start({}, &error);
  ASSERT_NE(relay, nullptr) << error;
  ASSERT_NO_FATAL_FAILURE(StartEmulator({}));
  ASSERT_NO_FATAL_FAILURE(TwoDevices());
  ASSERT_EQ(Jsync("b", {"relay", "set", relay->url()}).exit_code, 0) << outputs_;
  auto b = Watch("b", {"--poll-min", "3600", "--poll-max", "3600"});
  ASSERT_TRUE(b);
  ASSERT_TRUE(Started(*b)) << b->Stderr();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return b->Stderr().find("push: the storage notifies the relay of changes") !=
               std::string::npos;
      },
      10000))
      << b->Stderr() << relay->Log();
  ASSERT_TRUE(WaitUntil([&] { return b->Stderr().find("relay: connected") != std::string::npos; },
                        10000))
      << b->Stderr();

  ASSERT_EQ(Jsync("a", {"new", "--title", "Pushed"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("a", {"sync"}).exit_code, 0) << outputs_;
  const int64_t synced_at = SteadyMs();
  EXPECT_TRUE(WaitUntil([&] { return Titles("b") == "Before\nPushed\n"; }, 10000))
      << Titles("b") << b->Stderr() << relay->Log() << emulator_->Log();
  std::cout << "[ push ] b merged a's entry " << SteadyMs() - synced_at
            << " ms after a's sync; b's log:\n"
            << b->Stderr();
  StopCleanly(*b, "b");
  ExpectNoTokenAnywhere({b.get()});
}

TEST_F(WatchResilienceTest, AnOutageIsRiddenOutAndTheReturnIsNoStorm) { OutageBody(); }

TEST_F(WatchResilienceTest, AnExpiringAccessTokenIsRefreshedWhileWatching) { TokenBody(); }

TEST_F(WatchResilienceTest, ARetryAfterIsHonouredAndTheEditArrivesAfterwards) {
  // Drive's 429 asks for 1 s (Retry-After: 1); in the long run for 30 s as an HTTP date (whole
  // seconds, so 29-30 s remain when the client reads it).
  if (LongRun()) {
    RetryAfterBody("429-date@1-" + std::to_string(kThrottled), 28'500);
  } else {
    RetryAfterBody("429@1-" + std::to_string(kThrottled), 1'000);
  }
}

TEST_F(WatchResilienceTest, OneDriveAnOutageIsRiddenOutAndTheReturnIsNoStorm) {
  cloud_ = "onedrive";
  OutageBody();
}

// Microsoft rotates refresh tokens strictly: the old one stops working at each refresh.
TEST_F(WatchResilienceTest, OneDriveAnExpiringAccessTokenIsRefreshedWhileWatching) {
  cloud_ = "onedrive";
  TokenBody();
}

TEST_F(WatchResilienceTest, OneDriveARetryAfterIsHonouredAndTheEditArrivesAfterwards) {
  cloud_ = "onedrive";
  const int64_t window_s = LongRun() ? 30 : 2;
  RetryAfterBody("429:" + std::to_string(window_s) + "@1-" + std::to_string(kThrottled),
                 window_s * 1000);
}


TEST_F(WatchResilienceTest, AProviderPushWakesAWatcherWhosePollIsAnHourAway) { PushBody(); }

TEST_F(WatchResilienceTest, AnUnlinkedAccountSaysLinkOnceKeepsEditsAndResumesAfterRelink) {
  UnlinkBody();
}

// Microsoft has no revocation endpoint: the watcher must stop using what it holds in memory.
TEST_F(WatchResilienceTest, OneDriveAnUnlinkedAccountSaysLinkOnceKeepsEditsAndResumesAfterRelink) {
  cloud_ = "onedrive";
  UnlinkBody();
}

TEST_F(WatchResilienceTest, OneDriveAProviderPushWakesAWatcherWhosePollIsAnHourAway) {
  cloud_ = "onedrive";
  PushBody();
}

}  // namespace
}  // namespace jsync
