#include "core/format/op_codec.h"

namespace jsync::format {
namespace {
// 1: the first layout. 2 adds each op's wall clock and a text insert's replaced ranges.
constexpr uint8_t kBodyVersion = 2;

void EncodeRanges(ByteWriter& w, const std::vector<text::DeleteRange>& ranges) {
  w.Varint(ranges.size());
  for (const auto& r : ranges) {
    w.U64(r.device);
    w.Varint(r.seq);
    w.Varint(r.len);
  }
}

void DecodeRanges(ByteReader& r, std::vector<text::DeleteRange>& out) {
  for (uint64_t k = r.Count(); r.ok() && k > 0; --k) {
    text::DeleteRange range;
    range.device = r.U64();
    range.seq = r.Varint();
    range.len = r.Varint();
    out.push_back(range);
  }
}

}  // namespace

Bytes EncodeOps(const std::vector<Op>& ops) {
  ByteWriter w;
  w.U8(kBodyVersion);
  w.Varint(ops.size());
  for (const Op& op : ops) {
    w.U8(static_cast<uint8_t>(op.kind));
    w.Varint(op.id.hlc);
    w.Varint(op.wall_ms);
    w.Str(op.collection);
    w.Raw(op.record);
    w.Str(op.field);
    switch (op.kind) {
      case OpKind::kTextInsert:
        w.Str(op.value);
        w.Varint(op.char_seq);
        for (const text::CharId& id : {op.origin_left, op.origin_right}) {
          w.U64(id.device);
          if (!id.none()) w.Varint(id.seq);
        }
        EncodeRanges(w, op.ranges);
        break;
      case OpKind::kTextDelete:
        EncodeRanges(w, op.ranges);
        break;
      default:
        w.Str(op.value);
        w.Varint(op.observed.size());
        for (const OpId& id : op.observed) {
          w.Varint(id.hlc);
          w.U64(id.device);
        }
    }
  }
  return w.Take();
}

Result<std::vector<Op>> DecodeOps(ByteSpan body, DeviceId device) {
  ByteReader r(body);
  const uint8_t version = r.U8();
  if (version != 1 && version != kBodyVersion) {
    return Status::Corrupt("unknown op encoding version");
  }
  std::vector<Op> ops;
  for (uint64_t n = r.Count(); r.ok() && n > 0; --n) {
    Op op;
    uint8_t kind = r.U8();
    if (kind < 1 || kind > 6) return Status::Corrupt("unknown op kind " + std::to_string(kind));
    op.kind = static_cast<OpKind>(kind);
    op.id = {r.Varint(), device};
    if (version >= 2) op.wall_ms = r.Varint();
    op.collection = r.Str();
    op.record = r.Array<16>();
    op.field = r.Str();
    if (op.kind == OpKind::kTextInsert) {
      op.value = r.Str();
      op.char_seq = r.Varint();
      for (text::CharId* id : {&op.origin_left, &op.origin_right}) {
        id->device = r.U64();
        if (!id->none()) id->seq = r.Varint();
      }
      if (version >= 2) DecodeRanges(r, op.ranges);
      ops.push_back(std::move(op));
      continue;
    }
    if (op.kind == OpKind::kTextDelete) {
      DecodeRanges(r, op.ranges);
      ops.push_back(std::move(op));
      continue;
    }
    op.value = r.Str();
    for (uint64_t k = r.Count(); r.ok() && k > 0; --k) {
      OpId id;
      id.hlc = r.Varint();
      id.device = r.U64();
      if (!op.observed.empty() && !(op.observed.back() < id)) {
        return Status::Corrupt("observed op ids are not sorted");
      }
      op.observed.push_back(id);
    }
    ops.push_back(std::move(op));
  }
  if (!r.ok() || !r.AtEnd()) return Status::Corrupt("op encoding is truncated or malformed");
  return ops;
}

}  // namespace jsync::format
