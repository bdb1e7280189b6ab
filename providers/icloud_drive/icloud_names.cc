#include "icloud_names.h"

#include <cstddef>

namespace jsync_icloud_drive {
namespace {

constexpr const char kStubSuffix[] = ".icloud";
constexpr size_t kStubSuffixLen = sizeof kStubSuffix - 1;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The length of a counter (1..9999, no leading zero) ending at `end` in s (exclusive), 0 if none.
size_t CounterBefore(const std::string& s, size_t end) {
  size_t begin = end;
  while (begin > 0 && IsDigit(s[begin - 1]) && end - begin < 5) --begin;
  const size_t n = end - begin;
  if (n == 0 || n > 4 || s[begin] == '0') return 0;
  if (begin > 0 && IsDigit(s[begin - 1])) return 0;  // more than four digits
  return n;
}

// One duplicate suffix off the end of stem: " N", "_N" or "(N)". False when none is there or
// nothing would be left.
bool StripOne(std::string* stem) {
  const std::string& s = *stem;
  if (!s.empty() && s.back() == ')') {
    const size_t n = CounterBefore(s, s.size() - 1);
    const size_t open = s.size() - 1 - n;
    if (n > 0 && open > 1 && s[open - 1] == '(') {
      stem->resize(open - 1);
      return true;
    }
    return false;
  }
  const size_t n = CounterBefore(s, s.size());
  if (n == 0 || s.size() < n + 2) return false;
  const char sep = s[s.size() - n - 1];
  if (sep != ' ' && sep != '_') return false;
  stem->resize(s.size() - n - 1);
  return true;
}

}  // namespace

bool StubTarget(const std::string& file_name, std::string* real) {
  if (file_name.size() <= 1 + kStubSuffixLen || file_name[0] != '.') return false;
  if (file_name.compare(file_name.size() - kStubSuffixLen, kStubSuffixLen, kStubSuffix) != 0) {
    return false;
  }
  *real = file_name.substr(1, file_name.size() - 1 - kStubSuffixLen);
  return !real->empty() && *real != "." && *real != "..";
}

std::string StubName(const std::string& real) { return "." + real + kStubSuffix; }

bool ConflictCopyBase(const std::string& file_name, std::string* base) {
  // The extension is what follows the last dot, unless the name starts with it (".x 2").
  const size_t dot = file_name.rfind('.');
  const bool has_ext = dot != std::string::npos && dot > 0;
  std::string stem = has_ext ? file_name.substr(0, dot) : file_name;
  const std::string ext = has_ext ? file_name.substr(dot) : "";
  if (!StripOne(&stem)) return false;
  // Windows stacks counters: "a(1)(2)(2).ext".
  while (!stem.empty() && stem.back() == ')' && StripOne(&stem)) {
  }
  if (stem.empty()) return false;
  *base = stem + ext;
  return true;
}

}  // namespace jsync_icloud_drive
