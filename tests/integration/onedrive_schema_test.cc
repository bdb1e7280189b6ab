// The schema check: a representative workload of the OneDrive plugin (small and
// session uploads, a repeated create, reads whole and in part, paged listings, removals, the
// delta feed from scratch and from a cursor, quota, a subscription, and the error answers of
// throttling, a full drive and a locked item) against the Graph emulator, personal and business.
// Every JSON body the plugin sent and every JSON body the emulator answered, as the emulator's
// request log recorded them, is checked against Microsoft's published Graph v1.0 metadata
// (tests/data/graph-v1-drive-schema.json): property names exist on the type, JSON types match
// the Edm types, collections are arrays. 0 violations.
#if __has_include("tests/support/graph_schema.h") && \
                  __has_include("tests/support/onedrive_emulator.h")
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "host/plugin_loader.h"
#include "net/local_http_server.h"
#include "tests/support/direct_instance.h"
#include "tests/support/graph_schema.h"
#include "tests/support/linked_account.h"
#include "tests/support/onedrive_emulator.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using gdrive_testing::DirectInstance;
using nlohmann::json;

#if defined(JSYNC_ONEDRIVE_PLUGIN) && defined(JSYNC_GRAPH_SCHEMA)
constexpr const char* kPluginFile = JSYNC_ONEDRIVE_PLUGIN;
constexpr const char* kSchemaFile = JSYNC_GRAPH_SCHEMA;
#else
constexpr const char* kPluginFile = "";
constexpr const char* kSchemaFile = "";
#endif

std::string Bytes(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + (i * 131) % 251);
  return s;
}

class OnedriveSchemaTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (*kPluginFile == '\0') GTEST_SKIP() << "built without the onedrive plugin";
    auto schema = testing::GraphSchema::Load(kSchemaFile);
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    schema_ = std::make_unique<testing::GraphSchema>(std::move(schema).value());
  }

  // The workload; `business` runs it on a business drive (root delta).
  void RunWorkload(bool business) {
    // Faults land on the requests with these numbers: their answers are Graph error bodies.
    testing::OnedriveEmulatorOptions eo;
    eo.args = {"--device-interval", "0", "--faults", "429:1@6,503:1@15,423@24"};
    if (business) eo.args.push_back("--business");
    std::string error;
    emulator_ = testing::OnedriveEmulator::Start(eo, &error);
    ASSERT_NE(emulator_, nullptr) << error;
    auto plugin = provider::LoadPlugin(kPluginFile);
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    // A work or school drive's feed is the root's delta, which needs the whole-drive scope.
    const json link_extra =
        business ? json{{"scopes", "Files.ReadWrite offline_access"}} : json::object();
    auto creds = gdrive_testing::LinkEmulatorAccount(*plugin, emulator_->base_url(),
                                                     home_.path().string(), link_extra);
    ASSERT_TRUE(creds.ok()) << creds.status().ToString();
    const std::string config = json{
        {"api_base", emulator_->base_url()},
        {"simple_upload_max", "65536"},
        {"fragment_size", "327680"},
        {"page_size", "2"}}.dump();
    auto opened = DirectInstance::Open(*plugin, "journal", config, *creds);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    DirectInstance& d = **opened;
    d.http().set_fault_plan(std::nullopt);
    jsync_error err{};
    // The host retries what the plugin reports retryable; this loop stands in for it here.
    auto retry = [&](auto op) {
      int rc = JSYNC_OK;
      for (int attempt = 0; attempt < 4; ++attempt) {
        rc = op();
        if ((rc & 0xff) != JSYNC_RETRYABLE) break;
        if (err.retry_after_ms > 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(err.retry_after_ms));
      }
      return rc;
    };

    DirectInstance::Page page;
    ASSERT_EQ(retry([&] { return d.Changes("", &page, &err); }), JSYNC_OK) << err.message;
    const std::string cursor = page.next;
    for (int i = 0; i < 5; ++i) {
      const std::string path = "devices/dev-" + std::to_string(i) + "/000001.chg";
      ASSERT_EQ(retry([&] { return d.Put(path, Bytes(100 + i, 'a'), &err); }), JSYNC_OK)
          << path << ": " << err.message;
    }
    const std::string large = Bytes(800 * 1024, 'z');  // three fragments
    ASSERT_EQ(retry([&] { return d.Put("snapshots/large.snap", large, &err); }), JSYNC_OK)
        << err.message;
    // The same create again: equal content is success; different content is `exists`.
    ASSERT_EQ(retry([&] { return d.Put("devices/dev-0/000001.chg", Bytes(100, 'a'), &err); }),
              JSYNC_OK)
        << err.message;
    EXPECT_EQ(retry([&] { return d.Put("devices/dev-0/000001.chg", Bytes(100, 'b'), &err); }),
              JSYNC_EXISTS);
    std::string got;
    ASSERT_EQ(retry([&] { return d.Get("snapshots/large.snap", &got, &err); }), JSYNC_OK)
        << err.message;
    EXPECT_EQ(got, large);
    ASSERT_EQ(retry([&] { return d.Get("snapshots/large.snap", &got, &err, 1000, 5000); }),
              JSYNC_OK)
        << err.message;
    EXPECT_EQ(got, large.substr(1000, 5000));
    std::vector<provider::ObjectInfo> all;
    ASSERT_EQ(retry([&] { return d.ListAll("devices/", &all, &err); }), JSYNC_OK) << err.message;
    EXPECT_EQ(all.size(), 5u);
    ASSERT_EQ(retry([&] { return d.Remove("devices/dev-4/000001.chg", &err); }), JSYNC_OK)
        << err.message;
    ASSERT_EQ(retry([&] { return d.Remove("devices/dev-4/000001.chg", &err); }), JSYNC_OK)
        << "removing what is gone is success: " << err.message;
    ASSERT_EQ(retry([&] { return d.Changes(cursor, &page, &err); }), JSYNC_OK) << err.message;
    uint64_t used = 0, total = 0;
    ASSERT_EQ(retry([&] { return d.Quota(&used, &total, &err); }), JSYNC_OK) << err.message;
    EXPECT_GT(total, used);

    // A subscription: the emulator validates the address first, as Graph does.
    auto receiver = net::LocalHttpServer::Start([](const net::LocalRequest& req) {
      const std::string token = req.QueryParam("validationToken");
      if (!token.empty()) return net::LocalResponse::Text(200, token);
      return net::LocalResponse::Text(202, "");
    });
    ASSERT_TRUE(receiver.ok()) << receiver.status().ToString();
    ASSERT_EQ(retry([&] { return d.Watch((*receiver)->base_url() + "/hook", &err); }), JSYNC_OK)
        << err.message;

    // A full drive: the error body of a 507.
    emulator_->Stop();
    eo.args = {"--device-interval", "0", "--quota", "1000"};
    if (business) eo.args.push_back("--business");
    eo.state_dir = emulator_->state_dir();
    auto full = testing::OnedriveEmulator::Start(eo, &error);
    ASSERT_NE(full, nullptr) << error;
    const std::string config2 =
        json{{"api_base", full->base_url()}, {"simple_upload_max", "65536"}}.dump();
    auto reopened = DirectInstance::Open(*plugin, "journal", config2, *creds);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    (*reopened)->http().set_fault_plan(std::nullopt);
    EXPECT_EQ((*reopened)->Put("devices/dev-9/000001.chg", Bytes(5000, 'q'), &err),
              JSYNC_QUOTA_EXCEEDED);
    CheckLog(emulator_->request_log_path());
    CheckLog(full->request_log_path());
  }

  void CheckLog(const std::filesystem::path& file) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      const json r = json::parse(line, nullptr, false);
      ASSERT_TRUE(r.is_object()) << line;
      const std::string method = r.value("method", "");
      const std::string path = r.value("path", "");
      const int status = r.value("status", 0);
      ++requests_;
      for (const bool request : {true, false}) {
        const char* key = request ? "body_json" : "response_json";
        if (!r.contains(key)) continue;
        const std::string type = testing::GraphTypeForRequest(method, path, status, request);
        if (type.empty()) continue;
        ++bodies_;
        for (const std::string& v : schema_->Check(r[key], type))
          violations_.push_back(method + " " + path + " " + std::to_string(status) + " " + key +
                                " (" + type + "): " + v);
      }
    }
  }

  testing::TempDir home_;
  std::unique_ptr<testing::GraphSchema> schema_;
  std::unique_ptr<testing::OnedriveEmulator> emulator_;
  int requests_ = 0;
  int bodies_ = 0;
  std::vector<std::string> violations_;
};

TEST_P(OnedriveSchemaTest, EveryBodyOfAWorkloadMatchesTheGraphMetadata) {
  RunWorkload(GetParam());
  if (HasFatalFailure()) return;
  EXPECT_GT(bodies_, 30) << "the workload's bodies were checked";
  for (const auto& v : violations_) ADD_FAILURE() << v;
  std::printf("%s: %d requests, %d JSON bodies checked, %zu violations\n",
              GetParam() ? "business" : "personal", requests_, bodies_, violations_.size());
}

INSTANTIATE_TEST_SUITE_P(Drives, OnedriveSchemaTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Business" : "Personal"; });

}  // namespace
}  // namespace jsync
#endif
