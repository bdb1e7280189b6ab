// Small helpers shared by the Drive emulator: time stamps, digests, random ids, Google-shaped
// error bodies, atomic file writes.
#pragma once

#include <cstdint>
#include <string>

#include "net/local_http_server.h"

namespace jsync::emulator::gdrive {

int64_t NowMs();
// RFC 3339 UTC with milliseconds: "2025-10-19T08:15:30.123Z".
std::string Rfc3339(int64_t ms);
// Parses RFC 3339 ("2025-01-01T00:00:00", optional ".fff", "Z" or "+hh:mm"; UTC if no zone).
// False when it is not a time stamp.
bool ParseRfc3339(const std::string& s, int64_t* ms);
// "Tue, 19 Nov 2013 01:13:52 GMT".
std::string HttpDate(int64_t ms);

std::string HexMd5(const std::string& bytes);
std::string HexSha256(const std::string& bytes);
// `n` random characters from [A-Za-z0-9_-] (OpenSSL CSPRNG).
std::string RandomString(size_t n, const char* alphabet = nullptr);

// Google's JSON error body: {"error":{"code":..,"message":..,"errors":[{..}]}}.
net::LocalResponse GoogleError(int code, const std::string& reason, const std::string& message,
                               const std::string& domain = "global",
                               const std::string& location = "",
                               const std::string& location_type = "");
// 400 "Invalid Value" for query parameter `param`.
net::LocalResponse InvalidParam(const std::string& param, const std::string& message = "");

// Writes `bytes` to `path` through a temporary file, fsync and rename. False on failure.
bool WriteFileAtomic(const std::string& path, const std::string& bytes);
bool ReadFile(const std::string& path, std::string* out);

}  // namespace jsync::emulator::gdrive
