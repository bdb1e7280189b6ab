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

}  // namespace jsync::provider
