#include "core/util/escape.h"

#include <gtest/gtest.h>

namespace jsync {
namespace {

TEST(EscapeForDisplay, PassesPrintableUtf8) {
  EXPECT_EQ(EscapeForDisplay("Day one — café 日記"), "Day one — café 日記");
}

TEST(EscapeForDisplay, EscapesControlsAndBackslash) {
  EXPECT_EQ(EscapeForDisplay("a\nb\tc\rd\\e"), "a\\nb\\tc\\rd\\\\e");
  EXPECT_EQ(EscapeForDisplay(std::string("\x1b[31mred\x7f", 9)), "\\x1b[31mred\\x7f");
  EXPECT_EQ(EscapeForDisplay(std::string("x\0y", 3)), "x\\x00y");
  EXPECT_EQ(EscapeForDisplay("\xc2\x9b"), "\\u{9b}");  // C1 CSI
}

TEST(EscapeForDisplay, EscapesInvalidUtf8BytesOneByOne) {
  EXPECT_EQ(EscapeForDisplay("ok\xff\xc3"), "ok\\xff\\xc3");
  EXPECT_EQ(EscapeForDisplay("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
}

}  // namespace
}  // namespace jsync
