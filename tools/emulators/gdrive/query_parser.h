// The subset of Drive's search language (files.list `q`) the emulator understands:
//   'ID' in parents
//   name = | != | contains 'text'        (contains on name is a prefix match, as on Drive)
//   mimeType = | != | contains 'text'
//   trashed = | != true|false, starred = | != true|false
//   createdTime | modifiedTime  < <= = != > >=  'RFC 3339'
//   appProperties | properties has { key='k' and value='v' }
//   and / or / not, parentheses; strings in single quotes with \' and \\ escapes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::emulator::gdrive {

// What a query term can see of a file.
struct QueryFile {
  std::string name;
  std::string mime_type;
  std::vector<std::string> parents;  // real ids plus the aliases that name them
  bool trashed = false;
  bool starred = false;
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
  const std::map<std::string, std::string>* app_properties = nullptr;
  const std::map<std::string, std::string>* properties = nullptr;
};

class Query {
 public:
  struct Node;
  // kInvalid with a message naming the problem.
  static Result<std::shared_ptr<const Query>> Parse(const std::string& q);
  bool Matches(const QueryFile& file) const;
  ~Query();

 private:
  std::unique_ptr<Node> root_;
};

}  // namespace jsync::emulator::gdrive
