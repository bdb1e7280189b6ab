// jsync_conformance_webdav: the conformance suite on the WebDAV plugin against the test
// servers of tests/support/webdav_servers.h (rclone serve webdav, npm webdav-server), each
// started on first use and serving a temporary folder. Built with the tests only.
//
//   jsync_conformance_webdav [--server rclone|webdav-server] [--list-files N] [--no-large]
//                            [gtest flags]
//
// Every test gets a fresh collection on the server. JSYNC_FAULTS (host/http_client.h)
// turns transport faults on for every test. The credentials are the server's Basic ones,
// wrapped so the suite can count refreshes (a refresh re-issues the same password).
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "host/plugin_provider.h"
#include "providers/conformance/conformance_suite.h"
#include "tests/support/test_support.h"
#include "tests/support/webdav_servers.h"

namespace jsync::conformance {
namespace {

using testing::WebDavServer;
using testing::WebDavServerKind;

// The server's password; a refresh fetches it again (and so succeeds while it is unchanged).
class ServerCredentials final : public provider::CredentialSource {
 public:
  explicit ServerCredentials(std::shared_ptr<WebDavServer*> server) : server_(std::move(server)) {}
  Result<std::string> Authorization() override {
    if (*server_ == nullptr) return Status::Fatal("the WebDAV server is not running");
    return (*server_)->BasicAuthorization();
  }
  Status Refresh() override {
    return *server_ != nullptr ? Status::Ok()
                               : Status(Code::kAuthExpired, "the WebDAV server is gone");
  }

 private:
  std::shared_ptr<WebDavServer*> server_;
};

// One server, started by the first open() and stopped at exit.
struct ServerSlot {
  WebDavServerKind kind;
  std::unique_ptr<testing::TempDir> dir;
  std::unique_ptr<WebDavServer> server;
  std::shared_ptr<WebDavServer*> current = std::make_shared<WebDavServer*>(nullptr);
  std::string error;
  int count = 0;

  Result<std::string> NextLocation() {
    if (server == nullptr) {
      if (!error.empty()) return Status::Fatal(error);
      dir = std::make_unique<testing::TempDir>();
      server = WebDavServer::Start(kind, dir->path() / "served", &error);
      if (server == nullptr) {
        error = std::string("cannot start ") + testing::WebDavServerKindName(kind) + ": " + error;
        return Status::Fatal(error);
      }
      *current = server.get();
    }
    last = server->Url("dav/conformance-" + std::to_string(++count));
    return last;
  }
  std::string last;
};

int Main(int argc, char** argv) {
  std::vector<char*> rest = {argv[0]};
  std::string only;
  int list_files = 2500;
  bool large = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--server" && i + 1 < argc) {
      only = argv[++i];
    } else if (arg == "--list-files" && i + 1 < argc) {
      list_files = std::atoi(argv[++i]);
    } else if (arg == "--no-large") {
      large = false;
    } else {
      rest.push_back(argv[i]);
    }
  }
  const std::string plugin_file = testing::WebDavPluginPath();
  if (plugin_file.empty()) {
    std::cerr << "jsync_conformance_webdav: the webdav plugin is not part of this build\n";
    return 2;
  }
  auto plugin = provider::LoadPlugin(plugin_file);
  if (!plugin.ok()) {
    std::cerr << "jsync_conformance_webdav: " << plugin.status().message() << "\n";
    return 2;
  }
  std::vector<std::shared_ptr<ServerSlot>> slots;
  for (WebDavServerKind kind : testing::AllWebDavServerKinds()) {
    const std::string name = testing::WebDavServerKindName(kind);
    if (!only.empty() && only != name) continue;
    auto slot = std::make_shared<ServerSlot>();
    slot->kind = kind;
    slots.push_back(slot);
    auto credentials =
        std::make_shared<CountingCredentials>(std::make_shared<ServerCredentials>(slot->current));
    ConformanceTarget target;
    target.name = name == "rclone" ? "webdav_rclone" : "webdav_webdav_server";
    target.large = large;
    // npm webdav-server checks If-None-Match and writes in two steps (rclone is atomic).
    target.atomic_concurrent_create = name == "rclone";
    target.list_files = list_files;
    target.credentials = credentials;
    target.open = [info = *plugin, slot,
                   credentials]() -> Result<std::unique_ptr<provider::Provider>> {
      JSYNC_ASSIGN_OR_RETURN(std::string location, slot->NextLocation());
      JSYNC_ASSIGN_OR_RETURN(auto p,
                             provider::PluginProvider::Open(info, location, "{}", credentials));
      return std::unique_ptr<provider::Provider>(std::move(p));
    };
    target.reopen = [info = *plugin, slot,
                     credentials]() -> Result<std::unique_ptr<provider::Provider>> {
      JSYNC_ASSIGN_OR_RETURN(auto p,
                             provider::PluginProvider::Open(info, slot->last, "{}", credentials));
      return std::unique_ptr<provider::Provider>(std::move(p));
    };
    RegisterConformanceTarget(std::move(target));
  }
  if (slots.empty()) {
    std::cerr << "jsync_conformance_webdav: unknown --server " << only
              << " (rclone or webdav-server)\n";
    return 2;
  }
  int gtest_argc = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  ::testing::InitGoogleTest(&gtest_argc, rest.data());
  const int rc = RUN_ALL_TESTS();
  for (auto& slot : slots) {
    *slot->current = nullptr;
    slot->server.reset();
  }
  return rc;
}

}  // namespace
}  // namespace jsync::conformance

int main(int argc, char** argv) { return jsync::conformance::Main(argc, argv); }
