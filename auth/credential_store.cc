#include "auth/credential_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/provider/open_provider.h"

namespace fs = std::filesystem;

namespace jsync::auth {
namespace {

std::string PathFor(const std::string& home, const std::string& provider) {
  return home + "/credentials/" + provider + ".json";
}

Result<nlohmann::json> Read(const std::string& home, const std::string& provider) {
  const std::string path = PathFor(home, provider);
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return nlohmann::json();
  if ((st.st_mode & 077) != 0) {
    return Status::Fatal(path + " is readable by other users; fix with: chmod 600 " + path);
  }
  std::ifstream in(path);
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Corrupt(path + " is damaged; link the account again");
  return j;
}

}  // namespace

Status SaveBasicCredentials(const std::string& home, const std::string& provider,
                            const std::string& user, const std::string& password) {
  std::error_code ec;
  fs::create_directories(home + "/credentials", ec);
  if (ec) return Status::Fatal("cannot create " + home + "/credentials: " + ec.message());
  fs::permissions(home + "/credentials", fs::perms::owner_all, fs::perm_options::replace, ec);
  const std::string path = PathFor(home, provider);
  const std::string temp = path + ".tmp";
  const std::string body = nlohmann::json{{"kind", "basic"}, {"user", user}, {"password", password}}.dump();
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

Result<std::shared_ptr<provider::CredentialSource>> LoadCredentials(const std::string& home,
                                                                   const std::string& provider) {
  JSYNC_ASSIGN_OR_RETURN(nlohmann::json j, Read(home, provider));
  if (j.is_null()) return std::shared_ptr<provider::CredentialSource>();
  if (j.value("kind", "") != "basic" || !j["user"].is_string() || !j["password"].is_string()) {
    return Status::Corrupt(PathFor(home, provider) + " is damaged; link the account again");
  }
  return provider::BasicCredentials(j["user"].get<std::string>(), j["password"].get<std::string>());
}

Status RemoveCredentials(const std::string& home, const std::string& provider) {
  if (::unlink(PathFor(home, provider).c_str()) != 0 && errno != ENOENT) {
    return Status::Fatal("cannot remove " + PathFor(home, provider));
  }
  return Status::Ok();
}

Result<std::string> StoredUser(const std::string& home, const std::string& provider) {
  JSYNC_ASSIGN_OR_RETURN(nlohmann::json j, Read(home, provider));
  if (j.is_null()) return Status::NotFound("no account linked for " + provider);
  return j.value("user", "");
}

}  // namespace jsync::auth
