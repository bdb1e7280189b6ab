// The pure rules of snapshots, segments and pruning (core/sync/lifecycle.h) and the byte
// formats of segments and snapshots (core/format/segment_file.h, snapshot_file.h).
#include "core/sync/lifecycle.h"

#include <gtest/gtest.h>

#include <random>

#include "core/crypto/primitives.h"
#include "core/format/segment_file.h"
#include "core/format/snapshot_file.h"

namespace jsync {
namespace {

using sync::Ack;
using sync::RemoteLog;
using sync::SeqRange;

TEST(Lifecycle, TargetSegmentsFollowTheBinaryDigitsOfWhatWasUploaded) {
  EXPECT_TRUE(sync::TargetSegments(7).empty());
  EXPECT_EQ(sync::TargetSegments(8), (std::vector<SeqRange>{{1, 8}}));
  EXPECT_EQ(
      sync::TargetSegments(5000),
      (std::vector<SeqRange>{{1, 4096}, {4097, 4608}, {4609, 4864}, {4865, 4992}, {4993, 5000}}));
  // Growing by 8 replaces only the small end.
  EXPECT_EQ(
      sync::TargetSegments(5008),
      (std::vector<SeqRange>{{1, 4096}, {4097, 4608}, {4609, 4864}, {4865, 4992}, {4993, 5008}}));
}

TEST(Lifecycle, AReaderPrefersTheSegmentThatReachesFurthest) {
  RemoteLog log;
  log.seqs = {4990, 4991, 5000, 5001};
  log.segments = {{1, 4096}, {4097, 4608}, {4993, 5000}};
  EXPECT_EQ(log.SegmentFor(2), (SeqRange{1, 4096}));
  EXPECT_EQ(log.SegmentFor(4100), (SeqRange{4097, 4608}));
  EXPECT_FALSE(log.SegmentFor(4990));  // single file only
  // The last change of a segment alone is read as a single file when there is one.
  EXPECT_FALSE(log.SegmentFor(5000));
  EXPECT_TRUE(log.Has(300));
  EXPECT_FALSE(log.Has(4700));
  EXPECT_EQ(log.Last(), 5001u);
  EXPECT_EQ(log.First(), 1u);
}

TEST(Lifecycle, PrunedBeforeNamesWhatASnapshotMustCover) {
  std::map<DeviceId, RemoteLog> logs;
  logs[1].seqs = {41, 42, 43};  // 1..40 pruned
  logs[2].seqs = {1, 2, 3};     // nothing pruned
  logs[3].seqs = {5};           // this device merged 9 already: nothing needed
  std::map<DeviceId, uint64_t> merged{{1, 10}, {3, 9}};
  auto needed = sync::PrunedBefore(logs, merged);
  EXPECT_EQ(needed, (std::map<DeviceId, uint64_t>{{1, 40}}));
  format::SnapshotVv vv{{1, {40, {}}}, {2, {1, {}}}};
  EXPECT_TRUE(sync::Covers(vv, needed));
  vv[1].seq = 39;
  EXPECT_FALSE(sync::Covers(vv, needed));
}

TEST(Lifecycle, PruneBoundWaitsForEveryActiveDeviceAndKeepsTheNewest) {
  const uint64_t now = 100ull * 24 * 3600 * 1000;
  const int64_t week = 7LL * 24 * 3600 * 1000;
  std::map<DeviceId, std::optional<Ack>> others{{2, Ack{50, now - 1000}}, {3, Ack{30, now - 2000}}};
  EXPECT_EQ(sync::PruneBound(80, 100, others, now, week), 30u);
  // A device quiet for longer than the window no longer holds pruning back.
  others[3] = Ack{30, now - 2 * week};
  EXPECT_EQ(sync::PruneBound(80, 100, others, now, week), 50u);
  // Never past the own snapshot, never the newest change.
  EXPECT_EQ(sync::PruneBound(40, 100, others, now, week), 40u);
  EXPECT_EQ(sync::PruneBound(500, 45, {}, now, week), 44u);
  // A device whose changes say nothing yet holds everything back.
  others[4] = std::nullopt;
  EXPECT_EQ(sync::PruneBound(80, 100, others, now, week), 0u);
}

TEST(SegmentFile, RoundTripsAndRefusesBadFraming) {
  format::SegmentHeader h{JournalId{1, 2, 3}, 0x42, 9, 11};
  Bytes a{1, 2, 3}, b{4}, c{5, 6};
  auto built = format::BuildSegment(h, {a, b, c});
  ASSERT_TRUE(built.ok());
  auto parsed = format::ParseSegment(*built);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->header.device, 0x42u);
  EXPECT_EQ(parsed->header.first, 9u);
  ASSERT_EQ(parsed->changes.size(), 3u);
  EXPECT_EQ(Bytes(parsed->changes[2].begin(), parsed->changes[2].end()), c);
  // Wrong count for the range, truncation, trailing bytes, bad magic.
  EXPECT_FALSE(format::BuildSegment(h, {a, b}).ok());
  Bytes cut(built->begin(), built->end() - 1);
  EXPECT_TRUE(format::ParseSegment(cut).status().Is(Code::kCorrupt));
  Bytes longer = *built;
  longer.push_back(0);
  EXPECT_TRUE(format::ParseSegment(longer).status().Is(Code::kCorrupt));
  Bytes magic = *built;
  magic[0] ^= 1;
  EXPECT_TRUE(format::ParseSegment(magic).status().Is(Code::kCorrupt));
}

TEST(SnapshotFile, RoundTripsAndEveryFlippedByteIsRefused) {
  crypto::SecretKey master(crypto::RandomArray<crypto::kKeySize>());
  format::SnapshotHeader h;
  h.journal = JournalId{7};
  h.device = 0x1234;
  h.hlc = 99;
  h.key_id = 5;
  h.vv[0x1234] = {3, crypto::HashSha256(AsBytes("a"))};
  h.vv[0x99] = {8, crypto::HashSha256(AsBytes("b"))};
  std::vector<format::SnapshotRecord> records = {{"entries", RecordId{1}, {1, 2, 3}},
                                                 {"entries", RecordId{2}, {}}};
  const crypto::KeyPair signer = crypto::NewSigningKey();
  auto file = format::SealSnapshot(master, signer.priv, h, [&](const auto& emit) -> Status {
    for (const auto& r : records) JSYNC_RETURN_IF_ERROR(emit(r));
    return Status::Ok();
  });
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto parsed = format::ParseSnapshotHeader(*file);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->header.vv, h.vv);
  EXPECT_TRUE(format::SnapshotSignatureValid(*file, signer.pub));
  EXPECT_FALSE(format::SnapshotSignatureValid(*file, crypto::NewSigningKey().pub))
      << "a snapshot verifies only as its author's";
  std::vector<format::SnapshotRecord> got;
  auto n = format::OpenSnapshot(master, *parsed, *file, [&](const format::SnapshotRecord& r) {
    got.push_back(r);
    return Status::Ok();
  });
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].state, records[0].state);
  EXPECT_EQ(got[1].id, records[1].id);

  for (size_t i = 0; i < file->size(); i += 7) {
    Bytes bad = *file;
    bad[i] ^= 0x01;
    EXPECT_FALSE(format::SnapshotSignatureValid(bad, signer.pub)) << "byte " << i;
    auto p = format::ParseSnapshotHeader(bad);
    size_t delivered = 0;
    // Only the signature's own bytes pass the tag: the signature check refuses them.
    if (i >= file->size() - crypto::kSignatureSize) continue;
    Status opened = p.ok() ? format::OpenSnapshot(master, *p, bad,
                                                  [&](const format::SnapshotRecord&) {
                                                    ++delivered;
                                                    return Status::Ok();
                                                  })
                                 .status()
                           : p.status();
    EXPECT_TRUE(opened.Is(Code::kCorrupt)) << "byte " << i;
    EXPECT_EQ(delivered, 0u) << "records released before authentication, byte " << i;
  }
  auto other = format::ParseSnapshotHeader(*file);
  EXPECT_TRUE(format::OpenSnapshot(crypto::SecretKey(crypto::RandomArray<crypto::kKeySize>()),
                                   *other, *file,
                                   [](const format::SnapshotRecord&) { return Status::Ok(); })
                  .status()
                  .Is(Code::kCorrupt));
}

// The body is read a piece at a time: records far larger than one piece, and thousands of
// small ones across piece boundaries, come out exactly as written.
TEST(SnapshotFile, LargeAndManyRecordsStreamThrough) {
  crypto::SecretKey master(crypto::RandomArray<crypto::kKeySize>());
  const crypto::KeyPair signer = crypto::NewSigningKey();
  format::SnapshotHeader h;
  h.journal = JournalId{9};
  h.device = 0x77;
  h.hlc = 5;
  h.vv[0x77] = {1, crypto::HashSha256(AsBytes("x"))};
  std::vector<format::SnapshotRecord> records;
  std::mt19937_64 rng(7);
  for (size_t size : {size_t{0}, size_t{1}, size_t{200} << 10, size_t{3} << 20}) {
    Bytes state(size);
    for (auto& b : state) b = static_cast<uint8_t>(rng());  // incompressible
    records.push_back({"entries", RecordId{static_cast<uint8_t>(records.size())}, state});
  }
  for (int i = 0; i < 5000; ++i) {
    records.push_back({"entries", RecordId{static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8)},
                       Bytes(static_cast<size_t>(i % 97), static_cast<uint8_t>(i))});
  }
  auto file = format::SealSnapshot(master, signer.priv, h, [&](const auto& emit) -> Status {
    for (const auto& r : records) JSYNC_RETURN_IF_ERROR(emit(r));
    return Status::Ok();
  });
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto parsed = format::ParseSnapshotHeader(*file);
  ASSERT_TRUE(parsed.ok());
  size_t i = 0;
  auto n = format::OpenSnapshot(master, *parsed, *file, [&](const format::SnapshotRecord& r) {
    EXPECT_LT(i, records.size());
    if (i < records.size()) {
      EXPECT_EQ(r.id, records[i].id) << "record " << i;
      EXPECT_TRUE(r.state == records[i].state) << "record " << i;
    }
    ++i;
    return Status::Ok();
  });
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, records.size());
}

}  // namespace
}  // namespace jsync
