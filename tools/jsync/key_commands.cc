// The key lifecycle's commands (docs/cli.md "Keys and devices"; decisions 0037-0039): passwd,
// recovery-key --new, rotate-key, unlock, devices [rename | revoke]. Secrets are never printed,
// except a recovery key at the moment it is made.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "auth/credential_store.h"
#include "core/journal/journal.h"
#include "core/sync/key_epochs.h"
#include "host/open_provider.h"
#include "tools/jsync/commands.h"
#include "tools/jsync/passphrase.h"
#include "tools/jsync/render.h"

namespace jsync::cli {
namespace {

void SayWait(const std::string& message) { std::fprintf(stderr, "jsync: %s\n", message.c_str()); }

provider::StorageOpener Storage() {
  return provider::MakeStorageOpener(auth::LinkedAccountFor, SayWait);
}

int FailStatus(const Status& s) { return Fail(s.message(), kExitError, s.code()); }

void StripNewline(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
}


// The new passphrase: --new-passphrase-file, else $JSYNC_NEW_PASSPHRASE, else typed twice.
Result<std::string> ReadNewPassphrase(const std::string& file) {
  std::string pass;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return Status::Invalid("cannot read new passphrase file " + file);
    std::getline(in, pass);
  } else if (const char* env = std::getenv("JSYNC_NEW_PASSPHRASE"); env && *env) {
    pass = env;
  } else if (isatty(STDIN_FILENO)) {
    JSYNC_ASSIGN_OR_RETURN(pass, PromptHidden("New journal passphrase: "));
    JSYNC_ASSIGN_OR_RETURN(std::string again, PromptHidden("The new passphrase again: "));
    if (again != pass)
      return Status::Invalid("the two new passphrases differ; nothing was changed");
  } else {
    return Status::Invalid(
        "no new passphrase: pass --new-passphrase-file, set JSYNC_NEW_PASSPHRASE, or run in a "
        "terminal");
  }
  StripNewline(pass);
  if (pass.empty()) return Status::Invalid("the new passphrase is empty");
  return pass;
}

std::string Short(DeviceId d) { return DeviceIdHex(d); }

void SayUnwrapped(const EpochResult& r) {
  for (DeviceId d : r.unwrapped_devices) {
    std::fprintf(stderr,
                 "jsync: device %s has not published its public keys yet: it must run 'jsync "
                 "unlock' (with the passphrase) to read what is written from now on\n",
                 Short(d).c_str());
  }
}

void SayEpoch(const EpochResult& r, const char* what) {
  std::fprintf(stderr,
               "jsync: %s: key epoch %u (key %s); the other devices take it at their next sync\n",
               what, r.epoch, format::KeyIdHex(r.key_id).c_str());
  SayUnwrapped(r);
}

Result<std::unique_ptr<Journal>> OpenJournal(const std::string& home) {
  return Journal::Open(home, Storage());
}

}  // namespace

void PrintRecoveryKey(const std::string& key) {
  // stderr, like every message for a person; stdout stays what scripts read.
  std::fprintf(stderr,
               "\nRecovery key (shown only now; write it down and keep it offline, away from "
               "this device). It opens the journal if the passphrase is lost:\n\n    %s\n\n",
               key.c_str());
}

int RunPasswd(const std::string& home, const PasswdArgs& args) {
  auto journal = OpenJournal(home);
  if (!journal.ok()) return FailStatus(journal.status());
  auto old = ReadPassphrase(args.passphrase_file);
  if (!old.ok()) return FailStatus(old.status());
  auto fresh = ReadNewPassphrase(args.new_passphrase_file);
  if (!fresh.ok()) return FailStatus(fresh.status());
  if (*fresh == *old) return Fail("the new passphrase is the same as the current one");
  auto r = (*journal)->ChangePassphrase(&*old, *fresh);
  if (!r.ok()) return FailStatus(r.status());
  SayEpoch(*r, "passphrase changed");
  std::fprintf(stderr, "jsync: the old passphrase no longer joins new devices\n");
  return kExitOk;
}

int FinishRecoveryJoin(const std::string& home, const std::string& new_passphrase_file) {
  auto fresh = ReadNewPassphrase(new_passphrase_file);
  if (!fresh.ok()) return FailStatus(fresh.status());
  auto journal = OpenJournal(home);
  if (!journal.ok()) return FailStatus(journal.status());
  auto r = (*journal)->ChangePassphrase(nullptr, *fresh);
  if (!r.ok()) {
    return Fail("joined with the recovery key, but setting the new passphrase failed: " +
                r.status().message() + "; run 'jsync passwd' on this device");
  }
  SayEpoch(*r, "new passphrase set");
  return kExitOk;
}

int RunRecoveryKey(const std::string& home, bool make_new) {
  if (!make_new) {
    return Fail(
        "the recovery key is shown only when it is made: 'jsync recovery-key --new' "
        "makes a new one (the old one stops working)",
        kExitUsage);
  }
  auto journal = OpenJournal(home);
  if (!journal.ok()) return FailStatus(journal.status());
  auto r = (*journal)->NewRecoveryKey();
  if (!r.ok()) return FailStatus(r.status());
  SayEpoch(*r, "new recovery key");
  PrintRecoveryKey(r->recovery_key);
  std::fprintf(stderr, "jsync: the previous recovery key no longer opens the journal\n");
  return kExitOk;
}

int RunRotateKey(const std::string& home) {
  auto journal = OpenJournal(home);
  if (!journal.ok()) return FailStatus(journal.status());
  auto r = (*journal)->RotateKey();
  if (!r.ok()) return FailStatus(r.status());
  SayEpoch(*r, "key rotated");
  return kExitOk;
}

int RunUnlock(const std::string& home, const std::string& passphrase_file) {
  auto journal = OpenJournal(home);
  if (!journal.ok()) return FailStatus(journal.status());
  auto pass = ReadPassphrase(passphrase_file);
  if (!pass.ok()) return FailStatus(pass.status());
  auto r = (*journal)->Unlock(*pass);
  if (!r.ok()) return FailStatus(r.status());
  std::fprintf(stderr,
               r->opened ? "jsync: opened key epoch %u (key %s); run 'jsync sync'\n"
                         : "jsync: this device holds key epoch %u (key %s) already\n",
               r->epoch, format::KeyIdHex(r->key_id).c_str());
  return kExitOk;
}

int RunDevices(const std::string& home, const DevicesArgs& args) {
  auto journal = OpenJournal(home);
  if (!journal.ok()) return FailStatus(journal.status());
  if (args.action == "rename") {
    if (args.values.empty() || args.values.size() > 2) {
      return Fail("usage: jsync devices rename [ID] NAME", kExitUsage);
    }
    const std::string id = args.values.size() == 2 ? args.values[0] : "";
    Status s = (*journal)->RenameDevice(id, args.values.back());
    if (!s.ok()) return FailStatus(s);
    std::fprintf(stderr, "jsync: this device is now called \"%s\"\n", args.values.back().c_str());
    return kExitOk;
  }
  if (args.action == "revoke") {
    if (args.values.size() != 1) return Fail("usage: jsync devices revoke ID", kExitUsage);
    auto r = (*journal)->RevokeDevice(args.values[0]);
    if (!r.ok()) return FailStatus(r.status());
    SayEpoch(*r, ("revoked device " + args.values[0]).c_str());
    std::fprintf(stderr,
                 "jsync: its later changes are refused and it cannot read anything written from "
                 "now on. If whoever holds it knows the passphrase, also run 'jsync passwd'\n");
    return kExitOk;
  }
  if (!args.action.empty()) {
    return Fail("unknown devices action '" + args.action + "' (rename or revoke)", kExitUsage);
  }
  auto list = (*journal)->ListDevices();
  if (!list.ok()) return FailStatus(list.status());
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : *list) {
      nlohmann::json j{{"device", DeviceIdHex(d.device)},
                       {"name", d.name},
                       {"platform", d.platform},
                       {"this_device", d.self},
                       {"merged_seq", d.merged_seq},
                       {"has_keys", d.has_keys},
                       {"revoked", d.revoked}};
      j["last_change"] = d.last_change_ms ? nlohmann::json(IsoTime(d.last_change_ms)) : nullptr;
      j["last_seen"] = d.last_seen_ms ? nlohmann::json(IsoTime(d.last_seen_ms)) : nullptr;
      if (d.revoked) {
        j["revoked_by"] = DeviceIdHex(d.revoked_by);
        j["revoked_at"] = IsoTime(d.revoked_ms);
        j["revoked_through_seq"] = d.revoked_through;
      }
      out.push_back(j);
    }
    std::cout << out.dump(2) << std::endl;
    return kExitOk;
  }
  for (const auto& d : *list) {
    std::string line = (d.self ? "* " : "  ") + DeviceIdHex(d.device) + "  " +
                       (d.name.empty() ? "(no name known)" : d.name);
    if (!d.platform.empty()) line += " (" + d.platform + ")";
    line += "  last change " + (d.last_change_ms ? IsoTime(d.last_change_ms) : std::string("-"));
    line += ", last seen " + (d.last_seen_ms ? IsoTime(d.last_seen_ms) : std::string("-"));
    if (d.revoked) {
      line += "  REVOKED by " + DeviceIdHex(d.revoked_by) + " on " + sync::ShowDate(d.revoked_ms) +
              " (changes after " + std::to_string(d.revoked_through) + " refused)";
    }
    if (!d.has_keys && !d.self) line += "  (no public keys yet)";
    std::printf("%s\n", line.c_str());
  }
  std::fprintf(stderr, "(* this device)\n");
  return kExitOk;
}

}  // namespace jsync::cli
