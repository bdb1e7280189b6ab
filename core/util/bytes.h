// Byte buffers and the little-endian / varint primitives every binary format here uses.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/status.h"

namespace jsync {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

std::string ToHex(ByteSpan bytes);
// Accepts lower- or upper-case hex of even length.
Result<Bytes> FromHex(std::string_view hex);

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string AsString(ByteSpan b) { return {b.begin(), b.end()}; }

// Appends fixed-width little-endian integers, LEB128 varints and length-prefixed blobs.
class ByteWriter {
 public:
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) { Fixed(v, 2); }
  void U32(uint32_t v) { Fixed(v, 4); }
  void U64(uint64_t v) { Fixed(v, 8); }
  void Varint(uint64_t v);
  void Raw(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void Blob(ByteSpan b) {
    Varint(b.size());
    Raw(b);
  }
  void Str(std::string_view s) { Blob(AsBytes(s)); }

  Bytes& bytes() { return out_; }
  Bytes Take() { return std::move(out_); }

 private:
  void Fixed(uint64_t v, int width) {
    for (int i = 0; i < width; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  Bytes out_;
};

// Reads what ByteWriter wrote. Every read is bounds-checked; after the first failure
// ok() is false and later reads return zero values, so a decoder checks once at the end.
class ByteReader {
 public:
  explicit ByteReader(ByteSpan in) : in_(in) {}

  uint8_t U8() { return static_cast<uint8_t>(Fixed(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Fixed(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Fixed(4)); }
  uint64_t U64() { return Fixed(8); }
  uint64_t Varint();
  // A varint element count; fails when it exceeds the bytes left, since every element takes
  // at least one byte. Keeps a corrupt count from driving a huge allocation or loop.
  uint64_t Count() {
    uint64_t n = Varint();
    if (n > remaining()) {
      ok_ = false;
      return 0;
    }
    return n;
  }
  ByteSpan Raw(size_t n);
  ByteSpan Blob() { return Raw(Varint()); }
  std::string Str() { return AsString(Blob()); }
  template <size_t N>
  std::array<uint8_t, N> Array() {
    std::array<uint8_t, N> a{};
    ByteSpan s = Raw(N);
    if (s.size() == N) std::copy(s.begin(), s.end(), a.begin());
    return a;
  }

  bool ok() const { return ok_; }
  size_t position() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }
  bool AtEnd() const { return pos_ == in_.size(); }
  void Fail() { ok_ = false; }

 private:
  uint64_t Fixed(int width);
  ByteSpan in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace jsync
