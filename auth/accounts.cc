#include "auth/accounts.h"

#include "core/util/private_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace jsync::auth {
namespace {

std::string PathOf(const std::string& home) { return home + "/accounts.json"; }

nlohmann::json ToJson(const Account& a) {
  return {{"provider", a.provider},     {"kind", a.kind},
          {"store", a.store},           {"user", a.user},
          {"auth", a.auth},             {"config", a.config},
          {"scopes", a.scopes},         {"linked_at", a.linked_at},
          {"expires_at", a.expires_at}, {"refresh_expires_at", a.refresh_expires_at},
          {"needs_relink", a.needs_relink}, {"problem", a.problem},
          {"secret_options", a.secret_options}};
}

Account FromJson(const nlohmann::json& j) {
  Account a;
  a.provider = j.value("provider", "");
  a.kind = j.value("kind", "");
  a.store = j.value("store", "");
  a.user = j.value("user", "");
  if (j.contains("auth") && j["auth"].is_object()) a.auth = j["auth"];
  if (j.contains("config") && j["config"].is_object()) a.config = j["config"];
  a.scopes = j.value("scopes", "");
  a.linked_at = j.value("linked_at", int64_t{0});
  a.expires_at = j.value("expires_at", int64_t{0});
  a.refresh_expires_at = j.value("refresh_expires_at", int64_t{0});
  a.needs_relink = j.value("needs_relink", false);
  a.problem = j.value("problem", "");
  if (j.contains("secret_options") && j["secret_options"].is_array()) {
    for (const auto& n : j["secret_options"]) {
      if (n.is_string()) a.secret_options.push_back(n.get<std::string>());
    }
  }
  return a;
}

Result<nlohmann::json> ReadAll(const std::string& home) {
  const std::string path = PathOf(home);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return nlohmann::json::object();
  std::ifstream in(path);
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Corrupt(path + " is damaged; link the accounts again");
  return j;
}

Status WriteAll(const std::string& home, const nlohmann::json& all) {
  const std::string body = all.dump(2) + "\n";
  return WritePrivateFile(PathOf(home), AsBytes(body));
}

}  // namespace

Result<std::vector<Account>> ListAccounts(const std::string& home) {
  JSYNC_ASSIGN_OR_RETURN(auto all, ReadAll(home));
  std::vector<Account> out;
  for (auto& [name, j] : all.items()) {
    if (j.is_object()) out.push_back(FromJson(j));
  }
  return out;
}

Result<std::optional<Account>> FindAccount(const std::string& home, const std::string& provider) {
  JSYNC_ASSIGN_OR_RETURN(auto all, ReadAll(home));
  if (!all.contains(provider) || !all[provider].is_object()) return std::optional<Account>();
  return std::optional<Account>(FromJson(all[provider]));
}

Status SaveAccount(const std::string& home, const Account& account) {
  std::error_code ec;
  std::filesystem::create_directories(home, ec);
  if (ec) return Status::Fatal("cannot create " + home + ": " + ec.message());
  FileLock lock(home + "/.accounts.lock");
  JSYNC_ASSIGN_OR_RETURN(auto all, ReadAll(home));
  all[account.provider] = ToJson(account);
  return WriteAll(home, all);
}

Status RemoveAccount(const std::string& home, const std::string& provider) {
  FileLock lock(home + "/.accounts.lock");
  JSYNC_ASSIGN_OR_RETURN(auto all, ReadAll(home));
  if (!all.contains(provider)) return Status::Ok();
  all.erase(provider);
  return WriteAll(home, all);
}

}  // namespace jsync::auth
