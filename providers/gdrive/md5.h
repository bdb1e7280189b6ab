// MD5 (RFC 1321), only to compare local bytes with Drive's md5Checksum: a plugin links no
// crypto library (docs/plugin-guide.md), and MD5 is what Drive reports for every blob.
// Not used for anything security-relevant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace jsync_gdrive {

// Lower-case hex digest of `len` bytes at `data` (data may be null when len is 0).
std::string Md5Hex(const uint8_t* data, size_t len);

}  // namespace jsync_gdrive
