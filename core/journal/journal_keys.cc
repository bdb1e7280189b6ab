// The key lifecycle's side of Journal (issue 15 item 5): device keys, epochs, passwd, rotation,
// revocation, the device list. docs/key-states.md names the states these move between.
#include "core/journal/device_key.h"
#include "core/journal/journal.h"
#include "core/sync/key_sync.h"

namespace jsync {

Status Journal::LoadDeviceKeysOnOpen() {
  JSYNC_ASSIGN_OR_RETURN(device_keys_, LoadDeviceKeys(DeviceKeyPath(home_)));
  if (device_keys_ || store_->read_only()) return Status::Ok();
  // A home made before device keys: it signs from its next change on, and its first sync
  // publishes the keys in a new revision of its device file (SyncEngine::UpgradeOwnDeviceFile).
  JSYNC_ASSIGN_OR_RETURN(store::Cursor sealed, store_->LastSealed());
  JSYNC_RETURN_IF_ERROR(store_->SetMeta(sync::kSignedFromMeta, std::to_string(sealed.seq + 1)));
  bool created = false;
  JSYNC_ASSIGN_OR_RETURN(format::DeviceKeys keys,
                         LoadOrCreateDeviceKeys(DeviceKeyPath(home_), &created));
  device_keys_ = std::move(keys);
  return Status::Ok();
}

}  // namespace jsync
