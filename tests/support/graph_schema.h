// Checks JSON bodies against Microsoft's published Graph v1.0 metadata
// (tests/data/graph-v1-drive-schema.json: msgraph-metadata's v1.0 CSDL reduced to driveItem,
// drive, quota, uploadSession, subscription and what they reach). Used on the Graph emulator's
// request log to show that the plugin sends and the emulator answers what Graph defines.
//
// Rules, per object of a structured type (and its base types):
//  - every property name is a structural or navigation property of the type; anything else is
//    a violation — stricter than OData for driveItem (an OpenType in the CSDL): a property the
//    metadata does not declare is an invention, whoever sent it. Open *complex* types
//    (identity, identitySet, resourceData) accept undeclared properties, as Graph fills them.
//  - JSON types follow the Edm types: String → string; Guid → string in 8-4-4-4-12 hex;
//    Date → "YYYY-MM-DD"; DateTimeOffset → RFC 3339 with a zone; Duration → ISO 8601 "P…";
//    Binary → base64 string; Int16/Int32/Int64/Byte → integer (in range); Double/Single/
//    Decimal → number (or "NaN", "INF", "-INF"); Boolean → bool; an enum → one of its member
//    names; a complex or entity type → object (checked recursively); Collection(T) → array of T;
//    Stream → never inline. null only where the property is nullable.
//  - a navigation property or a type the file does not carry (graph.permission, …) only has
//    to be an object (or an array for a collection); its contents are not checked.
//  - instance annotations: see kAnnotations in graph_schema.cc — @odata.type on any object;
//    @odata.context at the top; @odata.etag, @odata.id on entities; @odata.nextLink,
//    @odata.deltaLink, @odata.count on a collection answer; @microsoft.graph.downloadUrl,
//    @microsoft.graph.conflictBehavior, @microsoft.graph.sourceUrl on driveItem and
//    @microsoft.graph.conflictBehavior on driveItemUploadableProperties; a property
//    annotation "prop@odata.*" (nextLink, count, context, type) on a declared property.
//    Anything else starting with '@' is a violation.
// Each violation is one line naming the JSON path: "$.value[2].size: expected an integer
// (Edm.Int64), got string".
//
// Thread-safety: a loaded GraphSchema is immutable; Check may run on many threads.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::testing {

class GraphSchema {
 public:
  static Result<GraphSchema> Load(const std::filesystem::path& file);

  // Violations of `body` as an instance of `type`; empty when it conforms. `type`:
  //  - a type name, with or without a namespace ("driveItem", "graph.driveItem",
  //    "microsoft.graph.driveItem");
  //  - "Collection(T)": Graph's collection answer {"value":[T…], "@odata.nextLink"…};
  //  - "odata.error": Graph's error body {"error":{"code","message","innerError":{…}}};
  //  - "action:NAME": the parameters of the bound action NAME as a request body
  //    (e.g. "action:createUploadSession": {"item":{…}, "deferCommit":…}).
  std::vector<std::string> Check(const nlohmann::json& body, const std::string& type) const;
  // The same as Check(body, "Collection(" + item_type + ")").
  std::vector<std::string> CheckCollection(const nlohmann::json& body,
                                           const std::string& item_type) const;
  // The same as Check(body, "odata.error").
  std::vector<std::string> CheckError(const nlohmann::json& body) const;

  // True when the file defines the structured type `name` (namespace optional).
  bool HasType(const std::string& name) const;
  // The file's `source` (where the metadata came from).
  const std::string& source() const { return source_; }

  struct Property {
    std::string type;  // "Edm.String", "graph.file", "Collection(graph.driveItem)"
    bool nullable = true;
    bool navigation = false;
  };
  struct Type {
    std::string name, base, kind;  // kind: "EntityType" | "ComplexType"
    bool open = false;
    std::map<std::string, Property> properties;  // structural and navigation
  };

 private:
  void CheckValue(const nlohmann::json& v, const Property& p, const std::string& path,
                  std::vector<std::string>* out) const;
  void CheckObject(const nlohmann::json& v, const std::string& type, const std::string& path,
                   bool top, std::vector<std::string>* out) const;
  void CheckInnerError(const nlohmann::json& v, const std::string& path,
                       std::vector<std::string>* out) const;
  const Type* FindType(const std::string& name) const;
  const Property* FindProperty(const Type& t, const std::string& name) const;
  bool IsEntity(const Type& t) const;

  std::string source_;
  std::map<std::string, Type> types_;                               // short name → type
  std::map<std::string, std::vector<std::string>> enums_;           // short name → members
  std::map<std::string, std::map<std::string, Property>> actions_;  // bound action parameters
};

// The type to check a logged Graph emulator request or answer against (for Check): for the
// request body (`is_request`) or the answer of `method path` with `status`. "" when that body
// is not Graph JSON: identity endpoints, content uploads and downloads, empty answers.
// Answers with status >= 400 are "odata.error".
std::string GraphTypeForRequest(const std::string& method, const std::string& path, int status,
                                bool is_request);

}  // namespace jsync::testing
