// Where a device keeps the credentials of linked accounts, per home folder:
// <home>/credentials/<provider>.json, mode 0600, written atomically. Only the host reads it
// (plugins never see credentials; the HTTP client injects them). The OAuth token store with
// OS-keychain backends replaces this file behind the same functions.
#pragma once

#include <memory>
#include <string>

#include "core/provider/http_client.h"

namespace jsync::auth {

Status SaveBasicCredentials(const std::string& home, const std::string& provider,
                            const std::string& user, const std::string& password);
// nullptr when nothing is stored for the provider.
Result<std::shared_ptr<provider::CredentialSource>> LoadCredentials(const std::string& home,
                                                                   const std::string& provider);
Status RemoveCredentials(const std::string& home, const std::string& provider);
// For `jsync accounts`-style listings: the user name only, never the secret.
Result<std::string> StoredUser(const std::string& home, const std::string& provider);

}  // namespace jsync::auth
