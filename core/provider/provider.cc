#include "core/provider/provider.h"

#include <cstdio>

#include "core/util/escape.h"

namespace jsync::provider {

Status ValidateObjectPath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') {
    return Status::Invalid("object path must be relative and name a file: '" + path + "'");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view part(path.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::Invalid("object path has an empty, '.' or '..' component: '" + path + "'");
    }
    if (part.find('\0') != std::string_view::npos || part.find('\\') != std::string_view::npos) {
      return Status::Invalid("object path has a forbidden character");
    }
    start = end + 1;
  }
  return Status::Ok();
}

std::string SizeText(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  char buf[48];
  if (bytes < (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  } else if (bytes < (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / 1048576.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / 1073741824.0);
  }
  return buf;
}

Status TooLarge(const std::string& path, uint64_t size_or_more, bool exact, uint64_t max_size) {
  return Status::Corrupt(EscapeForDisplay(path) + " is " + (exact ? "" : "more than ") +
                         SizeText(size_or_more) + ", over the " + SizeText(max_size) +
                         " limit for this kind of file; it was not read");
}

Result<Bytes> Provider::GetRange(const std::string& path, uint64_t offset, uint64_t length) {
  // For providers without ranged reads (test doubles); every real provider overrides it and
  // reads only the range.
  JSYNC_ASSIGN_OR_RETURN(Bytes all, Get(path, kNoSizeLimit));
  if (offset >= all.size()) return Bytes();
  const uint64_t end = length > all.size() - offset ? all.size() : offset + length;
  return Bytes(all.begin() + static_cast<std::ptrdiff_t>(offset),
               all.begin() + static_cast<std::ptrdiff_t>(end));
}

std::vector<Result<Bytes>> Provider::GetMany(const std::vector<GetRequest>& requests) {
  std::vector<Result<Bytes>> out;
  out.reserve(requests.size());
  for (const GetRequest& r : requests) out.push_back(Get(r.path, r.max_size));
  return out;
}

}  // namespace jsync::provider
