// Reading CloudKit's identifiers out of request bodies: zone IDs ({zoneName, ownerRecordName?},
// also nested as a zone dictionary's "zoneID") and their echo in answers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace jsync::emulator::cloudkit {

// The zone name of a zoneID object, or of a zone dictionary {zoneID:{…}}; "" when absent.
inline std::string ZoneNameOf(const nlohmann::json& j) {
  if (!j.is_object()) return "";
  if (j.contains("zoneID")) return ZoneNameOf(j["zoneID"]);
  const auto it = j.find("zoneName");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

inline nlohmann::json ZoneIdJson(const std::string& zone, const std::string& owner) {
  return {{"zoneName", zone}, {"ownerRecordName", owner}};
}

}  // namespace jsync::emulator::cloudkit
