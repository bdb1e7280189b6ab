// Many jsync processes editing one home at once: ids are allocated inside the write
// transaction, so no two processes hand out the same character or op ids, every entry stays
// editable, and another device converges on the result.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "tests/support/test_support.h"

namespace jsync {
namespace {

using jsync::testing::JsyncProcess;
using jsync::testing::ProcessResult;
using jsync::testing::RunJsync;
using jsync::testing::TempDir;

const std::map<std::string, std::string> kPass = {{"JSYNC_PASSPHRASE", "pass phrase"}};

int Rounds() {
  if (const char* r = std::getenv("JSYNC_CONCURRENT_ROUNDS"); r && *r) return std::atoi(r);
  return 500;
}

class ConcurrentEditTest : public ::testing::Test {
 protected:
  std::vector<std::string> Args(const std::string& home, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", dir_ / home});
    return args;
  }
  ProcessResult Jsync(const std::string& home, std::vector<std::string> args) {
    return RunJsync(Args(home, std::move(args)), kPass);
  }
  std::string Init(const std::string& home) {
    ProcessResult r = Jsync(home, {"init", "--provider", "folder", "--location", dir_ / "cloud",
                                   "--device-name", home, "--scrypt-log-n", "10"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  std::string New(const std::string& home, const std::string& title) {
    ProcessResult r = Jsync(home, {"new", "--title", title});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  TempDir dir_;
};

TEST_F(ConcurrentEditTest, ParallelEditsOfOneHomeKeepEveryEntryEditable) {
  const uint64_t seed = jsync::testing::SeedFromEnv(20261202);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (set JSYNC_SEED to replay)");
  std::mt19937_64 rng(seed);
  Init("b");
  std::vector<std::string> ids = {New("b", "one"), New("b", "two"), New("b", "three")};

  const int rounds = Rounds();
  for (int round = 0; round < rounds; ++round) {
    // Two to four processes at once: body inserts into different entries and the same one,
    // a retitle, now and then a new entry or a sync (which merges and seals concurrently).
    const int n = 2 + static_cast<int>(rng() % 3);
    std::vector<std::unique_ptr<JsyncProcess>> procs;
    for (int k = 0; k < n; ++k) {
      const std::string& id = ids[rng() % ids.size()];
      std::vector<std::string> args;
      switch (rng() % 8) {
        case 0:
          args = {"edit", id, "--title", "title " + std::to_string(round)};
          break;
        case 1:
          args = round % 25 == 0 ? std::vector<std::string>{"sync"}
                                 : std::vector<std::string>{"edit", id, "--add-tag",
                                                            "t" + std::to_string(rng() % 4)};
          break;
        default:
          args = {"edit", id, "--insert", "0", std::to_string(round) + char('a' + k)};
      }
      procs.push_back(std::make_unique<JsyncProcess>(Args("b", args), kPass));
    }
    for (size_t k = 0; k < procs.size(); ++k) {
      ProcessResult r = procs[k]->Wait();
      ASSERT_EQ(r.exit_code, 0) << "round " << round << " process " << k << ": " << r.err;
    }
  }

  // Every entry still takes body edits (the broken counter made them fail for good).
  for (const auto& id : ids) {
    ProcessResult r = Jsync("b", {"edit", id, "--insert", "0", "y"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ASSERT_EQ(Jsync("b", {"sync"}).exit_code, 0);
  Init("c");
  ProcessResult synced = Jsync("c", {"sync"});
  ASSERT_EQ(synced.exit_code, 0) << synced.err;
  ProcessResult on_b = Jsync("b", {"list", "--json"});
  ProcessResult on_c = Jsync("c", {"list", "--json"});
  ASSERT_EQ(on_b.exit_code, 0);
  EXPECT_EQ(on_b.out, on_c.out);
  for (const auto& id : ids) {
    ProcessResult b = Jsync("b", {"show", id, "--json"});
    ProcessResult c = Jsync("c", {"show", id, "--json"});
    EXPECT_EQ(b.out, c.out);
    auto entry = nlohmann::json::parse(b.out, nullptr, false);
    ASSERT_TRUE(entry.is_object()) << b.out;
    EXPECT_TRUE(entry["body"].get<std::string>().starts_with("y")) << b.out;
  }
}

// The report: two devices retitle one entry concurrently through `edit --title`.
// Each retitle stays whole (no "F sN saysys thhas") and the field is a conflict listing both.
TEST_F(ConcurrentEditTest, ConcurrentRetitlesStayWholeAndAreAConflict) {
  Init("n");
  Init("f");
  const std::string id = New("n", "X says so");
  ASSERT_EQ(Jsync("n", {"sync"}).exit_code, 0);
  ASSERT_EQ(Jsync("f", {"sync"}).exit_code, 0);
  ASSERT_EQ(Jsync("n", {"edit", id, "--title", "N says that"}).exit_code, 0);
  ASSERT_EQ(Jsync("f", {"edit", id, "--title", "F says this"}).exit_code, 0);
  for (const char* home : {"n", "f", "n"}) ASSERT_EQ(Jsync(home, {"sync"}).exit_code, 0);
  for (const char* home : {"n", "f"}) {
    auto e = nlohmann::json::parse(Jsync(home, {"show", id, "--json"}).out);
    const std::string title = e["title"];
    // Each side's words in one piece; the common " says " appears in each version.
    EXPECT_TRUE(title.find("N") != std::string::npos && title.find("F") != std::string::npos)
        << title;
    EXPECT_TRUE(title.find("thisthat") != std::string::npos ||
                title.find("thatthis") != std::string::npos)
        << title;
    ASSERT_EQ(e["conflicts"].size(), 1u) << e.dump();
    const auto& c = e["conflicts"][0];
    EXPECT_EQ(c["field"], "title");
    EXPECT_EQ(c["kind"], "text");
    std::set<std::string> versions;
    for (const auto& v : c["values"]) versions.insert(v["value"].get<std::string>());
    EXPECT_EQ(versions, (std::set<std::string>{"N says that", "F says this"})) << c.dump();
  }
  ProcessResult shown = Jsync("n", {"show", id});
  EXPECT_NE(shown.out.find("conflict: title"), std::string::npos) << shown.out;
  // Picking one version settles it everywhere.
  ASSERT_EQ(Jsync("n", {"edit", id, "--title", "N says that"}).exit_code, 0);
  for (const char* home : {"n", "f"}) ASSERT_EQ(Jsync(home, {"sync"}).exit_code, 0);
  auto e = nlohmann::json::parse(Jsync("f", {"show", id, "--json"}).out);
  EXPECT_EQ(e["title"], "N says that");
  EXPECT_TRUE(e["conflicts"].empty()) << e.dump();
}

}  // namespace
}  // namespace jsync
