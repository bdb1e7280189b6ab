// End to end on the Drive emulator: two devices link with `jsync link gdrive --config FILE
// --device-code` (the real OAuth code of auth/ against the emulator's Google endpoints), init
// on the gdrive provider and converge through the CLI, with faults on; the emulator stores
// ciphertext only, and no token or passphrase reaches any output, log or plain file.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/oauth_credentials.h"
#include "auth/secret_store.h"
#include "tests/support/gdrive_emulator.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using testing::ProcessResult;
using testing::RunJsync;

class GdriveSyncTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args) {
    testing::GdriveEmulatorOptions options;
    options.args = std::move(args);
    options.args.insert(options.args.end(), {"--device-interval", "0"});
    std::string error;
    emulator_ = testing::GdriveEmulator::Start(options, &error);
    ASSERT_NE(emulator_, nullptr) << error;
    config_ = dir_ / "gdrive.json";
    nlohmann::json config = emulator_->LinkConfig();
    config["resumable_threshold"] = 4096;
    testing::WriteFileBytes(config_, config.dump());
  }

  ProcessResult Jsync(const std::string& device, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", dir_ / device});
    ProcessResult r = RunJsync(args, {{"JSYNC_PASSPHRASE", kPassphrase},
                                      {"JSYNC_TOKEN_STORE", "file"}});
    outputs_ += r.out + r.err;
    return r;
  }

  static constexpr const char* kPassphrase = "gdrive e2e passphrase";
  testing::TempDir dir_;
  std::string config_;
  std::unique_ptr<testing::GdriveEmulator> emulator_;
  std::string outputs_;  // everything every command printed
};

TEST_F(GdriveSyncTest, TwoDevicesLinkWithTheDeviceCodeAndConverge) {
  // Server-side faults on the Drive API: throttling, an outage, a dropped upload and an access
  // token that expires in the middle of the run (the host refreshes it once).
  Start({"--faults", "429@4,rate@9,503@13,expire-token@17,drop-upload@21,500@30"});

  for (const char* device : {"laptop", "phone"}) {
    ProcessResult link = Jsync(device, {"link", "gdrive", "--config", config_, "--device-code"});
    ASSERT_EQ(link.exit_code, 0) << link.err;
    EXPECT_NE(link.err.find("enter the code"), std::string::npos) << link.err;
    EXPECT_NE(link.err.find("linked gdrive"), std::string::npos) << link.err;
  }
  ProcessResult accounts = Jsync("laptop", {"accounts", "--json"});
  ASSERT_EQ(accounts.exit_code, 0) << accounts.err;
  auto listed = nlohmann::json::parse(accounts.out);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["provider"], "gdrive");
  EXPECT_EQ(listed[0]["status"], "linked");
  EXPECT_EQ(listed[0]["scopes"], "https://www.googleapis.com/auth/drive.appdata");
  EXPECT_EQ(listed[0]["store"], "file");

  ASSERT_EQ(Jsync("laptop", {"init", "--provider", "gdrive", "--device-name", "laptop",
                             "--scrypt-log-n", "10"})
                .exit_code,
            0)
      << outputs_;
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "Morning pages", "--tag", "daily"}).exit_code, 0);
  const std::string body(6000, 'q');  // above the resumable threshold once sealed
  testing::WriteFileBytes(dir_ / "body.txt", "Long entry " + body);
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "Long one", "--body-file", dir_ / "body.txt"})
                .exit_code,
            0);
  ProcessResult sync = Jsync("laptop", {"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;

  ASSERT_EQ(Jsync("phone", {"init", "--provider", "gdrive", "--device-name", "phone"}).exit_code,
            0)
      << outputs_;
  ASSERT_EQ(Jsync("phone", {"new", "--title", "Evening walk"}).exit_code, 0);
  ASSERT_EQ(Jsync("phone", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;

  ProcessResult a = Jsync("laptop", {"list", "--json"});
  ProcessResult b = Jsync("phone", {"list", "--json"});
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(nlohmann::json::parse(a.out).size(), 3u);
  for (const char* title : {"Morning pages", "Long one", "Evening walk"})
    EXPECT_NE(a.out.find(title), std::string::npos) << title;

  // The emulator's stored objects are ciphertext only.
  for (const auto& file : testing::ListFiles(emulator_->state_dir())) {
    const std::string bytes = testing::ReadFileBytes(file);
    for (const char* plain : {"Morning pages", "Evening walk", "Long entry", "daily", kPassphrase})
      EXPECT_EQ(bytes.find(plain), std::string::npos) << plain << " in " << file;
  }

  // No token or passphrase anywhere but the token store.
  std::vector<std::string> secrets = {kPassphrase};
  for (const char* device : {"laptop", "phone"}) {
    auto store = auth::OpenFileSecretStore(dir_ / device, nullptr);
    auto text = store->Get("gdrive");
    ASSERT_TRUE(text.ok() && text->has_value());
    auto secret = auth::OAuthSecret::Parse(**text);
    ASSERT_TRUE(secret.ok());
    secrets.push_back(secret->tokens.access_token);
    secrets.push_back(secret->tokens.refresh_token);
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
    EXPECT_EQ(everything.find(s), std::string::npos) << "a secret leaked (" << s.size() << " chars)";
  }
}

// Snapshots, segments and pruning through Drive: objects written and removed by their author,
// seen through the change feed by the others, and a new device starting from a snapshot.
TEST_F(GdriveSyncTest, SnapshotsSegmentsAndPruningWorkThroughDrive) {
  Start({});
  auto jsync = [&](const std::string& device, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", dir_ / device});
    ProcessResult r = RunJsync(args, {{"JSYNC_PASSPHRASE", kPassphrase},
                                      {"JSYNC_TOKEN_STORE", "file"},
                                      {"JSYNC_SNAPSHOT_OPS", "6"}});
    outputs_ += r.out + r.err;
    return r;
  };
  for (const char* device : {"laptop", "phone", "tablet"}) {
    ASSERT_EQ(jsync(device, {"link", "gdrive", "--config", config_, "--device-code"}).exit_code, 0)
        << outputs_;
  }
  ASSERT_EQ(jsync("laptop", {"init", "--provider", "gdrive", "--device-name", "laptop",
                             "--scrypt-log-n", "10"})
                .exit_code,
            0)
      << outputs_;
  ASSERT_EQ(jsync("phone", {"init", "--provider", "gdrive", "--device-name", "phone"}).exit_code, 0)
      << outputs_;
  uint64_t written = 0, removed = 0, segments = 0;
  for (int i = 0; i < 20; ++i) {
    const char* who = i % 2 ? "phone" : "laptop";
    ASSERT_EQ(jsync(who, {"new", "--title", "entry " + std::to_string(i)}).exit_code, 0);
    ProcessResult sync = jsync(who, {"sync", "--json"});
    ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
    auto life = nlohmann::json::parse(sync.out)["lifecycle"];
    written += !life["snapshot_written"].get<std::string>().empty();
    removed += life["removed"].get<uint64_t>();
    segments += life["segments_written"].get<uint64_t>();
  }
  EXPECT_GT(written, 2u);
  EXPECT_GT(removed, 0u);
  EXPECT_GT(segments, 0u);
  ASSERT_EQ(jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(jsync("tablet", {"init", "--provider", "gdrive", "--device-name", "tablet"}).exit_code,
            0)
      << outputs_;
  ProcessResult cold = jsync("tablet", {"sync", "--json"});
  ASSERT_EQ(cold.exit_code, 0) << cold.out << cold.err;
  EXPECT_FALSE(nlohmann::json::parse(cold.out)["lifecycle"]["snapshot_loaded"]
                   .get<std::string>()
                   .empty())
      << cold.out;
  ProcessResult a = jsync("laptop", {"list", "--json"});
  ProcessResult c = jsync("tablet", {"list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(a.out).size(), 20u);
  EXPECT_EQ(a.out, c.out);
  ProcessResult verify = jsync("tablet", {"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(GdriveSyncTest, UnlinkedOrRevokedAccountKeepsLocalEditsAndSaysWhatToDo) {
  Start({});
  ASSERT_EQ(Jsync("laptop", {"link", "gdrive", "--config", config_, "--device-code"}).exit_code, 0)
      << outputs_;
  ASSERT_EQ(Jsync("laptop", {"init", "--provider", "gdrive", "--scrypt-log-n", "10"}).exit_code, 0)
      << outputs_;
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "Before"}).exit_code, 0);
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;

  ProcessResult unlink = Jsync("laptop", {"unlink", "gdrive"});
  ASSERT_EQ(unlink.exit_code, 0) << unlink.err;
  EXPECT_NE(unlink.err.find("tokens revoked"), std::string::npos) << unlink.err;
  EXPECT_EQ(Jsync("laptop", {"accounts", "--json"}).out, "[]\n");

  // Local work goes on; only the sync needs the account.
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "While unlinked"}).exit_code, 0) << outputs_;
  ProcessResult sync = Jsync("laptop", {"sync"});
  EXPECT_EQ(sync.exit_code, 1);
  EXPECT_NE(sync.err.find("run `jsync link gdrive` first"), std::string::npos) << sync.err;

  // Linking again uploads what waited.
  ASSERT_EQ(Jsync("laptop", {"link", "gdrive", "--config", config_, "--device-code"}).exit_code, 0);
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("phone", {"link", "gdrive", "--config", config_, "--device-code"}).exit_code, 0);
  ASSERT_EQ(Jsync("phone", {"init", "--provider", "gdrive"}).exit_code, 0) << outputs_;
  ASSERT_EQ(Jsync("phone", {"sync"}).exit_code, 0) << outputs_;
  ProcessResult list = Jsync("phone", {"list"});
  EXPECT_NE(list.out.find("While unlinked"), std::string::npos) << list.out;
}

TEST_F(GdriveSyncTest, LinkErrorsAreClear) {
  Start({});
  ProcessResult no_client = Jsync("x", {"link", "gdrive", "--device-code"});
  EXPECT_EQ(no_client.exit_code, 2);
  EXPECT_NE(no_client.err.find("--client-id"), std::string::npos) << no_client.err;
  ProcessResult wrong_client =
      Jsync("x", {"link", "gdrive", "--config", config_, "--device-code", "--client-id", "nope"});
  EXPECT_NE(wrong_client.exit_code, 0);
  EXPECT_NE(wrong_client.err.find("invalid_client"), std::string::npos) << wrong_client.err;
  testing::WriteFileBytes(dir_ / "bad.json", "{not json");
  ProcessResult bad = Jsync("x", {"link", "gdrive", "--config", dir_ / "bad.json"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("not a JSON object"), std::string::npos) << bad.err;
  EXPECT_EQ(Jsync("x", {"accounts"}).out, "no accounts linked\n");
}

}  // namespace
}  // namespace jsync
