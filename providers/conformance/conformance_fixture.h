// Internal to the conformance kit: the test fixture and helpers the suite's files share.
// Not for runners (they need only conformance_suite.h).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "host/host_policy.h"
#include "host/http_client.h"
#include "providers/conformance/conformance_suite.h"
#include "providers/conformance/faulty_provider.h"

namespace jsync::conformance::internal {

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

// A clock for the host policy on which sleeping takes no time.
struct SimulatedTime {
  int64_t now_ms = 0;
  int64_t slept_ms = 0;
  std::mt19937_64 rng{20240601};
};
provider::PolicyEnv SimulatedEnv(const std::shared_ptr<SimulatedTime>& t);

// Deterministic bytes, different for every seed.
Bytes Pattern(size_t n, uint64_t seed);
inline Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }
// Parses a fault plan spec, failing the test when it is malformed.
provider::FaultPlan Plan(const std::string& spec);

// Where a failure's explanation is: a section of the plugin guide, which installs with the SDK
// (share/doc/JournalSync/plugin-guide.md), where this kit's sources do not.
std::string Guide(const std::string& section);

// Compares without printing megabytes when they differ. A failed read is its status, which
// already names the operation and the object (the host's context: "get a/b: ...").
::testing::AssertionResult SameBytes(const Result<Bytes>& got, const Bytes& want);
// Get(path) returns exactly `want`; a failure names the object once.
::testing::AssertionResult ReadsBack(provider::Provider& p, const std::string& path,
                                     const Bytes& want);
// Lists `prefix` and checks the answer is exactly `want` (path -> size): sorted, no
// duplicates, no temporary upload names, nothing missing or extra, sizes right.
::testing::AssertionResult ListsExactly(provider::Provider& p, const std::string& prefix,
                                        const std::map<std::string, uint64_t>& want);
// The objects of `all` whose path starts with `prefix` (what List must answer).
std::map<std::string, uint64_t> Under(const std::map<std::string, Bytes>& all,
                                      const std::string& prefix);

// The stack every test talks to: PolicyProvider -> FaultyProvider -> the target's provider.
// The parameter is the target's index in ConformanceTargets().
class ConformanceBase : public ::testing::TestWithParam<size_t> {
 protected:
  const ConformanceTarget& target() const { return ConformanceTargets()[GetParam()]; }
  // Opens the target and stacks the layers; provider_faults is a FaultPlan spec ("": none).
  void Open(const std::string& provider_faults, bool real_time);
  provider::Provider& p() { return *policy_; }
  uint64_t retries() const { return policy_->stats().retries; }
  // PutIfAbsent that must succeed.
  void Put(const std::string& path, const Bytes& bytes);

  provider::RetryPolicy retry_;
  std::unique_ptr<provider::PolicyProvider> policy_;
  FaultyProvider* faulty_ = nullptr;      // owned by policy_
  provider::HttpClient* http_ = nullptr;  // the plugin's client, when the target is a plugin
  std::shared_ptr<SimulatedTime> time_;
};

// For INSTANTIATE_TEST_SUITE_P over the registry.
std::string TargetName(const ::testing::TestParamInfo<size_t>& info);
std::vector<size_t> TargetIndexes();

}  // namespace jsync::conformance::internal
