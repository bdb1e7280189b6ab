// Where a device keeps the secrets of linked accounts (tokens, passwords): the OS secret
// store when there is one, else an encrypted file. One secret (a JSON text) per account name.
//
//   secret-service  Linux Secret Service over D-Bus (libsecret), when built with libsecret and
//                   a session bus answers. macOS Keychain and Windows Credential Manager belong
//                   behind this same interface (see docs/decisions/0013-token-store.md).
//   file            <home>/credentials/secrets.enc, mode 0600, AES-256-GCM under a key from
//                   scrypt over the journal passphrase; byte layout in docs/formats.md.
//
// JSYNC_TOKEN_STORE=auto|secret-service|file picks one (auto: the OS store when it answers).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/util/status.h"

namespace jsync::auth {

class SecretStore {
 public:
  virtual ~SecretStore() = default;
  virtual std::string backend() const = 0;  // "secret-service", "file"
  virtual Result<std::optional<std::string>> Get(const std::string& account) = 0;
  virtual Status Put(const std::string& account, const std::string& secret) = 0;
  virtual Status Remove(const std::string& account) = 0;  // absent is Ok
};

// Asked when the file store has to derive its key (first use on a device, or the cached key
// is gone). Returns the journal passphrase.
using PassphraseSource = std::function<Result<std::string>()>;

// `backend` as JSYNC_TOKEN_STORE takes it; "" reads the variable (default "auto").
Result<std::unique_ptr<SecretStore>> OpenSecretStore(const std::string& home,
                                                     const std::string& backend,
                                                     PassphraseSource passphrase);

// The file store on its own (tests, and the fallback of OpenSecretStore).
std::unique_ptr<SecretStore> OpenFileSecretStore(const std::string& home,
                                                 PassphraseSource passphrase);
// nullptr when not built with libsecret or no Secret Service answers on the session bus.
std::unique_ptr<SecretStore> OpenSecretServiceStore(const std::string& home);

}  // namespace jsync::auth
