// Helpers shared by the test programs: temporary folders, running the jsync binary, seeds.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/journal/journal.h"
#include "host/open_provider.h"

namespace jsync::testing {

// A fresh directory under the system temp dir, removed with everything in it on destruction
// (kept when JSYNC_KEEP_TEMP is set, for debugging).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs the built jsync binary with `args`, extra environment `env` (added to the current
// one), and `input` on stdin. Waits for it to finish.
ProcessResult RunJsync(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env = {},
                       const std::string& input = "");
std::string JsyncBinary();

// A jsync child process started now and waited for later, so several can run at once.
class JsyncProcess {
 public:
  JsyncProcess(const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env = {}, const std::string& input = "");
  ~JsyncProcess();
  JsyncProcess(const JsyncProcess&) = delete;
  JsyncProcess& operator=(const JsyncProcess&) = delete;
  ProcessResult Wait();

 private:
  std::unique_ptr<TempDir> io_;
  pid_t pid_ = -1;
};

// Low-cost scrypt for tests: the cost is a parameter stored in the key file.
inline constexpr int kTestScryptLogN = 10;
// The host's storage opener without accounts (folder, and plugins with environment credentials).
provider::StorageOpener HostStorage();
InitOptions TestInitOptions(const std::string& location, const std::string& device_name);

// The seed to use for randomized tests: JSYNC_SEED if set, else `fallback`.
uint64_t SeedFromEnv(uint64_t fallback);

std::string ReadFileBytes(const std::filesystem::path& p);
void WriteFileBytes(const std::filesystem::path& p, const std::string& bytes);
// Every regular file under `dir`, recursively, sorted.
std::vector<std::filesystem::path> ListFiles(const std::filesystem::path& dir);

}  // namespace jsync::testing
