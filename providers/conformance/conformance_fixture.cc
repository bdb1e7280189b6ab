#include "providers/conformance/conformance_fixture.h"

#include <algorithm>
#include <set>

#include "host/plugin_provider.h"
#include "providers/sdk/jsync_provider.h"

namespace jsync::conformance::internal {

using provider::FaultPlan;
using provider::ObjectInfo;
using provider::PluginProvider;
using provider::PolicyEnv;
using provider::PolicyProvider;
using provider::Provider;

PolicyEnv SimulatedEnv(const std::shared_ptr<SimulatedTime>& t) {
  return {[t] { return t->now_ms; },
          [t](int64_t ms) {
            t->now_ms += ms;
            t->slept_ms += ms;
          },
          [t] { return t->rng(); },
          nullptr};
}

Bytes Pattern(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + n);
  Bytes b(n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x = rng();
    std::copy_n(reinterpret_cast<const uint8_t*>(&x), 8, b.data() + i);
  }
  for (; i < n; ++i) b[i] = static_cast<uint8_t>(rng());
  return b;
}

FaultPlan Plan(const std::string& spec) {
  auto plan = FaultPlan::Parse(spec);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : FaultPlan{};
}

std::string Guide(const std::string& section) { return " [plugin guide: \"" + section + "\"]"; }

::testing::AssertionResult SameBytes(const Result<Bytes>& got, const Bytes& want) {
  if (!got.ok()) {
    return ::testing::AssertionFailure() << got.status().ToString() << Guide("Slot by slot: get");
  }
  if (got->size() != want.size()) {
    return ::testing::AssertionFailure()
           << "got " << got->size() << " bytes, want " << want.size() << Guide("Slot by slot: get");
  }
  auto diff = std::mismatch(got->begin(), got->end(), want.begin());
  if (diff.first != got->end()) {
    return ::testing::AssertionFailure()
           << "bytes differ from offset " << (diff.first - got->begin()) << " of " << want.size()
           << Guide("Slot by slot: get");
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ReadsBack(Provider& p, const std::string& path, const Bytes& want) {
  auto got = p.Get(path, provider::kNoSizeLimit);
  if (!got.ok()) return SameBytes(got, want);  // the status names "get <path>" already
  auto same = SameBytes(got, want);
  if (same) return same;
  return ::testing::AssertionFailure() << "get " << path << ": " << same.message();
}

::testing::AssertionResult ListsExactly(Provider& p, const std::string& prefix,
                                        const std::map<std::string, uint64_t>& want) {
  auto listed = p.List(prefix);
  if (!listed.ok()) {
    // The status names "list <prefix>" already.
    return ::testing::AssertionFailure()
           << listed.status().ToString() << Guide("Slot by slot: list");
  }
  std::vector<std::string> problems;
  for (size_t i = 0; i < listed->size(); ++i) {
    const ObjectInfo& o = (*listed)[i];
    if (o.path.find(JSYNC_TEMP_PREFIX) != std::string::npos) {
      problems.push_back("temporary name listed: " + o.path);
    }
    if (i > 0 && !((*listed)[i - 1].path < o.path)) {
      problems.push_back("not sorted or duplicated: '" + (*listed)[i - 1].path + "' then '" +
                         o.path + "'");
    }
    auto it = want.find(o.path);
    if (it == want.end()) {
      problems.push_back("unexpected: " + o.path);
    } else if (it->second != o.size) {
      problems.push_back(o.path + " has size " + std::to_string(o.size) + ", want " +
                         std::to_string(it->second));
    }
  }
  std::set<std::string> seen;
  for (const auto& o : *listed) seen.insert(o.path);
  for (const auto& [path, size] : want) {
    if (!seen.count(path)) problems.push_back("missing: " + path);
  }
  if (problems.empty()) return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure();
  failure << "list '" << prefix << "' returned " << listed->size() << " objects, want "
          << want.size() << "; " << problems.size() << " problems:";
  for (size_t i = 0; i < problems.size() && i < 20; ++i) failure << "\n  " << problems[i];
  return failure << "\n " << Guide("Slot by slot: list");
}

std::map<std::string, uint64_t> Under(const std::map<std::string, Bytes>& all,
                                      const std::string& prefix) {
  std::map<std::string, uint64_t> out;
  for (const auto& [path, bytes] : all) {
    if (path.starts_with(prefix)) out[path] = bytes.size();
  }
  return out;
}

void ConformanceBase::Open(const std::string& provider_faults, bool real_time) {
  ASSERT_TRUE(target().open) << "target " << target().name << " has no open function";
  auto opened = target().open();
  ASSERT_TRUE(opened.ok()) << "opening " << target().name << ": " << opened.status().ToString();
  std::unique_ptr<Provider> bare = std::move(opened).value();
  ASSERT_NE(bare, nullptr);
  if (auto* plugin = dynamic_cast<PluginProvider*>(bare.get())) http_ = &plugin->http();
  auto faulty = std::make_unique<FaultyProvider>(std::move(bare), Plan(provider_faults));
  faulty_ = faulty.get();
  time_ = std::make_shared<SimulatedTime>();
  policy_ = std::make_unique<PolicyProvider>(std::move(faulty), retry_, provider::PacerPolicy{},
                                             provider::QuotaPolicy{},
                                             real_time ? PolicyEnv::Real() : SimulatedEnv(time_));
}

void ConformanceBase::Put(const std::string& path, const Bytes& bytes) {
  Status s = p().PutIfAbsent(path, bytes);
  // The status names "put <path>" already.
  ASSERT_TRUE(s.ok()) << s.ToString() << Guide("Slot by slot: put");
}

std::string TargetName(const ::testing::TestParamInfo<size_t>& info) {
  return ConformanceTargets()[info.param].name;
}

std::vector<size_t> TargetIndexes() {
  std::vector<size_t> out(ConformanceTargets().size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = i;
  return out;
}

}  // namespace jsync::conformance::internal
