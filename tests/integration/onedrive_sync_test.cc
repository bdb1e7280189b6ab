// End to end on the Microsoft Graph emulator (`jsync-emulator onedrive`): devices link with
// `jsync link onedrive --config FILE` (device code, and the browser flow) through the real OAuth
// code of auth/ against the emulator's Microsoft identity platform endpoints, init on the
// onedrive provider and converge through the CLI with faults on; the emulator stores
// ciphertext only; no token reaches any output, log or plain file; refresh tokens rotate.
// Then the first sync of a larger journal against a service that throttles every 100 requests:
// no request before a Retry-After ends, and `jsync sync` says how long it waits and why.
// Compiled once the Graph emulator's test support (tests/support/onedrive_emulator.h) is in.
#if __has_include("tests/support/onedrive_emulator.h")
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "auth/oauth_credentials.h"
#include "auth/secret_store.h"
#include "core/journal/journal.h"
#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "tests/support/child_process.h"
#include "tests/support/linked_account.h"
#include "tests/support/onedrive_emulator.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using nlohmann::json;
using testing::ProcessResult;
using testing::RunJsync;

#ifdef JSYNC_ONEDRIVE_PLUGIN
constexpr const char* kPluginFile = JSYNC_ONEDRIVE_PLUGIN;
#else
constexpr const char* kPluginFile = "";
#endif

constexpr const char* kPassphrase = "onedrive e2e passphrase";

std::vector<json> ReadLog(const std::filesystem::path& file) {
  std::vector<json> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

class OnedriveSyncTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args, json options = json::object()) {
    if (*kPluginFile == '\0') GTEST_SKIP() << "built without the onedrive plugin";
    testing::OnedriveEmulatorOptions eo;
    eo.args = std::move(args);
    eo.args.insert(eo.args.end(), {"--device-interval", "0"});
    if (!state_.empty()) eo.state_dir = state_;
    std::string error;
    emulator_ = testing::OnedriveEmulator::Start(eo, &error);
    ASSERT_NE(emulator_, nullptr) << error;
    state_ = emulator_->state_dir();
    config_ = dir_ / "onedrive.json";
    json config = emulator_->LinkConfig();
    for (const auto& [k, v] : options.items()) config[k] = v;
    testing::WriteFileBytes(config_, config.dump());
  }

  ProcessResult Jsync(const std::string& device, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", dir_ / device});
    ProcessResult r = RunJsync(args, Env());
    outputs_ += r.out + r.err;
    return r;
  }
  std::map<std::string, std::string> Env() const {
    return {{"JSYNC_PASSPHRASE", kPassphrase}, {"JSYNC_TOKEN_STORE", "file"}};
  }

  // The tokens in a device's token store.
  auth::OAuthSecret Secret(const std::string& device) {
    auto store = auth::OpenFileSecretStore(dir_ / device, nullptr);
    auto text = store->Get("onedrive");
    EXPECT_TRUE(text.ok() && text->has_value()) << device;
    if (!text.ok() || !text->has_value()) return {};
    auto secret = auth::OAuthSecret::Parse(**text);
    EXPECT_TRUE(secret.ok());
    return secret.ok() ? *secret : auth::OAuthSecret{};
  }

  testing::TempDir dir_;
  std::filesystem::path state_;  // kept across an emulator restart
  std::string config_;
  std::unique_ptr<testing::OnedriveEmulator> emulator_;
  std::string outputs_;  // everything every command printed
};

TEST_F(OnedriveSyncTest, TwoDevicesLinkWithTheDeviceCodeAndConvergeWithFaultsOn) {
  // Throttling with Retry-After, outages, a dropped upload fragment and download, an access
  // token that expires mid-run (the host refreshes it: Microsoft rotates the refresh token),
  // and a locked item. Small thresholds so sealed changes take the upload-session path.
  Start({"--faults",
         "429@4,503@9,expire-token@13,drop-upload@17,500@22,drop-download@26,"
         "423@31,504@36,502@40"},
        {{"simple_upload_max", "4096"}});

  for (const char* device : {"laptop", "phone"}) {
    ProcessResult link = Jsync(device, {"link", "onedrive", "--config", config_, "--device-code"});
    ASSERT_EQ(link.exit_code, 0) << link.err;
    EXPECT_NE(link.err.find("linked onedrive"), std::string::npos) << link.err;
  }
  ProcessResult accounts = Jsync("laptop", {"accounts", "--json"});
  ASSERT_EQ(accounts.exit_code, 0) << accounts.err;
  auto listed = json::parse(accounts.out);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["provider"], "onedrive");
  EXPECT_EQ(listed[0]["status"], "linked");
  // Microsoft names the granted scopes as resource URLs and leaves offline_access out.
  EXPECT_NE(listed[0]["scopes"].get<std::string>().find("Files.ReadWrite.AppFolder"),
            std::string::npos)
      << listed[0]["scopes"];
  const std::string first_refresh = Secret("laptop").tokens.refresh_token;

  ASSERT_EQ(Jsync("laptop", {"init", "--provider", "onedrive", "--device-name", "laptop",
                             "--scrypt-log-n", "10"})
                .exit_code,
            0)
      << outputs_;
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "Morning pages", "--tag", "daily"}).exit_code, 0);
  // Above simple_upload_max once sealed, and more than one 320 KiB fragment.
  // Random letters: zstd cannot shrink them below a fragment.
  std::string body;
  uint64_t lcg = 0x2545f4914f6cdd1dull;
  while (body.size() < 900'000) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    body += static_cast<char>((lcg >> 59) < 26 ? 'a' + (lcg >> 59) : ' ');
  }
  testing::WriteFileBytes(dir_ / "body.txt", "Long entry " + body);
  ProcessResult long_one =
      Jsync("laptop", {"new", "--title", "Long one", "--body-file", dir_ / "body.txt"});
  ASSERT_EQ(long_one.exit_code, 0) << long_one.err;
  std::string long_id = long_one.out;
  while (!long_id.empty() && std::isspace(static_cast<unsigned char>(long_id.back())))
    long_id.pop_back();
  ProcessResult sync = Jsync("laptop", {"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;

  ASSERT_EQ(Jsync("phone", {"init", "--provider", "onedrive", "--device-name", "phone"}).exit_code,
            0)
      << outputs_;
  ASSERT_EQ(Jsync("phone", {"new", "--title", "Evening walk"}).exit_code, 0);
  ASSERT_EQ(Jsync("phone", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("phone", {"sync"}).exit_code, 0) << outputs_;

  ProcessResult a = Jsync("laptop", {"list", "--json"});
  ProcessResult b = Jsync("phone", {"list", "--json"});
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(json::parse(a.out).size(), 3u);
  for (const char* title : {"Morning pages", "Long one", "Evening walk"})
    EXPECT_NE(a.out.find(title), std::string::npos) << title;
  ProcessResult shown = Jsync("phone", {"show", long_id});
  EXPECT_NE(shown.out.find(body.substr(body.size() - 40)), std::string::npos)
      << "the long entry arrived whole";

  // The expired token was refreshed, and the refresh token rotated in the store.
  EXPECT_NE(Secret("laptop").tokens.refresh_token, first_refresh);

  // The emulator's stored objects are ciphertext only.
  for (const auto& file : testing::ListFiles(emulator_->state_dir())) {
    const std::string bytes = testing::ReadFileBytes(file);
    for (const char* plain : {"Morning pages", "Evening walk", "Long entry", "daily", kPassphrase})
      EXPECT_EQ(bytes.find(plain), std::string::npos) << plain << " in " << file;
  }
  // The uploads used sessions, and no credential went to a pre-authenticated URL.
  bool saw_session = false;
  for (const json& r : ReadLog(emulator_->request_log_path())) {
    const std::string path = r.value("path", "");
    if (path.find("createUploadSession") != std::string::npos) saw_session = true;
  }
  EXPECT_TRUE(saw_session);

  // No token or passphrase anywhere but the token store.
  std::vector<std::string> secrets = {kPassphrase, first_refresh};
  for (const char* device : {"laptop", "phone"}) {
    const auth::OAuthSecret s = Secret(device);
    secrets.push_back(s.tokens.access_token);
    secrets.push_back(s.tokens.refresh_token);
  }
  std::string everything = outputs_ + emulator_->Log();
  for (const char* device : {"laptop", "phone"}) {
    for (const auto& file : testing::ListFiles(dir_ / device)) {
      const std::string name = file.filename().string();
      if (name == "secrets.enc" || name == "secrets.key" || name == "master.key") continue;
      everything += testing::ReadFileBytes(file);
    }
  }
  everything += testing::ReadFileBytes(emulator_->request_log_path());
  for (const auto& s : secrets) {
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(everything.find(s), std::string::npos)
        << "a secret leaked (" << s.size() << " chars)";
  }
}

size_t CurlDiscard(char*, size_t size, size_t n, void*) { return size * n; }

// The browser flow: jsync listens on the loopback, prints the authorize address; "the browser"
// (libcurl following the emulator's auto-approve redirect) brings the code back.
TEST_F(OnedriveSyncTest, BrowserFlowLinksThroughTheLoopbackRedirect) {
  Start({});
  std::string error;
  auto link = testing::ChildProcess::Start(
      {testing::JsyncBinary(), "--home", dir_ / "desk", "link", "onedrive", "--config", config_,
       "--no-browser"},
      {{"JSYNC_PASSPHRASE", kPassphrase}, {"JSYNC_TOKEN_STORE", "file"}}, &error);
  ASSERT_NE(link, nullptr) << error;
  std::string url;
  for (int i = 0; i < 200 && url.empty(); ++i) {
    const std::string err = link->Stderr();
    const size_t at = err.find("http://127.0.0.1");
    const size_t end = at == std::string::npos ? at : err.find_first_of(" \n", at);
    if (end != std::string::npos) url = err.substr(at, end - at);
    if (url.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(url.empty()) << link->Stderr();
  EXPECT_NE(url.find("/common/oauth2/v2.0/authorize?"), std::string::npos) << url;
  EXPECT_NE(url.find("code_challenge_method=S256"), std::string::npos) << url;

  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CurlDiscard);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  ASSERT_EQ(rc, CURLE_OK);
  EXPECT_EQ(status, 200) << "the loopback page that says to return to the terminal";

  ProcessResult accounts;
  for (int i = 0; i < 100; ++i) {
    accounts = Jsync("desk", {"accounts", "--json"});
    if (accounts.out.find("\"linked\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(accounts.out.find("\"onedrive\""), std::string::npos) << accounts.out << link->Stderr();
  link->Stop();
  ASSERT_EQ(Jsync("desk", {"init", "--provider", "onedrive", "--scrypt-log-n", "10"}).exit_code, 0)
      << outputs_;
  ASSERT_EQ(Jsync("desk", {"new", "--title", "Linked in a browser"}).exit_code, 0);
  EXPECT_EQ(Jsync("desk", {"sync"}).exit_code, 0) << outputs_;
}

TEST_F(OnedriveSyncTest, UnlinkForgetsTheAccountAndLocalEditsWaitForARelink) {
  Start({});
  ASSERT_EQ(Jsync("laptop", {"link", "onedrive", "--config", config_, "--device-code"}).exit_code,
            0)
      << outputs_;
  ASSERT_EQ(Jsync("laptop", {"init", "--provider", "onedrive", "--scrypt-log-n", "10"}).exit_code,
            0)
      << outputs_;
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "Before"}).exit_code, 0);
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  ProcessResult unlink = Jsync("laptop", {"unlink", "onedrive"});
  ASSERT_EQ(unlink.exit_code, 0) << unlink.err;
  EXPECT_EQ(Jsync("laptop", {"accounts", "--json"}).out, "[]\n");
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "While unlinked"}).exit_code, 0) << outputs_;
  ProcessResult sync = Jsync("laptop", {"sync"});
  EXPECT_EQ(sync.exit_code, 1);
  EXPECT_NE(sync.err.find("run `jsync link onedrive` first"), std::string::npos) << sync.err;
  ASSERT_EQ(Jsync("laptop", {"link", "onedrive", "--config", config_, "--device-code"}).exit_code,
            0);
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("phone", {"link", "onedrive", "--config", config_, "--device-code"}).exit_code,
            0);
  ASSERT_EQ(Jsync("phone", {"init", "--provider", "onedrive"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("phone", {"sync"}).exit_code, 0) << outputs_;
  EXPECT_NE(Jsync("phone", {"list"}).out.find("While unlinked"), std::string::npos);
}

// ---- throttling the way users meet it -------------------------------------------------------

// Writes `changes` change files from an in-process device (one entry, one sync each), over the
// plugin through the host, with an account linked in `home`.
void WriteChanges(const provider::PluginInfo& plugin, const std::string& base,
                  const std::filesystem::path& home, int changes) {
  auto creds = gdrive_testing::LinkEmulatorAccount(plugin, base, home.string());
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  const json config = {{"api_base", base}, {"auth_base", base}, {"client_id", "jsync-test-client"}};
  auto opener = provider::MakeStorageOpener(
      [&](const std::string&, const std::string&) -> Result<provider::AccountForStorage> {
        return provider::AccountForStorage{config.dump(), *creds};
      });
  InitOptions init;
  init.storage = opener;
  init.provider = "onedrive";
  init.location = "journal";
  init.passphrase = kPassphrase;
  init.device_name = "writer";
  init.scrypt.log2_n = testing::kTestScryptLogN;
  ASSERT_TRUE(Journal::Init(home.string(), init).ok());
  auto journal = Journal::Open(home.string(), opener);
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  // Single change files only, as a journal written before segments: the reader's first sync
  // fetches each one, enough requests to meet the throttle.
  sync::LifecycleOptions singles;
  singles.segments = false;
  (*journal)->SetLifecycle(singles);
  for (int i = 0; i < changes; ++i) {
    ASSERT_TRUE(
        (*journal)->NewEntry({"Entry " + std::to_string(i), "body " + std::to_string(i), {}}).ok());
    auto synced = (*journal)->Sync();
    ASSERT_TRUE(synced.ok()) << synced.status().ToString();
    for (const auto& p : synced->report.problems) ADD_FAILURE() << "writer's sync: " << p.message;
    if (!synced->report.problems.empty()) return;
  }
}

// Joplin's and abraunegg's users lost first syncs of ~9,000 items to OneDrive's throttling
// (Retry-After of minutes after a burst). Here the emulator throttles after every 100 requests
// for JSYNC_THROTTLE_SECONDS (default 6; the field value 120 is the opt-in "long" run):
// the reader's first sync completes, no request arrives before a wait ends, and the user is
// told of each wait while it lasts.
TEST_F(OnedriveSyncTest, FirstSyncUnderThrottlingWaitsOutEveryRetryAfter) {
  const char* env_seconds = std::getenv("JSYNC_THROTTLE_SECONDS");
  const int seconds = env_seconds ? std::atoi(env_seconds) : 6;
  const char* env_changes = std::getenv("JSYNC_THROTTLE_CHANGES");
  const int changes = env_changes ? std::atoi(env_changes) : 150;
  Start({});
  auto plugin = provider::LoadPlugin(kPluginFile);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  WriteChanges(*plugin, emulator_->base_url(), dir_ / "writer", changes);
  if (HasFatalFailure()) return;

  // The same cloud, now throttling.
  // The first emulator owns the state folder (removed with it): it stays until the test ends.
  emulator_->Stop();
  std::unique_ptr<testing::OnedriveEmulator> writers_cloud = std::move(emulator_);
  Start({"--faults", "throttle-every:100:" + std::to_string(seconds)});
  const auto log_start = ReadLog(emulator_->request_log_path()).size();
  ASSERT_EQ(Jsync("reader", {"link", "onedrive", "--config", config_, "--device-code"}).exit_code,
            0)
      << outputs_;
  ProcessResult init = Jsync("reader", {"init", "--provider", "onedrive"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ProcessResult sync = Jsync("reader", {"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  ProcessResult list = Jsync("reader", {"list", "--json"});
  ASSERT_EQ(json::parse(list.out).size(), static_cast<size_t>(changes));

  // Every 429's window: requests that arrive inside it, beyond the ones already in flight when
  // it was answered (at most one per parallel transfer), are early. Counted, not timed: a slow
  // machine may deliver an in-flight request late, which is not the client's fault.
  const auto log = ReadLog(emulator_->request_log_path());
  int windows = 0;
  int early = 0;
  for (size_t i = log_start; i < log.size(); ++i) {
    if (log[i].value("status", 0) != 429 || !log[i].contains("retry_after")) continue;
    const int64_t t = log[i]["t_ms"];
    const int64_t until = t + 1000 * log[i]["retry_after"].get<int64_t>();
    // Only a window's first 429 opens it; 429s inside it are answers to early requests.
    bool inside_earlier = false;
    for (size_t j = log_start; j < i; ++j) {
      if (log[j].value("status", 0) == 429 && log[j].contains("retry_after") &&
          t < log[j]["t_ms"].get<int64_t>() + 1000 * log[j]["retry_after"].get<int64_t>()) {
        inside_earlier = true;
      }
    }
    if (inside_earlier) continue;
    ++windows;
    int in_flight = 0;
    for (size_t j = i + 1; j < log.size(); ++j) {
      const int64_t tj = log[j]["t_ms"];
      if (tj >= until) break;
      if (log[j].value("path", "").find("/oauth2/") != std::string::npos) continue;
      if (in_flight < 4) {
        ++in_flight;
        continue;
      }
      ++early;
      ADD_FAILURE() << "request " << log[j].value("method", "") << " " << log[j].value("path", "")
                    << " arrived " << (until - tj) << " ms before the wait ended";
    }
  }
  EXPECT_GE(windows, 1) << "the first sync met the throttle";
  EXPECT_EQ(early, 0);
  // The user was told, while it waited, how long and why.
  const std::string told = init.err + sync.err;
  EXPECT_NE(told.find("onedrive asked jsync to slow down"), std::string::npos) << told;
  // Whole minutes are said in minutes (host/host_policy.cc).
  const std::string wait = seconds >= 60 && seconds % 60 == 0
                               ? std::to_string(seconds / 60) + " min"
                               : std::to_string(seconds) + " s";
  EXPECT_NE(told.find("waiting " + wait), std::string::npos) << told;
  std::printf("throttled first sync: %d changes, %d throttle windows of %d s, 0 early requests\n",
              changes, windows, seconds);
}

}  // namespace
}  // namespace jsync
#endif  // __has_include("tests/support/onedrive_emulator.h")
