// An obviously correct, slow reference for the text CRDT: one entry per character in a plain
// vector, linear searches, and the YATA integration rule applied character by character.
// The property tests check TextDocument (runs, leaves, indexes) against it.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/model/text/text_document.h"

namespace jsync::testing {

class ReferenceText {
 public:
  // The origins a local insert at `pos` must carry.
  std::pair<text::CharId, text::CharId> OriginsAt(size_t pos) const {
    long left = -1;
    for (size_t i = 0, seen = 0; i < chars_.size() && seen < pos; ++i) {
      if (!chars_[i].deleted && ++seen == pos) left = static_cast<long>(i);
    }
    text::CharId l, r;
    if (left >= 0) l = chars_[left].id;
    if (static_cast<size_t>(left + 1) < chars_.size()) r = chars_[left + 1].id;
    return {l, r};
  }

  void Insert(const text::InsertOp& op) {
    for (size_t i = 0; i < op.text.size(); ++i) {
      text::CharId id{op.id.device, op.id.seq + i};
      text::CharId left = i == 0 ? op.origin_left : text::CharId{op.id.device, op.id.seq + i - 1};
      Integrate({id, left, op.origin_right, false, op.text[i]});
    }
  }

  void Delete(const text::DeleteOp& op) {
    for (const auto& r : op.ranges) {
      for (uint64_t s = r.seq; s < r.seq + r.len; ++s)
        chars_[IndexOf({r.device, s})].deleted = true;
    }
  }

  std::u32string Text() const {
    std::u32string out;
    for (const auto& c : chars_) {
      if (!c.deleted) out.push_back(c.c);
    }
    return out;
  }

 private:
  struct Char {
    text::CharId id, left, right;
    bool deleted;
    char32_t c;
  };

  long IndexOf(text::CharId id) const {
    for (size_t i = 0; i < chars_.size(); ++i) {
      if (chars_[i].id == id) return static_cast<long>(i);
    }
    return -1;
  }

  void Integrate(const Char& ch) {
    const long left = ch.left.none() ? -1 : IndexOf(ch.left);
    const long right = ch.right.none() ? static_cast<long>(chars_.size()) : IndexOf(ch.right);
    long new_left = left;
    std::set<long> before_origin, conflicting;
    for (long o = left + 1; o < right; ++o) {
      before_origin.insert(o);
      conflicting.insert(o);
      const Char& oc = chars_[o];
      if (oc.left == ch.left) {
        if (oc.id.device < ch.id.device) {
          new_left = o;
          conflicting.clear();
        } else if (oc.right == ch.right) {
          break;
        }
      } else if (!oc.left.none() && before_origin.contains(IndexOf(oc.left))) {
        if (!conflicting.contains(IndexOf(oc.left))) {
          new_left = o;
          conflicting.clear();
        }
      } else {
        break;
      }
    }
    chars_.insert(chars_.begin() + (new_left + 1), ch);
  }

  std::vector<Char> chars_;
};

}  // namespace jsync::testing
