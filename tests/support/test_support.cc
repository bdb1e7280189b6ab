#include "tests/support/test_support.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

namespace fs = std::filesystem;

namespace jsync::testing {

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path p = fs::temp_directory_path() /
                 ("jsync-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      path_ = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  if (std::getenv("JSYNC_KEEP_TEMP")) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string JsyncBinary() { return JSYNC_BINARY_PATH; }

JsyncProcess::JsyncProcess(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env, const std::string& input)
    : io_(std::make_unique<TempDir>()) {
  // stdout and stderr go to temporary files so a chatty child can never block on a pipe.
  const std::string out_path = *io_ / "out", err_path = *io_ / "err", in_path = *io_ / "in";
  WriteFileBytes(in_path, input);
  // Everything the child needs is built before fork: the parent may have other threads.
  std::vector<std::string> argv_s{JsyncBinary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_s;
  for (const auto& [k, v] : merged) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
}

JsyncProcess::~JsyncProcess() {
  if (pid_ > 0) (void)Wait();
}

ProcessResult JsyncProcess::Wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  ProcessResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = ReadFileBytes(*io_ / "out");
  r.err = ReadFileBytes(*io_ / "err");
  return r;
}

ProcessResult RunJsync(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env, const std::string& input) {
  return JsyncProcess(args, env, input).Wait();
}

InitOptions TestInitOptions(const std::string& location, const std::string& device_name) {
  InitOptions o;
  o.storage = HostStorage();
  o.provider = "folder";
  o.location = location;
  o.passphrase = "correct horse battery staple";
  o.device_name = device_name;
  o.scrypt.log2_n = kTestScryptLogN;
  return o;
}

provider::StorageOpener HostStorage() { return provider::MakeStorageOpener(); }

uint64_t SeedFromEnv(uint64_t fallback) {
  if (const char* s = std::getenv("JSYNC_SEED"); s && *s) return std::strtoull(s, nullptr, 0);
  return fallback;
}

std::string ReadFileBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFileBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<fs::path> ListFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file()) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace jsync::testing
