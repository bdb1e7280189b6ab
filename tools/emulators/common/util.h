// Small helpers shared by the cloud emulators: time stamps, digests, random ids, HTML escaping,
// atomic file writes.
#pragma once

#include <cstdint>
#include <string>

namespace jsync::emulator {

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
// base64url without padding (RFC 4648 §5), e.g. of a SHA-256 for a PKCE S256 challenge.
std::string Base64Url(const std::string& bytes);
// The raw 32-byte SHA-256 of `bytes`.
std::string Sha256(const std::string& bytes);
// `n` random characters from [A-Za-z0-9_-] (OpenSSL CSPRNG).
std::string RandomString(size_t n, const char* alphabet = nullptr);
// A random RFC 4122 version-4 UUID, lower case ("8c3e…-…").
std::string RandomUuid();

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(const std::string& s);

// Writes `bytes` to `path` through a temporary file, fsync and rename. False on failure.
bool WriteFileAtomic(const std::string& path, const std::string& bytes);
bool ReadFile(const std::string& path, std::string* out);

}  // namespace jsync::emulator
