#include "tests/support/emulator_process.h"

#include <curl/curl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>

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

size_t OnBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n") + 1);
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
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

std::vector<nlohmann::json> ReadRequestLog(const std::filesystem::path& file) {
  std::vector<nlohmann::json> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

HttpReply RawHttp(const std::string& method, const std::string& url,
                  const std::vector<std::string>& headers, const std::string& body) {
  HttpReply r;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    r.transport_error = true;
    return r;
  }
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 15000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  if (!body.empty() || method == "PUT" || method == "POST" || method == "PATCH") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  r.transport_error = curl_easy_perform(curl) != CURLE_OK;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

std::string UrlEscape(const std::string& s) {
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

PkceTokens AuthorizeWithPkce(const std::string& authorize_url, const std::string& token_url,
                             const std::string& client_id, const std::string& scope,
                             std::string* error) {
  PkceTokens tokens;
  const std::string verifier = RandomToken(64);
  const auto digest = crypto::HashSha256(
      ByteSpan(reinterpret_cast<const uint8_t*>(verifier.data()), verifier.size()));
  const std::string challenge = Base64UrlNoPad(digest.data(), digest.size());
  const std::string redirect = "http://127.0.0.1:9/callback";
  const HttpReply auth =
      RawHttp("GET", authorize_url + "?response_type=code&client_id=" + UrlEscape(client_id) +
                         "&redirect_uri=" + UrlEscape(redirect) + "&scope=" + UrlEscape(scope) +
                         "&code_challenge=" + challenge +
                         "&code_challenge_method=S256&state=" + RandomToken(16));
  if (auth.transport_error) {
    *error = "GET " + authorize_url + " failed";
    return tokens;
  }
  const auto it = auth.headers.find("location");
  const std::string location = it == auth.headers.end() ? "" : it->second;
  const std::string code = QueryValue(location, "code");
  if (auth.status != 302 || code.empty()) {
    *error = "authorization did not redirect with a code (HTTP " + std::to_string(auth.status) +
             ", Location " + location + "): " + auth.body;
    return tokens;
  }
  const HttpReply token =
      RawHttp("POST", token_url, {},
              "grant_type=authorization_code&code=" + code + "&client_id=" + UrlEscape(client_id) +
                  "&redirect_uri=" + UrlEscape(redirect) + "&code_verifier=" + verifier);
  const auto j = token.Json();
  if (token.status != 200 || !j.is_object() || !j.contains("access_token")) {
    *error = "token exchange failed (HTTP " + std::to_string(token.status) + "): " + token.body;
    return tokens;
  }
  tokens.access_token = j.value("access_token", "");
  tokens.refresh_token = j.value("refresh_token", "");
  tokens.scope = j.value("scope", "");
  return tokens;
}

std::unique_ptr<EmulatorProcess> EmulatorProcess::Start(const std::string& subcommand,
                                                        const EmulatorOptions& options,
                                                        std::string* error) {
  if (std::string(JSYNC_EMULATOR_BINARY).empty()) {
    *error = "jsync-emulator is not part of this build (tools/emulators)";
    return nullptr;
  }
  std::unique_ptr<EmulatorProcess> emu(new EmulatorProcess());
  // RandomToken may produce '.' or '~': harmless in a folder name.
  emu->work_dir_ = fs::temp_directory_path() / ("jsync-" + subcommand + "-emu-" +
                                                std::to_string(::getpid()) + "-" + RandomToken(8));
  std::error_code ec;
  fs::create_directories(emu->work_dir_, ec);
  if (ec) {
    *error = "cannot create " + emu->work_dir_.string() + ": " + ec.message();
    return nullptr;
  }
  emu->state_dir_ = options.state_dir.empty() ? emu->work_dir_ / "state" : options.state_dir;
  emu->request_log_path_ = emu->work_dir_ / "requests.jsonl";
  std::vector<std::string> args = {JSYNC_EMULATOR_BINARY,
                                   subcommand,
                                   "--port",
                                   std::to_string(options.port),
                                   "--state",
                                   emu->state_dir_.string(),
                                   "--request-log",
                                   emu->request_log_path_.string()};
  if (options.auto_approve) args.push_back("--auto-approve");
  args.insert(args.end(), options.args.begin(), options.args.end());
  emu->process_ = ChildProcess::Start(args, {}, error);
  if (!emu->process_) return nullptr;
  const std::string line = emu->process_->WaitForFirstLine(options.ready_timeout_ms, error);
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

pid_t EmulatorProcess::pid() const { return process_ ? process_->pid() : -1; }

std::string EmulatorProcess::Log() const { return process_ ? process_->Stderr() : ""; }

void EmulatorProcess::Stop() {
  if (process_) process_->Stop();
}

EmulatorProcess::~EmulatorProcess() {
  Stop();
  if (std::getenv("JSYNC_KEEP_TEMP") == nullptr) {
    std::error_code ec;
    fs::remove_all(work_dir_, ec);  // holds the state folder only when we created it
  }
}

}  // namespace jsync::testing
