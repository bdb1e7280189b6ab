#include "core/provider/provider.h"

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

Result<Bytes> Provider::GetRange(const std::string& path, uint64_t offset, uint64_t length) {
  JSYNC_ASSIGN_OR_RETURN(Bytes all, Get(path));
  if (offset >= all.size()) return Bytes();
  const uint64_t end = length > all.size() - offset ? all.size() : offset + length;
  return Bytes(all.begin() + static_cast<std::ptrdiff_t>(offset),
               all.begin() + static_cast<std::ptrdiff_t>(end));
}

}  // namespace jsync::provider
