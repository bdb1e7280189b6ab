// Re-identification of a cloned device (docs/decisions/0019-cloned-devices.md).
//
// A device whose own seq slot in the cloud holds other bytes, or whose own log in the cloud
// runs past what it sealed, shares its device id with another home (a copied home folder, a
// restored backup, a cloned VM, or a planted file). The cloud's branch of that id is the
// accepted one (first writer wins at each seq). This device takes a new device id, re-keys
// every op of its own that the cloud never accepted to the new id, and rebuilds its records
// from the cloud before applying those ops again, so its state is exactly what other devices
// will merge.
#pragma once

#include "core/format/device_file.h"

#include <map>
#include <string>
#include <vector>

#include "core/crypto/secret.h"
#include "core/format/change_file.h"
#include "core/model/hlc.h"
#include "core/provider/provider.h"
#include "core/store/store.h"

namespace jsync::sync {

// Re-keys `ops` (ops of `from` that never reached the cloud) to device `to`: their op ids,
// the ids of the characters they insert, and every reference to those ops or characters
// (observed lists, origins, delete ranges). References to anything else are left alone.
void RekeyOps(std::vector<Op>& ops, DeviceId from, DeviceId to);

struct ReidentifyContext {
  store::Store& store;
  provider::Provider& provider;
  const crypto::SecretKey& master;
  JournalId journal{};
  DeviceId device = 0;  // the id being given up
  format::KeyId key_id = 0;
  uint64_t now_ms = 0;
  // This home's device keys (decision 0036): the new id's device file publishes them.
  const format::DeviceKeys* device_keys = nullptr;
};

struct Reidentified {
  DeviceId device = 0;        // the new id
  uint64_t replay_ops = 0;    // own ops re-keyed, waiting to be applied after the rebuild
  bool rebuilding = false;    // records were dropped and are merged again from the cloud
};

// `first_divergent` is the first seq of the old id whose local bytes are not the cloud's
// (or which this device never sealed). Uploads the new device file, then switches the store
// to the new id in one durable transaction.
Result<Reidentified> Reidentify(const ReidentifyContext& ctx, uint64_t first_divergent);

// The meta key holding what a rebuild must merge before the replay ops apply: JSON
// {"<device hex>": seq, ...}. Absent when no replay is pending.
inline constexpr const char* kReplayFloorMeta = "replay_floor";

Result<std::map<DeviceId, uint64_t>> ReplayFloor(store::Store& store);

// When every floor entry is merged, applies the replay ops to the records and queues them
// for sealing (one transaction) and returns true. `unmet` names what is still missing.
Result<bool> ApplyReplayIfReady(store::Store& store, std::string& unmet);

}  // namespace jsync::sync
