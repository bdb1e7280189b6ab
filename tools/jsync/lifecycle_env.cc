#include "tools/jsync/lifecycle_env.h"

#include <charconv>
#include <cstdlib>
#include <string>

namespace jsync::cli {
namespace {

Status Read(const char* name, uint64_t min, uint64_t& into) {
  const char* text = std::getenv(name);
  if (!text || !*text) return Status::Ok();
  uint64_t v = 0;
  const char* end = text + std::char_traits<char>::length(text);
  auto [ptr, ec] = std::from_chars(text, end, v);
  if (ec != std::errc() || ptr != end || v < min) {
    return Status::Invalid(std::string(name) + " must be a whole number of at least " +
                           std::to_string(min));
  }
  into = v;
  return Status::Ok();
}

}  // namespace

Result<sync::LifecycleOptions> LifecycleFromEnv() {
  sync::LifecycleOptions o;
  JSYNC_RETURN_IF_ERROR(Read("JSYNC_SNAPSHOT_OPS", 1, o.snapshot_min_ops));
  JSYNC_RETURN_IF_ERROR(Read("JSYNC_SNAPSHOT_BYTES", 1, o.snapshot_min_bytes));
  uint64_t days = static_cast<uint64_t>(o.inactive_after_ms / (24LL * 3600 * 1000));
  JSYNC_RETURN_IF_ERROR(Read("JSYNC_INACTIVE_DAYS", 1, days));
  o.inactive_after_ms = static_cast<int64_t>(days) * 24 * 3600 * 1000;
  return o;
}

}  // namespace jsync::cli
