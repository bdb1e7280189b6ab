// `jsync list` from the store's summaries (docs/decisions/0042): the summary of every entry
// stays what decoding its record gives, through local edits, merges of remote edits and
// deletes, concurrent rewrites (conflicts) and the upgrade of a schema-1 database; the CLI's
// output keeps its exact bytes.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/journal/journal.h"
#include "core/util/escape.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;

namespace jsync {
namespace {

using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;

// What listing did before the summaries: decode every record, keep the visible ones, sort
// by (created, id).
std::vector<Entry> DecodedList(Journal& j) {
  auto records = j.store().ListRecords(kEntries);
  EXPECT_TRUE(records.ok());
  std::vector<Entry> out;
  if (!records.ok()) return out;
  for (const auto& r : *records) {
    if (r.state.Visible()) out.push_back(EntryFromState(r.id, r.state));
  }
  std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.id < b.id;
  });
  return out;
}

std::string Line(const RecordId& id, const std::string& title,
                 const std::vector<std::string>& tags, uint64_t created, uint64_t updated,
                 bool conflict) {
  std::ostringstream out;
  out << RecordIdHex(id) << " | " << title << " |";
  for (const auto& t : tags) out << " #" << t;
  out << " | " << created << "/" << updated << (conflict ? " conflict" : "") << "\n";
  return out.str();
}

std::string FromDecoded(Journal& j) {
  std::string out;
  for (const auto& e : DecodedList(j)) {
    out += Line(e.id, e.title, e.tags, e.created_ms, e.updated_ms, !e.conflicts.empty());
  }
  return out;
}

std::string FromSummaries(Journal& j) {
  std::string out;
  Status s = j.ForEachEntrySummary([&](const EntrySummary& e) {
    out += Line(e.id, e.title, e.tags, e.created_ms, e.updated_ms, e.conflicts);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::string Describe(const std::vector<Entry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    out += Line(e.id, e.title, e.tags, e.created_ms, e.updated_ms, false) + e.body + "\n";
    for (const auto& c : e.conflicts) {
      out += "conflict " + c.field + " " + c.kind;
      for (const auto& v : c.values) out += " = " + v.value;
      out += "\n";
    }
  }
  return out;
}

// Summaries, full entries and the decoded records all agree.
void ExpectListsAgree(Journal& j, const std::string& where) {
  EXPECT_EQ(FromSummaries(j), FromDecoded(j)) << where;
  auto listed = j.ListEntries();
  ASSERT_TRUE(listed.ok()) << where;
  EXPECT_EQ(Describe(*listed), Describe(DecodedList(j))) << where;
}

class ListSummaryTest : public ::testing::Test {
 protected:
  std::unique_ptr<Journal> Make(const std::string& name) {
    const std::string home = dir_ / name;
    auto init = Journal::Init(home, TestInitOptions(dir_ / "cloud", name));
    EXPECT_TRUE(init.ok()) << init.status().ToString();
    return Open(name);
  }
  std::unique_ptr<Journal> Open(const std::string& name) {
    auto j = Journal::Open(dir_ / name, ::jsync::testing::HostStorage());
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(*j) : nullptr;
  }
  static void Sync(Journal& j) {
    auto r = j.Sync();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->report.ok()) << r->report.problems[0].message;
  }
  static std::vector<std::string> Titles(Journal& j) {
    std::vector<std::string> out;
    EXPECT_TRUE(j.ForEachEntrySummary([&](const EntrySummary& e) {
                   out.push_back(e.title);
                   return Status::Ok();
                 }).ok());
    return out;
  }
  // Turns journal.db back into what the previous jsync wrote: schema 1, no summaries.
  void Downgrade(const std::string& name) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / name + "/journal.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db,
                                "DROP TABLE record_summaries; "
                                "UPDATE meta SET value='1' WHERE key='schema_version';",
                                nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  TempDir dir_;
};

TEST_F(ListSummaryTest, RemoteTitleEditsAndDeletesShowInList) {
  auto a = Make("a");
  auto b = Make("b");
  auto first = a->NewEntry({"first title", "body one", {"x"}});
  auto second = a->NewEntry({"second", "body two", {}});
  ASSERT_TRUE(first.ok() && second.ok());
  Sync(*a);
  Sync(*b);
  EXPECT_EQ(Titles(*b), (std::vector<std::string>{"first title", "second"}));

  const std::string id = RecordIdHex(*first);
  EntryEdit edit;
  edit.title = "first, renamed";
  edit.add_tags = {"y"};
  edit.remove_tags = {"x"};
  ASSERT_TRUE(a->EditEntry(id, edit).ok());
  EXPECT_EQ(Titles(*a), (std::vector<std::string>{"first, renamed", "second"}));
  Sync(*a);
  Sync(*b);
  EXPECT_EQ(Titles(*b), (std::vector<std::string>{"first, renamed", "second"}));
  ExpectListsAgree(*b, "after the remote rename");

  ASSERT_TRUE(a->RemoveEntry(RecordIdHex(*second)).ok());
  Sync(*a);
  Sync(*b);
  EXPECT_EQ(Titles(*b), (std::vector<std::string>{"first, renamed"}));
  ExpectListsAgree(*b, "after the remote delete");
}

TEST_F(ListSummaryTest, ConcurrentRewritesShowAsConflict) {
  auto a = Make("a");
  auto b = Make("b");
  auto id = a->NewEntry({"xxxx", "", {}});
  ASSERT_TRUE(id.ok());
  Sync(*a);
  Sync(*b);
  EntryEdit on_a, on_b;
  // Both rewrite the same characters (no character in common, so each edit replaces them).
  on_a.title = "aaaa";
  on_b.title = "bbbb";
  ASSERT_TRUE(a->EditEntry(RecordIdHex(*id), on_a).ok());
  ASSERT_TRUE(b->EditEntry(RecordIdHex(*id), on_b).ok());
  Sync(*a);
  Sync(*b);
  Sync(*a);
  for (Journal* j : {a.get(), b.get()}) {
    bool conflict = false;
    ASSERT_TRUE(j->ForEachEntrySummary([&](const EntrySummary& e) {
                   conflict = e.conflicts;
                   return Status::Ok();
                 }).ok());
    EXPECT_TRUE(conflict);
    ExpectListsAgree(*j, "after concurrent rewrites");
  }
  EXPECT_EQ(FromSummaries(*a), FromSummaries(*b));
}

// Random edits on three devices, random syncs: after every step each device's summaries are
// exactly what decoding its records gives.
TEST_F(ListSummaryTest, SummariesFollowRandomEditsAndMerges) {
  const uint64_t seed = ::jsync::testing::SeedFromEnv(15);
  std::mt19937_64 rng(seed);
  std::vector<std::unique_ptr<Journal>> devices;
  for (const char* name : {"a", "b", "c"}) devices.push_back(Make(name));
  const char* words[] = {"rain", "Grüße", "walk", "🙂", "train", "late", "quiet"};
  auto text = [&] {
    std::string s = words[rng() % std::size(words)];
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) s += std::string(" ") + words[rng() % 7];
    return s;
  };
  for (int step = 0; step < 60; ++step) {
    Journal& j = *devices[rng() % devices.size()];
    std::vector<std::string> ids;
    ASSERT_TRUE(j.ForEachEntrySummary([&](const EntrySummary& e) {
                   ids.push_back(RecordIdHex(e.id));
                   return Status::Ok();
                 }).ok());
    const int action = ids.empty() ? 0 : static_cast<int>(rng() % 6);
    const std::string id = ids.empty() ? "" : ids[rng() % ids.size()];
    EntryEdit edit;
    switch (action) {
      case 0:
        ASSERT_TRUE(j.NewEntry({text(), text(), {text()}}).ok());
        break;
      case 1:
        edit.title = text();
        break;
      case 2:
        edit.body = text();
        break;
      case 3:
        edit.add_tags = {text()};
        break;
      case 4:
        ASSERT_TRUE(j.RemoveEntry(id).ok());
        break;
      default:
        Sync(j);
        break;
    }
    if (action >= 1 && action <= 3) {
      ASSERT_TRUE(j.EditEntry(id, edit).ok());
    }
    ExpectListsAgree(j, "seed " + std::to_string(seed) + " step " + std::to_string(step));
  }
  for (int round = 0; round < 2; ++round) {
    for (auto& d : devices) Sync(*d);
  }
  for (auto& d : devices) ExpectListsAgree(*d, "after convergence");
  EXPECT_EQ(FromSummaries(*devices[0]), FromSummaries(*devices[1]));
  EXPECT_EQ(FromSummaries(*devices[0]), FromSummaries(*devices[2]));
}

TEST_F(ListSummaryTest, UpgradesADatabaseOfTheFirstSchema) {
  auto a = Make("a");
  auto b = Make("b");
  auto kept = a->NewEntry({"kept", "body", {"t1", "t2"}});
  auto gone = a->NewEntry({"gone", "body", {}});
  ASSERT_TRUE(kept.ok() && gone.ok());
  ASSERT_TRUE(a->RemoveEntry(RecordIdHex(*gone)).ok());
  Sync(*a);
  Sync(*b);
  const std::string expected = FromDecoded(*b);
  b.reset();
  Downgrade("b");
  b = Open("b");
  ASSERT_NE(b, nullptr);
  auto version = b->store().GetMeta("schema_version");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->value_or(""), "2");
  EXPECT_TRUE(b->store().has_summaries());
  EXPECT_EQ(FromSummaries(*b), expected);
  EXPECT_EQ(Titles(*b), (std::vector<std::string>{"kept"}));
  // It keeps merging into the upgraded table.
  EntryEdit edit;
  edit.title = "kept, renamed";
  ASSERT_TRUE(a->EditEntry(RecordIdHex(*kept), edit).ok());
  Sync(*a);
  Sync(*b);
  EXPECT_EQ(Titles(*b), (std::vector<std::string>{"kept, renamed"}));
  ExpectListsAgree(*b, "after the upgrade");
}

// The CLI's list, plain and --json, against what the records say, byte for byte: --json is
// exactly nlohmann's dump(2) of the array (what RunList printed before it streamed), the
// plain list one line per entry as before.
TEST_F(ListSummaryTest, CliListKeepsItsBytes) {
  auto a = Make("a");
  auto empty = ::jsync::testing::RunJsync({"--home", dir_ / "a", "list", "--json"});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out, "[]\n");
  ASSERT_TRUE(a->NewEntry({"line\none \"quoted\"", "body\n\twith tab", {"b", "a"}}).ok());
  ASSERT_TRUE(a->NewEntry({"Grüße 🙂", "", {}}).ok());
  auto gone = a->NewEntry({"deleted", "x", {}});
  ASSERT_TRUE(gone.ok());
  ASSERT_TRUE(a->RemoveEntry(RecordIdHex(*gone)).ok());
  const std::vector<Entry> decoded = DecodedList(*a);
  a.reset();

  auto json = ::jsync::testing::RunJsync({"--home", dir_ / "a", "list", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed.dump(2) + "\n", json.out);
  ASSERT_EQ(parsed.size(), decoded.size());
  std::string expected_lines;
  for (size_t i = 0; i < decoded.size(); ++i) {
    const Entry& e = decoded[i];
    EXPECT_EQ(parsed[i]["id"], RecordIdHex(e.id));
    EXPECT_EQ(parsed[i]["title"], e.title);
    EXPECT_EQ(parsed[i]["body"], e.body);
    std::string line = RecordIdHex(e.id).substr(0, 12) + "  " +
                       parsed[i]["created_at"].get<std::string>().substr(0, 10) + "  " +
                       EscapeForDisplay(e.title);
    if (!e.tags.empty()) {
      line += "  [";
      for (size_t t = 0; t < e.tags.size(); ++t) {
        line += (t ? ", " : "") + EscapeForDisplay(e.tags[t]);
      }
      line += "]";
    }
    expected_lines += line + "\n";
  }
  auto plain = ::jsync::testing::RunJsync({"--home", dir_ / "a", "list"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, expected_lines);

  // A home of the first schema that cannot be written still lists, by decoding its records.
  Downgrade("a");
  std::string cmd = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  if (::geteuid() == 0) {
    for (const auto& e : fs::recursive_directory_iterator(dir_.path())) {
      ASSERT_EQ(::lchown(e.path().c_str(), 65534, 65534), 0);
    }
    ASSERT_EQ(::chown(dir_.path().c_str(), 65534, 65534), 0);
  }
  ::chmod(dir_.path().c_str(), 0755);
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "a")) {
    ::chmod(e.path().c_str(), e.is_directory() ? 0500 : 0400);
  }
  ::chmod((dir_ / "a").c_str(), 0500);
  cmd += ::jsync::testing::JsyncBinary() + " --home '" + (dir_ / "a") + "' list";
  std::string out;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0);
  EXPECT_EQ(out, expected_lines);
  ::chmod((dir_ / "a").c_str(), 0700);
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "a")) {
    ::chmod(e.path().c_str(), e.is_directory() ? 0700 : 0600);
  }
}

}  // namespace
}  // namespace jsync
