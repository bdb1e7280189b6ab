// `jsync-emulator icloud-drive`: the subcommand's flags and its run (the simulator, its
// control API, the stop signals). main.cc only registers it and calls Run.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

namespace jsync::emulator::icloud_drive {

struct CommandFlags {
  int port = 0;
  std::string state_dir;
  std::string roots;  // R1,R2[,R3...]
  int64_t delay_ms = 200;
  int64_t jitter_ms = 300;
  int64_t hydrate_ms = 200;
  int64_t rescan_ms = 1000;
  uint64_t seed = 1;
  std::string faults;
  std::string request_log;
};

struct Command {
  CLI::App* app = nullptr;
  CommandFlags flags;
};

// Adds the subcommand to `parent`; the result lives as long as the parse.
std::unique_ptr<Command> AddCommand(CLI::App* parent);

// Runs it until SIGTERM/SIGINT; the exit status.
int Run(const Command& command);

}  // namespace jsync::emulator::icloud_drive
