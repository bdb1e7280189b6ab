// Tuning of snapshots and pruning from the environment (docs/cli.md, Environment), for power
// users and tests: JSYNC_SNAPSHOT_OPS, JSYNC_SNAPSHOT_BYTES, JSYNC_INACTIVE_DAYS.
#pragma once

#include "core/sync/lifecycle.h"
#include "core/util/status.h"

namespace jsync::cli {

// kInvalid naming the variable when one is set to something other than a whole number.
Result<sync::LifecycleOptions> LifecycleFromEnv();

}  // namespace jsync::cli
