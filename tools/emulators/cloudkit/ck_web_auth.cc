#include "tools/emulators/cloudkit/ck_web_auth.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "core/crypto/primitives.h"
#include "tools/emulators/common/oauth_pages.h"
#include "tools/emulators/common/util.h"

namespace jsync::emulator::cloudkit {
namespace {

std::string Base64(const std::vector<uint8_t>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

net::LocalResponse NoStore(net::LocalResponse r) {
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

WebAuth::WebAuth(WebAuthOptions options) : options_(std::move(options)) {}

Status WebAuth::Load() {
  if (options_.state_file.empty()) return Status::Ok();
  std::string text;
  if (!ReadFile(options_.state_file, &text)) return Status::Ok();
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Fatal(options_.state_file + " is not valid JSON");
  std::lock_guard lock(mu_);
  adp_ = j.value("adp", false);
  if (j.contains("tokens") && j["tokens"].is_object())
    for (const auto& [h, t] : j["tokens"].items())
      tokens_[h] = Token{t.value("exp", int64_t{0})};
  return Status::Ok();
}

void WebAuth::SaveLocked() {
  if (options_.state_file.empty()) return;
  const int64_t now = NowMs();
  nlohmann::json toks = nlohmann::json::object();
  for (auto it = tokens_.begin(); it != tokens_.end();) {
    if (it->second.expires_ms < now) {  // expired ones answer like unknown ones: 401
      it = tokens_.erase(it);
      continue;
    }
    toks[it->first] = {{"exp", it->second.expires_ms}};
    ++it;
  }
  WriteFileAtomic(options_.state_file, nlohmann::json{{"adp", adp_}, {"tokens", toks}}.dump());
}

std::string WebAuth::MintLocked() {
  // Apple's shape, 106__54__<base64>__<base64>, with '+', '/' and '=' always present so a
  // client that forgets to URL-encode fails at once.
  std::vector<uint8_t> a(30), b(16);
  crypto::RandomBytes(a);
  crypto::RandomBytes(b);
  a[0] = 0xfb;
  a[1] = 0xff;
  a[2] = 0xbf;  // "+/+/"
  const std::string token = "106__54__" + Base64(a) + "__" + Base64(b);
  tokens_[HexSha256(token)] = Token{NowMs() + options_.token_lifetime_s * 1000};
  return token;
}

WebAuth::Check WebAuth::CheckToken(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(HexSha256(token));
  if (it == tokens_.end()) return Check::kUnknown;
  if (it->second.expires_ms < NowMs()) return Check::kExpired;
  return Check::kOk;
}

std::string WebAuth::Rotate(const std::string& token) {
  std::lock_guard lock(mu_);
  // A spent token is forgotten (it answers 401 like an unknown one), which keeps auth.json small
  // however many requests a long test makes.
  tokens_.erase(HexSha256(token));
  std::string next = MintLocked();
  SaveLocked();
  return next;
}

void WebAuth::ExpireAll() {
  std::lock_guard lock(mu_);
  tokens_.clear();
  SaveLocked();
}

void WebAuth::SetAdp(bool on) {
  std::lock_guard lock(mu_);
  adp_ = on;
  SaveLocked();
}

bool WebAuth::adp() {
  std::lock_guard lock(mu_);
  return adp_;
}

size_t WebAuth::live_tokens() {
  std::lock_guard lock(mu_);
  size_t n = 0;
  const int64_t now = NowMs();
  for (const auto& [h, t] : tokens_) n += t.expires_ms >= now ? 1 : 0;
  return n;
}

net::LocalResponse WebAuth::RedirectWithNewToken() {
  std::string token;
  {
    std::lock_guard lock(mu_);
    token = MintLocked();
    SaveLocked();
  }
  const std::string enc = net::PercentEncode(token);
  return RedirectTo(WithQuery(options_.callback_url, "ckWebAuthToken=" + enc + "&ckSession=" + enc),
                    "no-store");
}

net::LocalResponse WebAuth::HandleSignIn(const net::LocalRequest& req) {
  if (adp()) {
    // What Apple's page shows when Advanced Data Protection deleted the web-access keys.
    return NoStore(HtmlPage(200, "iCloud Data Web Access is Off",
                            "<p>iCloud Data Web Access is Off. Turn off Advanced Data Protection "
                            "or allow web access to sign in.</p>"));
  }
  if (req.method == "POST") {
    const std::string session = req.FormParam("session");
    {
      std::lock_guard lock(mu_);
      if (sessions_.erase(session) == 0)
        return NoStore(HtmlPage(400, "Authentication Error",
                                "<p>This sign-in page has expired; start again.</p>"));
    }
    return RedirectWithNewToken();
  }
  if (req.method != "GET") return HtmlPage(405, "Method not allowed", "");
  if (options_.auto_approve) return RedirectWithNewToken();
  const std::string session = RandomString(24);
  {
    std::lock_guard lock(mu_);
    sessions_.insert(session);
  }
  return NoStore(HtmlPage(
      200, "Sign in with Apple ID (jsync CloudKit emulator)",
      "<p>Allow this app to use your iCloud data?</p><form method=\"post\" action=\"/signin\">"
      "<input type=\"hidden\" name=\"session\" value=\"" + HtmlEscape(session) +
          "\"><button type=\"submit\">Allow</button></form>"));
}

}  // namespace jsync::emulator::cloudkit
