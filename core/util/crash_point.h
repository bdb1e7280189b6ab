// Named crash points for the crash tests: when JSYNC_CRASH_AT=NAME[:N] is set, the N-th
// (default first) pass through CrashPoint(NAME) ends the process at once with exit code 86,
// as a power cut or kill -9 would, without running destructors or flushing anything.
// Costs one cached lookup when the variable is unset.
#pragma once

namespace jsync {

inline constexpr int kCrashExitCode = 86;

void CrashPoint(const char* name);

}  // namespace jsync
