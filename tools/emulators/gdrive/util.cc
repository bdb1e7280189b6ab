#include "tools/emulators/gdrive/util.h"

#include <nlohmann/json.hpp>

namespace jsync::emulator::gdrive {

net::LocalResponse GoogleError(int code, const std::string& reason, const std::string& message,
                               const std::string& domain, const std::string& location,
                               const std::string& location_type) {
  nlohmann::json item = {{"message", message}, {"domain", domain}, {"reason", reason}};
  if (!location.empty()) {
    item["location"] = location;
    item["locationType"] = location_type;
  }
  nlohmann::json body = {
      {"error", {{"code", code}, {"message", message}, {"errors", nlohmann::json::array({item})}}}};
  return net::LocalResponse::Json(code, body.dump(1));
}

net::LocalResponse InvalidParam(const std::string& param, const std::string& message) {
  return GoogleError(400, "invalid", message.empty() ? "Invalid Value" : message, "global", param,
                     "parameter");
}

}  // namespace jsync::emulator::gdrive
