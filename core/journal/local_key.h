// The device's copy of the journal master key: <home>/master.key, mode 0600, written
// atomically. This is the device's secret store until the OS-keychain token store lands;
// see docs/decisions/0003-local-master-key.md.
#pragma once

#include <string>

#include "core/crypto/secret.h"
#include "core/format/change_file.h"

namespace jsync {

Status SaveLocalKey(const std::string& path, format::KeyId key_id, const crypto::SecretKey& key);
Result<crypto::SecretKey> LoadLocalKey(const std::string& path, format::KeyId expected_key_id);

}  // namespace jsync
