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
  // Text ops only.
  uint64_t char_seq = 0;
  text::CharId origin_left;
  text::CharId origin_right;
  std::vector<text::DeleteRange> ranges;

  bool operator==(const Op&) const = default;
};

}  // namespace jsync
