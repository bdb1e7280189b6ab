#include "tests/support/onedrive_emulator.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/crypto/primitives.h"
#include "tests/support/child_process.h"

// tests/CMakeLists.txt defines JSYNC_EMULATOR_BINARY when the jsync-emulator target exists.
#ifndef JSYNC_EMULATOR_BINARY
#define JSYNC_EMULATOR_BINARY ""
#endif

namespace fs = std::filesystem;

namespace jsync::testing {
namespace {

std::string RandomToken(size_t n) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  std::random_device rd;
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(kAlphabet[rd() % (sizeof kAlphabet - 1)]);
  return s;
}

std::string Base64UrlNoPad(const uint8_t* data, size_t n) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    const uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (i + 1 == n) {
    const uint32_t v = data[i] << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63]};
  } else if (i + 2 == n) {
    const uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63]};
  }
  return out;
}

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t AppendHeader(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Reply {
  long status = 0;
  std::string headers;
  std::string body;
};

bool Exchange(const std::string& method, const std::string& url, const std::string& form,
              Reply* reply, std::string* error) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    *error = "curl_easy_init failed";
    return false;
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply->body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply->headers);
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  }
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    *error = std::string(method) + " " + url + ": " + curl_easy_strerror(rc);
    return false;
  }
  return true;
}

std::string Escape(const std::string& s) {
  std::string out;
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

// The value of query parameter `name` in `url` (not percent-decoded: codes are URL-safe).
std::string QueryValue(const std::string& url, const std::string& name) {
  const size_t q = url.find('?');
  if (q == std::string::npos) return "";
  size_t pos = q + 1;
  while (pos < url.size()) {
    size_t amp = url.find('&', pos);
    if (amp == std::string::npos) amp = url.size();
    const std::string pair = url.substr(pos, amp - pos);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string::npos ? "" : pair.substr(eq + 1);
    pos = amp + 1;
  }
  return "";
}

}  // namespace

std::unique_ptr<OnedriveEmulator> OnedriveEmulator::Start(
    const std::vector<std::string>& extra_args, std::string* error) {
  OnedriveEmulatorOptions options;
  options.args = extra_args;
  return Start(options, error);
}

std::unique_ptr<OnedriveEmulator> OnedriveEmulator::Start(const OnedriveEmulatorOptions& options,
                                                          std::string* error) {
  if (std::string(JSYNC_EMULATOR_BINARY).empty()) {
    *error = "jsync-emulator is not part of this build (tools/emulators)";
    return nullptr;
  }
  std::unique_ptr<OnedriveEmulator> emu(new OnedriveEmulator());
  emu->work_dir_ = fs::temp_directory_path() /
                   ("jsync-onedrive-emu-" + std::to_string(::getpid()) + "-" + RandomToken(8));
  // RandomToken may produce '.' or '~': harmless in a folder name.
  std::error_code ec;
  fs::create_directories(emu->work_dir_, ec);
  if (ec) {
    *error = "cannot create " + emu->work_dir_.string() + ": " + ec.message();
    return nullptr;
  }
  if (options.state_dir.empty()) {
    emu->state_dir_ = emu->work_dir_ / "state";
    emu->owns_state_dir_ = true;
  } else {
    emu->state_dir_ = options.state_dir;
  }
  emu->request_log_path_ = emu->work_dir_ / "requests.jsonl";

  std::vector<std::string> args = {JSYNC_EMULATOR_BINARY,
                                   "onedrive",
                                   "--port",
                                   "0",
                                   "--state",
                                   emu->state_dir_.string(),
                                   "--request-log",
                                   emu->request_log_path_.string()};
  if (options.auto_approve) args.push_back("--auto-approve");
  args.insert(args.end(), options.args.begin(), options.args.end());

  emu->process_ = ChildProcess::Start(args, {}, error);
  if (!emu->process_) return nullptr;
  // The first stdout line is the base URL.
  std::string line = emu->process_->WaitForFirstLine(options.ready_timeout_ms, error);
  if (line.empty()) {
    *error = "jsync-emulator printed no base URL: " + *error;
    return nullptr;  // the destructor stops it
  }
  if (line.rfind("http://127.0.0.1:", 0) != 0) {
    *error = "jsync-emulator printed an unexpected first line: " + line;
    return nullptr;
  }
  emu->base_url_ = line;
  return emu;
}

pid_t OnedriveEmulator::pid() const { return process_ ? process_->pid() : -1; }

std::string OnedriveEmulator::Log() const { return process_ ? process_->Stderr() : ""; }

OnedriveTokens OnedriveEmulator::AuthorizeWithCode(std::string* error, const std::string& client_id,
                                                   const std::string& scope) const {
  OnedriveTokens tokens;
  const std::string verifier = RandomToken(64);
  const auto digest = crypto::HashSha256(
      ByteSpan(reinterpret_cast<const uint8_t*>(verifier.data()), verifier.size()));
  const std::string challenge = Base64UrlNoPad(digest.data(), digest.size());
  const std::string redirect = "http://127.0.0.1:9/callback";
  const std::string state = RandomToken(16);
  Reply auth;
  if (!Exchange("GET",
                base_url_ + "/common/oauth2/v2.0/authorize?response_type=code&client_id=" +
                    Escape(client_id) + "&redirect_uri=" + Escape(redirect) +
                    "&scope=" + Escape(scope) + "&code_challenge=" + challenge +
                    "&code_challenge_method=S256&state=" + state,
                "", &auth, error)) {
    return tokens;
  }
  std::string location;
  {
    const std::string lower_key = "\nlocation: ";
    std::string lower = "\n" + auth.headers;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t at = lower.find(lower_key);
    if (at != std::string::npos) {
      const size_t start = at + lower_key.size() - 1;  // index into auth.headers
      location = auth.headers.substr(start, auth.headers.find('\r', start) - start);
    }
  }
  const std::string code = QueryValue(location, "code");
  if (auth.status != 302 || code.empty()) {
    *error = "authorization did not redirect with a code (HTTP " + std::to_string(auth.status) +
             ", Location " + location + "): " + auth.body;
    return tokens;
  }
  Reply token;
  if (!Exchange("POST", base_url_ + "/common/oauth2/v2.0/token",
                "grant_type=authorization_code&code=" + code + "&client_id=" + Escape(client_id) +
                    "&redirect_uri=" + Escape(redirect) + "&code_verifier=" + verifier,
                &token, error)) {
    return tokens;
  }
  const auto j = nlohmann::json::parse(token.body, nullptr, false);
  if (token.status != 200 || !j.is_object() || !j.contains("access_token")) {
    *error = "token exchange failed (HTTP " + std::to_string(token.status) + "): " + token.body;
    return tokens;
  }
  tokens.access_token = j.value("access_token", "");
  tokens.refresh_token = j.value("refresh_token", "");
  tokens.scope = j.value("scope", "");
  return tokens;
}

void OnedriveEmulator::Stop() {
  if (process_) process_->Stop();
}

OnedriveEmulator::~OnedriveEmulator() {
  Stop();
  if (std::getenv("JSYNC_KEEP_TEMP") == nullptr) {
    std::error_code ec;
    fs::remove_all(work_dir_, ec);  // holds the state folder only when we created it
  }
}

}  // namespace jsync::testing
