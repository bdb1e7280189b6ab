// The Graph schema checker (tests/support/graph_schema.h) on bodies shaped like Microsoft's
// documentation examples: valid ones pass, and each kind of mistake is exactly one violation
// that names its JSON path.
#include "tests/support/graph_schema.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace jsync::testing {
namespace {

using nlohmann::json;

#ifdef JSYNC_GRAPH_SCHEMA
constexpr const char* kSchemaFile = JSYNC_GRAPH_SCHEMA;
#else
constexpr const char* kSchemaFile = "";
#endif

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "\n  " + s;
  return out;
}

class GraphSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (*kSchemaFile == '\0') GTEST_SKIP() << "JSYNC_GRAPH_SCHEMA is defined with the emulator";
    auto s = GraphSchema::Load(kSchemaFile);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    schema_ = std::make_unique<GraphSchema>(std::move(s).value());
  }

  void ExpectValid(const json& body, const std::string& type) {
    const auto v = schema_->Check(body, type);
    EXPECT_TRUE(v.empty()) << type << ":" << Joined(v);
  }
  // Exactly one violation, and it names `path` (followed by ':').
  void ExpectOne(const json& body, const std::string& type, const std::string& path) {
    const auto v = schema_->Check(body, type);
    ASSERT_EQ(v.size(), 1u) << type << ":" << Joined(v);
    EXPECT_EQ(v[0].rfind(path + ":", 0), 0u) << v[0];
  }

  static json File() {
    return {{"@odata.context",
             "https://graph.microsoft.com/v1.0/$metadata#drives('b!x')/items/$entity"},
            {"@microsoft.graph.downloadUrl", "https://public.bn.files.1drv.com/y4m"},
            {"createdDateTime", "2024-03-01T10:20:30Z"},
            {"cTag", "\"c:{A1B2},1\""},
            {"eTag", "\"{A1B2},1\""},
            {"id", "01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K"},
            {"lastModifiedDateTime", "2024-03-01T10:20:30.123Z"},
            {"name", "000001.chg"},
            {"size", 1234},
            {"webUrl", "https://1drv.ms/u/s!x"},
            {"createdBy",
             {{"application", {{"displayName", "jsync"}, {"id", "44048800"}}},
              {"user", {{"displayName", "Ann"}, {"id", "b0d4"}}}}},
            {"lastModifiedBy", {{"user", {{"displayName", "Ann"}, {"id", "b0d4"}}}}},
            {"parentReference",
             {{"driveId", "b0d4"},
              {"driveType", "personal"},
              {"id", "B0D4!103"},
              {"path", "/drive/root:/Apps/jsync/devices"}}},
            {"file",
             {{"mimeType", "application/octet-stream"},
              {"hashes",
               {{"quickXorHash", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
                {"sha1Hash", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"}}}}},
            {"fileSystemInfo",
             {{"createdDateTime", "2024-03-01T10:20:30Z"},
              {"lastModifiedDateTime", "2024-03-01T10:20:30+01:00"}}}};
  }

  std::unique_ptr<GraphSchema> schema_;
};

TEST_F(GraphSchemaTest, LoadsMicrosoftsMetadataWithItsSource) {
  EXPECT_NE(schema_->source().find("msgraph-metadata"), std::string::npos) << schema_->source();
  for (const char* t : {"driveItem", "graph.drive", "microsoft.graph.quota", "uploadSession",
                        "subscription", "itemReference"})
    EXPECT_TRUE(schema_->HasType(t)) << t;
  EXPECT_FALSE(schema_->HasType("permission")) << "reachable by navigation only: not carried";
  EXPECT_FALSE(GraphSchema::Load("/nonexistent/graph.json").ok());
}

TEST_F(GraphSchemaTest, ValidDriveItemsPass) {
  ExpectValid(File(), "driveItem");
  ExpectValid(File(), "microsoft.graph.driveItem");
  ExpectValid({{"id", "F1"},
               {"name", "devices"},
               {"folder", {{"childCount", 3}, {"view", {{"viewType", "thumbnails"}}}}},
               {"specialFolder", {{"name", "approot"}}},
               {"size", 0}},
              "driveItem");
  ExpectValid({{"id", "F2"}, {"deleted", {{"state", "deleted"}}}, {"root", json::object()}},
              "driveItem");
  // A request body: a folder to create, with the conflict annotation.
  ExpectValid({{"name", "snapshots"},
               {"folder", json::object()},
               {"@microsoft.graph.conflictBehavior", "fail"}},
              "driveItem");
  // Navigation properties exist on the type; their own types are not in the file.
  ExpectValid({{"id", "F3"}, {"thumbnails", json::array({json::object()})}}, "driveItem");
  // Nullable properties may be null.
  ExpectValid({{"id", "F4"}, {"file", nullptr}, {"size", nullptr}}, "driveItem");
}

TEST_F(GraphSchemaTest, ValidQuotaDriveUploadSessionSubscriptionPass) {
  const json quota = {
      {"deleted", 256938}, {"remaining", 1099447353539},
      {"state", "normal"}, {"total", 1099511627776},
      {"used", 65601037},  {"storagePlanInformation", {{"upgradeAvailable", true}}}};
  ExpectValid(quota, "quota");
  ExpectValid({{"id", "b0d4"},
               {"driveType", "personal"},
               {"owner", {{"user", {{"displayName", "Ann"}, {"id", "b0d4"}}}}},
               {"quota", quota}},
              "drive");
  ExpectValid({{"@odata.context",
                "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.uploadSession"},
               {"uploadUrl", "https://sn3302.up.1drv.com/up/fe6987415ace7X4e1eF866337"},
               {"expirationDateTime", "2015-01-29T09:21:55.523Z"},
               {"nextExpectedRanges", {"0-", "77829-99999"}}},
              "uploadSession");
  ExpectValid({{"id", "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"},
               {"resource", "/me/drive/root"},
               {"applicationId", "24d3b144-21ae-4080-943f-7067b395b913"},
               {"changeType", "updated"},
               {"clientState", "secretClientValue"},
               {"notificationUrl", "https://webhook.azurewebsites.net/api/send/myNotifyClient"},
               {"expirationDateTime", "2016-11-20T18:23:45.935Z"},
               {"creatorId", "8ee44408-0679-472c-bc2a-692812af3437"},
               {"latestSupportedTlsVersion", "v1_2"},
               {"includeResourceData", false}},
              "subscription");
  ExpectValid({{"value",
                {{{"subscriptionId", "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"},
                  {"subscriptionExpirationDateTime", "2016-11-20T18:23:45.935Z"},
                  {"tenantId", "9188040d-6c67-4c5b-b112-36a304b66dad"},
                  {"changeType", "updated"},
                  {"clientState", "secretClientValue"},
                  {"resource", "/me/drive/root"}}}}},
              "changeNotificationCollection");
}

TEST_F(GraphSchemaTest, UnknownPropertyIsOneViolationNamingItsPath) {
  json item = File();
  item["sizeInBytes"] = 5;
  ExpectOne(item, "driveItem", "$.sizeInBytes");
  item = File();
  item["file"]["hashes"]["md5Hash"] = "x";
  ExpectOne(item, "driveItem", "$.file.hashes.md5Hash");
  item = File();
  item["parentReference"]["drive-id"] = "x";
  ExpectOne(item, "driveItem", "$.parentReference[\"drive-id\"]");
}

TEST_F(GraphSchemaTest, WrongJsonTypeIsOneViolation) {
  json item = File();
  item["size"] = "1234";
  ExpectOne(item, "driveItem", "$.size");
  item = File();
  item["file"] = "application/octet-stream";
  ExpectOne(item, "driveItem", "$.file");
  ExpectOne({{"id", "F"}, {"folder", {{"childCount", 1.5}}}}, "driveItem", "$.folder.childCount");
  ExpectOne({{"id", "F"}, {"folder", {{"childCount", int64_t{1} << 40}}}}, "driveItem",
            "$.folder.childCount");
  ExpectOne({{"id", "S"}, {"includeResourceData", "false"}}, "subscription",
            "$.includeResourceData");
  ExpectOne({{"id", nullptr}}, "driveItem", "$.id");  // entity id is not nullable
}

TEST_F(GraphSchemaTest, NonArrayCollectionIsOneViolation) {
  ExpectOne({{"uploadUrl", "https://x"}, {"nextExpectedRanges", "0-"}}, "uploadSession",
            "$.nextExpectedRanges");
  ExpectOne({{"value", File()}}, "Collection(driveItem)", "$.value");
  ExpectOne({{"id", "F"}, {"children", File()}}, "driveItem", "$.children");
}

TEST_F(GraphSchemaTest, BadDateIsOneViolation) {
  for (const std::string bad :
       {"2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-03-01T10:20:30", "yesterday",
        "2024-03-01 10:20:30Z", "2024-03-01T25:00:00Z", "2023-02-29T00:00:00Z"}) {
    json item = File();
    item["lastModifiedDateTime"] = bad;
    ExpectOne(item, "driveItem", "$.lastModifiedDateTime");
  }
  ExpectOne({{"uploadUrl", "u"}, {"expirationDateTime", 1700000000}}, "uploadSession",
            "$.expirationDateTime");
  json ok = File();
  ok["lastModifiedDateTime"] = "2024-02-29T23:59:59.1234567-08:00";
  ExpectValid(ok, "driveItem");
}

TEST_F(GraphSchemaTest, GuidAndEnumValuesAreChecked) {
  const json n = {{"subscriptionId", "not-a-guid"},
                  {"subscriptionExpirationDateTime", "2016-11-20T18:23:45.935Z"},
                  {"tenantId", "9188040d-6c67-4c5b-b112-36a304b66dad"},
                  {"changeType", "updated"},
                  {"resource", "/me/drive/root"}};
  ExpectOne({{"value", {n}}}, "changeNotificationCollection", "$.value[0].subscriptionId");
  json m = n;
  m["subscriptionId"] = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07";
  m["changeType"] = "modified";
  ExpectOne({{"value", {m}}}, "changeNotificationCollection", "$.value[0].changeType");
}

TEST_F(GraphSchemaTest, AnnotationsOnlyWhereGraphPutsThem) {
  json item = File();
  item["@microsoft.graph.conflictBehavior"] = "overwrite";
  ExpectOne(item, "driveItem", "$[\"@microsoft.graph.conflictBehavior\"]");
  item = File();
  item["@microsoft.graph.downloadUrlExpiry"] = "x";
  ExpectOne(item, "driveItem", "$[\"@microsoft.graph.downloadUrlExpiry\"]");
  item = File();
  item["@odata.nextLink"] = "https://graph.microsoft.com/v1.0/next";
  ExpectOne(item, "driveItem", "$[\"@odata.nextLink\"]");
  ExpectOne({{"uploadUrl", "u"}, {"@microsoft.graph.downloadUrl", "d"}}, "uploadSession",
            "$[\"@microsoft.graph.downloadUrl\"]");
  // @odata.context is for the top of an answer, not a nested object.
  item = File();
  item["parentReference"]["@odata.context"] = "x";
  ExpectOne(item, "driveItem", "$.parentReference[\"@odata.context\"]");
  item = File();
  item["@odata.etag"] = "W/\"x\"";
  item["@odata.type"] = "#microsoft.graph.driveItem";
  item["children@odata.nextLink"] = "https://graph.microsoft.com/v1.0/next";
  ExpectValid(item, "driveItem");
  ExpectOne({{"id", "F"}, {"kids@odata.nextLink", "x"}}, "driveItem", "$[\"kids@odata.nextLink\"]");
}

TEST_F(GraphSchemaTest, CollectionAnswers) {
  json first = File();
  first.erase("@odata.context");  // an answer's context is at its top, not on its items
  json second = first;
  second["id"] = "F2";
  const json page = {
      {"@odata.context", "https://graph.microsoft.com/v1.0/$metadata#Collection(driveItem)"},
      {"value", {first, second}},
      {"@odata.nextLink", "https://graph.microsoft.com/v1.0/me/drive/root/delta?token=x"}};
  ExpectValid(page, "Collection(driveItem)");
  EXPECT_TRUE(schema_->CheckCollection(page, "driveItem").empty());
  ExpectValid({{"value", json::array()}, {"@odata.deltaLink", "https://x/delta?token=y"}},
              "Collection(graph.driveItem)");
  json bad = page;
  bad["value"][1]["size"] = "12";
  ExpectOne(bad, "Collection(driveItem)", "$.value[1].size");
  ExpectOne({{"value", json::array()}, {"nextLink", "x"}}, "Collection(driveItem)", "$.nextLink");
  EXPECT_EQ(schema_->Check({{"items", json::array()}}, "Collection(driveItem)"),
            (std::vector<std::string>{"$.value: missing",
                                      "$.items: no property 'items' on a collection answer"}));
  ExpectOne({{"value", {File()}}}, "Collection(driveItem)", "$.value[0][\"@odata.context\"]");
  ExpectOne({{"value", json::array()}, {"@odata.nextLink", "a"}, {"@odata.deltaLink", "b"}},
            "Collection(driveItem)", "$");
  ExpectOne(json::array(), "Collection(driveItem)", "$");
}

TEST_F(GraphSchemaTest, ODataErrorBodies) {
  const json error = {{"error",
                       {{"code", "itemNotFound"},
                        {"message", "Item does not exist"},
                        {"innerError",
                         {{"code", "itemNotFound"},
                          {"date", "2020-08-18T12:51:51"},
                          {"request-id", "b8e0d2ad-f0f3-4c1a-9d5e-2b9f7a1c0e11"},
                          {"client-request-id", "b8e0d2ad-f0f3-4c1a-9d5e-2b9f7a1c0e11"}}}}}};
  ExpectValid(error, "odata.error");
  EXPECT_TRUE(schema_->CheckError(error).empty());
  ExpectValid({{"error",
                {{"code", "activityLimitReached"},
                 {"message", "Throttled"},
                 {"innererror", {{"code", "throttledRequest"}, {"innererror", {{"code", "x"}}}}}}}},
              "odata.error");
  json e = error;
  e["error"].erase("code");
  ExpectOne(e, "odata.error", "$.error.code");
  e = error;
  e["error"]["innerError"]["date"] = "18/08/2020";
  ExpectOne(e, "odata.error", "$.error.innerError.date");
  e = error;
  e["error"]["status"] = 404;
  ExpectOne(e, "odata.error", "$.error.status");
  e = error;
  e["error_description"] = "x";
  ExpectOne(e, "odata.error", "$.error_description");
  EXPECT_EQ(schema_->Check({{"code", "itemNotFound"}}, "odata.error"),
            (std::vector<std::string>{"$.code: no property 'code' on an odata error body",
                                      "$.error: missing"}));
}

TEST_F(GraphSchemaTest, ActionParameters) {
  ExpectValid({{"item",
                {{"@microsoft.graph.conflictBehavior", "fail"},
                 {"name", "large.snap"},
                 {"fileSize", 819200}}},
               {"deferCommit", false}},
              "action:createUploadSession");
  ExpectOne({{"item", {{"size", 3}}}}, "action:createUploadSession", "$.item.size");
  ExpectOne({{"item", {{"name", "x"}}}, {"conflictBehavior", "fail"}}, "action:createUploadSession",
            "$.conflictBehavior");
  ExpectOne({{"item", {{"name", "x"}}}, {"deferCommit", "no"}}, "action:createUploadSession",
            "$.deferCommit");
  ExpectValid({{"parentReference", {{"id", "B0D4!103"}}}, {"name", "copy.chg"}}, "action:copy");
}

TEST(GraphSchema, TypeForEachLoggedRoute) {
  struct Case {
    const char* method;
    const char* path;
    int status;
    bool request;
    const char* type;
  };
  const Case cases[] = {
      {"GET", "/v1.0/me/drive", 200, false, "drive"},
      {"GET", "/v1.0/drives/b0d4", 200, false, "drive"},
      {"GET", "/v1.0/me/drive/special/approot", 200, false, "driveItem"},
      {"GET", "/v1.0/me/drive/special/approot:/devices/dev-0/000001.chg", 200, false, "driveItem"},
      {"GET", "/v1.0/me/drive/special/approot:/devices:/children", 200, false,
       "Collection(driveItem)"},
      {"GET", "/v1.0/me/drive/items/B0D4!103/children", 200, false, "Collection(driveItem)"},
      {"POST", "/v1.0/me/drive/items/B0D4!103/children", 201, true, "driveItem"},
      {"POST", "/v1.0/me/drive/items/B0D4!103/children", 201, false, "driveItem"},
      {"PUT", "/v1.0/me/drive/special/approot:/a/b.chg:/content", 201, true, ""},
      {"PUT", "/v1.0/me/drive/special/approot:/a/b.chg:/content", 201, false, "driveItem"},
      {"GET", "/v1.0/me/drive/items/B0D4!105/content", 302, false, ""},
      {"POST", "/v1.0/me/drive/special/approot:/s/large.snap:/createUploadSession", 200, true,
       "action:createUploadSession"},
      {"POST", "/v1.0/me/drive/special/approot:/s/large.snap:/createUploadSession", 200, false,
       "uploadSession"},
      {"PUT", "/upload/session/REDACTED", 202, false, "uploadSession"},
      {"PUT", "/upload/session/REDACTED", 201, false, "driveItem"},
      {"PUT", "/upload/session/REDACTED", 202, true, ""},
      {"GET", "/upload/session/REDACTED", 200, false, "uploadSession"},
      {"DELETE", "/upload/session/REDACTED", 204, false, ""},
      {"GET", "/download/REDACTED", 200, false, ""},
      {"GET", "/v1.0/me/drive/special/approot/delta", 200, false, "Collection(driveItem)"},
      {"GET", "/v1.0/me/drive/root/delta(token='abc')", 200, false, "Collection(driveItem)"},
      {"GET", "/v1.0/me/drive/root/microsoft.graph.delta()", 200, false, "Collection(driveItem)"},
      {"DELETE", "/v1.0/me/drive/items/B0D4!105", 204, false, ""},
      {"PATCH", "/v1.0/me/drive/items/B0D4!105", 200, true, "driveItem"},
      {"POST", "/v1.0/me/drive/items/B0D4!105/permanentDelete", 204, false, ""},
      {"POST", "/v1.0/subscriptions", 201, true, "subscription"},
      {"POST", "/v1.0/subscriptions", 201, false, "subscription"},
      {"GET", "/v1.0/subscriptions", 200, false, "Collection(subscription)"},
      {"PATCH", "/v1.0/subscriptions/7f105c7d-2dc5-4530-97cd-4e7ae6534c07", 200, true,
       "subscription"},
      {"DELETE", "/v1.0/subscriptions/7f105c7d-2dc5-4530-97cd-4e7ae6534c07", 204, false, ""},
      {"GET", "/v1.0/me/drive/items/nope", 404, false, "odata.error"},
      {"PUT", "/upload/session/REDACTED", 416, false, "odata.error"},
      {"GET", "/v1.0/me/drive/root/delta", 410, false, "odata.error"},
      {"PUT", "/v1.0/me/drive/special/approot:/a:/content", 0, false, ""},
      {"POST", "/common/oauth2/v2.0/token", 200, false, ""},
      {"POST", "/consumers/oauth2/v2.0/token", 400, false, ""},
      {"POST", "/common/oauth2/v2.0/devicecode", 200, false, ""},
      {"POST", "/devicelogin", 200, true, ""},
  };
  for (const auto& c : cases)
    EXPECT_EQ(GraphTypeForRequest(c.method, c.path, c.status, c.request), c.type)
        << c.method << " " << c.path << " " << c.status << (c.request ? " request" : " answer");
}

}  // namespace
}  // namespace jsync::testing
