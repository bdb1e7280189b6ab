// An op: one change to one field of one record, made on one device at one HLC.
//
// (hlc, device) identifies an op uniquely: a device's HLC never repeats.
#pragma once

#include <compare>
#include <string>
#include <vector>

#include "core/model/hlc.h"
#include "core/model/ids.h"
#include "core/model/text/text_document.h"

namespace jsync {

struct OpId {
  Hlc hlc = 0;
  DeviceId device = 0;
  auto operator<=>(const OpId&) const = default;
};

enum class OpKind : uint8_t {
  // Writes a JSON value to a multi-value register; `observed` lists the siblings it replaces.
  kSetRegister = 1,
  // Adds `value` to an observed-remove set; the op's own id is the add tag.
  kAddToSet = 2,
  // Removes `value` from a set; `observed` lists the add tags seen for it.
  kRemoveFromSet = 3,
  // Deletes a record; `observed` lists every live op the deleting device saw on it.
  // Ops it did not see keep the record alive (add-wins).
  kDeleteRecord = 4,
  // Inserts `value` (UTF-8) into a text field; its characters get ids (device, char_seq + i).
  // `ranges`, when set, names the characters the insert replaces (a rewrite of that range).
  kTextInsert = 5,
  // Deletes the characters named by `ranges` from a text field.
  kTextDelete = 6,
};

struct Op {
  OpId id;
  OpKind kind = OpKind::kSetRegister;
  std::string collection;
  RecordId record{};
  std::string field;           // empty for kDeleteRecord
  std::string value;           // register: JSON text; set: the element
  std::vector<OpId> observed;  // sorted, unique
  // The device's own wall clock at the edit (Unix ms), for display only: the HLC orders ops
  // but runs ahead of wall time once a device with a fast clock was merged. 0: unknown (ops
  // encoded before the field existed); DisplayMillis() then falls back to the HLC.
  uint64_t wall_ms = 0;
  // Text ops only.
  uint64_t char_seq = 0;
  text::CharId origin_left;
  text::CharId origin_right;
  // kTextDelete: the characters deleted. kTextInsert: the characters this insert replaces
  // (the delete of the same splice, just before it); empty for a plain insert.
  std::vector<text::DeleteRange> ranges;

  bool operator==(const Op&) const = default;
};

// Before this (2001-09-09) a wall clock is taken to be unset (a dead RTC battery reads 1970).
inline constexpr uint64_t kSaneWallFloorMs = 1'000'000'000'000;

// The time shown for an op: its wall clock, never after its HLC (a wall reading later than
// the HLC cannot come from an honest clock) and the HLC's when the wall is unknown or unset.
inline uint64_t DisplayMillis(uint64_t wall_ms, Hlc hlc) {
  const uint64_t hlc_ms = HlcMillis(hlc);
  if (wall_ms < kSaneWallFloorMs) return hlc_ms;
  return wall_ms < hlc_ms ? wall_ms : hlc_ms;
}
inline uint64_t DisplayMillis(const Op& op) { return DisplayMillis(op.wall_ms, op.id.hlc); }

}  // namespace jsync
