// The jsync command-line contract: commands, exit codes, error lines, JSON shapes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace jsync {
namespace {

using jsync::testing::ProcessResult;
using jsync::testing::RunJsync;
using jsync::testing::TempDir;

const std::map<std::string, std::string> kPass = {{"JSYNC_PASSPHRASE", "pass phrase"}};

class CliTest : public ::testing::Test {
 protected:
  ProcessResult Jsync(const std::string& home, std::vector<std::string> args,
                      const std::map<std::string, std::string>& env = kPass,
                      const std::string& input = "") {
    args.insert(args.begin(), {"--home", dir_ / home});
    return RunJsync(args, env, input);
  }
  ProcessResult Init(const std::string& home) {
    return Jsync(home, {"init", "--provider", "folder", "--location", dir_ / "cloud",
                        "--device-name", home, "--scrypt-log-n", "10"});
  }
  static void ExpectOneErrorLine(const ProcessResult& r, const std::string& words) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("jsync: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  TempDir dir_;
};

TEST_F(CliTest, HelpOnEveryCommand) {
  for (const char* cmd : {"init", "new", "edit", "rm", "show", "list", "sync", "status"}) {
    ProcessResult r = RunJsync({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd;
  }
  EXPECT_EQ(RunJsync({"--help"}).exit_code, 0);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunJsync({}).exit_code, 2);
  EXPECT_EQ(RunJsync({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(RunJsync({"new"}).exit_code, 2) << "--title is required";
  EXPECT_EQ(RunJsync({"init", "--provider", "folder"}).exit_code, 2);
  EXPECT_EQ(RunJsync({"list", "--bogus"}).exit_code, 2);
  EXPECT_EQ(RunJsync({"init", "--provider", "folder", "--location", "x", "--scrypt-log-n", "3"})
                .exit_code,
            2);
  ASSERT_EQ(Init("a").exit_code, 0);
  ProcessResult r = Jsync("a", {"edit", "abcd"});
  EXPECT_EQ(r.exit_code, 2) << "edit without any change";
}

TEST_F(CliTest, ErrorsAreOneClearLine) {
  ExpectOneErrorLine(Jsync("nowhere", {"list"}), "no journal in");
  ASSERT_EQ(Init("a").exit_code, 0);
  ExpectOneErrorLine(Init("a"), "already holds journal");
  ExpectOneErrorLine(Jsync("a", {"show", "ffff"}), "no entry ffff");
  ExpectOneErrorLine(Jsync("a", {"show", "xyz!"}), "not an entry id");
  ExpectOneErrorLine(Jsync("a", {"new", "--title", "t", "--body-file", dir_ / "missing"}),
                     "cannot read body file");
  ExpectOneErrorLine(Jsync("b", {"init", "--provider", "dropbox", "--location", "x"}),
                     "unknown provider");
  ExpectOneErrorLine(Jsync("b", {"init", "--provider", "gdrive", "--location", "x"}),
                     "run `jsync link gdrive` first");
  ExpectOneErrorLine(Jsync("c", {"init", "--provider", "folder", "--location", dir_ / "cloud"},
                           {{"JSYNC_PASSPHRASE", "wrong"}}),
                     "wrong passphrase");
  ExpectOneErrorLine(Jsync("d", {"init", "--provider", "folder", "--location", dir_ / "cloud"}, {}),
                     "no passphrase");
}

TEST_F(CliTest, PassphraseFromFile) {
  jsync::testing::WriteFileBytes(dir_.path() / "pass.txt", "pass phrase\n");
  ProcessResult r = Jsync("a",
                          {"init", "--provider", "folder", "--location", dir_ / "cloud",
                           "--passphrase-file", dir_ / "pass.txt", "--scrypt-log-n", "10"},
                          {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The same passphrase from the environment opens it.
  EXPECT_EQ(Init("b").exit_code, 0);
}

TEST_F(CliTest, EntryLifecycleAndJson) {
  ASSERT_EQ(Init("a").exit_code, 0);
  jsync::testing::WriteFileBytes(dir_.path() / "body.txt", "Line one\nLine two — ünïcödé\n");
  ProcessResult made = Jsync("a", {"new", "--title", "First", "--tag", "x", "--tag", "y",
                                   "--body-file", dir_ / "body.txt"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string id = made.out.substr(0, made.out.find('\n'));
  ASSERT_EQ(id.size(), 32u);
  ASSERT_EQ(Jsync("a", {"edit", id.substr(0, 8), "--title", "First!", "--remove-tag", "x",
                        "--add-tag", "z"})
                .exit_code,
            0);
  ProcessResult stdin_body =
      Jsync("a", {"new", "--title", "Second", "--body-file", "-"}, kPass, "from stdin");
  ASSERT_EQ(stdin_body.exit_code, 0);

  ProcessResult list = Jsync("a", {"list", "--json"});
  ASSERT_EQ(list.exit_code, 0);
  auto json = nlohmann::json::parse(list.out);
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 2u);
  const auto& e = json[0];
  EXPECT_EQ(e["id"], id);
  EXPECT_EQ(e["title"], "First!");
  EXPECT_EQ(e["body"], "Line one\nLine two — ünïcödé\n");
  EXPECT_EQ(e["tags"], nlohmann::json({"y", "z"}));
  EXPECT_TRUE(e["created_at"].is_string());
  EXPECT_TRUE(e["updated_at"].is_string());
  EXPECT_EQ(e["conflicts"], nlohmann::json::array());
  EXPECT_EQ(json[1]["body"], "from stdin");

  ProcessResult show = Jsync("a", {"show", id, "--json"});
  EXPECT_EQ(nlohmann::json::parse(show.out), e);
  ProcessResult text = Jsync("a", {"show", id});
  EXPECT_NE(text.out.find("title:    First!"), std::string::npos);

  EXPECT_EQ(Jsync("a", {"rm", id}).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(Jsync("a", {"list", "--json"}).out).size(), 1u);
}

TEST_F(CliTest, InsertAndDeleteAtCodePointPositions) {
  ASSERT_EQ(Init("a").exit_code, 0);
  ProcessResult made =
      Jsync("a", {"new", "--title", "t", "--body-file", "-"}, kPass, "héllo wörld");
  ASSERT_EQ(made.exit_code, 0);
  const std::string id = made.out.substr(0, 32);
  EXPECT_EQ(Jsync("a", {"edit", id, "--delete", "6", "5", "--insert", "6", "🙂 there"}).exit_code,
            0);
  auto e = nlohmann::json::parse(Jsync("a", {"show", id, "--json"}).out);
  EXPECT_EQ(e["body"], "héllo 🙂 there");
  EXPECT_EQ(Jsync("a", {"edit", id, "--insert", "-1", "x"}).exit_code, 2);
  EXPECT_EQ(Jsync("a", {"edit", id, "--delete", "3"}).exit_code, 2);
  ExpectOneErrorLine(Jsync("a", {"edit", id, "--insert", "99", "x"}), "outside the body");
  EXPECT_EQ(nlohmann::json::parse(Jsync("a", {"show", id, "--json"}).out)["body"],
            "héllo 🙂 there");
}

TEST_F(CliTest, SyncAndStatusJson) {
  ASSERT_EQ(Init("a").exit_code, 0);
  ASSERT_EQ(Init("b").exit_code, 0);
  ASSERT_EQ(Jsync("a", {"new", "--title", "hello"}).exit_code, 0);
  auto status = nlohmann::json::parse(Jsync("a", {"status", "--json"}).out);
  EXPECT_EQ(status["outbox"]["ops"], 2);  // created_at and the title; an empty body writes nothing
  EXPECT_TRUE(status["last_sync"].is_null());
  auto up = nlohmann::json::parse(Jsync("a", {"sync", "--json"}).out);
  EXPECT_EQ(up["ok"], true);
  EXPECT_EQ(up["uploaded"]["changes"], 1);
  auto down = nlohmann::json::parse(Jsync("b", {"sync", "--json"}).out);
  EXPECT_EQ(down["downloaded"]["changes"], 1);
  EXPECT_EQ(down["merged"]["ops"], 2);
  status = nlohmann::json::parse(Jsync("b", {"status", "--json"}).out);
  EXPECT_EQ(status["journal_id"].get<std::string>().size(), 32u);
  EXPECT_EQ(status["device"]["name"], "b");
  EXPECT_EQ(status["provider"]["name"], "folder");
  EXPECT_TRUE(status["last_sync"].is_string());
  ASSERT_EQ(status["cursors"].size(), 2u);
  bool saw_a = false;
  for (const auto& c : status["cursors"]) {
    if (c["name"] == "a") {
      saw_a = true;
      EXPECT_EQ(c["seq"], 1);
    }
  }
  EXPECT_TRUE(saw_a);
  ProcessResult text = Jsync("b", {"list"});
  EXPECT_NE(text.out.find("hello"), std::string::npos);
}

TEST_F(CliTest, ProvidersListsBuiltInAndPlugins) {
  ProcessResult r = RunJsync({"providers", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& p : json["providers"]) by_name[p["name"]] = p;
  ASSERT_TRUE(by_name.contains("folder"));
  EXPECT_EQ(by_name["folder"]["file"], "(built in)");
  ASSERT_TRUE(by_name.contains("webdav")) << r.out;
  EXPECT_NE(by_name["webdav"]["file"].get<std::string>().find("jsync-webdav.so"),
            std::string::npos);
  EXPECT_TRUE(json["refused"].empty()) << r.out;
  ProcessResult text = RunJsync({"providers"});
  EXPECT_NE(text.out.find("folder"), std::string::npos);
}

TEST_F(CliTest, SecretsNeverReachOutputOrTheCloud) {
  const std::string pass = "pass phrase";
  std::string all;
  for (const auto& r :
       {Init("a"), Init("b"), Jsync("a", {"new", "--title", "t"}), Jsync("a", {"sync", "--json"}),
        Jsync("a", {"status", "--json"}), Jsync("b", {"sync"}), Jsync("b", {"status"})}) {
    all += r.out + r.err;
  }
  EXPECT_EQ(all.find(pass), std::string::npos);
  for (const auto& f : jsync::testing::ListFiles(dir_.path() / "cloud")) {
    EXPECT_EQ(jsync::testing::ReadFileBytes(f).find(pass), std::string::npos) << f;
  }
  auto key = std::filesystem::status(dir_.path() / "a" / "master.key").permissions();
  EXPECT_EQ(key & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

}  // namespace
}  // namespace jsync
