// The key lifecycle's side of Journal (issue 15 item 5): device keys, epochs, passwd, rotation,
// revocation, the device list. docs/key-states.md names the states these move between;
// docs/decisions/0037-key-epochs.md, 0038-passwd-and-recovery-key.md, 0039-revocation.md.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "core/journal/device_key.h"
#include "core/journal/journal.h"
#include "core/journal/local_key.h"
#include "core/sync/key_epochs.h"
#include "core/sync/key_sync.h"
#include "core/sync/remote_layout.h"

namespace jsync {
namespace {

std::string KeyringPath(const std::string& home) { return home + "/" + crypto::kKeyringFileName; }

// The home's sync lock, held for a key operation (a sync in another process waits).
class SyncLock {
 public:
  explicit SyncLock(const std::string& home) {
    const std::string path = home + "/sync.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~SyncLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

Result<Bytes> CurrentKeyFile(store::Store& store) {
  JSYNC_ASSIGN_OR_RETURN(auto kept, store.GetMeta(sync::kKeyFileMeta));
  if (!kept) {
    return Status::NotFound(
        "this device holds no copy of the journal's key file yet; run 'jsync sync' first");
  }
  return FromHex(*kept);
}

}  // namespace

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

Status Journal::LoadKeys() {
  JSYNC_ASSIGN_OR_RETURN(auto kid, store_->GetMeta("key_id"));
  if (!kid || kid->empty() || kid->size() > 16 ||
      kid->find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::Corrupt("local database lacks a valid key id");
  }
  key_id_ = std::strtoull(kid->c_str(), nullptr, 16);
  JSYNC_ASSIGN_OR_RETURN(auto ring, crypto::LoadKeyringFile(KeyringPath(home_)));
  if (ring) {
    keyring_ = std::move(*ring);
    // The store names the current epoch; a keyring written just before a crash may be ahead
    // (the next sync makes its newer epoch current again).
    if (keyring_.Find(key_id_)) {
      keyring_.SetCurrent(key_id_);
    } else {
      key_id_ = keyring_.current_id();
    }
    master_ = keyring_.current();
    return Status::Ok();
  }
  // A home made before epochs: master.key holds its only key.
  JSYNC_ASSIGN_OR_RETURN(master_, LoadLocalKey(home_ + "/master.key", key_id_));
  keyring_ = crypto::Keyring(key_id_, master_);
  return Status::Ok();
}

Status Journal::RefreshKeysIfChanged() {
  JSYNC_ASSIGN_OR_RETURN(auto kid, store_->GetMeta("key_id"));
  if (kid && *kid == format::KeyIdHex(key_id_)) return Status::Ok();
  return LoadKeys();
}

Result<EpochResult> Journal::KeyOperation(
    const std::function<Result<EpochResult>(provider::Provider&)>& write) {
  JSYNC_RETURN_IF_ERROR(RefuseIfReadOnly());
  if (!device_keys_) return Status::Invalid("this home has no device keys");
  // A sync first: every device known gets a wrap, and the epoch built on is the newest.
  JSYNC_ASSIGN_OR_RETURN(SyncResult synced, Sync());
  (void)synced;
  JSYNC_ASSIGN_OR_RETURN(auto block, sync::LoadEpochBlock(*store_));
  if (block && block->why == "revoked") {
    return Status::Invalid("this device was revoked by device " + DeviceIdHex(block->by) + " on " +
                           sync::ShowDate(block->at_ms) +
                           "; it can no longer change the journal's keys");
  }
  if (block) {
    return Status::Invalid(
        "this device cannot open the journal's newest key epoch yet; run "
        "'jsync unlock' first");
  }
  JSYNC_ASSIGN_OR_RETURN(provider::CountingProvider * storage, Storage());
  Result<EpochResult> result = Status::Fatal("cannot lock " + home_ + "/sync.lock");
  {
    SyncLock lock(home_);
    if (lock.ok()) result = write(*storage);
  }
  JSYNC_RETURN_IF_ERROR(LoadKeys());
  return result;
}

Result<EpochResult> Journal::WriteEpoch(provider::Provider& storage,
                                        const std::string* new_passphrase,
                                        const crypto::PublicKey* new_recovery,
                                        const format::RevokedDevice* revoke) {
  JSYNC_RETURN_IF_ERROR(LoadKeys());  // a sync in another process may have moved on
  sync::EpochChange change;
  if (new_passphrase) {
    crypto::ScryptParams params;
    JSYNC_ASSIGN_OR_RETURN(Bytes current, CurrentKeyFile(*store_));
    if (auto info = format::ReadKeyFileInfo(current); info.ok()) params = info->params;
    JSYNC_ASSIGN_OR_RETURN(change.passphrase,
                           format::NewPassphraseRecipient(*new_passphrase, params));
  }
  if (new_recovery) change.recovery = *new_recovery;
  if (revoke) change.revoke = *revoke;
  const sync::EpochWriteContext ctx{*store_,       storage,  journal_,           device_,
                                    *device_keys_, keyring_, KeyringPath(home_), clock_->WallNow()};
  JSYNC_ASSIGN_OR_RETURN(sync::EpochWritten written, sync::WriteNewEpoch(ctx, change));
  EpochResult out;
  out.key_id = written.key_id;
  out.epoch = written.epoch;
  out.removed = written.removed;
  out.unwrapped_devices = written.unwrapped_devices;
  return out;
}

Result<EpochResult> Journal::ChangePassphrase(const std::string* old_passphrase,
                                              const std::string& new_passphrase) {
  if (new_passphrase.empty()) return Status::Invalid("the new passphrase must not be empty");
  return KeyOperation([&](provider::Provider& storage) -> Result<EpochResult> {
    if (old_passphrase) {
      JSYNC_ASSIGN_OR_RETURN(Bytes current, CurrentKeyFile(*store_));
      if (!format::UnwrapMasterKey(current, *old_passphrase).ok()) {
        return Status::Invalid("the current passphrase is wrong; nothing was changed");
      }
    }
    return WriteEpoch(storage, &new_passphrase, nullptr, nullptr);
  });
}

Result<EpochResult> Journal::NewRecoveryKey() {
  return KeyOperation([&](provider::Provider& storage) -> Result<EpochResult> {
    format::RecoverySecret secret;
    crypto::RandomBytes(std::span<uint8_t>(secret.data(), secret.size()));
    JSYNC_ASSIGN_OR_RETURN(crypto::KeyPair pair, format::RecoveryKeyPair(secret));
    JSYNC_ASSIGN_OR_RETURN(EpochResult out, WriteEpoch(storage, nullptr, &pair.pub, nullptr));
    out.recovery_key = format::RecoveryKeyText(secret);
    return out;
  });
}

Result<EpochResult> Journal::RotateKey() {
  return KeyOperation(
      [&](provider::Provider& storage) { return WriteEpoch(storage, nullptr, nullptr, nullptr); });
}

Result<EpochResult> Journal::RevokeDevice(const std::string& id_text) {
  std::string prefix = id_text;
  std::transform(prefix.begin(), prefix.end(), prefix.begin(), ::tolower);
  if (prefix.size() < 4 || prefix.size() > 16 ||
      prefix.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::Invalid("'" + id_text + "' is not a device id (4 to 16 hex digits)");
  }
  return KeyOperation([&](provider::Provider& storage) -> Result<EpochResult> {
    JSYNC_ASSIGN_OR_RETURN(auto devices, store_->Devices());
    JSYNC_ASSIGN_OR_RETURN(auto cursors, store_->Cursors());
    std::set<DeviceId> known;
    for (const auto& [d, row] : devices) known.insert(d);
    for (const auto& [d, c] : cursors) known.insert(d);
    known.insert(device_);
    std::vector<DeviceId> matches;
    for (DeviceId d : known) {
      if (DeviceIdHex(d).starts_with(prefix)) matches.push_back(d);
    }
    if (matches.empty()) return Status::NotFound("no device " + id_text + " in this journal");
    if (matches.size() > 1) return Status::Invalid("device id prefix " + id_text + " is ambiguous");
    const DeviceId target = matches[0];
    if (target == device_) {
      return Status::Invalid("a device cannot revoke itself; revoke it from another device");
    }
    JSYNC_ASSIGN_OR_RETURN(auto revoked, sync::LoadRevoked(*store_));
    if (revoked.contains(target)) {
      return Status::Invalid("device " + DeviceIdHex(target) + " is revoked already");
    }
    JSYNC_ASSIGN_OR_RETURN(uint32_t epoch, sync::CurrentEpoch(*store_));
    // Everything of it this device merged stays; what it writes later is refused.
    format::RevokedDevice rv{target, cursors.contains(target) ? cursors[target].seq : 0, device_,
                             clock_->WallNow(), epoch + 1};
    return WriteEpoch(storage, nullptr, nullptr, &rv);
  });
}

Result<EpochResult> Journal::Unlock(const std::string& passphrase) {
  JSYNC_RETURN_IF_ERROR(RefuseIfReadOnly());
  JSYNC_ASSIGN_OR_RETURN(auto block, sync::LoadEpochBlock(*store_));
  if (block && block->why == "revoked") {
    return Status::Invalid("this device was revoked by device " + DeviceIdHex(block->by) + " on " +
                           sync::ShowDate(block->at_ms) +
                           "; to use the journal here again, join it from a fresh --home with "
                           "'jsync init'");
  }
  JSYNC_ASSIGN_OR_RETURN(provider::CountingProvider * storage, Storage());
  SyncLock lock(home_);
  if (!lock.ok()) return Status::Fatal("cannot lock " + home_ + "/sync.lock");
  JSYNC_RETURN_IF_ERROR(LoadKeys());
  JSYNC_ASSIGN_OR_RETURN(sync::OpenedEpoch opened,
                         sync::OpenNewestEpoch(*storage, journal_, &passphrase, nullptr));
  JSYNC_ASSIGN_OR_RETURN(uint32_t current, sync::CurrentEpoch(*store_));
  EpochResult out;
  out.key_id = opened.key_id;
  out.epoch = opened.epoch;
  crypto::Keyring ring = keyring_;
  for (const auto& [id, key] : opened.keyring.keys()) ring.Add(id, key);
  const bool newer =
      std::make_pair(opened.epoch, opened.key_id) > std::make_pair(current, keyring_.current_id());
  if (newer) ring.SetCurrent(opened.key_id);
  JSYNC_RETURN_IF_ERROR(crypto::SaveKeyringFile(KeyringPath(home_), ring));
  {
    auto txn = store_->BeginDurable();
    JSYNC_RETURN_IF_ERROR(txn.began());
    if (newer) {
      JSYNC_RETURN_IF_ERROR(store_->SetMeta("key_id", format::KeyIdHex(opened.key_id)));
      JSYNC_RETURN_IF_ERROR(store_->SetMeta(sync::kKeyEpochMeta, std::to_string(opened.epoch)));
      JSYNC_RETURN_IF_ERROR(store_->SetMeta(sync::kKeyFileMeta, ToHex(opened.file)));
    }
    JSYNC_RETURN_IF_ERROR(store_->DeleteMeta(sync::kEpochBlockedMeta));
    JSYNC_RETURN_IF_ERROR(txn.Commit());
  }
  out.opened = newer;
  JSYNC_RETURN_IF_ERROR(LoadKeys());
  return out;
}

Result<std::vector<DeviceListing>> Journal::ListDevices() {
  JSYNC_ASSIGN_OR_RETURN(auto devices, store_->Devices());
  JSYNC_ASSIGN_OR_RETURN(auto cursors, store_->Cursors());
  JSYNC_ASSIGN_OR_RETURN(auto revoked, sync::LoadRevoked(*store_));
  JSYNC_ASSIGN_OR_RETURN(store::Cursor own, store_->LastSealed());
  std::set<DeviceId> known;
  for (const auto& [d, row] : devices) known.insert(d);
  for (const auto& [d, c] : cursors) known.insert(d);
  known.insert(device_);
  std::vector<DeviceListing> out;
  for (DeviceId d : known) {
    DeviceListing l;
    l.device = d;
    l.self = d == device_;
    if (auto it = devices.find(d); it != devices.end()) {
      l.name = it->second.name;
      l.platform = it->second.platform;
    }
    l.merged_seq = l.self ? own.seq : (cursors.contains(d) ? cursors[d].seq : 0);
    JSYNC_ASSIGN_OR_RETURN(auto pin, sync::LoadPin(*store_, d));
    l.has_keys = pin.has_value();
    // "SEQ WALL_MS" of its newest merged change (core/sync/lifecycle.h), and when this device
    // merged one of its changes last.
    JSYNC_ASSIGN_OR_RETURN(auto ack, store_->GetMeta("ack:" + DeviceIdHex(d)));
    if (ack) {
      auto space = ack->find(' ');
      if (space != std::string::npos) {
        l.last_change_ms = std::strtoull(ack->c_str() + space + 1, nullptr, 10);
      }
    }
    JSYNC_ASSIGN_OR_RETURN(auto seen, store_->GetMeta("seen:" + DeviceIdHex(d)));
    if (seen) l.last_seen_ms = std::strtoull(seen->c_str(), nullptr, 10);
    if (l.self) {
      JSYNC_ASSIGN_OR_RETURN(auto last_sync, store_->GetMeta("last_sync_ms"));
      if (last_sync) l.last_seen_ms = std::strtoull(last_sync->c_str(), nullptr, 10);
    }
    if (auto rv = revoked.find(d); rv != revoked.end()) {
      l.revoked = true;
      l.revoked_by = rv->second.by;
      l.revoked_ms = rv->second.at_ms;
      l.revoked_through = rv->second.through_seq;
    }
    out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end(), [](const DeviceListing& a, const DeviceListing& b) {
    return a.self != b.self ? a.self : a.device < b.device;
  });
  return out;
}

Status Journal::RenameDevice(const std::string& id_text, const std::string& name) {
  JSYNC_RETURN_IF_ERROR(RefuseIfReadOnly());
  if (name.empty() || name.size() > 200) {
    return Status::Invalid("a device name must be 1 to 200 bytes long");
  }
  if (!id_text.empty()) {
    std::string prefix = id_text;
    std::transform(prefix.begin(), prefix.end(), prefix.begin(), ::tolower);
    if (!DeviceIdHex(device_).starts_with(prefix) || prefix.size() < 4) {
      return Status::Invalid("only a device itself writes its device file: rename device " +
                             id_text + " on that device ('jsync devices rename NAME' there)");
    }
  }
  if (!device_keys_) return Status::Invalid("this home has no device keys");
  JSYNC_ASSIGN_OR_RETURN(provider::CountingProvider * storage, Storage());
  SyncLock lock(home_);
  if (!lock.ok()) return Status::Fatal("cannot lock " + home_ + "/sync.lock");
  JSYNC_RETURN_IF_ERROR(LoadKeys());
  JSYNC_ASSIGN_OR_RETURN(auto devices, store_->Devices());
  JSYNC_ASSIGN_OR_RETURN(auto provider_name, store_->GetMeta("provider"));
  format::DeviceInfo info;
  info.name = name;
  auto row = devices.find(device_);
  info.platform = row != devices.end() ? row->second.platform : std::string("linux");
  info.provider = provider_name.value_or("");
  const sync::OwnDeviceContext oc{*store_,  *storage, master_,       key_id_,
                                  journal_, device_,  *device_keys_, clock_->WallNow()};
  JSYNC_RETURN_IF_ERROR(sync::PublishOwnDeviceFile(oc, info).status());
  auto txn = store_->Begin();
  JSYNC_RETURN_IF_ERROR(txn.began());
  JSYNC_RETURN_IF_ERROR(store_->SetMeta("device_name", name));
  JSYNC_RETURN_IF_ERROR(store_->PutDevice(device_, {name, info.platform}));
  return txn.Commit();
}

}  // namespace jsync
