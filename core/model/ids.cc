#include "core/model/ids.h"

#include <algorithm>
#include <cstdio>

#include "core/crypto/primitives.h"
#include "core/util/bytes.h"

namespace jsync {

JournalId NewJournalId() { return crypto::RandomArray<16>(); }
RecordId NewRecordId() { return crypto::RandomArray<16>(); }
DeviceId NewDeviceId() {
  for (;;) {
    auto b = crypto::RandomArray<8>();
    DeviceId id = 0;
    for (uint8_t x : b) id = id << 8 | x;
    if (id != 0) return id;  // 0 is reserved for "no device"
  }
}

std::string JournalIdHex(const JournalId& id) { return ToHex(id); }
std::string RecordIdHex(const RecordId& id) { return ToHex(id); }
std::string DeviceIdHex(DeviceId id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

template <size_t N>
static Result<std::array<uint8_t, N>> ParseFixed(std::string_view hex, const char* what) {
  if (hex.size() != 2 * N) {
    return Status::Invalid(std::string(what) + " must be " + std::to_string(2 * N) + " hex digits");
  }
  auto bytes = FromHex(hex);
  if (!bytes.ok()) return Status::Invalid(std::string(what) + " is not hex");
  std::array<uint8_t, N> out;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

Result<JournalId> ParseJournalId(std::string_view hex) { return ParseFixed<16>(hex, "journal id"); }
Result<RecordId> ParseRecordId(std::string_view hex) { return ParseFixed<16>(hex, "record id"); }
Result<DeviceId> ParseDeviceId(std::string_view hex) {
  auto b = ParseFixed<8>(hex, "device id");
  if (!b.ok()) return b.status();
  DeviceId id = 0;
  for (uint8_t x : *b) id = id << 8 | x;
  if (id == 0) return Status::Invalid("device id 0 is reserved");
  return id;
}

}  // namespace jsync
