// Checks CloudKit Web Services request and answer bodies against the two descriptions we have:
// MistKit's OpenAPI description (tests/data/cloudkit-openapi-mistkit.json, third party,
// incomplete) and what ../shared/reference/icloud.md's tables add to it
// (tests/data/cloudkit-reference-shapes.json: each addition cites its section). Used on the
// CloudKit emulator's request log to show that the plugin sends and the emulator answers what
// CloudKit documents.
//
// Rules (a small JSON Schema subset, the one the OpenAPI file uses):
//  - $ref to #/components/schemas/NAME; oneOf and anyOf both mean "matches one branch at
//    least" (the file's oneOf lists overlapping value types: a STRING and a BYTES value are both
//    strings); type, enum, required, items, properties, additionalProperties.
//  - Strict objects: a property that neither the OpenAPI schema nor the reference additions
//    declare for that object is a violation ("$.records[0].fields.x: not in the OpenAPI
//    description nor in icloud.md"), whatever the OpenAPI default says.
//  - Where a schema is expected, the reference's alternatives are accepted too (a record
//    error dictionary in place of a record, icloud.md §3).
// Each violation is one line naming the JSON path.
//
// Thread-safety: a loaded checker is immutable.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::testing {

class CloudKitShapes {
 public:
  static Result<CloudKitShapes> Load(const std::filesystem::path& openapi,
                                     const std::filesystem::path& reference);

  // `op`: the path after /database/1/{container}/{environment}/{database}/ ("records/modify"),
  // or one of the reference's own operations ("asset-upload-post" for the POST of asset bytes).
  // Violations of a request body; an op neither description has is one violation itself.
  std::vector<std::string> CheckRequest(const std::string& op, const nlohmann::json& body) const;
  // Violations of an answer body with HTTP `status` (an error body for anything but 200).
  std::vector<std::string> CheckResponse(const std::string& op, int status,
                                         const nlohmann::json& body) const;
  // Whether the OpenAPI description itself covers `op` (else only the reference does).
  bool InOpenApi(const std::string& op) const;

 private:
  void Validate(const nlohmann::json& schema, const nlohmann::json& value, const std::string& name,
                const std::string& path, std::vector<std::string>* out, int depth) const;
  const nlohmann::json* Resolve(const nlohmann::json& schema, std::string* name) const;
  const nlohmann::json* Operation(const std::string& op) const;
  nlohmann::json openapi_;
  nlohmann::json reference_;
};

}  // namespace jsync::testing
