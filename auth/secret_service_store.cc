// The Linux Secret Service backend (libsecret), built when libsecret-1 is found. Secrets are
// stored in the default collection under the schema "org.journalsync.Secret", keyed by the
// journal home and the account, so two homes of one user do not share tokens.
#include "auth/secret_store.h"

#include <cstdlib>

#ifdef JSYNC_HAVE_LIBSECRET
#include <libsecret/secret.h>
#endif

namespace jsync::auth {

#ifdef JSYNC_HAVE_LIBSECRET
namespace {

const SecretSchema* Schema() {
  static const SecretSchema schema = {
      "org.journalsync.Secret",
      SECRET_SCHEMA_NONE,
      {{"home", SECRET_SCHEMA_ATTRIBUTE_STRING},
       {"account", SECRET_SCHEMA_ATTRIBUTE_STRING},
       {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING}},
      0, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  return &schema;
}

// The GError message names D-Bus objects, never the secret.
Status FromError(GError* error, const std::string& what) {
  std::string msg = what + ": " + (error && error->message ? error->message : "unknown error");
  if (error) g_error_free(error);
  return Status::Fatal(msg);
}

class SecretServiceStore final : public SecretStore {
 public:
  explicit SecretServiceStore(std::string home) : home_(std::move(home)) {}
  std::string backend() const override { return "secret-service"; }

  Result<std::optional<std::string>> Get(const std::string& account) override {
    GError* error = nullptr;
    gchar* secret = secret_password_lookup_sync(Schema(), nullptr, &error, "home", home_.c_str(),
                                                "account", account.c_str(), nullptr);
    if (error) return FromError(error, "the Secret Service could not be read");
    if (!secret) return std::optional<std::string>();
    std::string out(secret);
    secret_password_free(secret);
    return std::optional<std::string>(std::move(out));
  }

  Status Put(const std::string& account, const std::string& secret) override {
    GError* error = nullptr;
    const std::string label = "journal-sync: " + account;
    secret_password_store_sync(Schema(), SECRET_COLLECTION_DEFAULT, label.c_str(), secret.c_str(),
                               nullptr, &error, "home", home_.c_str(), "account", account.c_str(),
                               nullptr);
    if (error) return FromError(error, "the Secret Service refused to store the secret");
    return Status::Ok();
  }

  Status Remove(const std::string& account) override {
    GError* error = nullptr;
    secret_password_clear_sync(Schema(), nullptr, &error, "home", home_.c_str(), "account",
                               account.c_str(), nullptr);
    if (error) return FromError(error, "the Secret Service refused to remove the secret");
    return Status::Ok();
  }

 private:
  std::string home_;
};

}  // namespace

std::unique_ptr<SecretStore> OpenSecretServiceStore(const std::string& home) {
  // Without a session bus libsecret would try to autolaunch one; headless machines have none.
  if (std::getenv("DBUS_SESSION_BUS_ADDRESS") == nullptr) return nullptr;
  GError* error = nullptr;
  SecretService* service = secret_service_get_sync(SECRET_SERVICE_NONE, nullptr, &error);
  if (error || service == nullptr) {
    if (error) g_error_free(error);
    return nullptr;
  }
  g_object_unref(service);
  return std::make_unique<SecretServiceStore>(home);
}
#else
std::unique_ptr<SecretStore> OpenSecretServiceStore(const std::string&) { return nullptr; }
#endif

Result<std::unique_ptr<SecretStore>> OpenSecretStore(const std::string& home,
                                                     const std::string& backend,
                                                     PassphraseSource passphrase) {
  std::string choice = backend;
  if (choice.empty()) {
    const char* env = std::getenv("JSYNC_TOKEN_STORE");
    choice = env && *env ? env : "auto";
  }
  if (choice == "file") return OpenFileSecretStore(home, std::move(passphrase));
  if (choice == "secret-service" || choice == "auto") {
    if (auto store = OpenSecretServiceStore(home)) return store;
    if (choice == "secret-service")
      return Status::Invalid("no Secret Service answers on the session bus (is a keyring such as "
                             "gnome-keyring running?)");
    return OpenFileSecretStore(home, std::move(passphrase));
  }
  return Status::Invalid("JSYNC_TOKEN_STORE must be auto, secret-service or file, not " + choice);
}

}  // namespace jsync::auth
