#include "core/journal/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/format/device_file.h"
#include "core/format/key_file.h"
#include "core/journal/device_key.h"
#include "core/journal/local_key.h"
#include "core/sync/key_epochs.h"
#include "core/sync/key_sync.h"
#include "core/sync/reidentify.h"
#include "core/sync/remote_layout.h"
#include "core/util/utf8.h"

namespace fs = std::filesystem;

namespace jsync {
namespace {

std::string DbPath(const std::string& home) { return home + "/journal.db"; }

constexpr const char* kLastSyncProblemsMeta = "last_sync_problems";
constexpr const char* kReidentifiedFromMeta = "reidentified_from";
std::string KeyFilePath(const std::string& home) { return home + "/master.key"; }

std::string Platform() {
#if defined(__APPLE__)
  return "macos";
#elif defined(_WIN32)
  return "windows";
#else
  return "linux";
#endif
}

Result<uint64_t> ParseU64(const std::optional<std::string>& s, const char* what) {
  if (!s) return Status::Corrupt(std::string("local database lacks ") + what);
  try {
    return static_cast<uint64_t>(std::stoull(*s, nullptr, 0));
  } catch (...) {
    return Status::Corrupt(std::string("local database has a malformed ") + what);
  }
}

// Finds the journal to join at the location, if any.
Result<std::optional<JournalId>> FindJournal(provider::Provider& p, const std::string& wanted) {
  JSYNC_ASSIGN_OR_RETURN(auto objects, p.List(sync::kJournalDirPrefix));
  std::vector<JournalId> found;
  for (const auto& obj : objects) {
    auto j = sync::ParseJournalRoot(obj.path);
    if (j && (found.empty() || found.back() != *j)) found.push_back(*j);
  }
  found.erase(std::unique(found.begin(), found.end()), found.end());
  if (!wanted.empty()) {
    JSYNC_ASSIGN_OR_RETURN(JournalId id, ParseJournalId(wanted));
    if (std::find(found.begin(), found.end(), id) == found.end()) {
      return Status::NotFound("no journal " + wanted + " at this location");
    }
    return std::optional<JournalId>(id);
  }
  if (found.size() > 1) {
    std::string list;
    for (const auto& j : found) list += " " + JournalIdHex(j);
    return Status::Invalid("the location holds several journals; pick one with --journal-id:" +
                           list);
  }
  if (found.empty()) return std::optional<JournalId>();
  return std::optional<JournalId>(found[0]);
}

constexpr size_t kMaxTagBytes = 256;
constexpr size_t kMaxTextBytes = 16u << 20;

Status CheckText(const char* what, const std::string& s) {
  if (!IsValidUtf8(s)) return Status::Invalid(std::string(what) + " is not valid UTF-8");
  if (s.size() > kMaxTextBytes)
    return Status::Invalid(std::string(what) + " is larger than 16 MiB");
  return Status::Ok();
}

Status CheckTags(const std::vector<std::string>& tags) {
  for (const auto& t : tags) {
    if (t.empty() || t.size() > kMaxTagBytes) {
      return Status::Invalid("a tag must be 1 to 256 bytes long");
    }
    JSYNC_RETURN_IF_ERROR(CheckText("a tag", t));
  }
  return Status::Ok();
}

// A journal made on a provider that owns its storage (a synced folder with rules of its own)
// is joined only through that provider: another one reading the same place does not see the
// objects the same way. Refused when a device file names such a provider other than `mine`;
// a journal copied from one plain storage to another (a migration) joins. At most kMaxRead
// device files are read: a join is rare, a device list is short.
Status CheckSameStorage(provider::Provider& provider, const JournalId& journal,
                        const crypto::SecretKey& master, const std::string& mine,
                        const std::function<bool(const std::string&)>& owns_storage) {
  if (!owns_storage) return Status::Ok();
  constexpr size_t kMaxRead = 32;
  JSYNC_ASSIGN_OR_RETURN(auto listed, provider.List(sync::DevicesPrefix(journal)));
  size_t read = 0;
  for (const auto& o : listed) {
    if (!sync::ParseDevicePath(journal, o.path) || read++ == kMaxRead) continue;
    auto bytes = provider.Get(o.path, format::kMaxDeviceFileSize);
    if (!bytes.ok()) continue;  // the sync reports unreadable device files
    auto info = format::OpenDeviceFile(master, *bytes);
    if (!info.ok() || info->provider.empty() || info->provider == mine ||
        !owns_storage(info->provider)) {
      continue;
    }
    return Status::Invalid("journal " + JournalIdHex(journal) + " lives on the " +
                           info->provider + " provider (device \"" + info->name +
                           "\" syncs through it), not on " + mine +
                           ": its storage is read right only through " + info->provider +
                           ", and another provider reading the same place would miss or "
                           "mishandle what it keeps there; join it with --provider " +
                           info->provider);
  }
  return Status::Ok();
}

}  // namespace

Result<InitResult> Journal::Init(const std::string& home, const InitOptions& options,
                                 ClockFn clock) {
  if (options.passphrase.empty() && options.recovery_key.empty()) {
    return Status::Invalid("the passphrase must not be empty");
  }
  std::optional<format::RecoverySecret> recovery;
  if (!options.recovery_key.empty()) {
    JSYNC_ASSIGN_OR_RETURN(recovery, format::ParseRecoveryKey(options.recovery_key));
  }
  JSYNC_RETURN_IF_ERROR(crypto::ValidateScryptParams(options.scrypt));
  std::error_code ec;
  fs::create_directories(home, ec);
  if (ec) return Status::Fatal("cannot create home folder " + home + ": " + ec.message());
  fs::permissions(home, fs::perms::owner_all, fs::perm_options::replace, ec);

  JSYNC_ASSIGN_OR_RETURN(auto store, store::Store::Open(DbPath(home)));
  JSYNC_ASSIGN_OR_RETURN(auto existing, store->GetMeta("journal_id"));
  if (existing) {
    return Status::Invalid(home + " already holds journal " + *existing +
                           "; use another --home for another device or journal");
  }
  if (!options.storage) return Status::Invalid("no storage opener given to Journal::Init");
  if (options.provider.empty()) return Status::Invalid("no provider given to Journal::Init");
  JSYNC_ASSIGN_OR_RETURN(auto storage,
                         options.storage({home, options.provider, options.location, true}));
  std::unique_ptr<provider::Provider> provider = std::move(storage.provider);
  JSYNC_ASSIGN_OR_RETURN(auto found, FindJournal(*provider, options.journal_id));

  InitResult result;
  crypto::SecretKey master;
  format::KeyId key_id = 0;
  uint32_t epoch = 1;
  crypto::Keyring keyring;
  Bytes key_file_bytes;  // kept so a sync can restore the key file if the cloud loses it
  result.device = NewDeviceId();
  // This device's own keys (decision 0036): its device file publishes and is signed by them,
  // and a new journal's first key epoch is wrapped to them (decision 0037).
  JSYNC_ASSIGN_OR_RETURN(format::DeviceKeys device_keys,
                         LoadOrCreateDeviceKeys(DeviceKeyPath(home), nullptr));
  if (found) {
    result.journal = *found;
    result.joined = true;
    // The newest epoch only (an older key file still in the cloud must not let an old
    // passphrase or recovery key in); every earlier key comes with it.
    auto opened = sync::OpenNewestEpoch(*provider, *found,
                                        recovery ? nullptr : &options.passphrase,
                                        recovery ? &*recovery : nullptr);
    if (!opened.ok()) {
      return opened.status().WithContext("cannot join journal " + JournalIdHex(*found));
    }
    keyring = opened->keyring;
    key_id = opened->key_id;
    epoch = opened->epoch;
    master = keyring.current();
    key_file_bytes = opened->file;
    JSYNC_RETURN_IF_ERROR(
        CheckSameStorage(*provider, *found, master, options.provider, options.owns_storage));
  } else {
    if (recovery) return Status::NotFound("no journal at this location to recover");
    result.journal = NewJournalId();
    crypto::RandomBytes(std::span<uint8_t>(master.data(), master.size()));
    do {
      auto kid = crypto::RandomArray<8>();
      key_id = 0;
      for (uint8_t b : kid) key_id = key_id << 8 | b;
    } while (key_id == 0);
    // Epoch 1 (key file v2): the passphrase, the recovery key and this device.
    format::NewEpoch e;
    e.journal = result.journal;
    e.key_id = key_id;
    e.epoch = 1;
    e.created_ms = clock();
    e.writer = result.device;
    e.key = master;
    JSYNC_ASSIGN_OR_RETURN(format::KeyRecipient pass,
                           format::NewPassphraseRecipient(options.passphrase, options.scrypt));
    e.recipients.push_back(pass);
    format::RecoverySecret secret;
    crypto::RandomBytes(std::span<uint8_t>(secret.data(), secret.size()));
    JSYNC_ASSIGN_OR_RETURN(crypto::KeyPair rec, format::RecoveryKeyPair(secret));
    format::KeyRecipient rec_r;
    rec_r.kind = format::RecipientKind::kRecovery;
    rec_r.pub = rec.pub;
    e.recipients.push_back(rec_r);
    format::KeyRecipient dev_r;
    dev_r.kind = format::RecipientKind::kDevice;
    dev_r.device = result.device;
    dev_r.pub = device_keys.agree.pub;
    e.recipients.push_back(dev_r);
    JSYNC_ASSIGN_OR_RETURN(Bytes key_file, format::SealKeyFileV2(e, device_keys.sign.priv));
    JSYNC_RETURN_IF_ERROR(provider->PutIfAbsent(sync::KeyPath(result.journal, key_id), key_file));
    key_file_bytes = key_file;
    keyring = crypto::Keyring(key_id, master);
    result.recovery_key = format::RecoveryKeyText(secret);
  }

  format::DeviceInfo device{result.journal, result.device, key_id,          options.device_name,
                            Platform(),     clock(),       options.provider};
  JSYNC_ASSIGN_OR_RETURN(Bytes device_file, format::SealDeviceFileV2(master, device, device_keys));
  JSYNC_RETURN_IF_ERROR(
      provider->PutIfAbsent(sync::DevicePath(result.journal, result.device), device_file));
  JSYNC_RETURN_IF_ERROR(SaveLocalKey(KeyFilePath(home), key_id, master));
  JSYNC_RETURN_IF_ERROR(crypto::SaveKeyringFile(home + "/" + crypto::kKeyringFileName, keyring));

  auto txn = store->BeginDurable();
  JSYNC_RETURN_IF_ERROR(txn.began());
  JSYNC_RETURN_IF_ERROR(store->SetMeta("device_id", DeviceIdHex(result.device)));
  JSYNC_RETURN_IF_ERROR(store->SetMeta("device_name", options.device_name));
  JSYNC_RETURN_IF_ERROR(store->SetMeta("key_id", format::KeyIdHex(key_id)));
  JSYNC_RETURN_IF_ERROR(store->SetMeta(sync::kKeyFileMeta, ToHex(key_file_bytes)));
  JSYNC_RETURN_IF_ERROR(store->SetMeta(sync::kKeyEpochMeta, std::to_string(epoch)));
  JSYNC_RETURN_IF_ERROR(sync::RecordJoinedEpoch(*store, key_file_bytes, epoch, key_id));
  JSYNC_RETURN_IF_ERROR(store->SetMeta("provider", options.provider));
  JSYNC_RETURN_IF_ERROR(store->SetMeta("location", storage.location));
  JSYNC_RETURN_IF_ERROR(store->SetMeta("hlc", "0"));
  JSYNC_RETURN_IF_ERROR(store->PutDevice(result.device, {options.device_name, Platform()}));
  JSYNC_RETURN_IF_ERROR(sync::SavePin(*store, result.device,
                                      {device_keys.sign.pub, device_keys.agree.pub, 1, 1}));
  // Written last: its presence marks a finished init.
  JSYNC_RETURN_IF_ERROR(store->SetMeta("journal_id", JournalIdHex(result.journal)));
  JSYNC_RETURN_IF_ERROR(txn.Commit());
  return result;
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& home,
                                               provider::StorageOpener storage, ClockFn clock) {
  if (!fs::exists(DbPath(home))) {
    return Status::NotFound("no journal in " + home + "; create or join one with 'jsync init'");
  }
  std::unique_ptr<Journal> j(new Journal());
  j->home_ = home;
  j->open_storage_ = std::move(storage);
  JSYNC_ASSIGN_OR_RETURN(j->store_, store::Store::Open(DbPath(home)));
  if (!j->store_->read_only()) {
    // Homes made by an older jsync may be 0755; nothing in one is for other users.
    std::error_code ec;
    fs::permissions(home, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  JSYNC_ASSIGN_OR_RETURN(auto jid, j->store_->GetMeta("journal_id"));
  if (!jid) {
    return Status::NotFound("no journal in " + home + "; create or join one with 'jsync init'");
  }
  JSYNC_ASSIGN_OR_RETURN(j->journal_, ParseJournalId(*jid));
  JSYNC_ASSIGN_OR_RETURN(auto dev, j->store_->GetMeta("device_id"));
  JSYNC_ASSIGN_OR_RETURN(j->device_, ParseDeviceId(dev.value_or("")));
  JSYNC_ASSIGN_OR_RETURN(auto kid, j->store_->GetMeta("key_id"));
  JSYNC_ASSIGN_OR_RETURN(j->key_id_, ParseU64(kid ? std::optional("0x" + *kid) : kid, "key id"));
  JSYNC_RETURN_IF_ERROR(j->LoadKeys());
  JSYNC_RETURN_IF_ERROR(j->LoadDeviceKeysOnOpen());
  JSYNC_ASSIGN_OR_RETURN(auto hlc_text, j->store_->GetMeta("hlc"));
  JSYNC_ASSIGN_OR_RETURN(Hlc hlc, ParseU64(hlc_text, "clock"));
  j->clock_ = std::make_unique<HybridClock>(std::move(clock), hlc);
  return j;
}

Result<provider::CountingProvider*> Journal::Storage() {
  if (provider_) return provider_.get();
  JSYNC_ASSIGN_OR_RETURN(auto provider_name, store_->GetMeta("provider"));
  JSYNC_ASSIGN_OR_RETURN(auto location, store_->GetMeta("location"));
  const std::string name = provider_name.value_or("");
  auto opened = open_storage_
                    ? open_storage_({home_, name, location.value_or(""), false})
                    : Result<provider::OpenedStorage>(Status::Invalid("no storage opener given"));
  if (!opened.ok()) {
    // Said once, here: only sync needs the storage; entries can still be written and read.
    return opened.status().WithContext(
        "the journal's storage (" + name + (location && !location->empty() ? " " + *location : "") +
        ") cannot be opened; local edits keep working and wait for the next sync");
  }
  provider_ = std::make_unique<provider::CountingProvider>(std::move(opened->provider));
  return provider_.get();
}

Status Journal::RefuseIfReadOnly() const {
  if (!store_->read_only()) return Status::Ok();
  return Status::Invalid("the home " + home_ +
                         " is read-only: list, show and status work, changes need write access");
}

Status Journal::RefreshCounters(const RecordState& base) {
  // A sync in another process may have given this home a new device id since it was opened
  // (a copied home re-identifies): ops made now must carry the id the store holds.
  JSYNC_ASSIGN_OR_RETURN(auto dev, store_->GetMeta("device_id"));
  JSYNC_ASSIGN_OR_RETURN(device_, ParseDeviceId(dev.value_or("")));
  JSYNC_ASSIGN_OR_RETURN(auto hlc_text, store_->GetMeta("hlc"));
  JSYNC_ASSIGN_OR_RETURN(Hlc hlc, ParseU64(hlc_text, "clock"));
  clock_->Observe(hlc);
  JSYNC_ASSIGN_OR_RETURN(auto char_seq, store_->GetMeta("char_seq"));
  next_char_seq_ = 1;
  if (char_seq) {
    JSYNC_ASSIGN_OR_RETURN(next_char_seq_, ParseU64(char_seq, "text counter"));
  }
  // A journal written by an older jsync may hold a counter that a concurrent process set
  // back (its ids are already in use in this record): never hand out an id the record has.
  for (const char* field : {"title", "body"}) {
    if (const text::TextDocument* doc = base.Text(field)) {
      next_char_seq_ = std::max(next_char_seq_, doc->NextSeqOf(device_));
    }
  }
  return Status::Ok();
}

Op Journal::MakeOp(OpKind kind, const RecordId& record, std::string field, std::string value,
                   std::vector<OpId> observed) {
  Op op;
  op.id = {clock_->Now(), device_};
  op.wall_ms = DisplayMillis(clock_->WallNow(), op.id.hlc);  // shown, never ordered by
  op.kind = kind;
  op.collection = kEntries;
  op.record = record;
  op.field = std::move(field);
  op.value = std::move(value);
  op.observed = std::move(observed);
  return op;
}

Status Journal::WriteLocal(const RecordId& record, bool must_exist, const std::string& id_text,
                           const BuildOps& build) {
  JSYNC_RETURN_IF_ERROR(RefuseIfReadOnly());
  // BEGIN IMMEDIATE: from here on no other process can write, so what is read now (the
  // record, the clock, the counter) is what the commit builds on.
  auto txn = store_->Begin();
  JSYNC_RETURN_IF_ERROR(txn.began());
  JSYNC_ASSIGN_OR_RETURN(auto loaded, store_->LoadRecord(kEntries, record));
  if (must_exist && (!loaded || !loaded->Visible())) {
    return Status::NotFound("entry " + id_text + " was deleted");
  }
  RecordState state = loaded ? std::move(*loaded) : RecordState();
  JSYNC_RETURN_IF_ERROR(RefreshCounters(state));
  RecordState scratch = state;
  std::vector<Op> ops;
  JSYNC_RETURN_IF_ERROR(build(state, scratch, ops));
  if (ops.empty()) return Status::Ok();
  for (const Op& op : ops) {
    JSYNC_RETURN_IF_ERROR(state.Apply(op));
    JSYNC_RETURN_IF_ERROR(store_->AppendOutbox(op));
  }
  JSYNC_RETURN_IF_ERROR(store_->SaveRecord(kEntries, record, state));
  JSYNC_RETURN_IF_ERROR(store_->SetMeta("hlc", std::to_string(clock_->last())));
  JSYNC_RETURN_IF_ERROR(store_->SetMeta("char_seq", std::to_string(next_char_seq_)));
  JSYNC_RETURN_IF_ERROR(txn.Commit());
  SignalEdit();
  return Status::Ok();
}

Status Journal::EditText(RecordState& scratch, const RecordId& record, const std::string& field,
                         const std::vector<Splice>& splices, std::vector<Op>& ops) {
  if (splices.empty()) return Status::Ok();
  // One working copy of the field for all splices (a diff of a big body yields thousands):
  // the local edits build the ops on it, and the record takes the ops once at the end.
  text::TextDocument doc = scratch.Text(field) ? *scratch.Text(field) : text::TextDocument();
  const size_t first = ops.size();
  for (const Splice& sp : splices) {
    const size_t size = doc.size();
    if (sp.pos > size || sp.del > size - sp.pos) {
      return Status::Invalid("position " + std::to_string(sp.pos) +
                             (sp.del ? "+" + std::to_string(sp.del) : "") + " is outside the " +
                             field + " (" + std::to_string(size) + " characters)");
    }
    if (sp.del > 0) {
      JSYNC_ASSIGN_OR_RETURN(text::DeleteOp del, doc.LocalDelete(sp.pos, sp.del));
      Op op = MakeOp(OpKind::kTextDelete, record, field, "", {});
      op.ranges = std::move(del.ranges);
      ops.push_back(std::move(op));
    }
    if (!sp.ins.empty()) {
      JSYNC_ASSIGN_OR_RETURN(text::InsertOp ins,
                             doc.LocalInsert(device_, next_char_seq_, sp.pos, sp.ins));
      next_char_seq_ += sp.ins.size();
      Op op = MakeOp(OpKind::kTextInsert, record, field, text::Utf32ToUtf8(sp.ins), {});
      op.char_seq = ins.id.seq;
      op.origin_left = ins.origin_left;
      op.origin_right = ins.origin_right;
      // A rewrite names what it replaced, so a concurrent rewrite of it is a conflict.
      if (sp.del > 0) op.ranges = ops.back().ranges;
      ops.push_back(std::move(op));
    }
  }
  for (size_t i = first; i < ops.size(); ++i) JSYNC_RETURN_IF_ERROR(scratch.Apply(ops[i]));
  return Status::Ok();
}

Result<RecordId> Journal::NewEntry(const NewEntryInput& input) {
  JSYNC_RETURN_IF_ERROR(CheckText("the title", input.title));
  JSYNC_RETURN_IF_ERROR(CheckText("the body", input.body));
  JSYNC_RETURN_IF_ERROR(CheckTags(input.tags));
  RecordId id = NewRecordId();
  std::vector<std::string> tags = input.tags;
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  JSYNC_RETURN_IF_ERROR(
      WriteLocal(id, /*must_exist=*/false, "",
                 [&](const RecordState&, RecordState& scratch, std::vector<Op>& ops) -> Status {
                   ops.push_back(MakeOp(OpKind::kSetRegister, id, "created_at", "", {}));
                   // Wall time: the HLC may run ahead of every clock (docs/decisions/0017).
                   ops.back().value = std::to_string(ops.back().wall_ms);
                   JSYNC_RETURN_IF_ERROR(scratch.Apply(ops.back()));
                   JSYNC_RETURN_IF_ERROR(EditText(scratch, id, "title",
                                                  {{0, 0, text::Utf8ToUtf32(input.title)}}, ops));
                   JSYNC_RETURN_IF_ERROR(
                       EditText(scratch, id, "body", {{0, 0, text::Utf8ToUtf32(input.body)}}, ops));
                   for (const auto& tag : tags)
                     ops.push_back(MakeOp(OpKind::kAddToSet, id, "tags", tag, {}));
                   return Status::Ok();
                 }));
  return id;
}

Result<RecordId> Journal::ResolveId(const std::string& id_or_prefix) {
  std::string prefix = id_or_prefix;
  std::transform(prefix.begin(), prefix.end(), prefix.begin(), ::tolower);
  if (prefix.size() < 4 || prefix.size() > 32 ||
      prefix.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::Invalid("'" + id_or_prefix + "' is not an entry id (4 to 32 hex digits)");
  }
  JSYNC_ASSIGN_OR_RETURN(auto ids, store_->FindRecords(kEntries, prefix));
  if (ids.empty()) return Status::NotFound("no entry " + id_or_prefix);
  if (ids.size() > 1) return Status::Invalid("entry id prefix " + id_or_prefix + " is ambiguous");
  return ids[0];
}

Status Journal::EditEntry(const std::string& id_text, const EntryEdit& edit) {
  if (edit.title) JSYNC_RETURN_IF_ERROR(CheckText("the title", *edit.title));
  if (edit.body) JSYNC_RETURN_IF_ERROR(CheckText("the body", *edit.body));
  JSYNC_RETURN_IF_ERROR(CheckTags(edit.add_tags));
  JSYNC_ASSIGN_OR_RETURN(RecordId id, ResolveId(id_text));
  return WriteLocal(
      id, /*must_exist=*/true, id_text,
      [&](const RecordState& state, RecordState& scratch, std::vector<Op>& ops) -> Status {
        auto set_text = [&](const char* field, const std::optional<std::string>& value) {
          if (!value) return Status::Ok();
          const text::TextDocument* doc = scratch.Text(field);
          return EditText(
              scratch, id, field,
              DiffToSplices(doc ? doc->Text() : std::u32string(), text::Utf8ToUtf32(*value)), ops);
        };
        JSYNC_RETURN_IF_ERROR(set_text("title", edit.title));
        JSYNC_RETURN_IF_ERROR(set_text("body", edit.body));
        JSYNC_RETURN_IF_ERROR(EditText(scratch, id, "body", edit.body_splices, ops));
        for (const auto& tag : edit.remove_tags) {
          auto tags = state.SetTags("tags", tag);
          if (!tags.empty()) ops.push_back(MakeOp(OpKind::kRemoveFromSet, id, "tags", tag, tags));
        }
        for (const auto& tag : edit.add_tags) {
          bool removing = std::find(edit.remove_tags.begin(), edit.remove_tags.end(), tag) !=
                          edit.remove_tags.end();
          if (removing || state.SetTags("tags", tag).empty()) {
            ops.push_back(MakeOp(OpKind::kAddToSet, id, "tags", tag, {}));
          }
        }
        return Status::Ok();
      });
}

Status Journal::RemoveEntry(const std::string& id_text) {
  JSYNC_ASSIGN_OR_RETURN(RecordId id, ResolveId(id_text));
  return WriteLocal(id, /*must_exist=*/true, id_text,
                    [&](const RecordState& state, RecordState&, std::vector<Op>& ops) {
                      ops.push_back(MakeOp(OpKind::kDeleteRecord, id, "", "", state.LiveOps()));
                      return Status::Ok();
                    });
}

Result<Entry> Journal::GetEntry(const std::string& id_text) {
  JSYNC_ASSIGN_OR_RETURN(RecordId id, ResolveId(id_text));
  JSYNC_ASSIGN_OR_RETURN(auto loaded, store_->LoadRecord(kEntries, id));
  if (!loaded || !loaded->Visible()) return Status::NotFound("entry " + id_text + " was deleted");
  return EntryFromState(id, *loaded);
}

Result<std::vector<Entry>> Journal::ListEntries() {
  // In the store's listing order (created time, then id): see journal_list.cc.
  std::vector<Entry> out;
  JSYNC_RETURN_IF_ERROR(ForEachEntry([&](const Entry& e) {
    out.push_back(e);
    return Status::Ok();
  }));
  return out;
}

Result<SyncResult> Journal::Sync(const sync::DiscoveryOptions& options) {
  return RunEngine(options, /*full_cycle=*/true,
                   [](sync::SyncEngine& engine) { return engine.Run(); });
}

void Journal::SignalEdit() {
  // Closing a file written after the commit is an inotify event that comes after the commit is
  // visible (the WAL's own writes come before): a watcher of this home (live/home_watch.h)
  // reacts at once. Best effort: a watcher also looks at the WAL's writes.
  const std::string path = home_ + "/" + kEditSignalFile;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) ::close(fd);
}

Result<SyncResult> Journal::Publish() {
  return RunEngine({}, /*full_cycle=*/false,
                   [](sync::SyncEngine& engine) { return engine.Publish(); });
}

Result<SyncResult> Journal::MergeRelayed(const std::vector<RelayedChange>& changes) {
  std::map<std::string, Bytes> by_path;
  for (const auto& c : changes) by_path[sync::ChangePath(journal_, c.device, c.seq)] = c.bytes;
  return RunEngine({}, /*full_cycle=*/false, [&](sync::SyncEngine& engine) {
    return engine.MergeRelayed(std::move(by_path));
  });
}

Result<format::RelayKeys> Journal::RelayKeys() const {
  return format::DeriveRelayKeys(master_, journal_);
}

Result<std::optional<Bytes>> Journal::UploadedChange(uint64_t seq) {
  JSYNC_ASSIGN_OR_RETURN(uint64_t uploaded, store_->UploadedThrough());
  if (seq == 0 || seq > uploaded) return std::optional<Bytes>();
  JSYNC_ASSIGN_OR_RETURN(auto row, store_->GetSealed(seq));
  if (!row) return std::optional<Bytes>();
  return std::optional<Bytes>(std::move(row->bytes));
}

Status Journal::WatchStorage(const std::string& webhook_url) {
  JSYNC_ASSIGN_OR_RETURN(provider::CountingProvider * storage, Storage());
  if (!storage->capabilities().push) {
    return Status::NotFound(storage->Describe() + " has no push notifications");
  }
  return storage->Watch(webhook_url);
}

Result<SyncResult> Journal::RunEngine(
    const sync::DiscoveryOptions& options, bool full_cycle,
    const std::function<Result<sync::SyncReport>(sync::SyncEngine&)>& step) {
  JSYNC_RETURN_IF_ERROR(RefuseIfReadOnly());
  JSYNC_ASSIGN_OR_RETURN(provider::CountingProvider * storage, Storage());
  const std::string lock_path = home_ + "/sync.lock";
  int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    if (lock >= 0) ::close(lock);
    return Status::Fatal("cannot lock " + lock_path);
  }
  auto start = std::chrono::steady_clock::now();
  provider::ProviderCounters before = storage->counters();
  auto run = [&]() -> Result<sync::SyncReport> {
    // Another process of this home (a key command while a watcher runs) may have moved to a
    // new epoch: seal under the key the store names.
    JSYNC_RETURN_IF_ERROR(RefreshKeysIfChanged());
    sync::SyncEngine engine({*store_, *storage, master_, journal_, device_, key_id_, *clock_,
                             options, lifecycle_, device_keys_ ? &*device_keys_ : nullptr,
                             &keyring_, home_ + "/" + crypto::kKeyringFileName});
    return step(engine);
  };
  auto report = run();
  // A cycle that learned a new key epoch stops there (core/sync/key_epochs.h): the next one
  // seals and reads under it. What the first one said is kept.
  for (int again = 0; again < 3 && report.ok() && report->key_epoch_changed; ++again) {
    if (Status loaded = LoadKeys(); !loaded.ok()) {
      report = loaded;
      break;
    }
    if (!full_cycle) break;
    sync::SyncReport first = std::move(report).value();
    report = run();
    if (!report.ok()) break;
    report->problems.insert(report->problems.begin(), first.problems.begin(),
                            first.problems.end());
    report->notices.insert(report->notices.begin(), first.notices.begin(), first.notices.end());
    report->sealed_changes += first.sealed_changes;
    report->sealed_ops += first.sealed_ops;
    report->uploaded_changes += first.uploaded_changes;
    report->uploaded_bytes += first.uploaded_bytes;
  }
  Status meta = Status::Ok();
  if (report.ok()) {
    // A re-identified device writes as its new id from now on (docs/decisions/0019).
    if (report->device != 0) device_ = report->device;
    // When this device last merged a change of each device (`jsync devices`: last seen).
    for (const auto& [d, n] : report->merged_by_device) {
      if (meta.ok()) meta = store_->SetMeta("seen:" + DeviceIdHex(d), std::to_string(SystemMillis()));
    }
    if (full_cycle && report->ok()) {
      meta = store_->SetMeta("last_sync_ms", std::to_string(SystemMillis()));
    }
    if (full_cycle) {
      // `status` shows what the last sync found until the next sync replaces it.
      nlohmann::json problems = nlohmann::json::array();
      for (const auto& p : report->problems) {
        problems.push_back({{"code", CodeName(p.code)}, {"message", p.message}});
      }
      if (meta.ok()) meta = store_->SetMeta(kLastSyncProblemsMeta, problems.dump());
    }
    if (meta.ok() && report->reidentified_from != 0) {
      meta = store_->SetMeta(kReidentifiedFromMeta, DeviceIdHex(report->reidentified_from));
    }
  }
  if (meta.ok() && full_cycle) meta = store_->Checkpoint();
  ::close(lock);
  if (!report.ok()) return report.status();
  JSYNC_RETURN_IF_ERROR(meta);
  SyncResult result;
  result.report = std::move(report).value();
  const auto& after = storage->counters();
  result.calls.puts = after.puts - before.puts;
  result.calls.gets = after.gets - before.gets;
  result.calls.lists = after.lists - before.lists;
  result.calls.removes = after.removes - before.removes;
  result.calls.feeds = after.feeds - before.feeds;
  result.calls.bytes_up = after.bytes_up - before.bytes_up;
  result.calls.bytes_down = after.bytes_down - before.bytes_down;
  result.elapsed_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - start)
                                                .count());
  return result;
}

Result<JournalStatus> Journal::GetStatus() {
  JournalStatus s;
  s.journal = journal_;
  s.device = device_;
  JSYNC_ASSIGN_OR_RETURN(auto name, store_->GetMeta("device_name"));
  s.device_name = name.value_or("");
  JSYNC_ASSIGN_OR_RETURN(auto provider_name, store_->GetMeta("provider"));
  s.provider = provider_name.value_or("");
  JSYNC_ASSIGN_OR_RETURN(auto location, store_->GetMeta("location"));
  s.location = location.value_or("");
  JSYNC_ASSIGN_OR_RETURN(s.outbox_ops, store_->OutboxSize());
  JSYNC_ASSIGN_OR_RETURN(auto pending, store_->SealedNotUploaded());
  s.unuploaded_changes = pending.size();
  JSYNC_ASSIGN_OR_RETURN(auto last_sync, store_->GetMeta("last_sync_ms"));
  if (last_sync) {
    JSYNC_ASSIGN_OR_RETURN(s.last_sync_ms, ParseU64(last_sync, "last sync time"));
  }
  // Offline is fine for status: the quota is simply not shown.
  if (auto storage = Storage(); storage.ok() && (*storage)->capabilities().quota) {
    if (auto q = (*storage)->Quota(); q.ok()) s.quota = *q;
  }
  JSYNC_ASSIGN_OR_RETURN(auto problems, store_->GetMeta(kLastSyncProblemsMeta));
  if (problems) {
    auto json = nlohmann::json::parse(*problems, nullptr, false);
    if (json.is_array()) {
      for (const auto& p : json) {
        if (!p.is_object() || !p.value("message", nlohmann::json()).is_string()) continue;
        s.last_sync_problems.push_back({p.value("code", ""), p["message"].get<std::string>()});
      }
    }
  }
  JSYNC_ASSIGN_OR_RETURN(auto previous, store_->GetMeta(kReidentifiedFromMeta));
  if (previous) {
    JSYNC_ASSIGN_OR_RETURN(s.reidentified_from, ParseDeviceId(*previous));
  }
  JSYNC_ASSIGN_OR_RETURN(auto floor, store_->GetMeta(sync::kReplayFloorMeta));
  s.rebuilding = floor.has_value();
  JSYNC_ASSIGN_OR_RETURN(auto devices, store_->Devices());
  JSYNC_ASSIGN_OR_RETURN(auto cursors, store_->Cursors());
  JSYNC_ASSIGN_OR_RETURN(store::Cursor own, store_->LastSealed());
  for (const auto& [id, cursor] : cursors) devices.try_emplace(id);
  for (const auto& [id, row] : devices) {
    DeviceStatus d{id, row.name, 0, id == device_};
    d.merged_seq = d.self ? own.seq : (cursors.contains(id) ? cursors[id].seq : 0);
    s.devices.push_back(d);
  }
  return s;
}

}  // namespace jsync
