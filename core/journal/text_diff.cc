#include "core/journal/text_diff.h"

#include <dtl/dtl.hpp>

namespace jsync {

std::vector<Splice> DiffToSplices(const std::u32string& from, const std::u32string& to) {
  size_t prefix = 0;
  while (prefix < from.size() && prefix < to.size() && from[prefix] == to[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < from.size() - prefix && suffix < to.size() - prefix &&
         from[from.size() - 1 - suffix] == to[to.size() - 1 - suffix]) {
    ++suffix;
  }
  const std::u32string a = from.substr(prefix, from.size() - prefix - suffix);
  const std::u32string b = to.substr(prefix, to.size() - prefix - suffix);
  std::vector<Splice> out;
  if (a.empty() && b.empty()) return out;
  if (a.empty() || b.empty()) {
    out.push_back({prefix, a.size(), b});
    return out;
  }
  dtl::Diff<char32_t, std::u32string> diff(a, b);
  diff.compose();
  size_t pos = prefix;
  Splice cur{pos, 0, {}};
  auto flush = [&]() {
    if (cur.del > 0 || !cur.ins.empty()) {
      out.push_back(cur);
      pos += cur.ins.size();
    }
  };
  for (const auto& [elem, info] : diff.getSes().getSequence()) {
    switch (info.type) {
      case dtl::SES_COMMON:
        flush();
        ++pos;
        cur = {pos, 0, {}};
        break;
      case dtl::SES_DELETE:
        ++cur.del;
        break;
      case dtl::SES_ADD:
        cur.ins.push_back(elem);
        break;
    }
  }
  flush();
  return out;
}

}  // namespace jsync
