// End to end through a real WebDAV server with the CLI: two devices link their account, one
// creates the journal at a WebDAV URL, the other joins, both edit, both converge; the server's
// files are ciphertext only.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"
#include "tests/support/webdav_servers.h"

namespace jsync {
namespace {

using jsync::testing::ProcessResult;
using jsync::testing::RunJsync;
using jsync::testing::TempDir;
using jsync::testing::WebDavServer;
using jsync::testing::WebDavServerKind;

class WebDavSync : public ::testing::TestWithParam<WebDavServerKind> {
 protected:
  void SetUp() override {
    std::string error;
    server_ = WebDavServer::Start(GetParam(), dir_.path() / "served", &error);
    ASSERT_TRUE(server_) << error;
    jsync::testing::WriteFileBytes(dir_.path() / "pw", server_->password() + "\n");
  }
  ProcessResult Jsync(const std::string& home, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", dir_ / home});
    return RunJsync(args, {{"JSYNC_PASSPHRASE", "web dav pass"}});
  }
  TempDir dir_;
  std::unique_ptr<WebDavServer> server_;
};

TEST_P(WebDavSync, TwoDevicesConvergeThroughTheServer) {
  const std::string url = server_->Url("dav/journals");
  for (const char* dev : {"a", "b"}) {
    ProcessResult link =
        Jsync(dev, {"link", "webdav", "--user", server_->user(), "--password-file", dir_ / "pw"});
    ASSERT_EQ(link.exit_code, 0) << link.err;
  }
  ProcessResult init = Jsync("a", {"init", "--provider", "webdav", "--location", url,
                                   "--scrypt-log-n", "10", "--device-name", "a"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ProcessResult join =
      Jsync("b", {"init", "--provider", "webdav", "--location", url, "--device-name", "b"});
  ASSERT_EQ(join.exit_code, 0) << join.err;
  EXPECT_EQ(join.out, init.out) << "b joined a's journal";

  ProcessResult made = Jsync("a", {"new", "--title", "Secret title", "--tag", "private"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string id = made.out.substr(0, 32);
  ASSERT_EQ(Jsync("a", {"sync"}).exit_code, 0);
  ASSERT_EQ(Jsync("b", {"sync"}).exit_code, 0);
  ASSERT_EQ(Jsync("b", {"edit", id, "--insert", "0", "hidden words"}).exit_code, 0);
  ASSERT_EQ(Jsync("a", {"edit", id, "--add-tag", "second"}).exit_code, 0);
  for (int round = 0; round < 2; ++round) {
    for (const char* dev : {"a", "b"}) {
      ProcessResult s = Jsync(dev, {"sync"});
      ASSERT_EQ(s.exit_code, 0) << dev << ": " << s.err;
    }
  }
  ProcessResult la = Jsync("a", {"list", "--json"}), lb = Jsync("b", {"list", "--json"});
  ASSERT_EQ(la.exit_code, 0);
  EXPECT_EQ(la.out, lb.out);
  auto entries = nlohmann::json::parse(la.out);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["body"], "hidden words");
  EXPECT_EQ(entries[0]["tags"], nlohmann::json({"private", "second"}));

  // The server stored files, and none holds plaintext or the credentials.
  auto files = jsync::testing::ListFiles(dir_.path() / "served");
  EXPECT_GE(files.size(), 6u);  // key, 2 device files, at least 3 change files
  for (const auto& f : files) {
    const std::string bytes = jsync::testing::ReadFileBytes(f);
    for (const char* secret : {"Secret title", "hidden words", "private", "web dav pass"}) {
      EXPECT_EQ(bytes.find(secret), std::string::npos) << f << " holds '" << secret << "'";
    }
  }
  // Credentials live only in the 0600 credentials file, never in output.
  ProcessResult status = Jsync("a", {"status", "--json"});
  EXPECT_EQ(status.out.find(server_->password()), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(status.out)["provider"]["name"], "webdav");
}

TEST_P(WebDavSync, WrongPasswordIsAClearError) {
  jsync::testing::WriteFileBytes(dir_.path() / "bad", "not the password\n");
  ASSERT_EQ(
      Jsync("a", {"link", "webdav", "--user", server_->user(), "--password-file", dir_ / "bad"})
          .exit_code,
      0);
  ProcessResult init = Jsync("a", {"init", "--provider", "webdav", "--location",
                                   server_->Url("dav/j"), "--scrypt-log-n", "10"});
  EXPECT_EQ(init.exit_code, 1);
  EXPECT_NE(init.err.find("jsync: error:"), std::string::npos) << init.err;
  EXPECT_NE(init.err.find("401"), std::string::npos) << init.err;
  EXPECT_EQ(init.err.find("not the password"), std::string::npos) << "secret leaked";
}

TEST_P(WebDavSync, FullQuotaPausesUploadsKeepsEditsAndResumes) {
  const std::string url = server_->Url("dav/quota");
  for (const char* dev : {"a", "b"}) {
    ASSERT_EQ(Jsync(dev, {"link", "webdav", "--user", server_->user(), "--password-file",
                          dir_ / "pw"}).exit_code, 0);
  }
  ASSERT_EQ(Jsync("a", {"init", "--provider", "webdav", "--location", url, "--scrypt-log-n",
                        "10"}).exit_code, 0);
  ASSERT_EQ(Jsync("b", {"init", "--provider", "webdav", "--location", url}).exit_code, 0);
  ProcessResult made = Jsync("a", {"new", "--title", "kept while the cloud is full"});
  ASSERT_EQ(made.exit_code, 0);

  // Every upload answers 507 Insufficient Storage (the HTTP client's fault plan).
  std::vector<std::string> args = {"--home", dir_ / "a", "sync"};
  ProcessResult full = RunJsync(args, {{"JSYNC_FAULTS", "507:PUT@1+"}});
  EXPECT_EQ(full.exit_code, 1) << full.out << full.err;
  EXPECT_NE(full.err.find("uploads paused, the cloud is full"), std::string::npos) << full.err;
  EXPECT_EQ(std::count(full.err.begin(), full.err.end(), '\n'), 1) << full.err;
  auto status = nlohmann::json::parse(Jsync("a", {"status", "--json"}).out);
  EXPECT_EQ(status["outbox"]["unuploaded_changes"], 1) << "the sealed change waits";
  EXPECT_EQ(nlohmann::json::parse(Jsync("a", {"list", "--json"}).out).size(), 1u);

  // Space is back: the next sync uploads the same change and the other device gets it.
  ProcessResult resumed = Jsync("a", {"sync", "--json"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(nlohmann::json::parse(resumed.out)["uploaded"]["changes"], 1);
  ASSERT_EQ(Jsync("b", {"sync"}).exit_code, 0);
  auto on_b = nlohmann::json::parse(Jsync("b", {"list", "--json"}).out);
  ASSERT_EQ(on_b.size(), 1u);
  EXPECT_EQ(on_b[0]["title"], "kept while the cloud is full");
}

INSTANTIATE_TEST_SUITE_P(Servers, WebDavSync,
                         ::testing::ValuesIn(jsync::testing::AllWebDavServerKinds()),
                         [](const auto& info) {
                           return std::string(
                               info.param == WebDavServerKind::kRclone ? "Rclone" : "WebdavServer");
                         });

}  // namespace
}  // namespace jsync
