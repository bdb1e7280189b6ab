// Identifiers: journals and records are random 128-bit ids, devices random 64-bit ids.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/status.h"

namespace jsync {

using JournalId = std::array<uint8_t, 16>;
using RecordId = std::array<uint8_t, 16>;
using DeviceId = uint64_t;

JournalId NewJournalId();
RecordId NewRecordId();
DeviceId NewDeviceId();

std::string JournalIdHex(const JournalId& id);
std::string RecordIdHex(const RecordId& id);
std::string DeviceIdHex(DeviceId id);  // 16 lower-case hex digits
Result<JournalId> ParseJournalId(std::string_view hex);
Result<RecordId> ParseRecordId(std::string_view hex);
Result<DeviceId> ParseDeviceId(std::string_view hex);

}  // namespace jsync
