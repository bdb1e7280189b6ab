// The jsync subcommands, each taking its parsed options and returning the process exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

struct InitArgs {
  std::string provider;
  std::string location;
  std::string passphrase_file;
  std::string device_name;
  std::string journal_id;
  int scrypt_log_n = 17;
  std::vector<std::string> options;  // KEY=VALUE, checked against the plugin's option table
  std::string recovery_key_file;     // join with the recovery key, then set a new passphrase
  std::string new_passphrase_file;   // with recovery_key_file
};
int RunInit(const std::string& home, const InitArgs& args);

struct EntryArgs {
  std::string id;
  std::optional<std::string> title;
  std::string title_file;
  std::string body_file;
  std::vector<std::string> tags;         // new
  std::vector<std::string> add_tags;     // edit
  std::vector<std::string> remove_tags;  // edit
  std::vector<std::string> insert;       // edit: POS TEXT
  std::vector<std::string> del;          // edit: POS LEN
};
int RunNew(const std::string& home, const EntryArgs& args);
int RunEdit(const std::string& home, const EntryArgs& args);
int RunRemove(const std::string& home, const std::string& id);
int RunShow(const std::string& home, const std::string& id, bool json);
int RunList(const std::string& home, bool json);
// `full`: list the whole journal folder instead of the change feed or probes (docs/cli.md).
int RunSync(const std::string& home, bool json, bool full);
int RunStatus(const std::string& home, bool json);
int RunProviders(bool json);

struct WatchArgs {
  bool once = false;
  int64_t seal_quiet_ms = 300;
  int64_t seal_max_ms = 2000;
  int64_t poll_min_s = 15;
  int64_t poll_max_s = 300;
  std::vector<std::string> relay_urls;  // override the home's `jsync relay set` for this run
  bool no_relay = false;
  std::string relay_ca_file;
  bool verbose = false;
};
int RunWatch(const std::string& home, const WatchArgs& args);

struct RelayArgs {
  std::string action;             // "", "set", "off", "presence"
  std::vector<std::string> urls;  // set: the addresses; presence: on|off
  bool json = false;
};
int RunRelay(const std::string& home, const RelayArgs& args);

struct LinkArgs {
  std::string provider;
  std::string user;           // basic (else JSYNC_<NAME>_USER)
  std::string password_file;  // basic (else JSYNC_<NAME>_PASSWORD)
  std::vector<std::string> options;  // KEY=VALUE, checked against the plugin's option table
  bool device_code = false;   // OAuth: the device grant instead of a browser
  std::string client_id;      // OAuth: overrides the configuration's
  std::string config_file;    // JSON: endpoints, client, provider options
  std::string passphrase_file;
  bool no_browser = false;  // print the address only
};
int RunLink(const std::string& home, const LinkArgs& args);
int RunUnlink(const std::string& home, const std::string& provider,
              const std::string& passphrase_file);
int RunAccounts(const std::string& home, bool json);

// `jsync verify` (tools/jsync/verify_commands.cc, docs/cli.md): exit 0 when the audit found
// nothing, 1 on any problem or failure.
struct VerifyArgs {
  bool read_data = false;  // download and authenticate every file, not only headers
  bool json = false;
};
int RunVerify(const std::string& home, const VerifyArgs& args);

// The key lifecycle (tools/jsync/key_commands.cc, docs/cli.md "Keys and devices").
struct PasswdArgs {
  std::string passphrase_file;      // the current one (else $JSYNC_PASSPHRASE, else a prompt)
  std::string new_passphrase_file;  // else $JSYNC_NEW_PASSPHRASE, else a prompt (twice)
};
int RunPasswd(const std::string& home, const PasswdArgs& args);
int RunRecoveryKey(const std::string& home, bool make_new);
int RunRotateKey(const std::string& home);
int RunUnlock(const std::string& home, const std::string& passphrase_file);
struct DevicesArgs {
  std::string action;               // "", "rename", "revoke"
  std::vector<std::string> values;  // rename: [ID] NAME; revoke: ID
  bool json = false;
};
int RunDevices(const std::string& home, const DevicesArgs& args);
// After `init --recovery-key-file`: sets the new passphrase (a new key epoch).
int FinishRecoveryJoin(const std::string& home, const std::string& new_passphrase_file);
// Shown once, on stderr, when a recovery key is made.
void PrintRecoveryKey(const std::string& key);

// Prints "jsync: error: <message>" and returns `code` (kExitError; kExitUsage for bad usage).
// With JsonErrors(true) (a --json command) it also prints {"ok": false, "error": {code,
// message}} on stdout.
int Fail(const std::string& message, int code = kExitError, Code status = Code::kOk);
void JsonErrors(bool on);

}  // namespace jsync::cli
