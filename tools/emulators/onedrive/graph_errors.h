// Graph's answers: the error envelope {"error":{"code","message","innerError":{"code"?,"date",
// "request-id","client-request-id"}}} and JSON bodies with Graph's Content-Type.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "net/local_http_server.h"

namespace jsync::emulator::onedrive {

inline constexpr const char* kGraphJsonType =
    "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; "
    "charset=utf-8";

// `inner_code` "" for none. The request ids are filled in by GraphApi (every answer gets them).
net::LocalResponse GraphError(int status, const std::string& code, const std::string& message,
                              const std::string& inner_code = "");
net::LocalResponse GraphJson(int status, const nlohmann::json& body);
net::LocalResponse NoContent();

// Stamps request-id / client-request-id headers on `r`, and into an error body's innerError.
void StampRequestIds(net::LocalResponse* r, const std::string& request_id,
                     const std::string& client_request_id);

}  // namespace jsync::emulator::onedrive
