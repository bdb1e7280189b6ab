// The iCloud plugin's record names (header-only, compiled here without loading the plugin):
// reversible for every object path, ASCII, never a leading '_', one spelling per path.
#include "providers/icloud/ck_names.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

using namespace jsync_icloud;

TEST(IcloudNames, RecordNamesAreReadableAndReversible) {
  EXPECT_EQ(ReadableRecordNameOf("changes/d1/000001.chg").value(), "j.changes.d1.000001_2Echg");
  EXPECT_EQ(PathOfRecordName("j.changes.d1.000001_2Echg").value(), "changes/d1/000001.chg");
  EXPECT_EQ(ReadableRecordNameOf("keys/a b+c").value(), "j.keys.a_20b_2Bc");
  EXPECT_EQ(ZoneNameOf("journal"), "jsync-journal");
  EXPECT_EQ(ZoneNameOf("my journal"), "jsync-my_20journal");
}

TEST(IcloudNames, EveryPathRoundTrips) {
  const uint32_t seed = 20261203;
  std::mt19937 rng(seed);
  for (int i = 0; i < 2000; ++i) {
    std::string path;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) path.push_back(static_cast<char>(1 + rng() % 255));
    const auto name = ReadableRecordNameOf(path);
    if (!name) {
      EXPECT_GT(path.size() * 3 + 2, kMaxRecordName) << "seed " << seed;
      continue;
    }
    EXPECT_LE(name->size(), kMaxRecordName);
    EXPECT_NE((*name)[0], '_');
    for (const char c : *name) EXPECT_TRUE(c > 0x20 && c < 0x7f) << "seed " << seed;
    EXPECT_EQ(PathOfRecordName(*name).value_or("(none)"), path) << "seed " << seed;
  }
}

TEST(IcloudNames, NamesThisPluginNeverMakesAreNotPaths) {
  for (const char* name :
       {"", "j.", "x.changes", "_defaultZone", "j.a~1", "j.a_2", "j.a_zz", "j.a_41", "j.a_2F",
        "j.a b"}) {
    EXPECT_FALSE(PathOfRecordName(name).has_value()) << name;
  }
  EXPECT_EQ(PartRecordName("j.a", "0123456789abcdef0123", 3), "j.a~0123456789abcdef~3");
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));
  EXPECT_FALSE(IsValidUtf8("a\xff"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(ReadableRecordNameOf(std::string(300, 'a')).has_value());
}

}  // namespace
