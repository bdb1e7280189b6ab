#include "core/sync/key_epochs.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "core/sync/key_sync.h"
#include "core/sync/remote_layout.h"
#include "core/util/escape.h"

namespace jsync::sync {
namespace {

// Far beyond any real number of key operations, and far from overflowing.
constexpr uint32_t kMaxPlausibleEpoch = 1u << 30;
constexpr uint32_t kMaxEpochJump = 1u << 16;


using format::KeyFileV2;
using format::KeyRecipient;
using format::RecipientKind;
using format::RevokedDevice;

Result<std::map<std::string, uint32_t>> LoadSeen(store::Store& store) {
  std::map<std::string, uint32_t> seen;
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kKeyFilesSeenMeta));
  if (!text) return seen;
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object()) return seen;
  for (const auto& [k, v] : json.items()) {
    if (v.is_number_unsigned()) seen[k] = v.get<uint32_t>();
  }
  return seen;
}

Status SaveSeen(store::Store& store, const std::map<std::string, uint32_t>& seen) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [k, v] : seen) json[k] = v;
  return store.SetMeta(kKeyFilesSeenMeta, json.dump());
}

// Refused key files by key id, with what was refused (a hash of the bytes, or why they could
// not be read): the same bytes are not judged and reported again, changed bytes are (a damaged
// file put right by its writer is then learned).
constexpr const char* kRefusedMeta = "key_files_refused";

Result<std::map<std::string, std::string>> LoadRefused(store::Store& store) {
  std::map<std::string, std::string> out;
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kRefusedMeta));
  if (!text) return out;
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object()) return out;
  for (const auto& [k, v] : json.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

Status SaveRefused(store::Store& store, const std::map<std::string, std::string>& refused) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [k, v] : refused) json[k] = v;
  return store.SetMeta(kRefusedMeta, json.dump());
}

Status SaveBlock(store::Store& store, const EpochBlock& b) {
  nlohmann::json json = {{"key", format::KeyIdHex(b.key)},
                         {"epoch", b.epoch},
                         {"why", b.why},
                         {"by", DeviceIdHex(b.by)},
                         {"at_ms", b.at_ms}};
  return store.SetMeta(kEpochBlockedMeta, json.dump());
}

std::string Label(const std::map<DeviceId, store::DeviceRow>& devices, DeviceId d) {
  auto it = devices.find(d);
  std::string hex = DeviceIdHex(d);
  return it == devices.end() || it->second.name.empty()
             ? "device " + hex
             : "device " + hex + " (" + it->second.name + ")";
}

std::string BlockMessage(const EpochBlock& b, const std::map<DeviceId, store::DeviceRow>& devices) {
  if (b.why == "revoked") {
    return "this device was revoked by " + Label(devices, b.by) + " on " + ShowDate(b.at_ms) +
           ": it cannot read what the other devices write from then on, and they refuse its "
           "later changes. To use the journal here again, join it from a fresh --home with "
           "'jsync init' and the passphrase";
  }
  return "key epoch " + std::to_string(b.epoch) + " (key " + format::KeyIdHex(b.key) +
         ", made by " + Label(devices, b.by) + " on " + ShowDate(b.at_ms) +
         ") holds no key for this device (its public key was not known then): run 'jsync "
         "unlock' and type the passphrase to open it; until then this device reads nothing "
         "sealed under it";
}

std::tuple<uint32_t, format::KeyId> Order(uint32_t epoch, format::KeyId id) { return {epoch, id}; }

// Whether a key file names a device file revision this device has not applied, or a change
// under a key it lacks: reasons for a probe cycle to look at keys/.
Result<bool> ShouldLook(const SyncContext& ctx, const EpochScanInput& in) {
  if (in.listing_complete) return true;
  JSYNC_ASSIGN_OR_RETURN(auto waiting, ctx.store.GetMeta("key_files_waiting"));
  if (waiting && *waiting != "0") return true;
  for (const auto& o : in.listing) {
    auto name = ParseDeviceFilePath(ctx.journal, o.path);
    if (!name) continue;
    JSYNC_ASSIGN_OR_RETURN(auto pin, LoadPin(ctx.store, name->device));
    const uint32_t applied = pin ? pin->revision : in.devices.contains(name->device) ? 1 : 0;
    if (name->revision > applied) return true;
  }
  for (const auto& [path, bytes] : in.prefetched) {
    auto parsed = format::ParseChangeHeader(bytes);
    if (!parsed.ok()) continue;
    const format::KeyId k = parsed->header.key_id;
    if (k != ctx.key_id && (!ctx.keyring || !ctx.keyring->Find(k))) return true;
  }
  return false;
}

struct Candidate {
  std::string path;
  Bytes bytes;
  KeyFileV2 parsed;
};

}  // namespace

Result<std::map<DeviceId, RevokedDevice>> LoadRevoked(store::Store& store) {
  std::map<DeviceId, RevokedDevice> out;
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kRevokedMeta));
  if (!text) return out;
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_array()) return Status::Corrupt("local database has a malformed revoked list");
  for (const auto& e : json) {
    RevokedDevice rv;
    auto dev = ParseDeviceId(e.value("device", ""));
    auto by = ParseDeviceId(e.value("by", ""));
    if (!dev.ok() || !by.ok())
      return Status::Corrupt("local database has a malformed revoked list");
    rv.device = *dev;
    rv.by = *by;
    rv.through_seq = e.value("through", uint64_t{0});
    rv.at_ms = e.value("at_ms", uint64_t{0});
    rv.epoch = e.value("epoch", uint32_t{0});
    out[rv.device] = rv;
  }
  return out;
}

Status SaveRevoked(store::Store& store, const std::map<DeviceId, RevokedDevice>& revoked) {
  nlohmann::json json = nlohmann::json::array();
  for (const auto& [d, rv] : revoked) {
    json.push_back({{"device", DeviceIdHex(rv.device)},
                    {"through", rv.through_seq},
                    {"by", DeviceIdHex(rv.by)},
                    {"at_ms", rv.at_ms},
                    {"epoch", rv.epoch}});
  }
  return store.SetMeta(kRevokedMeta, json.dump());
}

Result<uint32_t> CurrentEpoch(store::Store& store) {
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kKeyEpochMeta));
  if (!text) return uint32_t{1};
  return static_cast<uint32_t>(std::strtoul(text->c_str(), nullptr, 10));
}

Result<std::optional<EpochBlock>> LoadEpochBlock(store::Store& store) {
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kEpochBlockedMeta));
  if (!text) return std::optional<EpochBlock>();
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object()) return std::optional<EpochBlock>();
  EpochBlock b;
  b.key = std::strtoull(json.value("key", "0").c_str(), nullptr, 16);
  b.epoch = json.value("epoch", uint32_t{0});
  b.why = json.value("why", "");
  auto by = ParseDeviceId(json.value("by", ""));
  b.by = by.ok() ? *by : 0;
  b.at_ms = json.value("at_ms", uint64_t{0});
  return std::optional<EpochBlock>(b);
}

std::string ShowDate(uint64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string RevokedMessage(const RevokedDevice& rv, const std::string& device_label,
                           const std::string& by_label) {
  return device_label + " was revoked by " + by_label + " on " + ShowDate(rv.at_ms) +
         "; its later changes are refused (from change " + std::to_string(rv.through_seq + 1) +
         " on)";
}

Result<bool> NewerKeyFileListed(store::Store& store, const JournalId& journal,
                                const std::vector<provider::ObjectInfo>& listing) {
  JSYNC_ASSIGN_OR_RETURN(auto seen, LoadSeen(store));
  JSYNC_ASSIGN_OR_RETURN(auto refused, LoadRefused(store));
  JSYNC_ASSIGN_OR_RETURN(uint32_t current, CurrentEpoch(store));
  for (const auto& o : listing) {
    auto id = ParseKeyFilePath(journal, o.path);
    if (!id || refused.contains(format::KeyIdHex(*id))) continue;  // refused: not a successor
    auto it = seen.find(format::KeyIdHex(*id));
    if (it == seen.end() || it->second > current) return true;
  }
  return false;
}

Result<bool> LearnKeyEpochs(const SyncContext& ctx, const EpochScanInput& in, EpochScanState& state,
                            SyncReport& report) {
  if (!ctx.keyring || ctx.keyring_path.empty()) return false;  // callers without epochs
  const auto devices = in.devices;
  if (in.waiting_only) {
    if (state.waiting == 0) return false;
  } else {
    state = {};
    JSYNC_ASSIGN_OR_RETURN(bool look, ShouldLook(ctx, in));
    if (!look) {
      // Said every cycle until it is resolved (jsync unlock, or a new home for a revoked one).
      JSYNC_ASSIGN_OR_RETURN(auto pending, LoadEpochBlock(ctx.store));
      if (pending) {
        report.problems.push_back({pending->why == "revoked" ? Code::kInvalid : Code::kNotFound,
                                   BlockMessage(*pending, devices)});
      }
      return false;
    }
    {
      state.looked = true;
      if (in.listing_complete) {
        const std::string prefix = KeysPrefix(ctx.journal);
        for (const auto& o : in.listing) {
          if (o.path.starts_with(prefix)) state.key_files.push_back(o);
        }
      } else {
        JSYNC_ASSIGN_OR_RETURN(state.key_files, ctx.provider.List(KeysPrefix(ctx.journal)));
      }
    }
  }
  JSYNC_ASSIGN_OR_RETURN(auto seen, LoadSeen(ctx.store));
  JSYNC_ASSIGN_OR_RETURN(auto refused, LoadRefused(ctx.store));
  JSYNC_ASSIGN_OR_RETURN(auto revoked, LoadRevoked(ctx.store));
  JSYNC_ASSIGN_OR_RETURN(uint32_t current_epoch, CurrentEpoch(ctx.store));
  crypto::Keyring ring = *ctx.keyring;
  bool refused_changed = false;
  std::map<std::string, std::string> what;  // key id hex -> what its bytes were this pass
  const format::KeyId start_current = ctx.key_id;
  bool seen_changed = false;
  bool ring_changed = false;
  bool revoked_changed = false;
  std::optional<EpochBlock> block;
  std::vector<Candidate> candidates;
  size_t waiting = 0;
  auto refuse = [&](const std::string& path, format::KeyId id, const std::string& why) {
    report.problems.push_back(
        {Code::kCorrupt, "key file " + EscapeForDisplay(path) + " was refused: " + why});
    const std::string hex = format::KeyIdHex(id);
    refused[hex] = what[hex];
    refused_changed = true;
  };
  for (const auto& o : state.key_files) {
    auto id = ParseKeyFilePath(ctx.journal, o.path);
    if (!id) {
      if (o.kind != provider::ObjectKind::kDirectory)
        report.notices.push_back("ignored unexpected file " + EscapeForDisplay(o.path));
      continue;
    }
    const std::string hex = format::KeyIdHex(*id);
    if (seen.contains(hex)) continue;
    if (*id == ctx.key_id) {
      seen[hex] = current_epoch;
      seen_changed = true;
      continue;
    }
    auto bytes = ctx.provider.Get(o.path, format::kMaxKeyFileSize);
    if (!bytes.ok() && bytes.status().Is(Code::kNotFound)) continue;
    if (!bytes.ok() && !bytes.status().Is(Code::kCorrupt)) return bytes.status();
    what[hex] = bytes.ok() ? ToHex(crypto::HashSha256(*bytes)) : bytes.status().message();
    if (auto r = refused.find(hex); r != refused.end() && r->second == what[hex]) continue;
    if (!bytes.ok()) {
      refuse(o.path, *id, "it " + bytes.status().message());
      continue;
    }
    const uint16_t version = format::KeyFileVersion(*bytes);
    if (version == format::kKeyVersion) {
      // An unsigned legacy file: only the one this journal started with counts.
      if (ring.Find(*id)) {
        seen[hex] = 1;
        seen_changed = true;
      } else {
        refuse(o.path, *id,
               "it is an unsigned version 1 key file for a key this device does not know "
               "(someone holding the journal key may have planted it)");
      }
      continue;
    }
    auto parsed = format::ParseKeyFileV2(*bytes);
    if (!parsed.ok()) {
      refuse(o.path, *id,
             "it is damaged (" + parsed.status().message() +
                 "); remove it: the device that wrote it restores a good copy at its next "
                 "'jsync sync --full'");
      continue;
    }
    if (parsed->journal != ctx.journal || parsed->key_id != *id) {
      refuse(o.path, *id, "it names another journal or key than its file name");
      continue;
    }
    // Epochs count key operations one by one: a number far beyond this device's would make
    // every later rotation overflow, so it is refused (review of 2026-12-04, C4).
    if (parsed->epoch >= kMaxPlausibleEpoch || parsed->epoch > current_epoch + kMaxEpochJump) {
      refuse(o.path, *id,
             "its epoch number " + std::to_string(parsed->epoch) +
                 " is implausibly far beyond this device's " + std::to_string(current_epoch));
      continue;
    }
    candidates.push_back({o.path, std::move(bytes).value(), std::move(parsed).value()});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return Order(a.parsed.epoch, a.parsed.key_id) < Order(b.parsed.epoch, b.parsed.key_id);
  });
  // The newest (epoch, key id) this device can open becomes current.
  std::tuple<uint32_t, format::KeyId> best = Order(current_epoch, start_current);
  std::optional<Candidate> best_file;
  for (auto& c : candidates) {
    const KeyFileV2& k = c.parsed;
    const std::string hex = format::KeyIdHex(k.key_id);
    const KeyRecipient* mine = k.Find(RecipientKind::kDevice, ctx.device);
    std::optional<crypto::SecretKey> key;
    if (mine && ctx.device_keys && mine->pub == ctx.device_keys->agree.pub) {
      auto opened = format::UnwrapEpochKey(k, c.bytes, *mine, ctx.device_keys->agree.priv);
      if (opened.ok()) key = *opened;
    }
    std::optional<std::vector<format::EpochKey>> old;
    if (key) {
      auto opened = format::OpenOldEpochs(k, c.bytes, *key);
      if (!opened.ok()) {
        refuse(c.path, k.key_id,
               "its earlier epochs do not open (" + opened.status().message() + ")");
        continue;
      }
      old = std::move(opened).value();
    }
    JSYNC_ASSIGN_OR_RETURN(auto pin, LoadPin(ctx.store, k.writer));
    if (!pin) {
      // A writer this device has not met (a device that joined while this one was away, its
      // device file sealed under an epoch this one lacks). Its file is believed when it
      // carries this device's newest key among its earlier epochs: only a holder of that key
      // could write it, the trust a device file of an unpinned device gets (decision 0036).
      const crypto::SecretKey* have = ring.Find(std::get<1>(best));
      const bool proven =
          old && have && std::any_of(old->begin(), old->end(), [&](const format::EpochKey& e) {
            return e.id == std::get<1>(best) &&
                   std::equal(e.key.data(), e.key.data() + e.key.size(), have->data());
          });
      auto rv = revoked.find(k.writer);
      if (!proven || (rv != revoked.end() && k.epoch >= rv->second.epoch)) {
        report.notices.push_back("key file " + EscapeForDisplay(c.path) + " was written by " +
                                 Label(devices, k.writer) +
                                 ", whose device file this device has not read yet; it is read "
                                 "once that file is");
        ++waiting;
        continue;
      }
    } else if (!format::KeyFileSignatureValid(k, c.bytes, pin->sign_pub)) {
      refuse(c.path, k.key_id,
             "it is not signed by " + Label(devices, k.writer) +
                 ", the device it names as its writer (someone holding the journal key may have "
                 "forged it)");
      continue;
    }
    // Any key file a revoked device writes that this device had not seen before it learned the
    // revocation is refused, whatever epoch it claims (a lower one must not lift the
    // revocation or revoke others: review C1).
    if (auto rv = revoked.find(k.writer); pin && rv != revoked.end()) {
      refuse(c.path, k.key_id,
             "it was written by " + Label(devices, k.writer) + ", which was revoked by " +
                 Label(devices, rv->second.by) + " on " + ShowDate(rv->second.at_ms));
      continue;
    }
    // Authentic: its revocations hold whether or not this device can open it.
    // Revocations only ever grow: an entry is never lifted, and a device's through_seq only
    // moves down; nobody revokes itself through another's name.
    for (const auto& rv : k.revoked) {
      if (rv.device == k.writer) continue;
      auto [it, added] = revoked.try_emplace(rv.device, rv);
      if (!added && rv.through_seq < it->second.through_seq) {
        it->second.through_seq = rv.through_seq;
        added = true;
      }
      revoked_changed |= added;
    }
    seen[hex] = k.epoch;
    seen_changed = true;
    if (!key) {
      if (ring.Find(k.key_id)) continue;               // held already (from a later epoch's list)
      if (Order(k.epoch, k.key_id) <= best) continue;  // older: nothing is sealed under it here
      EpochBlock b{k.key_id, k.epoch, "no_wrap", k.writer, k.created_ms};
      if (auto rv = revoked.find(ctx.device); rv != revoked.end()) {
        b = {k.key_id, k.epoch, "revoked", rv->second.by, rv->second.at_ms};
      }
      block = b;
      continue;
    }
    for (const auto& e : *old) {
      if (!ring.Find(e.id)) {
        ring.Add(e.id, e.key);
        ring_changed = true;
      }
    }
    if (!ring.Find(k.key_id)) {
      ring.Add(k.key_id, *key);
      ring_changed = true;
    }
    if (Order(k.epoch, k.key_id) > best) {
      best = Order(k.epoch, k.key_id);
      best_file = c;
    }
  }
  state.waiting = waiting;
  JSYNC_RETURN_IF_ERROR(ctx.store.SetMeta("key_files_waiting", std::to_string(waiting)));
  for (const auto& [hex, epoch] : seen) refused_changed |= refused.erase(hex) > 0;
  if (revoked_changed) JSYNC_RETURN_IF_ERROR(SaveRevoked(ctx.store, revoked));
  const bool new_current = best_file.has_value();
  if (new_current) {
    ring.SetCurrent(best_file->parsed.key_id);
    ring_changed = true;
  }
  // Keys before "seen": a crash in between leaves the files unseen, so the next cycle learns
  // them again rather than never (review M5).
  if (ring_changed) JSYNC_RETURN_IF_ERROR(crypto::SaveKeyringFile(ctx.keyring_path, ring));
  if (seen_changed && !new_current) JSYNC_RETURN_IF_ERROR(SaveSeen(ctx.store, seen));
  if (refused_changed) JSYNC_RETURN_IF_ERROR(SaveRefused(ctx.store, refused));
  if (new_current) {
    const KeyFileV2& k = best_file->parsed;
    auto txn = ctx.store.Begin();
    JSYNC_RETURN_IF_ERROR(txn.began());
    if (seen_changed) JSYNC_RETURN_IF_ERROR(SaveSeen(ctx.store, seen));
    JSYNC_RETURN_IF_ERROR(ctx.store.SetMeta("key_id", format::KeyIdHex(k.key_id)));
    JSYNC_RETURN_IF_ERROR(ctx.store.SetMeta(kKeyEpochMeta, std::to_string(k.epoch)));
    JSYNC_RETURN_IF_ERROR(ctx.store.SetMeta(kKeyFileMeta, ToHex(best_file->bytes)));
    if (block && Order(block->epoch, block->key) < best) block.reset();
    if (!block) JSYNC_RETURN_IF_ERROR(ctx.store.DeleteMeta(kEpochBlockedMeta));
    JSYNC_RETURN_IF_ERROR(txn.Commit());
    report.notices.push_back("learned key epoch " + std::to_string(k.epoch) + " (key " +
                             format::KeyIdHex(k.key_id) + ", made by " + Label(devices, k.writer) +
                             "); new changes are sealed under it");
  }
  if (block) JSYNC_RETURN_IF_ERROR(SaveBlock(ctx.store, *block));
  // Said every cycle until it is resolved (jsync unlock, or a new home for a revoked device).
  if (!in.waiting_only) {
    JSYNC_ASSIGN_OR_RETURN(auto pending, LoadEpochBlock(ctx.store));
    if (pending) {
      report.problems.push_back({pending->why == "revoked" ? Code::kInvalid : Code::kNotFound,
                                 BlockMessage(*pending, devices)});
    }
  }
  return new_current;
}

Status RecordJoinedEpoch(store::Store& store, ByteSpan file, uint32_t epoch, format::KeyId key_id) {
  std::map<std::string, uint32_t> seen{{format::KeyIdHex(key_id), epoch}};
  JSYNC_RETURN_IF_ERROR(SaveSeen(store, seen));
  if (format::KeyFileVersion(file) != format::kKeyVersionV2) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(KeyFileV2 k, format::ParseKeyFileV2(file));
  std::map<DeviceId, RevokedDevice> revoked;
  for (const auto& rv : k.revoked) revoked[rv.device] = rv;
  return SaveRevoked(store, revoked);
}

// --- Writing -----------------------------------------------------------------------------

Result<EpochWritten> WriteNewEpoch(const EpochWriteContext& ctx, const EpochChange& change) {
  JSYNC_ASSIGN_OR_RETURN(auto kept, ctx.store.GetMeta(kKeyFileMeta));
  std::optional<KeyFileV2> current;
  Bytes current_bytes;
  if (kept) {
    JSYNC_ASSIGN_OR_RETURN(current_bytes, FromHex(*kept));
    if (format::KeyFileVersion(current_bytes) == format::kKeyVersionV2) {
      JSYNC_ASSIGN_OR_RETURN(KeyFileV2 parsed, format::ParseKeyFileV2(current_bytes));
      current = std::move(parsed);
    }
  }
  JSYNC_ASSIGN_OR_RETURN(uint32_t current_epoch, CurrentEpoch(ctx.store));
  JSYNC_ASSIGN_OR_RETURN(auto revoked, LoadRevoked(ctx.store));
  if (change.revoke) revoked[change.revoke->device] = *change.revoke;

  format::NewEpoch e;
  e.journal = ctx.journal;
  e.epoch = current_epoch + 1;
  e.previous = ctx.keyring.current_id();
  e.created_ms = ctx.now_ms;
  e.writer = ctx.device;
  crypto::RandomBytes(std::span<uint8_t>(e.key.data(), e.key.size()));
  do {
    auto kid = crypto::RandomArray<8>();
    e.key_id = 0;
    for (uint8_t b : kid) e.key_id = e.key_id << 8 | b;
  } while (e.key_id == 0 || ctx.keyring.Find(e.key_id));
  if (change.passphrase) {
    e.recipients.push_back(*change.passphrase);
  } else if (current && current->Find(RecipientKind::kPassphrase)) {
    KeyRecipient r = *current->Find(RecipientKind::kPassphrase);
    r.wrap.clear();
    e.recipients.push_back(r);
  } else {
    return Status::Invalid(
        "this journal's key file has no passphrase wrap this device can copy (it was made by an "
        "older jsync): run 'jsync passwd' once, which asks for the passphrase");
  }
  if (change.recovery) {
    KeyRecipient r;
    r.kind = RecipientKind::kRecovery;
    r.pub = *change.recovery;
    e.recipients.push_back(r);
  } else if (current && current->Find(RecipientKind::kRecovery)) {
    KeyRecipient r = *current->Find(RecipientKind::kRecovery);
    r.wrap.clear();
    e.recipients.push_back(r);
  }
  EpochWritten out;
  // Every device whose public key this device has pinned and that is not revoked.
  JSYNC_ASSIGN_OR_RETURN(auto devices, ctx.store.Devices());
  JSYNC_ASSIGN_OR_RETURN(auto cursors, ctx.store.Cursors());
  std::set<DeviceId> known;
  for (const auto& [d, row] : devices) known.insert(d);
  for (const auto& [d, c] : cursors) known.insert(d);
  known.insert(ctx.device);
  for (DeviceId d : known) {
    if (revoked.contains(d)) continue;
    JSYNC_ASSIGN_OR_RETURN(auto pin, LoadPin(ctx.store, d));
    if (!pin) {
      out.unwrapped_devices.push_back(d);
      continue;
    }
    KeyRecipient r;
    r.kind = RecipientKind::kDevice;
    r.device = d;
    r.pub = d == ctx.device ? ctx.device_keys.agree.pub : pin->agree_pub;
    e.recipients.push_back(r);
    out.wrapped_devices.push_back(d);
  }
  for (const auto& [id, key] : ctx.keyring.keys()) e.old_keys.push_back({id, key});
  for (const auto& [d, rv] : revoked) e.revoked.push_back(rv);
  JSYNC_ASSIGN_OR_RETURN(Bytes file, format::SealKeyFileV2(e, ctx.device_keys.sign.priv));
  const std::string path = KeyPath(ctx.journal, e.key_id);
  JSYNC_RETURN_IF_ERROR(
      ctx.provider.PutIfAbsent(path, file).WithContext("uploading the new key file " + path));

  // This device holds it from now on; then the others learn it at their next sync.
  out.keyring = ctx.keyring;
  out.keyring.Add(e.key_id, e.key);
  out.keyring.SetCurrent(e.key_id);
  JSYNC_RETURN_IF_ERROR(crypto::SaveKeyringFile(ctx.keyring_path, out.keyring));
  JSYNC_ASSIGN_OR_RETURN(auto seen, LoadSeen(ctx.store));
  seen[format::KeyIdHex(e.key_id)] = e.epoch;
  {
    auto txn = ctx.store.BeginDurable();
    JSYNC_RETURN_IF_ERROR(txn.began());
    JSYNC_RETURN_IF_ERROR(ctx.store.SetMeta("key_id", format::KeyIdHex(e.key_id)));
    JSYNC_RETURN_IF_ERROR(ctx.store.SetMeta(kKeyEpochMeta, std::to_string(e.epoch)));
    JSYNC_RETURN_IF_ERROR(ctx.store.SetMeta(kKeyFileMeta, ToHex(file)));
    JSYNC_RETURN_IF_ERROR(SaveRevoked(ctx.store, revoked));
    JSYNC_RETURN_IF_ERROR(SaveSeen(ctx.store, seen));
    JSYNC_RETURN_IF_ERROR(ctx.store.DeleteMeta(kEpochBlockedMeta));
    JSYNC_RETURN_IF_ERROR(txn.Commit());
  }
  out.key_id = e.key_id;
  out.epoch = e.epoch;

  // Announce it: a new revision of this device's own device file (sealed under the new key),
  // which probing devices notice in their listing of devices/ and then look at keys/.
  JSYNC_ASSIGN_OR_RETURN(auto name, ctx.store.GetMeta("device_name"));
  JSYNC_ASSIGN_OR_RETURN(auto provider_name, ctx.store.GetMeta("provider"));
  format::DeviceInfo info;
  info.name = name.value_or("");
  auto row = devices.find(ctx.device);
  info.platform = row != devices.end() ? row->second.platform : std::string("linux");
  info.provider = provider_name.value_or("");
  const OwnDeviceContext oc{ctx.store,   ctx.provider, e.key,           e.key_id,
                            ctx.journal, ctx.device,   ctx.device_keys, ctx.now_ms};
  JSYNC_RETURN_IF_ERROR(PublishOwnDeviceFile(oc, info).status());

  // The epochs it replaces: their files go, so an old passphrase or recovery key opens
  // nothing current (devices that use them hold their keys already).
  JSYNC_ASSIGN_OR_RETURN(auto listed, ctx.provider.List(KeysPrefix(ctx.journal)));
  for (const auto& o : listed) {
    auto id = ParseKeyFilePath(ctx.journal, o.path);
    if (!id || *id == e.key_id || !ctx.keyring.Find(*id)) continue;
    Status removed = ctx.provider.Remove(o.path);
    if (removed.ok() || removed.Is(Code::kNotFound)) out.removed.push_back(o.path);
  }
  return out;
}

Result<OpenedEpoch> OpenNewestEpoch(provider::Provider& provider, const JournalId& journal,
                                    const std::string* passphrase,
                                    const format::RecoverySecret* recovery) {
  JSYNC_ASSIGN_OR_RETURN(auto listed, provider.List(KeysPrefix(journal)));
  struct File {
    uint32_t epoch;
    format::KeyId id;
    std::string path;
    Bytes bytes;
  };
  std::vector<File> files;
  Status last = Status::Corrupt("the journal has no key file in the cloud");
  for (const auto& o : listed) {
    auto id = ParseKeyFilePath(journal, o.path);
    if (!id) continue;
    JSYNC_ASSIGN_OR_RETURN(Bytes bytes, provider.Get(o.path, format::kMaxKeyFileSize));
    auto info = format::ReadKeyFileInfo(bytes);
    if (!info.ok() || info->journal != journal || info->key_id != *id) {
      last = Status::Corrupt("key file " + o.path + " is damaged or misplaced" +
                             (info.ok() ? "" : ": " + info.status().message()));
      continue;
    }
    files.push_back({info->epoch, *id, o.path, std::move(bytes)});
  }
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) {
    return Order(a.epoch, a.id) > Order(b.epoch, b.id);
  });
  // Newest first. The writer of an epoch removes the files it replaced, so an old passphrase
  // normally finds nothing to open; a file left by a crash opens only an old epoch, whose
  // successor this device then cannot read without the current passphrase. Older files are
  // tried at all so a planted file with a huge epoch number cannot stop every join; the
  // newest file's refusal is what is said.
  bool said = false;
  auto note = [&](Status s) {
    if (!said) last = std::move(s);
    said = true;
  };
  for (const File& f : files) {
    OpenedEpoch out;
    out.key_id = f.id;
    out.epoch = f.epoch;
    out.file = f.bytes;
    if (format::KeyFileVersion(f.bytes) == format::kKeyVersion) {
      if (!passphrase) {
        note(Status::Invalid("this journal was made by an older jsync and has no recovery key"));
        continue;
      }
      auto key = format::UnwrapMasterKey(f.bytes, *passphrase);
      if (!key.ok()) {
        note(key.status());
        continue;
      }
      out.keyring = crypto::Keyring(f.id, *key);
      return out;
    }
    auto parsed = format::ParseKeyFileV2(f.bytes);
    if (!parsed.ok()) {
      note(parsed.status().WithContext("key file " + f.path + " is damaged"));
      continue;
    }
    const KeyFileV2& k = *parsed;
    Result<crypto::SecretKey> key = Status::Corrupt("");
    if (passphrase) {
      key = format::UnwrapMasterKey(f.bytes, *passphrase);
      if (!key.ok()) {
        note(Status::Corrupt(
            "wrong passphrase (if it was changed with 'jsync passwd', use the new one)"));
        continue;
      }
    } else if (recovery) {
      const KeyRecipient* r = k.Find(RecipientKind::kRecovery);
      if (!r) {
        note(Status::Invalid("the journal's current key file has no recovery key wrap"));
        continue;
      }
      JSYNC_ASSIGN_OR_RETURN(crypto::KeyPair pair, format::RecoveryKeyPair(*recovery));
      if (pair.pub != r->pub) {
        note(Status::Corrupt(
            "wrong recovery key (it is not the journal's current one: a 'jsync recovery-key "
            "--new' replaces the old one)"));
        continue;
      }
      key = format::UnwrapEpochKey(k, f.bytes, *r, pair.priv);
      if (!key.ok()) {
        note(key.status());
        continue;
      }
    } else {
      return Status::Invalid("OpenNewestEpoch needs a passphrase or a recovery key");
    }
    auto old = format::OpenOldEpochs(k, f.bytes, *key);
    if (!old.ok()) {
      note(old.status().WithContext("key file " + f.path + " is damaged"));
      continue;
    }
    for (const auto& e : *old) out.keyring.Add(e.id, e.key);
    out.keyring.Add(f.id, *key);
    out.keyring.SetCurrent(f.id);
    return out;
  }
  return last;
}

}  // namespace jsync::sync
