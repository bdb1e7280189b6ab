#include "tools/emulators/common/oauth_rules.h"

#include <cctype>
#include <sstream>

#include "tools/emulators/common/util.h"

namespace jsync::emulator {
namespace {

bool Base64UrlChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// RFC 7636 §4.1: 43..128 of [A-Z] [a-z] [0-9] - . _ ~
bool ValidVerifier(const std::string& v) {
  if (v.size() < 43 || v.size() > 128) return false;
  for (char c : v)
    if (!(Base64UrlChar(c) || c == '.' || c == '~')) return false;
  return true;
}

}  // namespace

bool IsLoopbackRedirect(const std::string& uri) {
  for (const char* host : {"http://127.0.0.1", "http://[::1]", "http://localhost"}) {
    if (uri.rfind(host, 0) != 0) continue;
    std::string rest = uri.substr(std::string(host).size());
    if (!rest.empty() && rest[0] == ':') {
      size_t i = 1;
      while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
      if (i == 1 || i > 6) return false;
      rest = rest.substr(i);
    }
    return rest.empty() || rest[0] == '/' || rest[0] == '?';
  }
  return false;
}

bool IsS256Challenge(const std::string& challenge) {
  if (challenge.size() != 43) return false;
  for (char c : challenge)
    if (!Base64UrlChar(c)) return false;
  return true;
}

bool PkceS256Matches(const std::string& verifier, const std::string& challenge) {
  return ValidVerifier(verifier) && Base64Url(Sha256(verifier)) == challenge;
}

std::string NormaliseUserCode(const std::string& typed) {
  std::string out;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

std::vector<std::string> SplitScopes(const std::string& scope) {
  std::vector<std::string> out;
  std::stringstream in(scope);
  std::string s;
  while (in >> s) out.push_back(s);
  return out;
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) out += (out.empty() ? "" : " ") + s;
  return out;
}

bool HasScope(const std::string& granted, const std::string& scope) {
  for (const auto& s : SplitScopes(granted))
    if (s == scope) return true;
  return false;
}

}  // namespace jsync::emulator
