// For the installed jsync-conformance: failures printed for a plugin author, who has the
// plugin guide but not this kit's sources. GoogleTest's default printer starts every failure
// with "conformance_suite.cc:94: Failure" and the asserted C++ expression; this one prints the
// test's own explanation (which names the operation and object once and points to a guide
// section) and forwards every other event to the default printer unchanged. The XML report
// (--gtest_output) keeps file and line for the kit's maintainers.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

namespace jsync::conformance {

class PlainFailurePrinter final : public ::testing::TestEventListener {
 public:
  explicit PlainFailurePrinter(::testing::TestEventListener* inner) : inner_(inner) {}

  // "Value of: EXPR\n  Actual: false (WHY)\nExpected: true[\nMORE]" -> "WHY[\nMORE]"; other
  // messages (EXPECT_EQ's "Expected equality ...") as they are.
  static std::string Plain(const std::string& m) {
    static const std::string kActual = "  Actual: false (";
    static const std::string kEnd = ")\nExpected: true";
    if (m.rfind("Value of: ", 0) != 0) return m;
    const size_t a = m.find(kActual);
    const size_t e = a == std::string::npos ? a : m.find(kEnd, a);
    if (e == std::string::npos) return m;
    return m.substr(a + kActual.size(), e - a - kActual.size()) + m.substr(e + kEnd.size());
  }

  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return inner_->OnTestPartResult(r);
    std::printf("Failure: %s\n", Plain(r.message()).c_str());
    std::fflush(stdout);
  }

  void OnTestProgramStart(const ::testing::UnitTest& u) override { inner_->OnTestProgramStart(u); }
  void OnTestIterationStart(const ::testing::UnitTest& u, int i) override {
    inner_->OnTestIterationStart(u, i);
  }
  void OnEnvironmentsSetUpStart(const ::testing::UnitTest& u) override {
    inner_->OnEnvironmentsSetUpStart(u);
  }
  void OnEnvironmentsSetUpEnd(const ::testing::UnitTest& u) override {
    inner_->OnEnvironmentsSetUpEnd(u);
  }
  void OnTestSuiteStart(const ::testing::TestSuite& s) override { inner_->OnTestSuiteStart(s); }
  void OnTestStart(const ::testing::TestInfo& t) override { inner_->OnTestStart(t); }
  void OnTestEnd(const ::testing::TestInfo& t) override { inner_->OnTestEnd(t); }
  void OnTestSuiteEnd(const ::testing::TestSuite& s) override { inner_->OnTestSuiteEnd(s); }
  void OnEnvironmentsTearDownStart(const ::testing::UnitTest& u) override {
    inner_->OnEnvironmentsTearDownStart(u);
  }
  void OnEnvironmentsTearDownEnd(const ::testing::UnitTest& u) override {
    inner_->OnEnvironmentsTearDownEnd(u);
  }
  void OnTestIterationEnd(const ::testing::UnitTest& u, int i) override {
    inner_->OnTestIterationEnd(u, i);
  }
  void OnTestProgramEnd(const ::testing::UnitTest& u) override { inner_->OnTestProgramEnd(u); }

 private:
  std::unique_ptr<::testing::TestEventListener> inner_;
};

// Call after InitGoogleTest: swaps the default printer for PlainFailurePrinter around it.
inline void UsePlainFailures() {
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  ::testing::TestEventListener* printer = listeners.Release(listeners.default_result_printer());
  if (printer != nullptr) listeners.Append(new PlainFailurePrinter(printer));
}

}  // namespace jsync::conformance
