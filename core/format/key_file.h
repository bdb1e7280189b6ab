// Key file v1: the journal's random 256-bit master key, wrapped with AES-256-GCM under a key
// derived from the passphrase by scrypt. The scrypt parameters live in the file, so a device
// joining later derives the same wrapping key. Byte layout in docs/formats.md.
#pragma once

#include <string_view>

#include "core/crypto/file_cipher.h"
#include "core/format/change_file.h"

namespace jsync::format {

inline constexpr char kKeyMagic[8] = {'J', 'S', 'Y', 'N', 'C', 'K', 'E', 'Y'};
inline constexpr uint16_t kKeyVersion = 1;
inline constexpr uint8_t kKdfScrypt = 1;
inline constexpr size_t kKeyFileSize = 136;
// Downloads of key files stop here: room for a later version, far below anything harmful.
inline constexpr size_t kMaxKeyFileSize = 4u << 10;

struct KeyFileInfo {
  JournalId journal{};
  KeyId key_id = 0;
  crypto::ScryptParams params;
};

Result<Bytes> WrapMasterKey(const crypto::SecretKey& master, std::string_view passphrase,
                            const KeyFileInfo& info);
// Reads the plaintext fields without the passphrase.
Result<KeyFileInfo> ReadKeyFileInfo(ByteSpan file);
// kCorrupt "wrong passphrase" when the passphrase does not open it.
Result<crypto::SecretKey> UnwrapMasterKey(ByteSpan file, std::string_view passphrase);

}  // namespace jsync::format
