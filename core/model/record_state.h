// The merged CRDT state of one record: what every field holds, with the metadata merging needs.
//
// Apply() is the deterministic merge. It expects causal delivery (an op arrives after every op
// it lists in `observed`), which the sync layer guarantees through version vectors; under that
// rule any two devices that applied the same set of ops hold byte-identical states.
// Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/model/op.h"
#include "core/util/bytes.h"

namespace jsync {

struct Sibling {
  OpId id;
  std::string value;     // JSON text
  uint64_t wall_ms = 0;  // the writer's display time (DisplayMillis of the op)
  bool operator==(const Sibling&) const = default;
};

// A text insert that replaced characters (one splice: delete a range, insert at its place).
// Kept per field like tombstones (ids and ranges, no text) so that a concurrent rewrite of
// the same characters, whenever it arrives, is recognised as a conflict (text_conflicts.h).
struct TextReplacement {
  OpId id;                // of the insert op
  uint64_t wall_ms = 0;   // its display time
  uint64_t char_seq = 0;  // inserted characters: (id.device, char_seq .. char_seq + len - 1)
  uint64_t len = 0;
  std::vector<text::DeleteRange> replaced;
  bool operator==(const TextReplacement&) const = default;
};

class RecordState {
 public:
  // kCorrupt when a text op names characters this state does not have (a broken sender);
  // the state may then be partly changed, so callers apply inside a transaction they can drop.
  Status Apply(const Op& op);

  // True while some live op on the record was not seen by any delete (add-wins delete).
  bool Visible() const;
  // Every op id that currently contributes a value: what a delete issued now must observe.
  std::vector<OpId> LiveOps() const;

  // Register siblings ordered by (hlc, device); the last one is the visible winner.
  const std::vector<Sibling>* Register(const std::string& field) const;
  const Sibling* Winner(const std::string& field) const;
  // The ids a new write to `field` supersedes.
  std::vector<OpId> RegisterIds(const std::string& field) const;

  std::vector<std::string> SetElements(const std::string& field) const;

  // Text fields (sequence CRDT); nullptr when the field was never written.
  const text::TextDocument* Text(const std::string& field) const;
  std::vector<OpId> SetTags(const std::string& field, const std::string& element) const;

  const std::map<std::string, std::vector<Sibling>>& registers() const { return registers_; }
  Hlc max_hlc() const { return max_hlc_; }
  Hlc min_hlc() const { return min_hlc_; }
  // Newest and oldest display time (DisplayMillis) over every op applied: what "updated" shows.
  uint64_t max_wall_ms() const { return max_wall_; }
  uint64_t min_wall_ms() const { return min_wall_; }
  // The replacing inserts of a text field, ordered by op id; nullptr when there are none.
  const std::vector<TextReplacement>* Replacements(const std::string& field) const;

  // Canonical encoding: equal states encode to equal bytes.
  Bytes Encode() const;
  static Result<RecordState> Decode(ByteSpan bytes);

  bool operator==(const RecordState&) const = default;

 private:
  std::map<std::string, std::vector<Sibling>> registers_;
  // field -> element -> add tags still alive
  std::map<std::string, std::map<std::string, std::vector<OpId>>> sets_;
  std::map<std::string, text::TextDocument> texts_;
  // field -> device -> newest text op: what keeps a record alive against a delete.
  std::map<std::string, std::map<DeviceId, Hlc>> text_heads_;
  std::vector<OpId> covered_;  // ops seen by a delete, sorted
  std::map<std::string, std::vector<TextReplacement>> replacements_;
  Hlc max_hlc_ = 0;
  Hlc min_hlc_ = 0;
  uint64_t max_wall_ = 0;
  uint64_t min_wall_ = 0;
};

}  // namespace jsync
