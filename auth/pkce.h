// PKCE (RFC 7636) and `state` values for OAuth 2.0 native-app flows.
#pragma once

#include <string>

#include "core/util/bytes.h"

namespace jsync::auth {

std::string Base64Url(ByteSpan data);  // no padding (RFC 7636 Appendix A)
// 32 CSPRNG octets, base64url: a 43-character code_verifier.
std::string NewCodeVerifier();
// BASE64URL(SHA256(ASCII(verifier))): the S256 code_challenge.
std::string S256Challenge(const std::string& verifier);
// 128 bits from the CSPRNG, base64url; one per authorization attempt.
std::string NewState();
// Compares without leaking where the strings differ (state, tokens).
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace jsync::auth
