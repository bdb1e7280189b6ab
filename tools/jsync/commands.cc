#include "tools/jsync/commands.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include "auth/credential_store.h"
#include "core/journal/journal.h"
#include "core/provider/plugin_loader.h"
#include "core/util/utf8.h"
#include "tools/jsync/passphrase.h"
#include "tools/jsync/render.h"

namespace jsync::cli {
namespace {

int FailStatus(const Status& s) { return Fail(s.message()); }

Result<std::string> ReadBody(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read body file " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
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

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "jsync: error: %s\n", message.c_str());
  return code;
}

int RunInit(const std::string& home, const InitArgs& args) {
  auto pass = ReadPassphrase(args.passphrase_file);
  if (!pass.ok()) return FailStatus(pass.status());
  InitOptions opts;
  opts.provider = args.provider;
  opts.location = args.location;
  opts.passphrase = *pass;
  opts.device_name = args.device_name.empty() ? Hostname() : args.device_name;
  opts.journal_id = args.journal_id;
  opts.scrypt.log2_n = static_cast<uint8_t>(args.scrypt_log_n);
  auto result = Journal::Init(home, opts);
  if (!result.ok()) return FailStatus(result.status());
  std::fprintf(stderr, "%s journal; this device is %s (%s)\n",
               result->joined ? "joined" : "created", DeviceIdHex(result->device).c_str(),
               opts.device_name.c_str());
  std::printf("%s\n", JournalIdHex(result->journal).c_str());
  return kExitOk;
}

int RunNew(const std::string& home, const EntryArgs& args) {
  auto journal = Journal::Open(home);
  if (!journal.ok()) return FailStatus(journal.status());
  NewEntryInput input;
  input.title = args.title.value_or("");
  input.tags = args.tags;
  if (!args.body_file.empty()) {
    auto body = ReadBody(args.body_file);
    if (!body.ok()) return FailStatus(body.status());
    input.body = *body;
  }
  auto id = (*journal)->NewEntry(input);
  if (!id.ok()) return FailStatus(id.status());
  std::printf("%s\n", RecordIdHex(*id).c_str());
  return kExitOk;
}

int RunEdit(const std::string& home, const EntryArgs& args) {
  auto journal = Journal::Open(home);
  if (!journal.ok()) return FailStatus(journal.status());
  EntryEdit edit;
  edit.title = args.title;
  edit.add_tags = args.add_tags;
  edit.remove_tags = args.remove_tags;
  if (!args.body_file.empty()) {
    auto body = ReadBody(args.body_file);
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
    if (!IsValidUtf8(args.insert[1])) return Fail("--insert TEXT is not valid UTF-8", kExitUsage);
    edit.body_splices.push_back({*pos, 0, text::Utf8ToUtf32(args.insert[1])});
  }
  Status s = (*journal)->EditEntry(args.id, edit);
  return s.ok() ? kExitOk : FailStatus(s);
}

int RunRemove(const std::string& home, const std::string& id) {
  auto journal = Journal::Open(home);
  if (!journal.ok()) return FailStatus(journal.status());
  Status s = (*journal)->RemoveEntry(id);
  return s.ok() ? kExitOk : FailStatus(s);
}

int RunShow(const std::string& home, const std::string& id, bool json) {
  auto journal = Journal::Open(home);
  if (!journal.ok()) return FailStatus(journal.status());
  auto entry = (*journal)->GetEntry(id);
  if (!entry.ok()) return FailStatus(entry.status());
  std::cout << (json ? EntryJson(*entry).dump(2) + "\n" : EntryText(*entry));
  return kExitOk;
}

int RunList(const std::string& home, bool json) {
  auto journal = Journal::Open(home);
  if (!journal.ok()) return FailStatus(journal.status());
  auto entries = (*journal)->ListEntries();
  if (!entries.ok()) return FailStatus(entries.status());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *entries) out.push_back(EntryJson(e));
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& e : *entries) std::cout << EntryLine(e) << "\n";
  }
  return kExitOk;
}

int RunSync(const std::string& home, bool json) {
  auto journal = Journal::Open(home);
  if (!journal.ok()) return FailStatus(journal.status());
  auto result = (*journal)->Sync();
  if (!result.ok()) return FailStatus(result.status());
  std::cout << (json ? SyncJson(*result).dump(2) + "\n" : SyncText(*result));
  for (const auto& p : result->report.problems) {
    std::fprintf(stderr, "jsync: error: %s\n", p.message.c_str());
  }
  return result->report.ok() ? kExitOk : kExitError;
}

int RunStatus(const std::string& home, bool json) {
  auto journal = Journal::Open(home);
  if (!journal.ok()) return FailStatus(journal.status());
  auto status = (*journal)->GetStatus();
  if (!status.ok()) return FailStatus(status.status());
  std::cout << (json ? StatusJson(*status).dump(2) + "\n" : StatusText(*status));
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
    return out;
  };
  if (json) {
    nlohmann::json out = {{"providers", nlohmann::json::array()}, {"refused", report.refused}};
    for (const auto& p : report.loaded) {
      out["providers"].push_back({{"name", p.name},
                                  {"version", p.version},
                                  {"capabilities", caps(p.capabilities)},
                                  {"file", p.file}});
    }
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& p : report.loaded) {
      std::string c;
      for (const auto& x : caps(p.capabilities)) c += (c.empty() ? "" : ",") + x;
      std::printf("%-10s %-8s %-30s %s\n", p.name.c_str(), p.version.c_str(),
                  c.empty() ? "-" : c.c_str(), p.file.c_str());
    }
  }
  // A refused plugin does not stop the others; say why on stderr.
  for (const auto& r : report.refused) std::fprintf(stderr, "jsync: warning: %s\n", r.c_str());
  return kExitOk;
}

}  // namespace jsync::cli
