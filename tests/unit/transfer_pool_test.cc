// The host's transfer pool, the shared pacer and the engine's prefetcher.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "core/sync/prefetch.h"
#include "host/host_policy.h"
#include "host/transfer_pool.h"
#include "tests/support/latency_provider.h"

namespace jsync::provider {
namespace {

using testing::InFlight;
using testing::LatencyProvider;

// Objects in memory, shared by every "instance" of one location (read-only here).
class MemoryProvider final : public Provider {
 public:
  explicit MemoryProvider(std::shared_ptr<const std::map<std::string, Bytes>> objects)
      : objects_(std::move(objects)) {}
  std::string Describe() const override { return "memory"; }
  Status PutIfAbsent(const std::string&, ByteSpan) override { return Status::Fatal("read-only"); }
  Result<Bytes> Get(const std::string& path, uint64_t max_size) override {
    auto it = objects_->find(path);
    if (it == objects_->end()) return Status::NotFound(path);
    if (it->second.size() > max_size) return TooLarge(path, it->second.size(), true, max_size);
    return it->second;
  }
  Result<std::vector<ObjectInfo>> List(const std::string&) override {
    return std::vector<ObjectInfo>{};
  }
  Status Remove(const std::string&) override { return Status::Ok(); }

 private:
  std::shared_ptr<const std::map<std::string, Bytes>> objects_;
};

std::shared_ptr<const std::map<std::string, Bytes>> Objects(int n, size_t size = 10) {
  auto m = std::make_shared<std::map<std::string, Bytes>>();
  for (int i = 0; i < n; ++i) (*m)["f" + std::to_string(i)] = Bytes(size, uint8_t(i));
  return m;
}

std::unique_ptr<TransferPool> Pool(std::shared_ptr<const std::map<std::string, Bytes>> objects,
                                   int k, std::shared_ptr<InFlight> stats, int* opened) {
  auto open = [objects, stats, opened]() -> Result<std::unique_ptr<Provider>> {
    ++*opened;
    return std::unique_ptr<Provider>(
        std::make_unique<LatencyProvider>(std::make_unique<MemoryProvider>(objects), 10, stats));
  };
  auto first = open();
  return std::make_unique<TransferPool>(std::move(first).value(), open, k);
}

TEST(TransferPool, RunsUpToKAtOnceAndAnswersInRequestOrder) {
  auto objects = Objects(20);
  auto stats = std::make_shared<InFlight>();
  int opened = 0;
  auto pool = Pool(objects, 4, stats, &opened);
  EXPECT_EQ(opened, 1);  // the others open only when a batch needs them
  std::vector<GetRequest> reqs;
  for (int i = 19; i >= 0; --i) reqs.push_back({"f" + std::to_string(i), kNoSizeLimit});
  reqs.push_back({"absent", kNoSizeLimit});
  reqs.push_back({"f3", 5});  // over its limit
  auto results = pool->GetMany(reqs);
  ASSERT_EQ(results.size(), reqs.size());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(results[i].ok());
    EXPECT_EQ(*results[i], objects->at(reqs[i].path));
  }
  EXPECT_TRUE(results[20].status().Is(Code::kNotFound));
  EXPECT_TRUE(results[21].status().Is(Code::kCorrupt));
  EXPECT_EQ(stats->max.load(), 4);
  EXPECT_EQ(opened, 4);
  EXPECT_EQ(pool->instances(), 4u);
  // A second batch reuses the instances.
  pool->GetMany(reqs);
  EXPECT_EQ(opened, 4);
}

TEST(TransferPool, OneAtATimeWhenKIsOneOrMoreInstancesCannotOpen) {
  auto objects = Objects(8);
  auto stats = std::make_shared<InFlight>();
  int opened = 0;
  auto one = Pool(objects, 1, stats, &opened);
  std::vector<GetRequest> reqs;
  for (int i = 0; i < 8; ++i) reqs.push_back({"f" + std::to_string(i), kNoSizeLimit});
  for (auto& r : one->GetMany(reqs)) EXPECT_TRUE(r.ok());
  EXPECT_EQ(stats->max.load(), 1);

  auto stats2 = std::make_shared<InFlight>();
  auto failing = [](void) -> Result<std::unique_ptr<Provider>> {
    return Status::Retryable("offline");
  };
  TransferPool pool(std::make_unique<LatencyProvider>(std::make_unique<MemoryProvider>(objects),
                                                      5, stats2),
                    failing, 4);
  auto results = pool.GetMany(reqs);
  for (auto& r : results) EXPECT_TRUE(r.ok());
  EXPECT_EQ(stats2->max.load(), 1);
}

TEST(Pacer, ConcurrentCallersGetSuccessiveSlots) {
  Pacer pacer(PacerPolicy{100, 2});
  std::vector<int64_t> waits(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { waits[i] = pacer.Reserve(1000); });
  for (auto& t : threads) t.join();
  std::sort(waits.begin(), waits.end());
  // Two ride the burst; the others queue 100 ms apart, however they interleaved.
  EXPECT_EQ(waits, (std::vector<int64_t>{0, 0, 100, 200, 300, 400, 500, 600}));
  // Time refills the bucket (here: after the queue drained, one token back per 100 ms).
  EXPECT_EQ(pacer.Reserve(1000 + 700), 0);
}

}  // namespace
}  // namespace jsync::provider

namespace jsync::sync {
namespace {

using provider::GetRequest;

// Records each batch it is asked for.
class BatchLog final : public provider::ProviderWrapper {
 public:
  BatchLog(std::unique_ptr<provider::Provider> inner, int parallel)
      : ProviderWrapper(std::move(inner)), parallel_(parallel) {}
  std::vector<Result<Bytes>> GetMany(const std::vector<GetRequest>& reqs) override {
    batches.push_back(reqs);
    return Provider::GetMany(reqs);
  }
  int max_parallel() const override { return parallel_; }
  std::vector<std::vector<GetRequest>> batches;

 private:
  int parallel_;
};

TEST(Prefetcher, FetchesAheadInPlanOrderWithinTheBudget) {
  auto objects = provider::Objects(40, 1000);
  auto stats = std::make_shared<testing::InFlight>();
  BatchLog log(std::make_unique<provider::MemoryProvider>(objects), 4);
  std::vector<std::string> plan;
  for (int i = 0; i < 40; ++i) plan.push_back("f" + std::to_string(i));
  Prefetcher p(log, plan, {100'000, 10'000, 8});
  for (int i = 0; i < 40; ++i) {
    auto got = p.Get(plan[i]);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, objects->at(plan[i]));
    EXPECT_LE(p.held_bytes(), 10'000u);
  }
  // Batches of 8: the asked file at its full limit, 7 ahead capped to share the budget.
  ASSERT_EQ(log.batches.size(), 5u);
  EXPECT_EQ(log.batches[0][0].path, "f0");
  EXPECT_EQ(log.batches[0][0].max_size, 100'000u);
  EXPECT_EQ(log.batches[0][1].path, "f1");
  EXPECT_EQ(log.batches[0][1].max_size, 10'000u / 7);
  EXPECT_EQ(log.batches[1][0].path, "f8");
}

TEST(Prefetcher, AFileOverItsShareIsFetchedAgainAloneAtTheFullLimit) {
  auto objects = std::make_shared<std::map<std::string, Bytes>>();
  (*objects)["a"] = Bytes(10, 1);
  (*objects)["big"] = Bytes(5000, 2);
  (*objects)["c"] = Bytes(10, 3);
  BatchLog log(std::make_unique<provider::MemoryProvider>(objects), 4);
  Prefetcher p(log, {"a", "big", "c"}, {100'000, 4000, 4});
  ASSERT_TRUE(p.Get("a").ok());
  auto big = p.Get("big");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->size(), 5000u);
  ASSERT_TRUE(p.Get("c").ok());
  ASSERT_EQ(log.batches.size(), 2u);
  EXPECT_EQ(log.batches[1].size(), 1u);  // "big" again, alone
  EXPECT_EQ(log.batches[1][0].max_size, 100'000u);
  // A missing file comes back as the provider says, from the unspeculative request.
  EXPECT_TRUE(p.Get("absent").status().Is(Code::kNotFound));
}

TEST(Prefetcher, NoFetchingAheadWithoutParallelTransfers) {
  auto objects = provider::Objects(5);
  BatchLog log(std::make_unique<provider::MemoryProvider>(objects), 1);
  Prefetcher p(log, {"f0", "f1", "f2"}, {});
  ASSERT_TRUE(p.Get("f0").ok());
  ASSERT_EQ(log.batches.size(), 1u);
  EXPECT_EQ(log.batches[0].size(), 1u);
}

TEST(Prefetcher, RoundRobinInterleavesDevices) {
  EXPECT_EQ(RoundRobin({{"a1", "a2", "a3"}, {}, {"c1"}, {"d1", "d2"}}),
            (std::vector<std::string>{"a1", "c1", "d1", "a2", "d2", "a3"}));
}

}  // namespace
}  // namespace jsync::sync
