#include "tests/support/cloudkit_emulator.h"

#include "net/local_http_server.h"

namespace jsync::testing {

std::unique_ptr<CloudKitEmulator> CloudKitEmulator::Start(
    const std::vector<std::string>& extra_args, std::string* error) {
  CloudKitEmulatorOptions options;
  options.args = extra_args;
  return Start(options, error);
}

std::unique_ptr<CloudKitEmulator> CloudKitEmulator::Start(const CloudKitEmulatorOptions& options,
                                                          std::string* error) {
  auto process = EmulatorProcess::Start("cloudkit", options, error);
  if (!process) return nullptr;
  std::unique_ptr<CloudKitEmulator> emu(new CloudKitEmulator());
  emu->process_ = std::move(process);
  return emu;
}

std::string CloudKitEmulator::api_base() const {
  return base_url() + "/database/1/" + kContainer + "/development";
}

std::string CloudKitEmulator::SignIn(std::string* error) const {
  const HttpReply probe =
      RawHttp("GET", api_base() + "/private/users/caller?ckAPIToken=" + UrlEscape(kApiToken));
  const auto j = probe.Json();
  if (probe.status != 421 || !j.is_object() || !j.contains("redirectURL")) {
    *error = "users/caller without a token: HTTP " + std::to_string(probe.status) + " " + probe.body;
    return "";
  }
  const HttpReply page = RawHttp("GET", j["redirectURL"].get<std::string>());
  const auto it = page.headers.find("location");
  const std::string location = it == page.headers.end() ? "" : it->second;
  const std::string key = "ckWebAuthToken=";
  const size_t at = location.find(key);
  if (page.status != 302 || at == std::string::npos) {
    *error = "the sign-in page did not redirect with a token: HTTP " +
             std::to_string(page.status) + " " + page.body;
    return "";
  }
  const size_t end = location.find('&', at);
  return net::PercentDecode(
      location.substr(at + key.size(), end == std::string::npos ? std::string::npos
                                                                 : end - at - key.size()),
      false);
}

long CloudKitEmulator::Admin(const std::string& path) const {
  return RawHttp("POST", base_url() + path).status;
}

}  // namespace jsync::testing
