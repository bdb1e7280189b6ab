// What a new user meets at the command line: one plain line for each mistake, the exit code
// the contract names, JSON errors for --json, and output that control characters cannot forge.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using jsync::testing::ProcessResult;
using jsync::testing::RunJsync;
using jsync::testing::TempDir;
using jsync::testing::WriteFileBytes;

const std::map<std::string, std::string> kPass = {{"JSYNC_PASSPHRASE", "pass phrase"}};

class CliMessagesTest : public ::testing::Test {
 protected:
  ProcessResult Jsync(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--home", dir_ / "home"});
    return RunJsync(args, kPass, input);
  }
  void Init() {
    ProcessResult r = Jsync({"init", "--provider", "folder", "--location", dir_ / "cloud",
                             "--device-name", "d", "--scrypt-log-n", "10"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string New(const std::string& title) {
    ProcessResult r = Jsync({"new", "--title", title});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  static void ExpectOneLine(const ProcessResult& r, int code, const std::string& words) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  }
  TempDir dir_;
};

TEST_F(CliMessagesTest, AnUnknownCommandNamesItself) {
  ProcessResult r = RunJsync({"frobnicate"});
  ExpectOneLine(r, 2, "unknown command 'frobnicate'");
  r = RunJsync({"--home", dir_ / "h", "frobnicate", "--json"});
  ExpectOneLine(r, 2, "unknown command 'frobnicate'");
}

TEST_F(CliMessagesTest, ADirectoryAsBodyFileIsOnePlainLine) {
  Init();
  ProcessResult r = Jsync({"new", "--title", "t", "--body-file", dir_.path().string()});
  ExpectOneLine(r, 1, "is a directory");
  const std::string id = New("t");
  r = Jsync({"edit", id, "--body-file", dir_.path().string()});
  ExpectOneLine(r, 1, "is a directory");
  r = Jsync({"edit", id, "--body-file", dir_ / "missing.txt"});
  ExpectOneLine(r, 1, "cannot read body file");
}

TEST_F(CliMessagesTest, InvalidUtf8ExitsOneEverywhere) {
  Init();
  const std::string bad = "bad \xff text";
  ExpectOneLine(Jsync({"new", "--title", bad}), 1, "not valid UTF-8");
  const std::string id = New("t");
  ExpectOneLine(Jsync({"edit", id, "--title", bad}), 1, "not valid UTF-8");
  ExpectOneLine(Jsync({"edit", id, "--insert", "0", bad}), 1, "not valid UTF-8");
  ExpectOneLine(Jsync({"edit", id, "--add-tag", bad}), 1, "not valid UTF-8");
  WriteFileBytes(dir_ / "body.txt", bad);
  ExpectOneLine(Jsync({"edit", id, "--body-file", dir_ / "body.txt"}), 1, "not valid UTF-8");
}

TEST_F(CliMessagesTest, JsonCommandsPrintAJsonErrorObject) {
  // No journal in the home: a fatal error before anything ran.
  for (const char* cmd : {"sync", "status", "list"}) {
    ProcessResult r = Jsync({cmd, "--json"});
    EXPECT_EQ(r.exit_code, 1) << cmd;
    auto out = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(out.is_object()) << cmd << ": " << r.out;
    EXPECT_EQ(out["ok"], false);
    EXPECT_EQ(out["error"]["code"], "not_found") << out.dump();
    EXPECT_NE(out["error"]["message"].get<std::string>().find("no journal"), std::string::npos);
  }
  Init();
  fs::rename(dir_ / "cloud", dir_ / "elsewhere");
  ProcessResult r = Jsync({"sync", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  auto out = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << r.out;
  EXPECT_EQ(out["ok"], false);
  EXPECT_NE(out["error"]["message"].get<std::string>().find("local edits keep working"),
            std::string::npos);
}

TEST_F(CliMessagesTest, ListAndShowEscapeControlCharacters) {
  Init();
  const std::string id = New("evil\x1b[2J\ntitle\r");
  ProcessResult list = Jsync({"list"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(list.out.find('\x1b'), std::string::npos);
  EXPECT_NE(list.out.find("evil\\x1b[2J\\ntitle\\r"), std::string::npos) << list.out;
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 1);
  ProcessResult show = Jsync({"show", id});
  EXPECT_EQ(show.out.find('\x1b'), std::string::npos);
  // JSON keeps the exact text (escaped by JSON itself).
  auto json = nlohmann::json::parse(Jsync({"show", id, "--json"}).out);
  EXPECT_EQ(json["title"], "evil\x1b[2J\ntitle\r");
}

TEST_F(CliMessagesTest, ATitleCanComeFromAFile) {
  Init();
  const std::string long_title(100'000, 'T');
  WriteFileBytes(dir_ / "title.txt", long_title + "\n");
  ProcessResult r = Jsync({"new", "--title-file", dir_ / "title.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = r.out.substr(0, r.out.find('\n'));
  auto json = nlohmann::json::parse(Jsync({"show", id, "--json"}).out);
  EXPECT_EQ(json["title"], long_title);
  r = Jsync({"edit", id, "--title-file", "-"}, "from stdin\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json = nlohmann::json::parse(Jsync({"show", id, "--json"}).out);
  EXPECT_EQ(json["title"], "from stdin");
  EXPECT_EQ(Jsync({"new", "--title", "a", "--title-file", dir_ / "title.txt"}).exit_code, 2);
  EXPECT_EQ(Jsync({"new", "--tag", "x"}).exit_code, 2) << "a title is required";
}

// Runs jsync as a user who cannot write the home (root ignores permission bits, so a root
// test run drops to nobody).
ProcessResult RunWithoutWriteAccess(const TempDir& dir, const std::vector<std::string>& args) {
  std::string cmd;
  if (::geteuid() == 0) cmd = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  cmd += jsync::testing::JsyncBinary() + " --home '" + (dir / "home") + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>" + (dir / "stderr.txt");
  ProcessResult r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = jsync::testing::ReadFileBytes(dir / "stderr.txt");
  return r;
}

TEST_F(CliMessagesTest, ReadCommandsWorkOnAReadOnlyHome) {
  Init();
  const std::string id = New("readable");
  ASSERT_EQ(Jsync({"sync"}).exit_code, 0);
  // Hand the whole tree to nobody when root, then take write access away.
  if (::geteuid() == 0) {
    for (const auto& e : fs::recursive_directory_iterator(dir_.path())) {
      ASSERT_EQ(::lchown(e.path().c_str(), 65534, 65534), 0);
    }
    ASSERT_EQ(::chown(dir_.path().c_str(), 65534, 65534), 0);
  }
  ::chmod(dir_.path().c_str(), 0755);
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "home")) {
    ::chmod(e.path().c_str(), e.is_directory() ? 0500 : 0400);
  }
  ::chmod((dir_ / "home").c_str(), 0500);

  ProcessResult list = RunWithoutWriteAccess(dir_, {"list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("readable"), std::string::npos) << list.out;
  ProcessResult show = RunWithoutWriteAccess(dir_, {"show", id.substr(0, 8)});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  ProcessResult edit = RunWithoutWriteAccess(dir_, {"edit", id, "--title", "x"});
  EXPECT_EQ(edit.exit_code, 1);
  EXPECT_NE(edit.err.find("read-only"), std::string::npos) << edit.err;
  ::chmod((dir_ / "home").c_str(), 0700);
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "home")) {
    ::chmod(e.path().c_str(), e.is_directory() ? 0700 : 0600);
  }
}

}  // namespace
}  // namespace jsync
