// The OneDrive plugin's pure pieces, compiled here without loading the plugin (they are
// header-only): QuickXorHash against rclone's vectors, item names that round-trip any object
// name, Graph's path addressing, upload-fragment arithmetic and the origin check on links.
#include "providers/onedrive/onedrive_names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "providers/onedrive/quickxorhash.h"

namespace {

using namespace jsync_onedrive;

std::string FromBase64(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    acc = (acc << 6) | static_cast<uint32_t>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string Hash(const std::string& bytes) {
  return QuickXorHashBase64(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// rclone backend/onedrive/quickxorhash/quickxorhash_test.go (reference §14).
TEST(OnedriveQuickXorHash, MatchesRclonesVectors) {
  EXPECT_EQ(Hash(""), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  EXPECT_EQ(Hash(FromBase64("Sg==")), "SgAAAAAAAAAAAAAAAQAAAAAAAAA=");
  EXPECT_EQ(Hash(FromBase64("tbQ=")), "taAFAAAAAAAAAAAAAgAAAAAAAAA=");
  EXPECT_EQ(Hash(FromBase64("T6LYJIfDh81JrAK309H2JMJTXis=")), "zBTHrspn3mEcohlJdIUAbjGNaNg=");
}

TEST(OnedriveQuickXorHash, PiecesHashLikeTheWhole) {
  std::string data;
  uint32_t x = 12345;  // fixed seed: deterministic
  for (int i = 0; i < 100000; ++i) {
    x = x * 1103515245u + 12345u;
    data.push_back(static_cast<char>(x >> 24));
  }
  QuickXorHash pieces;
  for (size_t at = 0; at < data.size(); at += 777) {
    const size_t n = std::min<size_t>(777, data.size() - at);
    pieces.Update(reinterpret_cast<const uint8_t*>(data.data() + at), n);
  }
  EXPECT_EQ(pieces.Base64(), Hash(data));
  EXPECT_NE(Hash(data), Hash(data.substr(1)));
}

TEST(OnedriveNames, JournalNamesAreStoredUnchanged) {
  for (const char* name : {"000000000000002a.jchg", "journal-0123abcd", "device-7.jdev", "keys"}) {
    EXPECT_EQ(EncodeName(name), name);
  }
  EXPECT_EQ(ItemPath("journal", "changes/d/1"), "journal/changes/d/1");
  EXPECT_EQ(ItemPath("a/b", ""), "a/b");
}

TEST(OnedriveNames, EveryObjectNameRoundTrips) {
  const std::vector<std::string> names = {
      "question?hash#", "per%25cent %41",    "a+b=c&d;e,f@g!h'i(j)~$", " leading",   "trailing ",
      "dot.",           "a:b*c<d>e\"f|g\\h", "日本語 file.txt",        "naïve café", "tab\there"};
  for (const std::string& n : names) {
    const std::string stored = EncodeName(n);
    EXPECT_EQ(DecodeName(stored), n) << n;
    for (char c : std::string("\"*:<>?\\|#")) {
      EXPECT_EQ(stored.find(c), std::string::npos) << n << " -> " << stored;
    }
    EXPECT_NE(stored.front(), ' ') << stored;
    EXPECT_NE(stored.back(), ' ') << stored;
    EXPECT_NE(stored.back(), '.') << stored;
  }
  std::string path;
  ASSERT_TRUE(ObjectPathOf("journal", ItemPath("journal", "odd/question?hash#"), &path));
  EXPECT_EQ(path, "odd/question?hash#");
  EXPECT_FALSE(ObjectPathOf("journal", "journal", &path)) << "the folder itself is no object";
  EXPECT_FALSE(ObjectPathOf("journal", "journalx/a", &path));
  EXPECT_FALSE(ObjectPathOf("journal", "other/a", &path));
  // A '%' another client wrote without two hex digits after it stays as it is.
  EXPECT_EQ(DecodeName("100%"), "100%");
  EXPECT_EQ(DecodeName("a%zzb"), "a%zzb");
}

TEST(OnedriveNames, GraphPathAddressing) {
  const std::string g = "https://graph.microsoft.com/v1.0";
  EXPECT_EQ(ItemAddress(g, ""), g + "/me/drive/special/approot");
  EXPECT_EQ(ItemAddress(g, "journal/changes/d/1"),
            g + "/me/drive/special/approot:/journal/changes/d/1:");
  EXPECT_EQ(ItemAddress(g, ItemPath("journal", "with space/é?")),
            g + "/me/drive/special/approot:/journal/with%20space/%C3%A9%253F:");
  EXPECT_TRUE(IsTemporary("changes/d/.jsync-tmp-1-abc"));
  EXPECT_FALSE(IsTemporary("changes/.jsync-tmp-dir/1"));
}

TEST(OnedriveUploadMath, FragmentsAndExpectedRanges) {
  EXPECT_TRUE(ValidFragmentSize(327680));
  EXPECT_TRUE(ValidFragmentSize(10 * 327680));
  EXPECT_TRUE(ValidFragmentSize(62914560));
  EXPECT_FALSE(ValidFragmentSize(0));
  EXPECT_FALSE(ValidFragmentSize(327681));
  EXPECT_FALSE(ValidFragmentSize(62914560 + 327680));
  const uint64_t total = 900000, f = 327680;
  EXPECT_EQ(FragmentEnd(0, total, f), 327680u);
  EXPECT_EQ(FragmentEnd(655360, total, f), total);
  EXPECT_EQ(FragmentRange(0, 327680, total), "bytes 0-327679/900000");
  EXPECT_EQ(FragmentRange(655360, total, total), "bytes 655360-899999/900000");
  uint64_t start = 0;
  ASSERT_TRUE(NextExpectedStart({"26-"}, 100, &start));
  EXPECT_EQ(start, 26u);
  ASSERT_TRUE(NextExpectedStart({"50-60", "12-20"}, 100, &start));
  EXPECT_EQ(start, 12u);
  EXPECT_FALSE(NextExpectedStart({}, 100, &start));
  EXPECT_FALSE(NextExpectedStart({"x-"}, 100, &start));
  EXPECT_FALSE(NextExpectedStart({"100-"}, 100, &start)) << "past the end";
}

TEST(OnedriveLinks, StayOnTheApiOrigin) {
  const std::string origin = OriginOf("http://127.0.0.1:8080");
  EXPECT_EQ(origin, "http://127.0.0.1:8080");
  EXPECT_TRUE(SameOrigin("http://127.0.0.1:8080/v1.0/me/drive/root/delta?token=x", origin));
  EXPECT_FALSE(SameOrigin("http://127.0.0.1:8081/v1.0/x", origin));
  EXPECT_FALSE(SameOrigin("https://127.0.0.1:8080/v1.0/x", origin));
  EXPECT_FALSE(SameOrigin("http://127.0.0.1:8080@evil.example/v1.0/x", origin));
  EXPECT_FALSE(SameOrigin("http://evil.example/?http://127.0.0.1:8080", origin));
  EXPECT_EQ(OriginOf("HTTPS://Graph.Microsoft.com/v1.0"), "https://graph.microsoft.com");
  EXPECT_EQ(OriginOf("ftp://x"), "");
}

}  // namespace
