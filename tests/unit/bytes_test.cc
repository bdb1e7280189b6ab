#include "core/util/bytes.h"

#include <gtest/gtest.h>

#include <limits>

#include "core/util/utf8.h"

namespace jsync {
namespace {

TEST(Bytes, VarintRoundTripsAtEveryWidth) {
  std::vector<uint64_t> values = {
      0, 1, 127, 128, 16383, 16384, uint64_t{1} << 35, std::numeric_limits<uint64_t>::max()};
  ByteWriter w;
  for (uint64_t v : values) w.Varint(v);
  ByteReader r(w.bytes());
  for (uint64_t v : values) EXPECT_EQ(r.Varint(), v);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.AtEnd());
}

TEST(Bytes, ReaderFailsInsteadOfOverrunning) {
  ByteWriter w;
  w.Str("hello");
  Bytes b = w.Take();
  b.pop_back();
  ByteReader r(b);
  EXPECT_EQ(r.Str(), "");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.U64(), 0u);  // later reads stay failed
}

TEST(Bytes, OverlongVarintIsRejected) {
  Bytes eleven(11, 0xff);
  ByteReader r(eleven);
  r.Varint();
  EXPECT_FALSE(r.ok());
}

TEST(Bytes, CountLargerThanInputFails) {
  ByteWriter w;
  w.Varint(1000);
  ByteReader r(w.bytes());
  EXPECT_EQ(r.Count(), 0u);
  EXPECT_FALSE(r.ok());
}

TEST(Bytes, FixedWidthIsLittleEndian) {
  ByteWriter w;
  w.U32(0x01020304);
  EXPECT_EQ(w.bytes(), (Bytes{4, 3, 2, 1}));
}

TEST(Bytes, HexRoundTripAndErrors) {
  Bytes b = {0x00, 0xab, 0xff};
  EXPECT_EQ(ToHex(b), "00abff");
  EXPECT_EQ(*FromHex("00ABff"), b);
  EXPECT_FALSE(FromHex("abc").ok());
  EXPECT_FALSE(FromHex("zz").ok());
}

TEST(Utf8, AcceptsValidAndRejectsInvalid) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("Grüße, 日本語, 🙂"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe6\x97"));          // truncated
}

}  // namespace
}  // namespace jsync
