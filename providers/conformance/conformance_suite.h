// The provider conformance suite: one GoogleTest suite every provider must pass, written once
// and run against any number of targets (rclone's fstests, restic's backend test suite).
//
// A target is a name and a factory that opens the provider at a fresh, empty location. The
// suite stacks the host policy (PolicyProvider: retries, backoff honouring Retry-After) on top
// of what the factory returns, with a simulated clock, so it can count retries and inject
// faults between the layers:
//
//   PolicyProvider (simulated clock)  <- what the tests call
//   FaultyProvider (provider faults)  <- only when a test or the target asks for faults
//   the target's provider             <- e.g. PluginProvider -> HttpClient (FaultPlan seam)
//
// Every call goes down this one stack, the change feed and watch included (Provider::Changes,
// Provider::Watch): a runner opens one provider per test, never a second instance beside it.
//
// Register every target before InitGoogleTest (the suite is instantiated over the registry
// when gtest initialises):
//
//   jsync::conformance::RegisterConformanceTarget({"memory", [] { return OpenMemory(); }});
//   ::testing::InitGoogleTest(&argc, argv);
//   return RUN_ALL_TESTS();
//
// What is tested: conformance_suite.cc and conformance_fault_tests.cc (the comment above each
// test); README.md lists what is skipped and why. jsync-conformance
// (conformance_main.cc) runs the suite on a plugin file from the command line.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/http_client.h"
#include "core/provider/provider.h"

namespace jsync::conformance {

// Wraps the credentials a target's provider uses and counts calls, so the suite can check
// that an expired token (HTTP 401) leads to exactly one Refresh. Forwards everything.
// Thread-safe when the inner source is (instances of one location share it across threads).
class CountingCredentials final : public provider::CredentialSource {
 public:
  explicit CountingCredentials(std::shared_ptr<provider::CredentialSource> inner)
      : inner_(std::move(inner)) {}
  Result<std::string> Authorization() override {
    ++authorizations_;
    return inner_->Authorization();
  }
  Status Refresh() override {
    ++refreshes_;
    return inner_->Refresh();
  }
  // Query-string credentials (CloudKit's rotating web auth token) pass through unchanged.
  std::string UrlQuerySuffix() override { return inner_->UrlQuerySuffix(); }
  void ObserveResponse(const provider::HttpResponse& response) override {
    inner_->ObserveResponse(response);
  }
  int refreshes() const { return refreshes_; }
  int authorizations() const { return authorizations_; }

 private:
  std::shared_ptr<provider::CredentialSource> inner_;
  std::atomic<int> refreshes_{0};
  std::atomic<int> authorizations_{0};
};

struct ConformanceTarget {
  // Part of every test's name: letters, digits and '_' only.
  std::string name;
  // Opens the provider, bare (no PolicyProvider: the suite adds the host policy), at a fresh,
  // empty location on every call.
  std::function<Result<std::unique_ptr<provider::Provider>>()> open;
  // Whether to run the 50 MiB round trip.
  bool large = true;
  // How many objects the listing test writes (2,500 by default).
  int list_files = 2500;
  // Provider-level faults in every ordinary test ("faults on" for providers without HTTP):
  // a FaultPlan spec counted per provider call, e.g. "503@2,429@5,timeout@9". Use transient
  // kinds only; 507 and 401 fail ordinary tests by design (the fault tests cover them).
  std::string provider_faults;
  // The host policy in ordinary tests sleeps for real (a real service's Retry-After) instead of
  // on a simulated clock. Fault tests always use the simulated clock.
  bool real_time = false;
  // The credentials `open` hands its provider, when it has an account; null: the tests that
  // count refreshes after a 401 are skipped.
  std::shared_ptr<CountingCredentials> credentials;
  // Opens another instance (bare, like `open`) of the location `open` created last, with the
  // same options and credentials: the host does so to transfer on several at once (the ABI's
  // threading contract). Null: the concurrent-instances test is skipped.
  std::function<Result<std::unique_ptr<provider::Provider>>()> reopen;
  // Whether create-if-absent stays atomic when several instances race for one name at once.
  // A server that checks and writes in two steps (npm webdav-server) lets two racers win; the
  // test then only requires that the name holds one racer's whole bytes.
  bool atomic_concurrent_create = true;
  // The plugin table's max_concurrency: 1 means the host never runs two instances of a
  // location at once (CloudKit's one-round-trip tokens), so the concurrent test is skipped.
  uint32_t max_concurrency = 0;
  // The HTTP method that carries an upload's bytes, for the transport faults aimed at uploads
  // ("torn:PUT@1"): PUT for most services, POST for CloudKit (records/modify, asset uploads).
  std::string upload_method = "PUT";
};

// Adds a target. REQUIRES: called before ::testing::InitGoogleTest; names are unique.
void RegisterConformanceTarget(ConformanceTarget target);
const std::vector<ConformanceTarget>& ConformanceTargets();

}  // namespace jsync::conformance
