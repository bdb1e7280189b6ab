// Cloned homes (docs/decisions/0019-cloned-devices.md): a home folder copied with `cp -a` (a
// restored backup, a cloned VM) makes two homes write as one device id, and a planted file can
// take a device's next seq. The cloud's branch of the id is accepted (first writer wins at
// each seq); the home whose bytes the cloud refused takes a new id, re-keys its unaccepted
// ops and rebuilds its entries, and every device converges with every edit present once.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/journal/journal.h"
#include "core/sync/remote_layout.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using jsync::testing::ProcessResult;
using jsync::testing::RunJsync;
using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;
using jsync::testing::WriteFileBytes;

// Occurrences of `needle` in `hay`.
size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

class ClonedDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(cloud_); }

  std::string Home(const std::string& d) const { return tmp_ / ("home-" + d); }

  void Init(const std::string& d) {
    auto r = Journal::Init(Home(d), TestInitOptions(cloud_, "device-" + d));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    journal_ = r->journal;
  }

  // `cp -a` of a whole home.
  void Clone(const std::string& from, const std::string& to) {
    fs::copy(Home(from), Home(to), fs::copy_options::recursive);
  }

  std::unique_ptr<Journal> Open(const std::string& d) {
    auto j = Journal::Open(Home(d), ::jsync::testing::HostStorage());
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(j).value() : nullptr;
  }

  DeviceId Id(const std::string& d) {
    auto j = Open(d);
    return j ? j->device_id() : 0;
  }

  // The copy putting its removed change back is own-log repair, which a full listing runs
  // (decision 0024: daily on a provider without a feed, or `sync --full`).
  bool full_listing_ = false;

  sync::SyncReport Sync(const std::string& d) {
    auto j = Open(d);
    if (!j) return {};
    auto r = j->Sync({.full_listing = full_listing_});
    EXPECT_TRUE(r.ok()) << d << ": " << r.status().ToString();
    if (r.ok() && std::getenv("JSYNC_TEST_TRACE")) {
      for (const auto& n : r->report.notices) std::fprintf(stderr, "[%s] %s\n", d.c_str(), n.c_str());
      for (const auto& p : r->report.problems) {
        std::fprintf(stderr, "[%s] problem: %s\n", d.c_str(), p.message.c_str());
      }
    }
    return r.ok() ? r->report : sync::SyncReport{};
  }

  RecordId Add(const std::string& d, const std::string& title, const std::string& body) {
    auto j = Open(d);
    EXPECT_TRUE(j);
    if (!j) return {};
    auto id = j->NewEntry({title, body, {"tag-" + title}});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : RecordId{};
  }

  // Inserts `text` at the start of the entry's body and adds a tag.
  void Edit(const std::string& d, const RecordId& id, const std::string& text) {
    auto j = Open(d);
    ASSERT_TRUE(j);
    EntryEdit edit;
    edit.body_splices = {{0, 0, text::Utf8ToUtf32(text)}};
    edit.add_tags = {"tag" + text};
    Status st = j->EditEntry(RecordIdHex(id), edit);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::string ListJson(const std::string& d) {
    ProcessResult r = RunJsync({"--home", Home(d), "list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  std::string RawState(const std::string& d) {
    auto j = Open(d);
    if (!j) return "";
    auto records = j->store().ListRecords(kEntries);
    EXPECT_TRUE(records.ok());
    std::string out;
    for (const auto& r : *records) out += RecordIdHex(r.id) + ":" + ToHex(r.state.Encode()) + "\n";
    return out;
  }

  // Syncs everyone a few rounds; all must then list the same entries, byte for byte.
  void ExpectConverged(const std::vector<std::string>& devices) {
    for (int round = 0; round < 3; ++round) {
      for (const auto& d : devices) Sync(d);
    }
    const std::string first = ListJson(devices[0]);
    const std::string raw = RawState(devices[0]);
    for (const auto& d : devices) {
      EXPECT_EQ(ListJson(d), first) << d << " differs from " << devices[0];
      EXPECT_EQ(RawState(d), raw) << d << "'s records differ from " << devices[0] << "'s";
    }
  }

  std::string OwnChange(DeviceId device, uint64_t seq) const {
    return (fs::path(cloud_) / sync::ChangePath(journal_, device, seq)).string();
  }

  TempDir tmp_;
  std::string cloud_ = tmp_ / "cloud";
  JournalId journal_{};
};

bool HasNotice(const sync::SyncReport& r, const std::string& part) {
  for (const auto& n : r.notices) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

// --- Item 9: a planted file at a device's own next seq ----------------------------------------

TEST_F(ClonedDeviceTest, PlantedFileAtOwnNextSeqReidentifiesAndKeepsSyncingBothWays) {
  Init("a");
  Init("b");
  Add("a", "a-1", "first");
  ASSERT_TRUE(Sync("a").ok());
  ASSERT_TRUE(Sync("b").ok());
  const DeviceId old_a = Id("a");
  WriteFileBytes(OwnChange(old_a, 2), "");  // `: > changes/<A>/0000000000000002.jchg`

  Add("a", "a-2", "second");
  Add("b", "b-1", "from b");
  ASSERT_TRUE(Sync("b").ok() || true);
  ProcessResult r = RunJsync({"--home", Home("a"), "sync", "--json"});
  ASSERT_NE(r.signal, 9);
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << r.out << r.err;
  // Not a fatal error: the cycle ran, re-identified once, and downloaded b's entry.
  EXPECT_EQ(r.err.find("identity is in use elsewhere"), std::string::npos) << r.err;
  size_t reidentified = 0;
  for (const auto& n : json["notices"]) {
    if (n.get<std::string>().find("cannot go on in the cloud") != std::string::npos) {
      ++reidentified;
    }
  }
  EXPECT_EQ(reidentified, 1u) << r.out;
  // The only problem is the planted file itself, which every reader refuses.
  for (const auto& p : json["problems"]) {
    EXPECT_NE(p["message"].get<std::string>().find("change 2 of device " + DeviceIdHex(old_a)),
              std::string::npos)
        << p["message"];
  }
  const DeviceId new_a = Id("a");
  EXPECT_NE(new_a, old_a);

  ExpectConverged({"a", "b"});
  for (const std::string d : {"a", "b"}) {
    auto j = Open(d);
    ASSERT_TRUE(j);
    auto entries = j->ListEntries();
    ASSERT_TRUE(entries.ok());
    std::vector<std::string> titles;
    for (const auto& e : *entries) titles.push_back(e.title);
    std::sort(titles.begin(), titles.end());
    EXPECT_EQ(titles, (std::vector<std::string>{"a-1", "a-2", "b-1"})) << d;
  }
  // Later edits keep flowing in both directions, and a second sync needs no new identity.
  Add("a", "a-3", "later");
  Add("b", "b-2", "later too");
  ExpectConverged({"a", "b"});
  EXPECT_EQ(Id("a"), new_a);
  auto j = Open("b");
  ASSERT_TRUE(j);
  auto entries = j->ListEntries();
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 5u);
}

// --- Item 10: a copied home ----------------------------------------------------------------------

enum class Order { kCopyFirst, kOriginalFirst, kBothBeforeSync, kOriginalIdleThenEdits };

struct OrderCase {
  const char* name;
  Order order;
};

class ClonedOrderTest : public ClonedDeviceTest, public ::testing::WithParamInterface<OrderCase> {};

TEST_P(ClonedOrderTest, CopiedHomeAndOriginalConvergeWithEveryEditOnce) {
  Init("a");
  Init("b");
  const RecordId shared = Add("a", "shared", "base text");
  ASSERT_TRUE(Sync("a").ok());
  ASSERT_TRUE(Sync("b").ok());
  ASSERT_TRUE(Sync("a").ok());
  Clone("a", "a2");
  const DeviceId old_id = Id("a");
  ASSERT_EQ(Id("a2"), old_id);

  auto edit_a = [&] {
    Edit("a", shared, "[A-edit]");
    Add("a", "from-a", "typed on the original");
  };
  auto edit_a2 = [&] {
    Edit("a2", shared, "[A2-edit]");
    Add("a2", "from-a2", "typed on the copy");
  };
  switch (GetParam().order) {
    case Order::kCopyFirst:
      edit_a2();
      Sync("a2");
      edit_a();
      Sync("a");
      break;
    case Order::kOriginalFirst:
      edit_a();
      Sync("a");
      edit_a2();  // its next slot is already taken in the cloud
      Sync("a2");
      break;
    case Order::kBothBeforeSync:
      edit_a();
      edit_a2();
      Sync("a2");
      Sync("a");
      break;
    case Order::kOriginalIdleThenEdits: {
      edit_a2();
      Sync("a2");
      Sync("b");
      // The original has made nothing since the copy; it must still learn the copy's edits.
      auto r = Sync("a");
      EXPECT_TRUE(HasNotice(r, "cannot go on in the cloud")) << "a did not notice the copy";
      auto j = Open("a");
      ASSERT_TRUE(j);
      auto entries = j->ListEntries();
      ASSERT_TRUE(entries.ok());
      bool has = false;
      for (const auto& e : *entries) has |= e.title == "from-a2";
      EXPECT_TRUE(has) << "a silently lacks a2's entry";
      edit_a();
      Sync("a");
      break;
    }
  }
  // Exactly one of the two homes kept the old id.
  const DeviceId a = Id("a"), a2 = Id("a2");
  EXPECT_NE(a, a2);
  EXPECT_TRUE(a == old_id || a2 == old_id);

  ExpectConverged({"a", "a2", "b"});
  for (const std::string d : {"a", "a2", "b"}) {
    auto j = Open(d);
    ASSERT_TRUE(j);
    auto entries = j->ListEntries();
    ASSERT_TRUE(entries.ok());
    std::map<std::string, Entry> by_title;
    for (const auto& e : *entries) {
      EXPECT_FALSE(by_title.contains(e.title)) << d << " lists " << e.title << " twice";
      by_title[e.title] = e;
    }
    ASSERT_EQ(by_title.size(), 3u) << d;
    ASSERT_TRUE(by_title.contains("from-a") && by_title.contains("from-a2")) << d;
    EXPECT_EQ(by_title["from-a"].body, "typed on the original") << d;
    EXPECT_EQ(by_title["from-a2"].body, "typed on the copy") << d;
    const std::string& body = by_title["shared"].body;
    EXPECT_EQ(Count(body, "[A-edit]"), 1u) << d << ": " << body;
    EXPECT_EQ(Count(body, "[A2-edit]"), 1u) << d << ": " << body;
    EXPECT_EQ(Count(body, "base text"), 1u) << d << ": " << body;
    EXPECT_EQ(body.size(), std::string("[A-edit][A2-edit]base text").size()) << d << ": " << body;
  }
  // Later edits on every device keep syncing.
  Edit("a", shared, "<a>");
  Edit("a2", shared, "<a2>");
  Add("b", "from-b", "late");
  ExpectConverged({"a", "a2", "b"});
  auto j = Open("b");
  ASSERT_TRUE(j);
  auto entries = j->ListEntries();
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 4u);
  for (const auto& e : *entries) {
    if (e.title != "shared") continue;
    EXPECT_EQ(Count(e.body, "<a>"), 1u) << e.body;
    EXPECT_EQ(Count(e.body, "<a2>"), 1u) << e.body;
  }
  for (const std::string d : {"a", "a2", "b"}) {
    auto r = Sync(d);
    EXPECT_TRUE(r.ok()) << d << ": " << (r.problems.empty() ? "" : r.problems[0].message);
  }
}

INSTANTIATE_TEST_SUITE_P(Orders, ClonedOrderTest,
                         ::testing::Values(OrderCase{"copy_first", Order::kCopyFirst},
                                           OrderCase{"original_first", Order::kOriginalFirst},
                                           OrderCase{"both_before_sync", Order::kBothBeforeSync},
                                           OrderCase{"original_idle",
                                                     Order::kOriginalIdleThenEdits}),
                         [](const auto& info) { return std::string(info.param.name); });

// A reader that merged one branch of an id and then meets the other (the cloud lost the first
// writer's file) keeps what it merged and says clearly what happened, in the report and status.
TEST_F(ClonedDeviceTest, ReaderMeetingAForkAlarmsInReportAndStatus) {
  Init("a");
  Init("b");
  Add("a", "a-1", "one");
  ASSERT_TRUE(Sync("a").ok());
  ASSERT_TRUE(Sync("b").ok());
  Clone("a", "a2");
  const DeviceId id = Id("a");
  Add("a2", "a2-2", "copy");
  ASSERT_TRUE(Sync("a2").ok());
  ASSERT_TRUE(Sync("b").ok());  // b merges the copy's change 2
  fs::remove(OwnChange(id, 2));
  Add("a", "a-2", "original");
  ASSERT_TRUE(Sync("a").ok());  // the slot is free again: the original's change 2
  Add("a", "a-3", "original again");
  ASSERT_TRUE(Sync("a").ok());

  ProcessResult r = RunJsync({"--home", Home("b"), "sync", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << r.out;
  EXPECT_EQ(json["ok"], false);
  bool alarmed = false;
  for (const auto& p : json["problems"]) {
    const std::string m = p["message"];
    if (m.find("device " + DeviceIdHex(id)) != std::string::npos &&
        m.find("forked") != std::string::npos && m.find("home was copied") != std::string::npos &&
        m.find("will re-identify") != std::string::npos) {
      alarmed = true;
    }
  }
  EXPECT_TRUE(alarmed) << r.out;
  // b keeps the branch it merged.
  auto j = Open("b");
  ASSERT_TRUE(j);
  auto entries = j->ListEntries();
  ASSERT_TRUE(entries.ok());
  bool has_copy = false;
  for (const auto& e : *entries) has_copy |= e.title == "a2-2";
  EXPECT_TRUE(has_copy);
  j.reset();

  ProcessResult status = RunJsync({"--home", Home("b"), "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto st = nlohmann::json::parse(status.out, nullptr, false);
  ASSERT_TRUE(st.is_object()) << status.out;
  bool in_status = false;
  for (const auto& p : st["problems"]) {
    in_status |= p["message"].get<std::string>().find("home was copied") != std::string::npos;
  }
  EXPECT_TRUE(in_status) << status.out;
  ProcessResult text = RunJsync({"--home", Home("b"), "status"});
  EXPECT_NE(text.out.find("home was copied"), std::string::npos) << text.out;
}

// The copy that re-identified says so in `status`.
TEST_F(ClonedDeviceTest, StatusShowsTheFormerIdAfterReidentifying) {
  Init("a");
  Add("a", "a-1", "one");
  ASSERT_TRUE(Sync("a").ok());
  Clone("a", "a2");
  const DeviceId id = Id("a");
  Add("a2", "a2-2", "copy");
  ASSERT_TRUE(Sync("a2").ok());
  Add("a", "a-2", "original");
  Sync("a");
  ProcessResult status = RunJsync({"--home", Home("a"), "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto st = nlohmann::json::parse(status.out, nullptr, false);
  ASSERT_TRUE(st.is_object()) << status.out;
  EXPECT_EQ(st["reidentified_from"], DeviceIdHex(id));
  EXPECT_NE(st["device"]["id"], DeviceIdHex(id));
}

// --- Item 10, last scenario: the cloud lost the copy's change and the original filled the slot --
//
// The copy's change k was merged by readers, then deleted from the cloud; the original's own
// change k (other bytes) took the free slot. Readers' version vectors name the copy's change by
// its head tag (decision 0021), so the original learns that its branch was not accepted, clears
// its files, waits for the copy to put change k back, and re-identifies from k.

enum class RefillOrder {
  kCopyRestoresFirst,   // the copy syncs right after the original cleared the slot
  kOriginalSyncsOften,  // the original syncs (and edits) several times before the copy returns
  kOriginalRanAhead,    // the original wrote past k before any reader said what it merged
};

class ForkRefillTest : public ClonedDeviceTest,
                       public ::testing::WithParamInterface<std::pair<const char*, RefillOrder>> {
 protected:
  // Highest seq of `device` in the cloud.
  uint64_t CloudHead(DeviceId device) const {
    uint64_t head = 0;
    const fs::path dir = fs::path(OwnChange(device, 1)).parent_path();
    for (const auto& f : fs::directory_iterator(dir)) {
      head = std::max<uint64_t>(head, std::stoull(f.path().stem().string(), nullptr, 16));
    }
    return head;
  }

  bool HasProblem(const sync::SyncReport& r, const std::string& part) {
    for (const auto& p : r.problems) {
      if (p.message.find(part) != std::string::npos) return true;
    }
    return false;
  }

  void ExpectEveryEditOnce(const std::vector<std::string>& devices,
                           const std::vector<std::string>& titles,
                           const std::vector<std::string>& marks) {
    for (const auto& d : devices) {
      auto j = Open(d);
      ASSERT_TRUE(j);
      auto entries = j->ListEntries();
      ASSERT_TRUE(entries.ok());
      std::map<std::string, Entry> by_title;
      for (const auto& e : *entries) {
        EXPECT_FALSE(by_title.contains(e.title)) << d << " lists " << e.title << " twice";
        by_title[e.title] = e;
      }
      EXPECT_EQ(by_title.size(), titles.size()) << d;
      for (const auto& t : titles) EXPECT_TRUE(by_title.contains(t)) << d << " lacks " << t;
      const std::string& body = by_title["shared"].body;
      for (const auto& m : marks) EXPECT_EQ(Count(body, m), 1u) << d << ": " << body;
      EXPECT_EQ(Count(body, "base text"), 1u) << d << ": " << body;
    }
  }
};

TEST_P(ForkRefillTest, ReadersKeepTheCopysChangeAndEveryEditArrivesOnce) {
  const RefillOrder order = GetParam().second;
  full_listing_ = true;
  Init("a");
  Init("b");
  Init("c");
  const RecordId shared = Add("a", "shared", "base text");
  for (const std::string d : {"a", "b", "c", "a"}) ASSERT_TRUE(Sync(d).ok()) << d;
  Clone("a", "a2");
  const DeviceId id = Id("a");

  Edit("a2", shared, "[A2]");
  Add("a2", "from-a2", "typed on the copy");
  ASSERT_TRUE(Sync("a2").ok());
  const uint64_t k = CloudHead(id);
  ASSERT_TRUE(Sync("b").ok());
  ASSERT_TRUE(Sync("c").ok());  // both merged the copy's change k
  std::vector<std::string> titles = {"shared", "from-a2", "from-a", "from-b", "from-c"};
  std::vector<std::string> marks = {"[A2]", "[A]"};
  if (order != RefillOrder::kOriginalRanAhead) {
    // Readers write, and so say which change k of the id they merged.
    Add("b", "from-b", "b after the copy");
    Add("c", "from-c", "c after the copy");
    ASSERT_TRUE(Sync("b").ok());
    ASSERT_TRUE(Sync("c").ok());
  }
  ASSERT_TRUE(fs::remove(OwnChange(id, k)));  // the user deletes the copy's file
  Edit("a", shared, "[A]");
  Add("a", "from-a", "typed on the original");
  auto first = Sync("a");  // the original's change k lands in the free slot
  if (order == RefillOrder::kOriginalRanAhead) {
    Add("a", "from-a-more", "original again");
    Sync("a");  // and change k+1 on top of it
    titles.push_back("from-a-more");
    auto b = Sync("b");
    // The reader keeps the copy's branch and says the id forked.
    EXPECT_TRUE(HasProblem(b, "forked")) << "b did not alarm";
    Add("b", "from-b", "b after the copy");
    Add("c", "from-c", "c after the copy");
    ASSERT_TRUE(Sync("b").ok() || true);
    ASSERT_TRUE(Sync("c").ok() || true);
    first = Sync("a");
  }
  // The original learned from b and c that readers hold the copy's change k: it keeps its
  // edits back and clears the slot instead of writing on.
  EXPECT_TRUE(HasNotice(first, "held back")) << "a did not hold its branch back";
  EXPECT_EQ(Id("a"), id);
  EXPECT_FALSE(fs::exists(OwnChange(id, k)));

  switch (order) {
    case RefillOrder::kCopyRestoresFirst:
    case RefillOrder::kOriginalRanAhead:
      break;
    case RefillOrder::kOriginalSyncsOften:
      for (int i = 0; i < 3; ++i) {
        Add("a", "a-wait-" + std::to_string(i), "typed while waiting");
        titles.push_back("a-wait-" + std::to_string(i));
        auto r = Sync("a");
        EXPECT_TRUE(HasNotice(r, "held back")) << i;
        EXPECT_EQ(Id("a"), id);
        EXPECT_FALSE(fs::exists(OwnChange(id, k))) << i;
      }
      break;
  }
  // The copy, whose branch readers merged, keeps the id and puts change k back.
  auto copy = Sync("a2");
  EXPECT_EQ(copy.reidentified_from, 0u);
  EXPECT_EQ(Id("a2"), id);
  EXPECT_TRUE(fs::exists(OwnChange(id, k)));
  // Now the original finds where its branch left the accepted one and re-identifies from k.
  auto moved = Sync("a");
  EXPECT_EQ(moved.reidentified_from, id);
  EXPECT_NE(Id("a"), id);

  ExpectConverged({"a", "a2", "b", "c"});
  ExpectEveryEditOnce({"a", "a2", "b", "c"}, titles, marks);

  // A device joining afterwards gets the same entries, and later edits keep flowing.
  Init("d");
  Edit("a", shared, "<a>");
  Edit("a2", shared, "<a2>");
  Add("d", "from-d", "late");
  titles.push_back("from-d");
  marks.push_back("<a>");
  marks.push_back("<a2>");
  ExpectConverged({"a", "a2", "b", "c", "d"});
  ExpectEveryEditOnce({"a", "a2", "b", "c", "d"}, titles, marks);
  for (const std::string d : {"a", "a2", "b", "c", "d"}) {
    auto r = Sync(d);
    EXPECT_TRUE(r.ok()) << d << ": " << (r.problems.empty() ? "" : r.problems[0].message);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Orders, ForkRefillTest,
    ::testing::Values(std::make_pair("copy_restores_first", RefillOrder::kCopyRestoresFirst),
                      std::make_pair("original_syncs_often", RefillOrder::kOriginalSyncsOften),
                      std::make_pair("original_ran_ahead", RefillOrder::kOriginalRanAhead)),
    [](const auto& info) { return std::string(info.param.first); });

}  // namespace
}  // namespace jsync
