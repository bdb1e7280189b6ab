// The `fields` partial-response syntax: "a,b,files(id,name),c/d", "*" for everything.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace jsync::emulator::gdrive {

struct FieldMask {
  bool all = false;                                    // "*" or a leaf: keep the whole value
  std::map<std::string, std::unique_ptr<FieldMask>> children;

  // False (with *bad naming the offending part) when `text` does not parse.
  static bool Parse(const std::string& text, FieldMask* out, std::string* bad);
  nlohmann::json Apply(const nlohmann::json& value) const;
};

// The resources the emulator returns, for validating a mask: a name → sub-schema tree where an
// empty sub-schema with `open` accepts any member (maps such as appProperties).
struct Schema {
  bool open = false;
  std::map<std::string, const Schema*> members;
};
const Schema& FileSchema();
const Schema& FileListSchema();
const Schema& ChangeListSchema();
const Schema& AboutSchema();
const Schema& GeneratedIdsSchema();
const Schema& StartPageTokenSchema();
const Schema& ChannelSchema();

// Empty when every name in `mask` exists in `schema`; otherwise the first unknown path.
std::string UnknownField(const FieldMask& mask, const Schema& schema, const std::string& prefix = "");

}  // namespace jsync::emulator::gdrive
