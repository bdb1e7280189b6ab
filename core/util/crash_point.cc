#include "core/util/crash_point.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace jsync {
namespace {

struct CrashSpec {
  std::string name;
  long remaining = 0;
};

CrashSpec* Spec() {
  static CrashSpec* spec = []() -> CrashSpec* {
    const char* env = std::getenv("JSYNC_CRASH_AT");
    if (env == nullptr || *env == '\0') return nullptr;
    auto* s = new CrashSpec;
    std::string v(env);
    auto colon = v.find(':');
    s->name = v.substr(0, colon);
    s->remaining = colon == std::string::npos ? 1 : std::strtol(v.c_str() + colon + 1, nullptr, 10);
    return s;
  }();
  return spec;
}

}  // namespace

void CrashPoint(const char* name) {
  CrashSpec* spec = Spec();
  if (spec == nullptr || spec->name != name) return;
  if (--spec->remaining <= 0) _exit(kCrashExitCode);
}

}  // namespace jsync
