// The Drive emulator's helpers: the shared ones (tools/emulators/common/util.h) under their old
// names, and Google-shaped error bodies.
#pragma once

#include <string>

#include "net/local_http_server.h"
#include "tools/emulators/common/util.h"

namespace jsync::emulator::gdrive {

using jsync::emulator::HexMd5;
using jsync::emulator::HexSha256;
using jsync::emulator::HttpDate;
using jsync::emulator::NowMs;
using jsync::emulator::ParseRfc3339;
using jsync::emulator::RandomString;
using jsync::emulator::ReadFile;
using jsync::emulator::Rfc3339;
using jsync::emulator::WriteFileAtomic;

// Google's JSON error body: {"error":{"code":..,"message":..,"errors":[{..}]}}.
net::LocalResponse GoogleError(int code, const std::string& reason, const std::string& message,
                               const std::string& domain = "global",
                               const std::string& location = "",
                               const std::string& location_type = "");
// 400 "Invalid Value" for query parameter `param`.
net::LocalResponse InvalidParam(const std::string& param, const std::string& message = "");

}  // namespace jsync::emulator::gdrive
