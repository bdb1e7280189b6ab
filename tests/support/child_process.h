// A server process a test starts and owns: stdout and stderr go to a log file, the first
// stdout line is how servers announce their address, and the process is stopped (SIGTERM,
// then SIGKILL) and reaped by Stop() or the destructor — or gets SIGTERM if the test dies.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jsync::testing {

class ChildProcess {
 public:
  // Runs argv[0] (a path, or a name looked up on PATH) with extra environment variables.
  // Null and *error set when it cannot start.
  static std::unique_ptr<ChildProcess> Start(
      std::vector<std::string> argv, const std::vector<std::pair<std::string, std::string>>& env,
      std::string* error);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The first line the process printed on stdout, waiting up to timeout_ms; "" and *error
  // (with the log tail) when it exited or stayed silent.
  std::string WaitForFirstLine(int timeout_ms, std::string* error);
  std::string Stdout() const;
  std::string Stderr() const;
  pid_t pid() const { return pid_; }
  // Sends `sig` and waits up to timeout_ms for the exit: the wait status (then the process is
  // reaped), or -1 while it still runs.
  int SignalAndWait(int sig, int timeout_ms);
  void Stop();

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  std::string out_path_;
  std::string err_path_;
};

// The program's full path from PATH; "" when absent.
std::string FindProgram(const std::string& name);

}  // namespace jsync::testing
