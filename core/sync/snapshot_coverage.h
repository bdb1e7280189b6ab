// The audit's "covered by a snapshot" rule (AuditRules::covered): a device's log may start
// after seq 1 when a snapshot in the cloud holds what its author pruned (decision 0035).
#pragma once

#include "core/provider/provider.h"
#include "core/sync/audit.h"

namespace jsync::sync {

// Lists snapshots/ on first use and reads each snapshot's header (a ranged read of its first
// 64 KiB); headers are not authenticated here (`verify --read-data` opens every snapshot).
CoverageRule SnapshotCoverage(provider::Provider& provider, const JournalId& journal);

}  // namespace jsync::sync
