// jsync: the command-line face of journal-sync. See docs/cli.md for the contract.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "tools/jsync/commands.h"

namespace {

std::string DefaultHome() {
  if (const char* h = std::getenv("JSYNC_HOME"); h && *h) return h;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/jsync";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/jsync";
  return ".jsync";
}

}  // namespace

// The first argument that is neither an option nor an option's value, if it names no command.
std::string UnknownCommand(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--home") {
      ++i;
      continue;
    }
    if (a.starts_with("-")) continue;
    for (const CLI::App* sub : app.get_subcommands({})) {
      if (sub->get_name() == a) return "";
    }
    return a;
  }
  return "";
}

int main(int argc, char** argv) {
  using namespace jsync::cli;
  // Everything jsync creates (the store, keys, locks, temp files) is for this user alone.
  ::umask(077);
  CLI::App app{"jsync: end-to-end encrypted journal sync through your own cloud storage"};
  app.require_subcommand(1);
  std::string home;
  app.add_option("--home", home, "Device home folder (default: $JSYNC_HOME, then XDG data dir)");

  InitArgs init;
  auto* init_cmd =
      app.add_subcommand("init", "Create a journal at a location, or join the one there");
  init_cmd->add_option("--provider", init.provider, "Storage provider (see 'jsync providers')")
      ->required();
  init_cmd->add_option("--location", init.location,
                       "Where the journal lives (what that is, and whether it has a default, "
                       "the provider says: see 'jsync providers')");
  init_cmd->add_option("--option", init.options,
                       "KEY=VALUE: one of the provider's options (repeatable; see 'jsync "
                       "providers'); kept on this device for later commands");
  init_cmd->add_option(
      "--passphrase-file", init.passphrase_file,
      "Read the passphrase from this file (else $JSYNC_PASSPHRASE, else a prompt)");
  init_cmd->add_option("--device-name", init.device_name,
                       "Name shown to other devices (default: host name)");
  init_cmd->add_option("--journal-id", init.journal_id,
                       "Journal to join when the location holds several");
  init_cmd
      ->add_option("--scrypt-log-n", init.scrypt_log_n,
                   "scrypt cost for a new journal's key file, log2(N) (default 17; r = 8)")
      ->check(CLI::Range(10, 20));

  init_cmd->add_option("--recovery-key-file", init.recovery_key_file,
                       "Join with the recovery key printed at init (read from this file) "
                       "instead of the passphrase, then set a new passphrase");
  init_cmd->add_option("--new-passphrase-file", init.new_passphrase_file,
                       "With --recovery-key-file: read the new passphrase from this file (else "
                       "$JSYNC_NEW_PASSPHRASE, else a prompt)");

  // The key lifecycle (tools/jsync/key_commands.cc).
  PasswdArgs passwd;
  auto* passwd_cmd = app.add_subcommand(
      "passwd", "Change the journal passphrase (a new key epoch; other devices need nothing)");
  passwd_cmd->add_option("--passphrase-file", passwd.passphrase_file,
                         "The current passphrase (else $JSYNC_PASSPHRASE, else a prompt)");
  passwd_cmd->add_option("--new-passphrase-file", passwd.new_passphrase_file,
                         "The new passphrase (else $JSYNC_NEW_PASSPHRASE, else a prompt)");
  bool recovery_new = false;
  auto* recovery_cmd = app.add_subcommand(
      "recovery-key", "Make a new recovery key (--new; shown once, the old one stops working)");
  recovery_cmd->add_flag("--new", recovery_new, "Make a new recovery key");
  auto* rotate_cmd = app.add_subcommand(
      "rotate-key", "Start a new key epoch (what is written from now on is sealed under it)");
  std::string unlock_passphrase_file;
  auto* unlock_cmd = app.add_subcommand(
      "unlock", "Open the journal's newest key epoch with the passphrase (when sync asks)");
  unlock_cmd->add_option("--passphrase-file", unlock_passphrase_file,
                         "Read the passphrase from this file (else $JSYNC_PASSPHRASE, else a "
                         "prompt)");
  DevicesArgs devices;
  auto* devices_cmd = app.add_subcommand(
      "devices", "List the journal's devices: devices [rename [ID] NAME | revoke ID]");
  devices_cmd->add_option("action", devices.action, "rename or revoke (none: list)");
  devices_cmd->add_option("values", devices.values, "rename: [ID] NAME; revoke: ID");
  devices_cmd->add_flag("--json", devices.json, "Print JSON");

  EntryArgs entry;
  auto* new_cmd = app.add_subcommand("new", "Create an entry and print its id");
  auto* new_title = new_cmd->add_option("--title", entry.title, "Title");
  auto* new_title_file = new_cmd->add_option("--title-file", entry.title_file,
                                             "Read the title from this file ('-': stdin)");
  new_title->excludes(new_title_file);
  new_cmd->add_option("--tag", entry.tags, "Tag (repeatable)");
  new_cmd->add_option("--body-file", entry.body_file, "Read the body from this file ('-': stdin)");

  auto* edit_cmd = app.add_subcommand("edit", "Change an entry");
  edit_cmd->add_option("id", entry.id, "Entry id or unique prefix")->required();
  edit_cmd->add_option("--title", entry.title, "New title")
      ->excludes(edit_cmd->add_option("--title-file", entry.title_file,
                                      "Read the new title from this file ('-': stdin)"));
  edit_cmd->add_option("--body-file", entry.body_file,
                       "Read the new body from this file ('-': stdin)");
  edit_cmd->add_option("--add-tag", entry.add_tags, "Add a tag (repeatable)");
  edit_cmd->add_option("--remove-tag", entry.remove_tags, "Remove a tag (repeatable)");
  edit_cmd->add_option("--insert", entry.insert, "Insert TEXT into the body at code point POS")
      ->expected(2)
      ->type_name("POS TEXT");
  edit_cmd->add_option("--delete", entry.del, "Delete LEN code points of the body at POS")
      ->expected(2)
      ->type_name("POS LEN");

  auto* rm_cmd = app.add_subcommand("rm", "Delete an entry");
  rm_cmd->add_option("id", entry.id, "Entry id or unique prefix")->required();

  bool json = false;
  auto* show_cmd = app.add_subcommand("show", "Show one entry");
  show_cmd->add_option("id", entry.id, "Entry id or unique prefix")->required();
  show_cmd->add_flag("--json", json, "Print JSON");
  auto* list_cmd = app.add_subcommand("list", "List entries, oldest first");
  list_cmd->add_flag("--json", json, "Print one JSON array");
  auto* sync_cmd = app.add_subcommand("sync", "Upload local changes and merge other devices'");
  sync_cmd->add_flag("--json", json, "Print JSON");
  bool full_listing = false;
  sync_cmd->add_flag("--full", full_listing,
                     "List the whole journal folder (finds lost files; costs one listing of all)");
  auto* status_cmd = app.add_subcommand("status", "Show this device's sync state");
  status_cmd->add_flag("--json", json, "Print JSON");

  auto* providers_cmd =
      app.add_subcommand("providers", "List the storage providers this jsync can load");
  providers_cmd->add_flag("--json", json, "Print JSON");
  LinkArgs link;
  auto* link_cmd = app.add_subcommand(
      "link",
      "Link an account of a provider to this device (OAuth, or user name and password), or set "
      "its options");
  link_cmd->add_option("provider", link.provider, "Provider (see 'jsync providers')")->required();
  link_cmd->add_option("--option", link.options,
                       "KEY=VALUE: one of the provider's options (repeatable; see 'jsync "
                       "providers'); a provider without an account takes only these");
  link_cmd->add_flag("--device-code", link.device_code,
                     "OAuth: show a code to enter on another device instead of opening a browser");
  link_cmd->add_option("--client-id", link.client_id, "OAuth: the client id to use");
  link_cmd->add_option("--config", link.config_file,
                       "JSON file: endpoints (auth_base, token_url, ...), client_id, and the "
                       "provider's options (api_base, ...)");
  link_cmd->add_flag("--no-browser", link.no_browser,
                     "OAuth: print the address to open instead of starting a browser");
  link_cmd->add_option("--passphrase-file", link.passphrase_file,
                       "Journal passphrase for the encrypted token file (else $JSYNC_PASSPHRASE "
                       "or a prompt; asked only once per device)");
  link_cmd->add_option("--user", link.user, "Basic: user name (else $JSYNC_<PROVIDER>_USER)");
  link_cmd->add_option(
      "--password-file", link.password_file,
      "Basic: read the password from this file (else $JSYNC_<PROVIDER>_PASSWORD)");
  std::string unlink_provider;
  auto* unlink_cmd = app.add_subcommand(
      "unlink", "Revoke the provider's tokens where it can and forget the account on this device");
  unlink_cmd->add_option("provider", unlink_provider, "Provider")->required();
  unlink_cmd->add_option("--passphrase-file", link.passphrase_file,
                         "Journal passphrase, if the token file is locked");
  WatchArgs watch;
  auto* watch_cmd = app.add_subcommand(
      "watch", "Stay in sync: sync on local edits, relay pushes and an adaptive poll");
  watch_cmd->add_flag("--once", watch.once, "Run one sync cycle (with its relay messages), exit");
  watch_cmd->add_option("--seal-quiet-ms", watch.seal_quiet_ms,
                        "Publish local edits once they have been quiet this long")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  watch_cmd->add_option("--seal-max-ms", watch.seal_max_ms,
                        "...but never later than this after the first unpublished edit")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  watch_cmd->add_option("--poll-min", watch.poll_min_s,
                        "Seconds between polls just after activity")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  watch_cmd->add_option("--poll-max", watch.poll_max_s, "Idle ceiling of the poll interval, s")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  watch_cmd->add_option("--relay", watch.relay_urls,
                        "Relay address for this run (repeatable; default: 'jsync relay')");
  watch_cmd->add_flag("--no-relay", watch.no_relay, "Poll only, whatever 'jsync relay' says");
  watch_cmd->add_option("--relay-ca", watch.relay_ca_file,
                        "PEM certificate to trust for a wss:// relay (a private relay)");
  watch_cmd->add_flag("-v,--verbose", watch.verbose, "Also log quiet polls");
  RelayArgs relay;
  auto* relay_cmd = app.add_subcommand(
      "relay", "Show or set this device's relays: relay [set URL... | off | presence on|off]");
  relay_cmd->add_option("action", relay.action, "set, off or presence (none: show)");
  relay_cmd->add_option("urls", relay.urls, "set: ws:// or wss:// addresses; presence: on|off");
  relay_cmd->add_flag("--json", relay.json, "Print JSON");
  VerifyArgs verify;
  auto* verify_cmd = app.add_subcommand(
      "verify", "Check every object of the journal in the cloud against what this device merged");
  verify_cmd->add_flag("--read-data", verify.read_data,
                       "Download and authenticate every file (default: headers only)");
  verify_cmd->add_flag("--json", json, "Print JSON");
  auto* accounts_cmd =
      app.add_subcommand("accounts", "List the linked accounts (no secrets are shown)");
  accounts_cmd->add_flag("--json", json, "Print JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (std::string unknown = UnknownCommand(app, argc, argv); !unknown.empty()) {
      std::cerr << "jsync: usage error: unknown command '" << unknown << "'\n"
                << "Run 'jsync --help' for the list of commands.\n";
      return kExitUsage;
    }
    std::cerr << "jsync: usage error: " << e.what() << "\n"
              << "Run 'jsync --help' or 'jsync COMMAND --help'.\n";
    return kExitUsage;
  }
  if (home.empty()) home = DefaultHome();
  JsonErrors(json);

  try {
    if (init_cmd->parsed()) {
      if (!init.new_passphrase_file.empty() && init.recovery_key_file.empty())
        return Fail("--new-passphrase-file goes with --recovery-key-file", kExitUsage);
      if (!init.recovery_key_file.empty() && !init.passphrase_file.empty())
        return Fail("--recovery-key-file and --passphrase-file exclude each other", kExitUsage);
      return RunInit(home, init);
    }
    if (passwd_cmd->parsed()) return RunPasswd(home, passwd);
    if (recovery_cmd->parsed()) return RunRecoveryKey(home, recovery_new);
    if (rotate_cmd->parsed()) return RunRotateKey(home);
    if (unlock_cmd->parsed()) return RunUnlock(home, unlock_passphrase_file);
    if (devices_cmd->parsed()) {
      JsonErrors(devices.json);
      return RunDevices(home, devices);
    }
    if (new_cmd->parsed()) {
      if (!entry.title && entry.title_file.empty())
        return Fail("new needs --title or --title-file", kExitUsage);
      return RunNew(home, entry);
    }
    if (edit_cmd->parsed()) {
      if (!entry.title && entry.title_file.empty() && entry.body_file.empty() &&
          entry.add_tags.empty() && entry.remove_tags.empty() && entry.insert.empty() &&
          entry.del.empty()) {
        return Fail(
            "edit needs at least one of --title, --title-file, --body-file, --insert, --delete, "
            "--add-tag, --remove-tag",
            kExitUsage);
      }
      return RunEdit(home, entry);
    }
    if (rm_cmd->parsed()) return RunRemove(home, entry.id);
    if (show_cmd->parsed()) return RunShow(home, entry.id, json);
    if (list_cmd->parsed()) return RunList(home, json);
    if (sync_cmd->parsed()) return RunSync(home, json, full_listing);
    if (status_cmd->parsed()) return RunStatus(home, json);
    if (providers_cmd->parsed()) return RunProviders(json);
    if (link_cmd->parsed()) return RunLink(home, link);
    if (unlink_cmd->parsed()) return RunUnlink(home, unlink_provider, link.passphrase_file);
    if (accounts_cmd->parsed()) return RunAccounts(home, json);
    if (verify_cmd->parsed()) {
      verify.json = json;
      return RunVerify(home, verify);
    }
    if (watch_cmd->parsed()) {
      if (watch.seal_max_ms < watch.seal_quiet_ms)
        return Fail("--seal-max-ms must be at least --seal-quiet-ms", kExitUsage);
      if (watch.poll_max_s < watch.poll_min_s)
        return Fail("--poll-max must be at least --poll-min", kExitUsage);
      if (watch.no_relay && !watch.relay_urls.empty())
        return Fail("--relay and --no-relay exclude each other", kExitUsage);
      return RunWatch(home, watch);
    }
    if (relay_cmd->parsed()) {
      JsonErrors(relay.json);
      return RunRelay(home, relay);
    }
  } catch (const std::exception& e) {
    return Fail(std::string("internal error: ") + e.what());
  }
  return kExitUsage;
}
