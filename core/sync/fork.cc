#include "core/sync/fork.h"

#include <nlohmann/json.hpp>

#include "core/sync/remote_layout.h"

namespace jsync::sync {
namespace {

Status Malformed() { return Status::Corrupt("local database has a malformed fork record"); }

Result<format::HeadTag> OwnTag(store::Store& store, uint64_t seq) {
  if (seq == 0) return format::HeadTagOf(crypto::Sha256{});
  JSYNC_ASSIGN_OR_RETURN(auto row, store.GetSealed(seq));
  if (!row) return Status::Fatal("local copy of own change " + std::to_string(seq) + " is gone");
  return format::HeadTagOf(row->hash);
}

}  // namespace

Result<std::optional<HeadEvidence>> LoadHeadEvidence(store::Store& store, DeviceId device) {
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kOwnHeadEvidenceMeta));
  if (!text) return std::optional<HeadEvidence>();
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object() || !json["device"].is_string() || !json["seq"].is_number_unsigned() ||
      !json["head"].is_string()) {
    return Malformed();
  }
  JSYNC_ASSIGN_OR_RETURN(DeviceId d, ParseDeviceId(json["device"].get<std::string>()));
  if (d != device) return std::optional<HeadEvidence>();  // about an id given up
  auto head = FromHex(json["head"].get<std::string>());
  if (!head.ok() || head->size() != format::kHeadTagSize) return Malformed();
  HeadEvidence e{d, json["seq"].get<uint64_t>(), {}};
  std::copy(head->begin(), head->end(), e.head.begin());
  return std::optional<HeadEvidence>(e);
}

Status RecordHeadEvidence(store::Store& store, const HeadEvidence& evidence, bool* changed) {
  if (changed) *changed = false;
  JSYNC_ASSIGN_OR_RETURN(auto known, LoadHeadEvidence(store, evidence.device));
  if (known &&
      (known->seq > evidence.seq || (known->seq == evidence.seq && known->head == evidence.head))) {
    return Status::Ok();
  }
  nlohmann::json json = {{"device", DeviceIdHex(evidence.device)},
                         {"seq", evidence.seq},
                         {"head", ToHex(evidence.head)}};
  JSYNC_RETURN_IF_ERROR(store.SetMeta(kOwnHeadEvidenceMeta, json.dump()));
  if (changed) *changed = true;
  return Status::Ok();
}

Result<uint64_t> ForkHold(store::Store& store) {
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kForkHoldMeta));
  if (!text) return uint64_t{0};
  uint64_t seq = 0;
  for (char c : *text) {
    if (c < '0' || c > '9' || seq > UINT64_MAX / 10) return Malformed();
    seq = seq * 10 + static_cast<uint64_t>(c - '0');
  }
  if (seq == 0) return Malformed();
  return seq;
}

Result<OwnBranch> JudgeOwnBranch(store::Store& store, const HeadEvidence& evidence) {
  JSYNC_ASSIGN_OR_RETURN(store::Cursor last, store.LastSealed());
  if (evidence.seq > last.seq) return OwnBranch::kRefuted;
  JSYNC_ASSIGN_OR_RETURN(auto row, store.GetSealed(evidence.seq));
  if (!row) return OwnBranch::kUnknown;  // sealed rows of an accepted prefix always stay
  return format::HeadTagOf(row->hash) == evidence.head ? OwnBranch::kAccepted : OwnBranch::kRefuted;
}

Result<std::optional<format::ChangeHeader>> ReadOwnSlot(const ForkContext& ctx, uint64_t seq,
                                                        crypto::Sha256* hash) {
  using Out = std::optional<format::ChangeHeader>;
  auto got = ctx.provider.Get(ChangePath(ctx.journal, ctx.device, seq), format::kMaxChangeFileSize);
  // Nothing, or something that is no change file (a link, a FIFO, an oversized object): in
  // either case no change of this id sits there.
  if (!got.ok()) {
    return got.status().Is(Code::kNotFound) || got.status().Is(Code::kCorrupt) ? Result<Out>(Out())
                                                                               : got.status();
  }
  auto parsed = format::ParseChangeHeader(*got);
  if (!parsed.ok()) return Out();
  const format::ChangeHeader& h = parsed->header;
  if (h.journal != ctx.journal || h.device != ctx.device || h.seq != seq ||
      h.key_id != ctx.key_id || !format::OpenChange(ctx.master, *parsed, *got).ok()) {
    return Out();
  }
  if (hash) *hash = crypto::HashSha256(*got);
  return Out(h);
}

Result<ForkLocation> LocateFork(const ForkContext& ctx, const HeadEvidence& evidence) {
  JSYNC_ASSIGN_OR_RETURN(store::Cursor last, ctx.store.LastSealed());
  uint64_t seq = evidence.seq;
  format::HeadTag want = evidence.head;  // the accepted branch's change at `seq`
  for (;;) {
    if (seq <= last.seq) {
      JSYNC_ASSIGN_OR_RETURN(format::HeadTag own, OwnTag(ctx.store, seq));
      if (own == want) return ForkLocation{seq + 1, 0};
    }
    if (seq == 0) return ForkLocation{1, 0};  // not reached: seq 0's tag is always equal
    crypto::Sha256 hash{};
    JSYNC_ASSIGN_OR_RETURN(auto header, ReadOwnSlot(ctx, seq, &hash));
    if (!header || format::HeadTagOf(hash) != want) {
      return ForkLocation{0, std::min(seq, last.seq + 1)};
    }
    want = format::HeadTagOf(header->prev_hash);
    --seq;
  }
}

Result<uint64_t> RemoveOwnFilesFrom(const ForkContext& ctx, uint64_t from) {
  JSYNC_ASSIGN_OR_RETURN(auto rows, ctx.store.SealedFrom(from));
  uint64_t removed = 0;
  for (const auto& row : rows) {
    const std::string path = ChangePath(ctx.journal, ctx.device, row.seq);
    auto got = ctx.provider.Get(path, format::kMaxChangeFileSize);
    // Gone, or not a file of ours (refused unread): nothing of this device's to remove.
    if (!got.ok() && (got.status().Is(Code::kNotFound) || got.status().Is(Code::kCorrupt)))
      continue;
    if (!got.ok()) return got.status().WithContext("reading " + path);
    if (crypto::HashSha256(*got) != row.hash) continue;  // another home's file
    JSYNC_RETURN_IF_ERROR(ctx.provider.Remove(path).WithContext("removing " + path));
    ++removed;
  }
  return removed;
}

}  // namespace jsync::sync
