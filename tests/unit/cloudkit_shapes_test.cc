// The CloudKit shape checker on hand-made bodies: what both descriptions allow passes, what
// neither declares is one violation naming its JSON path.
#include "tests/support/cloudkit_shapes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace {

using jsync::testing::CloudKitShapes;
using nlohmann::json;

CloudKitShapes Load() {
  auto s = CloudKitShapes::Load(JSYNC_CLOUDKIT_OPENAPI, JSYNC_CLOUDKIT_REFERENCE);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

TEST(CloudKitShapes, ThePluginsRequestsConform) {
  const CloudKitShapes s = Load();
  const json modify = {
      {"operations",
       {{{"operationType", "create"},
         {"record",
          {{"recordName", "j.a"},
           {"recordType", "JFile"},
           {"fields", {{"path", {{"value", "a"}}}, {"size", {{"value", 3}}}}}}}}}},
      {"zoneID", {{"zoneName", "jsync-journal"}}},
      {"atomic", false},
      {"desiredKeys", json::array()}};
  EXPECT_TRUE(s.CheckRequest("records/modify", modify).empty());
  const json changes = {{"zones", {{{"zoneID", {{"zoneName", "z"}}}, {"resultsLimit", 200}}}}};
  EXPECT_TRUE(s.CheckRequest("changes/zone", changes).empty());
  EXPECT_FALSE(s.InOpenApi("changes/zone"));
  EXPECT_TRUE(s.InOpenApi("records/lookup"));
}

TEST(CloudKitShapes, InventionsAndWrongTypesAreViolations) {
  const CloudKitShapes s = Load();
  json modify = {{"operations", {{{"operationType", "upsert"}, {"record", {{"recordName", 1}}}}}},
                 {"zoneId", {{"zoneName", "z"}}}};
  const auto v = s.CheckRequest("records/modify", modify);
  ASSERT_EQ(v.size(), 3u) << testing::PrintToString(v);
  EXPECT_NE(v[0].find("$.operations[0].operationType"), std::string::npos) << v[0];
  EXPECT_NE(v[1].find("$.operations[0].record.recordName: expected string"), std::string::npos) << v[1];
  EXPECT_NE(v[2].find("$.zoneId: not in the OpenAPI description nor in icloud.md"), std::string::npos) << v[2];
  EXPECT_EQ(s.CheckRequest("records/teleport", json::object()).size(), 1u);
}

TEST(CloudKitShapes, AnswersWithRecordErrorsAndErrorBodies) {
  const CloudKitShapes s = Load();
  const json answer = {{"records",
                        {{{"recordName", "j.a"},
                          {"recordType", "JFile"},
                          {"recordChangeTag", "t1"},
                          {"fields", {{"size", {{"value", 3}, {"type", "INT64"}}}}},
                          {"created", {{"timestamp", 1}, {"userRecordName", "_u"}, {"deviceID", "d"}}}},
                         {{"recordName", "j.b"}, {"serverErrorCode", "EXISTS"}, {"reason", "x"},
                          {"uuid", "u"}}}}};
  EXPECT_TRUE(s.CheckResponse("records/modify", 200, answer).empty())
      << testing::PrintToString(s.CheckResponse("records/modify", 200, answer));
  const json throttled = {{"uuid", "u"}, {"serverErrorCode", "THROTTLED"}, {"reason", "slow down"},
                          {"retryAfter", 3}};
  EXPECT_TRUE(s.CheckResponse("records/modify", 429, throttled).empty());
  const json invented = {{"uuid", "u"}, {"serverErrorCode", "TEAPOT"}};
  EXPECT_EQ(s.CheckResponse("records/modify", 418, invented).size(), 1u);
  const json db = {{"zones", json::array()}, {"syncToken", "t"}, {"moreComing", false}};
  EXPECT_TRUE(s.CheckResponse("changes/database", 200, db).empty());
  EXPECT_EQ(s.CheckResponse("changes/database", 200, json{{"zones", json::array()}}).size(), 2u);
}

}  // namespace
