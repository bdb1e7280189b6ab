// End to end on the CloudKit emulator (`jsync-emulator cloudkit`, mode A): devices link with
// `jsync link icloud --config FILE --no-browser` (the web-auth-token sign-in through auth/: jsync
// prints Apple's sign-in address, "the browser" opens it once and the emulator redirects to
// jsync's loopback callback), init on the icloud provider and converge through the CLI with
// CloudKit's throttling and outages on; the emulator stores ciphertext only; no token reaches
// any output. A quiet sync asks CloudKit one question. The zone erased mid-life (the user
// erased the app's iCloud data) is recovered with nothing lost, and a sign-in that ends keeps
// local edits until the device links again.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "auth/cloudkit_credentials.h"
#include "auth/secret_store.h"
#include "tests/support/child_process.h"
#include "tests/support/cloudkit_account.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using nlohmann::json;
using testing::ProcessResult;
using testing::RunJsync;

#ifdef JSYNC_ICLOUD_PLUGIN
constexpr bool kHavePlugin = true;
#else
constexpr bool kHavePlugin = false;
#endif

constexpr const char* kPassphrase = "icloud e2e passphrase";

class IcloudSyncTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args) {
    if (!kHavePlugin) GTEST_SKIP() << "built without the icloud plugin";
    std::string error;
    emulator_ = cloudkit_testing::StartCloudKitForLink(std::move(args), &port_, &error);
    ASSERT_NE(emulator_, nullptr) << error;
    config_ = dir_ / "icloud.json";
    testing::WriteFileBytes(config_, emulator_->CloudKitConfig(port_).dump());
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

  // `jsync link icloud --no-browser`, the printed sign-in address opened once, as a person
  // would; returns when the account is linked.
  void Link(const std::string& device) {
    std::string error;
    auto link = testing::ChildProcess::Start(
        {testing::JsyncBinary(), "--home", dir_ / device, "link", "icloud", "--config",
         config_.string(), "--no-browser"},
        {{"JSYNC_PASSPHRASE", kPassphrase}, {"JSYNC_TOKEN_STORE", "file"}}, &error);
    ASSERT_NE(link, nullptr) << error;
    std::string url;
    for (int i = 0; i < 400 && url.empty(); ++i) {
      const std::string err = link->Stderr();
      const size_t at = err.find(emulator_->base_url() + "/signin");
      const size_t end = at == std::string::npos ? at : err.find_first_of(" \n", at);
      if (end != std::string::npos) url = err.substr(at, end - at);
      if (url.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_FALSE(url.empty()) << link->Stderr();
    cloudkit_testing::ApproveSignIn(url);
    ProcessResult accounts;
    for (int i = 0; i < 400; ++i) {
      accounts = Jsync(device, {"accounts", "--json"});
      if (accounts.out.find("\"linked\"") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    outputs_ += link->Stderr() + link->Stdout();
    link->Stop();
    ASSERT_NE(accounts.out.find("\"icloud\""), std::string::npos) << accounts.out << outputs_;
  }

  // The secrets a device holds (the rotating web auth token, the API token).
  auth::CloudKitSecret Secret(const std::string& device) {
    auto store = auth::OpenFileSecretStore(dir_ / device, nullptr);
    auto text = store->Get("icloud");
    if (!text.ok() || !text->has_value()) return {};
    auto secret = auth::CloudKitSecret::Parse(**text);
    return secret.ok() ? *secret : auth::CloudKitSecret{};
  }

  std::string Titles(const std::string& device) {
    ProcessResult list = Jsync(device, {"list"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    return list.out;
  }

  testing::TempDir dir_;
  uint16_t port_ = 0;
  std::filesystem::path config_;
  std::unique_ptr<testing::CloudKitEmulator> emulator_;
  std::string outputs_;
};

TEST_F(IcloudSyncTest, TwoDevicesSignInAndConvergeWithThrottlingOn) {
  Start({"--faults", "throttle:1@9,unavailable:1@17,500@25,drop@33,throttle:1@41,502@49"});
  ASSERT_NO_FATAL_FAILURE(Link("laptop"));
  ASSERT_NO_FATAL_FAILURE(Link("phone"));
  ASSERT_EQ(Jsync("laptop", {"init", "--provider", "icloud", "--device-name", "laptop",
                             "--scrypt-log-n", "10"}).exit_code, 0)
      << outputs_;
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "Morning pages", "--tag", "daily"}).exit_code, 0);
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("phone", {"init", "--provider", "icloud", "--device-name", "phone"}).exit_code, 0)
      << outputs_;
  ASSERT_EQ(Jsync("phone", {"sync"}).exit_code, 0) << outputs_;
  EXPECT_NE(Titles("phone").find("Morning pages"), std::string::npos) << outputs_;
  ASSERT_EQ(Jsync("phone", {"new", "--title", "On the train"}).exit_code, 0);
  ASSERT_EQ(Jsync("phone", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  EXPECT_NE(Titles("laptop").find("On the train"), std::string::npos) << outputs_;
  EXPECT_EQ(Titles("laptop"), Titles("phone"));

  // A quiet sync asks CloudKit one question: changes/database, nothing new.
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  const size_t before = testing::ReadRequestLog(emulator_->request_log_path()).size();
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  const auto log = testing::ReadRequestLog(emulator_->request_log_path());
  std::vector<std::string> ops;
  for (size_t i = before; i < log.size(); ++i) {
    // An injected fault is answered before CloudKit looks at the request; the retry counts.
    if (!log[i].contains("fault")) ops.push_back(log[i].value("op", ""));
  }
  EXPECT_EQ(ops, std::vector<std::string>{"changes/database"}) << ::testing::PrintToString(ops);

  // Ciphertext only in the emulator's state; no secret in any output.
  for (const auto& f : std::filesystem::recursive_directory_iterator(emulator_->state_dir())) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    for (const char* plain : {"Morning pages", "On the train", "daily"}) {
      EXPECT_EQ(text.str().find(plain), std::string::npos) << f.path() << " holds " << plain;
    }
  }
  for (const char* device : {"laptop", "phone"}) {
    const auth::CloudKitSecret s = Secret(device);
    ASSERT_FALSE(s.web_auth_token.empty()) << device;
    EXPECT_EQ(outputs_.find(s.web_auth_token), std::string::npos) << "a web auth token leaked";
  }
  EXPECT_EQ(outputs_.find(testing::CloudKitEmulator::kApiToken), std::string::npos)
      << "the API token leaked";
}

// The user erased the app's iCloud data: the zone is gone. Each device lists again and
// re-uploads what it wrote; a device that joins afterwards sees everything.
TEST_F(IcloudSyncTest, AZoneErasedMidLifeRecoversWithNothingLost) {
  Start({});
  ASSERT_NO_FATAL_FAILURE(Link("laptop"));
  ASSERT_NO_FATAL_FAILURE(Link("phone"));
  ASSERT_EQ(Jsync("laptop", {"init", "--provider", "icloud", "--scrypt-log-n", "10"}).exit_code, 0)
      << outputs_;
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "Written on the laptop"}).exit_code, 0);
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("phone", {"init", "--provider", "icloud"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("phone", {"new", "--title", "Written on the phone"}).exit_code, 0);
  ASSERT_EQ(Jsync("phone", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;

  ASSERT_EQ(emulator_->Admin("/_admin/zones/jsync-journal/delete"), 200);
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "After the erase"}).exit_code, 0);
  // The first device to sync re-uploads its own log and the key file, and says the cloud lost
  // the other's (it did); once the other has synced too, every sync is clean again.
  ProcessResult laptop = Jsync("laptop", {"sync"});
  if (laptop.exit_code != 0) {
    EXPECT_NE(laptop.err.find("lost or rolled back files"), std::string::npos) << laptop.err;
  }
  EXPECT_NE((laptop.out + laptop.err).find("re-uploaded"), std::string::npos) << laptop.out << laptop.err;
  Jsync("phone", {"sync"});
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("phone", {"sync"}).exit_code, 0) << outputs_;

  ASSERT_NO_FATAL_FAILURE(Link("tablet"));
  ASSERT_EQ(Jsync("tablet", {"init", "--provider", "icloud"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("tablet", {"sync"}).exit_code, 0) << outputs_;
  const std::string titles = Titles("tablet");
  for (const char* t : {"Written on the laptop", "Written on the phone", "After the erase"}) {
    EXPECT_NE(titles.find(t), std::string::npos) << t << "\n" << titles << outputs_;
  }
  EXPECT_EQ(Titles("laptop"), titles);
  EXPECT_EQ(Titles("phone"), titles);
}

// The sign-in ends (two weeks, or a lost answer): sync says to link again, keeps the edit,
// and a new sign-in carries it on.
TEST_F(IcloudSyncTest, AnEndedSignInKeepsEditsUntilTheDeviceLinksAgain) {
  Start({});
  ASSERT_NO_FATAL_FAILURE(Link("laptop"));
  ASSERT_EQ(Jsync("laptop", {"init", "--provider", "icloud", "--scrypt-log-n", "10"}).exit_code, 0)
      << outputs_;
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(emulator_->Admin("/_admin/tokens/expire"), 200);
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "While signed out"}).exit_code, 0);
  ProcessResult sync = Jsync("laptop", {"sync"});
  EXPECT_NE(sync.exit_code, 0);
  EXPECT_NE(sync.err.find("jsync link icloud"), std::string::npos) << sync.err;
  EXPECT_NE(Titles("laptop").find("While signed out"), std::string::npos);
  ASSERT_NO_FATAL_FAILURE(Link("laptop"));
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_NO_FATAL_FAILURE(Link("phone"));
  ASSERT_EQ(Jsync("phone", {"init", "--provider", "icloud"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("phone", {"sync"}).exit_code, 0) << outputs_;
  EXPECT_NE(Titles("phone").find("While signed out"), std::string::npos) << outputs_;
}

}  // namespace
}  // namespace jsync
