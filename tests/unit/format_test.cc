#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>

#include "core/format/change_file.h"
#include "core/format/device_file.h"
#include "core/format/key_file.h"
#include "core/format/op_codec.h"
#include "core/crypto/file_cipher.h"

namespace jsync::format {
namespace {

crypto::SecretKey TestKey() {
  std::array<uint8_t, crypto::kKeySize> a;
  a.fill(0x42);
  return crypto::SecretKey(a);
}

std::vector<Op> SampleOps(DeviceId device) {
  Op set;
  set.id = {MakeHlc(1000, 1), device};
  set.kind = OpKind::kSetRegister;
  set.collection = "entries";
  set.record = NewRecordId();
  set.field = "title";
  set.value = "\"Grüße 🙂\"";
  set.observed = {{MakeHlc(900, 0), 7}, {MakeHlc(950, 2), 9}};
  Op add = set;
  add.id.hlc += 1;
  add.kind = OpKind::kAddToSet;
  add.field = "tags";
  add.value = "x";
  add.observed.clear();
  return {set, add};
}

ChangeHeader SampleHeader() {
  ChangeHeader h;
  h.journal = NewJournalId();
  h.device = 0x1234;
  h.seq = 7;
  h.key_id = 99;
  h.prev_hash.fill(5);
  HeadTag t1, t2;
  t1.fill(0xa1);
  t2.fill(0xb2);
  h.vv = {{3, {10, t1}}, {0x9999, {2, t2}}};
  return h;
}

TEST(OpCodec, RoundTrip) {
  auto ops = SampleOps(0x1234);
  auto back = DecodeOps(EncodeOps(ops), 0x1234);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, ops);
}

TEST(OpCodec, RejectsTruncationAndUnknownKinds) {
  Bytes enc = EncodeOps(SampleOps(1));
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    EXPECT_FALSE(DecodeOps(ByteSpan(enc).first(cut), 1).ok()) << cut;
  }
  Bytes bad = enc;
  bad[2] = 77;  // kind of the first op
  EXPECT_FALSE(DecodeOps(bad, 1).ok());
}

TEST(OpCodec, CarriesWallTimeAndReplacedRanges) {
  std::vector<Op> ops = SampleOps(0x1234);
  ops[0].wall_ms = 1'780'000'000'123;
  Op ins = ops[0];
  ins.id.hlc += 5;
  ins.kind = OpKind::kTextInsert;
  ins.value = "new title";
  ins.observed.clear();
  ins.char_seq = 40;
  ins.origin_right = {7, 3};
  ins.ranges = {{7, 3, 5}, {9, 1, 2}};
  Op del = ins;
  del.id.hlc -= 1;
  del.kind = OpKind::kTextDelete;
  del.value.clear();
  del.char_seq = 0;
  del.origin_right = {};
  ops.push_back(del);
  ops.push_back(ins);
  Bytes enc = EncodeOps(ops);
  EXPECT_EQ(enc[0], 2) << "body version";
  auto back = DecodeOps(enc, 0x1234);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, ops);
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    EXPECT_FALSE(DecodeOps(ByteSpan(enc).first(cut), 0x1234).ok()) << cut;
  }
}

TEST(OpCodec, DecodesTheVersion1Body) {
  // As written before wall times: one set-register and one text insert.
  ByteWriter w;
  w.U8(1);
  w.Varint(2);
  w.U8(1);  // set-register
  w.Varint(MakeHlc(1000, 1));
  w.Str("entries");
  w.Raw(RecordId{});
  w.Str("created_at");
  w.Str("1000");
  w.Varint(0);
  w.U8(5);  // text-insert
  w.Varint(MakeHlc(1000, 2));
  w.Str("entries");
  w.Raw(RecordId{});
  w.Str("title");
  w.Str("hi");
  w.Varint(1);
  w.U64(0);  // origin-left: none
  w.U64(7);  // origin-right: (7, 3)
  w.Varint(3);
  auto ops = DecodeOps(w.bytes(), 0x55);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  ASSERT_EQ(ops->size(), 2u);
  EXPECT_EQ((*ops)[0].value, "1000");
  EXPECT_EQ((*ops)[0].wall_ms, 0u) << "unknown: shown at the HLC";
  EXPECT_EQ((*ops)[1].value, "hi");
  EXPECT_EQ((*ops)[1].origin_right, (text::CharId{7, 3}));
  EXPECT_TRUE((*ops)[1].ranges.empty());
  EXPECT_EQ((*ops)[1].id, (OpId{MakeHlc(1000, 2), 0x55}));
}

TEST(ChangeFile, SealParseOpenRoundTrip) {
  ChangeHeader h = SampleHeader();
  auto ops = SampleOps(h.device);
  auto file = SealChange(TestKey(), h, ops);
  ASSERT_TRUE(file.ok());
  auto parsed = ParseChangeHeader(*file);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->header, h);
  auto opened = OpenChange(TestKey(), *parsed, *file);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, ops);
}

// A version 1 file, as builds before chain-head tags wrote it: vv entries of 16 bytes.
Bytes SealV1(const ChangeHeader& h, const std::vector<Op>& ops) {
  ByteWriter w;
  w.Raw(AsBytes(std::string_view(kChangeMagic, sizeof kChangeMagic)));
  w.U16(1);
  w.U8(kCipherAes256Gcm);
  w.U8(kCompressionZstd);
  w.Raw(h.journal);
  w.U64(h.device);
  w.U64(h.seq);
  w.U64(h.key_id);
  w.Raw(h.salt);
  w.Raw(h.nonce);
  w.Raw(h.prev_hash);
  w.U32(static_cast<uint32_t>(h.vv.size()));
  for (const auto& [device, entry] : h.vv) {
    w.U64(device);
    w.U64(entry.seq);
  }
  Bytes out = w.Take();
  Bytes plain = EncodeOps(ops);
  Bytes body(ZSTD_compressBound(plain.size()));
  body.resize(ZSTD_compress(body.data(), body.size(), plain.data(), plain.size(), 3));
  auto sealed = crypto::SealFile(TestKey(), crypto::kChangeFileInfo, h.salt, h.nonce, out, body);
  EXPECT_TRUE(sealed.ok());
  out.insert(out.end(), sealed->begin(), sealed->end());
  return out;
}

TEST(ChangeFile, WritesVersion2WithHeadTags) {
  ChangeHeader h = SampleHeader();
  auto file = SealChange(TestKey(), h, SampleOps(h.device));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)[8], 2);
  EXPECT_EQ((*file)[9], 0);
  auto parsed = ParseChangeHeader(*file);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->header_size, 132u + 2 * 32);
  EXPECT_EQ(parsed->header.version, 2);
  ASSERT_TRUE(parsed->header.vv.at(3).head.has_value());
  EXPECT_EQ(parsed->header.vv.at(3).seq, 10u);
  EXPECT_EQ((*parsed->header.vv.at(3).head)[0], 0xa1);
  EXPECT_EQ((*parsed->header.vv.at(0x9999).head)[15], 0xb2);
  // Tag layout: device, seq, then the 16-byte tag right after.
  EXPECT_EQ((*file)[132 + 16], 0xa1);
  EXPECT_EQ((*file)[132 + 32 + 16 + 15], 0xb2);
}

TEST(ChangeFile, SealRefusesAVersionVectorEntryWithoutHeadTag) {
  ChangeHeader h = SampleHeader();
  h.vv[3].head.reset();
  auto file = SealChange(TestKey(), h, SampleOps(h.device));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), Code::kInvalid);
}

TEST(ChangeFile, Version1StillDecodesWithUnknownHeads) {
  ChangeHeader h = SampleHeader();
  h.salt.fill(3);
  h.nonce.fill(4);
  auto ops = SampleOps(h.device);
  Bytes file = SealV1(h, ops);
  auto parsed = ParseChangeHeader(file);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->header.version, 1);
  EXPECT_EQ(parsed->header_size, 132u + 2 * 16);
  ASSERT_EQ(parsed->header.vv.size(), 2u);
  EXPECT_EQ(parsed->header.vv.at(3), (VvEntry{10, std::nullopt}));
  EXPECT_EQ(parsed->header.vv.at(0x9999), (VvEntry{2, std::nullopt}));
  auto opened = OpenChange(TestKey(), *parsed, file);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, ops);
}

TEST(ChangeFile, CorruptVersionVectorIsRefused) {
  ChangeHeader h = SampleHeader();
  auto file = SealChange(TestKey(), h, SampleOps(h.device));
  ASSERT_TRUE(file.ok());
  constexpr size_t kCount = 128, kFirst = 132, kSecond = 132 + 32;
  auto refused = [](Bytes bad, const std::string& why) {
    auto parsed = ParseChangeHeader(bad);
    ASSERT_FALSE(parsed.ok()) << why;
    EXPECT_EQ(parsed.status().code(), Code::kCorrupt) << why;
  };
  Bytes unsorted = *file;  // second device id below the first
  std::fill(unsorted.begin() + kSecond, unsorted.begin() + kSecond + 8, 0);
  unsorted[kSecond] = 1;
  refused(unsorted, "unsorted");
  Bytes zero_seq = *file;
  std::fill(zero_seq.begin() + kFirst + 8, zero_seq.begin() + kFirst + 16, 0);
  refused(zero_seq, "seq 0");
  Bytes too_many = *file;  // more entries than bytes: refused before allocating
  too_many[kCount + 3] = 0x7f;
  refused(too_many, "count beyond the file");
  Bytes over_limit = *file;
  over_limit[kCount + 2] = 0x01;  // 65536 + 2 entries
  refused(over_limit, "count over the limit");
  // A version 2 file read with version 1's entry size would misparse: the count no longer
  // fits the layout and the tag fails.
  Bytes as_v1 = *file;
  as_v1[8] = 1;
  auto parsed = ParseChangeHeader(as_v1);
  EXPECT_TRUE(!parsed.ok() || !OpenChange(TestKey(), *parsed, as_v1).ok());
  Bytes future = *file;
  future[8] = 4;  // version 3 is the signed format (decision 0036)
  refused(future, "version 4");
}

TEST(ChangeFile, FreshSaltAndNonceEveryTime) {
  ChangeHeader h1 = SampleHeader(), h2 = h1;
  auto ops = SampleOps(h1.device);
  auto a = SealChange(TestKey(), h1, ops), b = SealChange(TestKey(), h2, ops);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(h1.salt, h2.salt);
  EXPECT_NE(h1.nonce, h2.nonce);
  EXPECT_NE(*a, *b);
}

TEST(ChangeFile, AnyFlippedByteIsRefused) {
  ChangeHeader h = SampleHeader();
  auto file = SealChange(TestKey(), h, SampleOps(h.device));
  ASSERT_TRUE(file.ok());
  for (size_t i = 0; i < file->size(); ++i) {
    Bytes bad = *file;
    bad[i] ^= 0x01;
    auto parsed = ParseChangeHeader(bad);
    bool refused = !parsed.ok() || !OpenChange(TestKey(), *parsed, bad).ok();
    EXPECT_TRUE(refused) << "byte " << i;
  }
}

TEST(ChangeFile, TruncationAndWrongKeyAreRefused) {
  ChangeHeader h = SampleHeader();
  auto file = SealChange(TestKey(), h, SampleOps(h.device));
  ASSERT_TRUE(file.ok());
  for (size_t cut : {size_t{0}, size_t{7}, size_t{100}, file->size() - 1}) {
    ByteSpan part = ByteSpan(*file).first(cut);
    auto parsed = ParseChangeHeader(part);
    EXPECT_TRUE(!parsed.ok() || !OpenChange(TestKey(), *parsed, part).ok()) << cut;
  }
  std::array<uint8_t, crypto::kKeySize> other;
  other.fill(1);
  auto parsed = ParseChangeHeader(*file);
  ASSERT_TRUE(parsed.ok());
  auto wrong = OpenChange(crypto::SecretKey(other), *parsed, *file);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kCorrupt);
}

TEST(ChangeFile, ForeignBytesAreNotAChangeFile) {
  std::string text = "hello, I am not a change file at all";
  auto parsed = ParseChangeHeader(AsBytes(text));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("bad magic"), std::string::npos);
}

TEST(KeyFile, WrapUnwrapAndWrongPassphrase) {
  KeyFileInfo info{NewJournalId(), 77, {10, 8, 1}};
  auto file = WrapMasterKey(TestKey(), "hunter2", info);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->size(), kKeyFileSize);
  auto read = ReadKeyFileInfo(*file);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->journal, info.journal);
  EXPECT_EQ(read->key_id, 77u);
  EXPECT_EQ(read->params.log2_n, 10);
  auto key = UnwrapMasterKey(*file, "hunter2");
  ASSERT_TRUE(key.ok());
  const crypto::SecretKey expected = TestKey();
  EXPECT_EQ(Bytes(key->data(), key->data() + 32), Bytes(expected.data(), expected.data() + 32));
  auto wrong = UnwrapMasterKey(*file, "hunter3");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("wrong passphrase"), std::string::npos);
  Bytes weakened = *file;
  weakened[11] = 5;  // log2(N) below the floor
  EXPECT_FALSE(UnwrapMasterKey(weakened, "hunter2").ok());
}

TEST(DeviceFile, RoundTripAndTamper) {
  DeviceInfo info{NewJournalId(), 0xabc, 5, "Laptop", "linux", 123, "folder"};
  auto file = SealDeviceFile(TestKey(), info);
  ASSERT_TRUE(file.ok());
  auto back = OpenDeviceFile(TestKey(), *file);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "Laptop");
  EXPECT_EQ(back->device, 0xabcu);
  EXPECT_EQ(back->journal, info.journal);
  EXPECT_EQ(back->provider, "folder");
  Bytes bad = *file;
  bad[bad.size() / 2] ^= 1;
  EXPECT_FALSE(OpenDeviceFile(TestKey(), bad).ok());
}

}  // namespace
}  // namespace jsync::format
