// The provider-neutral rules of OAuth 2.0 for native apps that both emulated authorization
// servers enforce: loopback redirect URIs (RFC 8252 §7.3), PKCE S256 (RFC 7636), device user
// codes as people type them (RFC 8628 §6.1), and space-separated scope lists (RFC 6749 §3.3).
#pragma once

#include <string>
#include <vector>

namespace jsync::emulator {

// http://127.0.0.1[:PORT][/path][?query], http://[::1]…, http://localhost…; a port of 1 to 5
// digits. A fragment is not looked at: a provider that refuses one checks it itself.
bool IsLoopbackRedirect(const std::string& uri);

// A PKCE S256 challenge: base64url of 32 bytes, unpadded (43 of [A-Za-z0-9_-]).
bool IsS256Challenge(const std::string& challenge);
// True when `verifier` is well formed (43..128 unreserved characters) and its S256 transform
// is `challenge`.
bool PkceS256Matches(const std::string& verifier, const std::string& challenge);

// A user code as typed: dashes and spaces dropped, upper case.
std::string NormaliseUserCode(const std::string& typed);

std::vector<std::string> SplitScopes(const std::string& scope);
std::string JoinScopes(const std::vector<std::string>& scopes);
// True when the space-separated `granted` lists `scope` exactly.
bool HasScope(const std::string& granted, const std::string& scope);

}  // namespace jsync::emulator
