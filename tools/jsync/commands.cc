#include "tools/jsync/commands.h"
#include "tools/jsync/lifecycle_env.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "auth/credential_store.h"
#include "core/journal/journal.h"
#include "core/util/utf8.h"
#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "host/plugin_options.h"
#include "live/relay_config.h"
#include "live/watch_lock.h"
#include "tools/jsync/passphrase.h"
#include "tools/jsync/render.h"

namespace jsync::cli {
namespace {

bool json_errors = false;

// A throttling service's wait, said on stderr when it starts, so a long first sync does not
// look hung. From transfer threads too: one fprintf is one line.
void SayWait(const std::string& message) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char at[16];
  std::strftime(at, sizeof at, "%H:%M:%S", &local);
  std::fprintf(stderr, "jsync: %s (since %s)\n", message.c_str(), at);
}

// The composition root: the engine gets the host's providers with this home's linked accounts.
provider::StorageOpener Storage() {
  return provider::MakeStorageOpener(auth::LinkedAccountFor, SayWait);
}

int FailStatus(const Status& s) { return Fail(s.message(), kExitError, s.code()); }

// Reads a text argument's file ('-': standard input), at most `limit` bytes.
Result<std::string> ReadTextFile(const std::string& path, const char* what, size_t limit) {
  std::error_code ec;
  if (path != "-" && std::filesystem::is_directory(path, ec)) {
    return Status::Invalid(std::string(what) + " " + path + " is a directory, not a file");
  }
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Status::Invalid(std::string("cannot read ") + what + " " + path + ": " +
                           std::strerror(errno));
  }
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out.append(buf, n);
    if (out.size() > limit) break;
  }
  const bool failed = std::ferror(f) != 0;
  if (f != stdin) std::fclose(f);
  if (failed) return Status::Invalid(std::string("cannot read ") + what + " " + path);
  if (out.size() > limit) {
    return Status::Invalid(std::string(what) + " " + path + " is larger than " +
                           std::to_string(limit >> 20) + " MiB");
  }
  return out;
}

constexpr size_t kMaxTextFileBytes = 16u << 20;

// --title-file: the file's text without one trailing newline (what `echo` or an editor adds).
Result<std::optional<std::string>> ReadTitle(const EntryArgs& args) {
  if (args.title_file.empty()) return args.title;
  JSYNC_ASSIGN_OR_RETURN(std::string t,
                         ReadTextFile(args.title_file, "title file", kMaxTextFileBytes));
  if (t.ends_with("\r\n")) {
    t.resize(t.size() - 2);
  } else if (t.ends_with("\n")) {
    t.pop_back();
  }
  return std::optional<std::string>(std::move(t));
}

Result<size_t> ParseCount(const std::string& s, const char* what) {
  if (s.empty() || s.size() > 15 || s.find_first_not_of("0123456789") != std::string::npos) {
    return Status::Invalid(std::string(what) + " must be a non-negative whole number, not '" + s +
                           "'");
  }
  return static_cast<size_t>(std::stoull(s));
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "device";
  return buf;
}

}  // namespace

void JsonErrors(bool on) { json_errors = on; }

int Fail(const std::string& message, int code, Code status) {
  std::fprintf(stderr, "jsync: error: %s\n", message.c_str());
  if (json_errors) {
    // Scripts reading --json output get an object even when the command could not run.
    nlohmann::json out = {{"ok", false},
                          {"error",
                           {{"code", status == Code::kOk ? (code == kExitUsage ? "usage" : "error")
                                                         : CodeName(status)},
                            {"message", message}}}};
    std::cout << out.dump(2) << std::endl;
  }
  return code;
}

// `init --option`: checked against the plugin's table before anything is asked or written.
Result<nlohmann::json> InitOptionsJson(const provider::PluginInfo& plugin,
                                       const std::vector<std::string>& args) {
  JSYNC_ASSIGN_OR_RETURN(auto values, provider::ParseOptionArgs(args));
  JSYNC_RETURN_IF_ERROR(provider::CheckOptionNames(plugin, values));
  nlohmann::json given = nlohmann::json::object();
  for (const auto& [k, v] : values) given[k] = v;
  return given;
}

int RunInit(const std::string& home, const InitArgs& args) {
  auto plugin = provider::FindPlugin(args.provider);
  if (!plugin.ok()) return FailStatus(plugin.status());
  if (args.location.empty() && plugin->location.required) {
    return Fail(provider::NeedsLocation(*plugin), kExitUsage);
  }
  auto given = InitOptionsJson(*plugin, args.options);
  if (!given.ok()) return Fail(given.status().message(), kExitUsage);
  // With the recovery key (decision 0038) no passphrase is asked: a new one is set after.
  Result<std::string> pass = std::string();
  std::string recovery;
  if (!args.recovery_key_file.empty()) {
    auto text = ReadTextFile(args.recovery_key_file, "recovery key file", 4096);
    if (!text.ok()) return FailStatus(text.status());
    recovery = *text;
  } else {
    pass = ReadPassphrase(args.passphrase_file);
  }
  if (!pass.ok()) return FailStatus(pass.status());
  InitOptions opts;
  opts.recovery_key = recovery;
  opts.provider = args.provider;
  opts.location = args.location;
  opts.passphrase = *pass;
  opts.device_name = args.device_name.empty() ? Hostname() : args.device_name;
  opts.journal_id = args.journal_id;
  opts.scrypt.log2_n = static_cast<uint8_t>(args.scrypt_log_n);
  opts.owns_storage = [](const std::string& name) {
    auto p = provider::FindPlugin(name);
    return p.ok() && p->capabilities.own_storage;
  };
  // The options given here over the ones set before (jsync link NAME --option).
  opts.storage = provider::MakeStorageOpener(
      [given = *given](const std::string& h,
                       const std::string& name) -> Result<provider::AccountForStorage> {
        JSYNC_ASSIGN_OR_RETURN(auto account, auth::LinkedAccountFor(h, name));
        auto config = nlohmann::json::parse(account.config_json, nullptr, false);
        if (!config.is_object()) config = nlohmann::json::object();
        for (const auto& [k, v] : given.items()) config[k] = v;
        account.config_json = config.dump();
        return account;
      },
      SayWait);
  auto result = Journal::Init(home, opts);
  if (!result.ok()) return FailStatus(result.status());
  if (!given->empty()) {
    // Kept for the commands that follow; secret ones in the token store only.
    const std::string passphrase = *pass;
    Status saved = auth::SaveProviderOptions(
        home, *plugin, *given, [passphrase]() -> Result<std::string> { return passphrase; });
    if (!saved.ok()) return FailStatus(saved);
  }
  std::fprintf(stderr, "%s journal; this device is %s (%s)\n",
               result->joined ? "joined" : "created", DeviceIdHex(result->device).c_str(),
               opts.device_name.c_str());
  if (!result->recovery_key.empty()) PrintRecoveryKey(result->recovery_key);
  std::printf("%s\n", JournalIdHex(result->journal).c_str());
  std::fflush(stdout);
  if (!recovery.empty()) return FinishRecoveryJoin(home, args.new_passphrase_file);
  return kExitOk;
}

int RunNew(const std::string& home, const EntryArgs& args) {
  auto journal = Journal::Open(home, Storage());
  if (!journal.ok()) return FailStatus(journal.status());
  NewEntryInput input;
  auto title = ReadTitle(args);
  if (!title.ok()) return FailStatus(title.status());
  input.title = title->value_or("");
  input.tags = args.tags;
  if (!args.body_file.empty()) {
    auto body = ReadTextFile(args.body_file, "body file", kMaxTextFileBytes);
    if (!body.ok()) return FailStatus(body.status());
    input.body = *body;
  }
  auto id = (*journal)->NewEntry(input);
  if (!id.ok()) return FailStatus(id.status());
  std::printf("%s\n", RecordIdHex(*id).c_str());
  return kExitOk;
}

int RunEdit(const std::string& home, const EntryArgs& args) {
  auto journal = Journal::Open(home, Storage());
  if (!journal.ok()) return FailStatus(journal.status());
  EntryEdit edit;
  auto title = ReadTitle(args);
  if (!title.ok()) return FailStatus(title.status());
  edit.title = *title;
  edit.add_tags = args.add_tags;
  edit.remove_tags = args.remove_tags;
  if (!args.body_file.empty()) {
    auto body = ReadTextFile(args.body_file, "body file", kMaxTextFileBytes);
    if (!body.ok()) return FailStatus(body.status());
    edit.body = *body;
  }
  // A delete and an insert given together apply in that order.
  if (args.del.size() == 2) {
    auto pos = ParseCount(args.del[0], "--delete POS");
    auto len = ParseCount(args.del[1], "--delete LEN");
    if (!pos.ok()) return Fail(pos.status().message(), kExitUsage);
    if (!len.ok()) return Fail(len.status().message(), kExitUsage);
    edit.body_splices.push_back({*pos, *len, {}});
  }
  if (args.insert.size() == 2) {
    auto pos = ParseCount(args.insert[0], "--insert POS");
    if (!pos.ok()) return Fail(pos.status().message(), kExitUsage);
    // Like every other text input: bad text is an error (1), not a usage error (2).
    if (!IsValidUtf8(args.insert[1])) return Fail("--insert TEXT is not valid UTF-8");
    edit.body_splices.push_back({*pos, 0, text::Utf8ToUtf32(args.insert[1])});
  }
  Status s = (*journal)->EditEntry(args.id, edit);
  return s.ok() ? kExitOk : FailStatus(s);
}

int RunRemove(const std::string& home, const std::string& id) {
  auto journal = Journal::Open(home, Storage());
  if (!journal.ok()) return FailStatus(journal.status());
  Status s = (*journal)->RemoveEntry(id);
  return s.ok() ? kExitOk : FailStatus(s);
}

int RunShow(const std::string& home, const std::string& id, bool json) {
  auto journal = Journal::Open(home, Storage());
  if (!journal.ok()) return FailStatus(journal.status());
  auto entry = (*journal)->GetEntry(id);
  if (!entry.ok()) return FailStatus(entry.status());
  std::cout << (json ? EntryJson(*entry).dump(2) + "\n" : EntryText(*entry));
  return kExitOk;
}

int RunList(const std::string& home, bool json) {
  auto journal = Journal::Open(home, Storage());
  if (!journal.ok()) return FailStatus(journal.status());
  // Streamed, one entry at a time (docs/decisions/0042): the plain list reads only the
  // store's summaries; --json needs bodies and conflicts, so it decodes each record in turn.
  Status s;
  if (json) {
    JsonArrayWriter out(std::cout);
    s = (*journal)->ForEachEntry([&](const Entry& e) {
      out.Add(EntryJson(e));
      return Status::Ok();
    });
    if (s.ok()) out.Finish();
  } else {
    s = (*journal)->ForEachEntrySummary([](const EntrySummary& e) {
      std::cout << EntryLine(e) << "\n";
      return Status::Ok();
    });
  }
  if (!s.ok()) return FailStatus(s);
  return kExitOk;
}

int RunSync(const std::string& home, bool json, bool full) {
  auto journal = Journal::Open(home, Storage());
  if (!journal.ok()) return FailStatus(journal.status());
  auto lifecycle = LifecycleFromEnv();
  if (!lifecycle.ok()) return FailStatus(lifecycle.status());
  (*journal)->SetLifecycle(*lifecycle);
  sync::DiscoveryOptions options;
  options.full_listing = full;
  auto result = (*journal)->Sync(options);
  if (!result.ok()) return FailStatus(result.status());
  std::cout << (json ? SyncJson(*result).dump(2) + "\n" : SyncText(*result));
  for (const auto& p : result->report.problems) {
    std::fprintf(stderr, "jsync: error: %s\n", p.message.c_str());
  }
  return result->report.ok() ? kExitOk : kExitError;
}

int RunStatus(const std::string& home, bool json) {
  auto journal = Journal::Open(home, Storage());
  if (!journal.ok()) return FailStatus(journal.status());
  auto status = (*journal)->GetStatus();
  if (!status.ok()) return FailStatus(status.status());
  // What the watcher of this home (if one runs) knows: relay presence.
  LiveStatus live;
  if (auto holder = live::WatchLock::Holder(home); holder.ok()) live.watch = *holder;
  if (!live.watch.empty()) {
    if (auto online = live::LoadOnlineDevices((*journal)->store()); online.ok()) {
      live.online = std::move(online).value();
    }
  }
  std::cout << (json ? StatusJson(*status, live).dump(2) + "\n" : StatusText(*status, live));
  return kExitOk;
}

}  // namespace jsync::cli

namespace jsync::cli {

int RunProviders(bool json) {
  provider::LoadReport report = provider::LoadAllPlugins();
  auto caps = [](const provider::Capabilities& c) {
    std::vector<std::string> out;
    if (c.change_feed) out.push_back("change_feed");
    if (c.push) out.push_back("push");
    if (c.quota) out.push_back("quota");
    if (c.range_read) out.push_back("range_read");
    if (c.oauth) out.push_back("oauth");
    if (c.case_insensitive) out.push_back("case_insensitive");
    return out;
  };
  // A secret option's default is never shown (nor is any value set on this device).
  auto options = [](const provider::PluginInfo& p) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& o : p.options) {
      nlohmann::json j{
          {"name", o.name}, {"help", o.help}, {"required", !o.default_value}, {"secret", o.secret}};
      if (o.default_value && !o.secret) j["default"] = *o.default_value;
      out.push_back(j);
    }
    return out;
  };
  if (json) {
    nlohmann::json out = {{"providers", nlohmann::json::array()}, {"refused", report.refused}};
    for (const auto& p : report.loaded) {
      nlohmann::json location{{"required", p.location.required}, {"help", p.location.help}};
      if (!p.location.required) location["default"] = p.location.default_location;
      out["providers"].push_back({{"name", p.name},
                                  {"version", p.version},
                                  {"abi_version", p.abi_version},
                                  {"capabilities", caps(p.capabilities)},
                                  {"location", location},
                                  {"options", options(p)},
                                  {"file", p.file}});
    }
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& p : report.loaded) {
      std::string c;
      for (const auto& x : caps(p.capabilities)) c += (c.empty() ? "" : ",") + x;
      std::printf("%-10s %-8s %-30s %s\n", p.name.c_str(), p.version.c_str(),
                  c.empty() ? "-" : c.c_str(), p.file.c_str());
      if (p.location.required || !p.location.help.empty()) {
        std::string where = p.location.help.empty() ? "needed" : p.location.help;
        if (!p.location.required) where += ", default \"" + p.location.default_location + "\"";
        std::printf("  --location: %s\n", where.c_str());
      }
      for (const auto& o : p.options) {
        std::string d = !o.default_value ? "required"
                        : o.secret       ? "secret"
                                         : "default \"" + *o.default_value + "\"";
        if (o.secret && !o.default_value) d = "required, secret";
        std::printf("  --option %s=...  %s (%s)\n", o.name.c_str(), o.help.c_str(), d.c_str());
      }
    }
  }
  // A refused plugin does not stop the others; say why on stderr.
  for (const auto& r : report.refused) std::fprintf(stderr, "jsync: warning: %s\n", r.c_str());
  return kExitOk;
}

}  // namespace jsync::cli
