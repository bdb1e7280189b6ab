#include "auth/accounts.h"

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
          {"needs_relink", a.needs_relink}, {"problem", a.problem}};
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
  const std::string path = PathOf(home);
  const std::string temp = path + ".tmp";
  const std::string body = all.dump(2) + "\n";
  ::unlink(temp.c_str());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Fatal("cannot create " + temp + ": " + std::strerror(errno));
  bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Status::Fatal("cannot write " + path);
  }
  return Status::Ok();
}

// Serialises read-modify-write of accounts.json between processes (a sync refreshing a token
// while the user links another account).
class HomeLock {
 public:
  explicit HomeLock(const std::string& home) {
    fd_ = ::open((home + "/.accounts.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~HomeLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

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
  HomeLock lock(home);
  JSYNC_ASSIGN_OR_RETURN(auto all, ReadAll(home));
  all[account.provider] = ToJson(account);
  return WriteAll(home, all);
}

Status RemoveAccount(const std::string& home, const std::string& provider) {
  HomeLock lock(home);
  JSYNC_ASSIGN_OR_RETURN(auto all, ReadAll(home));
  if (!all.contains(provider)) return Status::Ok();
  all.erase(provider);
  return WriteAll(home, all);
}

}  // namespace jsync::auth
