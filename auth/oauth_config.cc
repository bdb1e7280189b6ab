#include "auth/oauth_config.h"

namespace jsync::auth {
namespace {

// "https://host:port/path?x" -> ("https://host:port", "/path?x"); false when not a URL.
bool SplitOrigin(const std::string& url, std::string* origin, std::string* rest) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos || scheme == 0) return false;
  const std::string s = url.substr(0, scheme);
  if (s != "http" && s != "https") return false;
  size_t path = url.find('/', scheme + 3);
  if (path == std::string::npos) path = url.size();
  if (path == scheme + 3) return false;
  *origin = url.substr(0, path);
  *rest = url.substr(path);
  return true;
}

Status ReplaceOrigin(const std::string& base, std::string* url) {
  if (url->empty()) return Status::Ok();
  std::string origin, rest, base_origin, base_rest;
  if (!SplitOrigin(*url, &origin, &rest)) return Status::Invalid("not an http(s) URL: " + *url);
  if (!SplitOrigin(base, &base_origin, &base_rest))
    return Status::Invalid("auth_base is not an http(s) URL: " + base);
  while (!base_rest.empty() && base_rest.back() == '/') base_rest.pop_back();
  *url = base_origin + base_rest + rest;
  return Status::Ok();
}

Status TakeString(const nlohmann::json& config, const char* key, std::string* out) {
  if (!config.contains(key)) return Status::Ok();
  if (!config[key].is_string()) return Status::Invalid(std::string(key) + " must be a string");
  *out = config[key].get<std::string>();
  return Status::Ok();
}

Status CheckUrl(const char* what, const std::string& url) {
  std::string origin, rest;
  if (!url.empty() && !SplitOrigin(url, &origin, &rest))
    return Status::Invalid(std::string(what) + " is not an http(s) URL: " + url);
  return Status::Ok();
}

}  // namespace

AuthKind ParseAuthKind(const std::string& kind) {
  if (kind == "basic") return AuthKind::kBasic;
  if (kind == "oauth2") return AuthKind::kOAuth2;
  if (kind == "cloudkit") return AuthKind::kCloudKit;
  return AuthKind::kNone;
}

Status ApplyOverrides(const nlohmann::json& config, OAuthConfig* out) {
  if (config.is_null()) return Status::Ok();
  if (!config.is_object()) return Status::Invalid("the configuration must be a JSON object");
  std::string auth_base;
  JSYNC_RETURN_IF_ERROR(TakeString(config, "auth_base", &auth_base));
  if (!auth_base.empty()) {
    std::string origin, rest;
    if (!SplitOrigin(auth_base, &origin, &rest))
      return Status::Invalid("auth_base is not an http(s) URL: " + auth_base);
    for (std::string* url :
         {&out->authorize_url, &out->token_url, &out->device_code_url, &out->revoke_url}) {
      JSYNC_RETURN_IF_ERROR(ReplaceOrigin(auth_base, url));
    }
  }
  JSYNC_RETURN_IF_ERROR(TakeString(config, "authorize_url", &out->authorize_url));
  JSYNC_RETURN_IF_ERROR(TakeString(config, "token_url", &out->token_url));
  JSYNC_RETURN_IF_ERROR(TakeString(config, "device_code_url", &out->device_code_url));
  JSYNC_RETURN_IF_ERROR(TakeString(config, "revoke_url", &out->revoke_url));
  JSYNC_RETURN_IF_ERROR(TakeString(config, "client_id", &out->client_id));
  JSYNC_RETURN_IF_ERROR(TakeString(config, "client_secret", &out->client_secret));
  JSYNC_RETURN_IF_ERROR(TakeString(config, "scopes", &out->scopes));
  JSYNC_RETURN_IF_ERROR(TakeString(config, "issuer", &out->issuer));
  JSYNC_RETURN_IF_ERROR(TakeString(config, "redirect_host", &out->redirect_host));
  JSYNC_RETURN_IF_ERROR(TakeString(config, "cloudkit_api_base", &out->cloudkit_api_base));
  JSYNC_RETURN_IF_ERROR(TakeString(config, "cloudkit_api_token", &out->cloudkit_api_token));
  if (config.contains("cloudkit_callback_port")) {
    if (!config["cloudkit_callback_port"].is_number_integer())
      return Status::Invalid("cloudkit_callback_port must be an integer");
    out->cloudkit_callback_port = config["cloudkit_callback_port"].get<int>();
  }
  if (out->redirect_host != "127.0.0.1" && out->redirect_host != "[::1]" &&
      out->redirect_host != "localhost")
    return Status::Invalid("redirect_host must be 127.0.0.1, [::1] or localhost (RFC 8252)");
  JSYNC_RETURN_IF_ERROR(CheckUrl("authorize_url", out->authorize_url));
  JSYNC_RETURN_IF_ERROR(CheckUrl("token_url", out->token_url));
  JSYNC_RETURN_IF_ERROR(CheckUrl("device_code_url", out->device_code_url));
  JSYNC_RETURN_IF_ERROR(CheckUrl("revoke_url", out->revoke_url));
  return Status::Ok();
}

Status CheckUsable(const OAuthConfig& config, bool device_flow) {
  if (config.client_id.empty())
    return Status::Invalid(
        "no OAuth client id: pass --client-id ID or put \"client_id\" in the --config file");
  if (config.token_url.empty()) return Status::Invalid("no token endpoint is configured");
  if (device_flow && config.device_code_url.empty())
    return Status::Invalid("this provider has no device authorization endpoint; link without "
                           "--device-code (a browser on this machine is needed)");
  if (!device_flow && config.authorize_url.empty())
    return Status::Invalid("no authorization endpoint is configured");
  return Status::Ok();
}

}  // namespace jsync::auth
