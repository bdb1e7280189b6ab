// `jsync verify [--read-data] [--json]`: the read-only audit of the journal's cloud objects
// (core/sync/audit.h). Its text and JSON shapes are specified in docs/cli.md.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "auth/credential_store.h"
#include "core/journal/journal.h"
#include "core/util/escape.h"
#include "host/open_provider.h"
#include "tools/jsync/commands.h"

namespace jsync::cli {
namespace {

std::string Count(uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string Bytes(uint64_t n) {
  char buf[32];
  if (n < 1024) return std::to_string(n) + " B";
  if (n < (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / 1048576.0);
  }
  return buf;
}

std::string DeviceLine(const sync::AuditDevice& d) {
  std::ostringstream out;
  out << "device " << DeviceIdHex(d.device);
  if (!d.name.empty()) out << " (" << EscapeForDisplay(d.name) << ")";
  if (d.self) out << " [this device]";
  out << ": ";
  if (d.last == 0) {
    out << "no changes in the cloud";
  } else {
    out << "changes " << d.first << "-" << d.last << " in the cloud (" << Count(d.files, "file");
    if (d.segments > 0) out << ", " << Count(d.segments, "segment");
    out << ")";
  }
  out << ", " << (d.self ? "sealed " : "merged ") << d.merged << ", device file " << d.device_file
      << ": " << (d.problems == 0 ? "ok" : Count(d.problems, "problem"));
  return out.str();
}

std::string VerifyText(const Journal& journal, const Journal::VerifyResult& r) {
  const sync::AuditReport& a = r.report;
  std::ostringstream out;
  for (const auto& d : a.devices) out << DeviceLine(d) << "\n";
  for (const auto& p : a.problems) {
    out << "problem [" << p.code << "]: " << p.message << "; to fix: " << p.fix << "\n";
  }
  out << "verify: journal " << JournalIdHex(journal.journal_id()) << ", "
      << Count(a.devices.size(), "device") << ", " << Count(a.objects, "object") << ", "
      << Count(a.problems.size(), "problem") << " ("
      << (a.read_data ? "every file authenticated" : "headers checked; --read-data authenticates "
                                                     "every file")
      << "; " << Count(r.calls.lists, "listing") << ", " << Count(r.calls.gets, "read") << ", "
      << Bytes(r.calls.bytes_down) << ")\n";
  return out.str();
}

nlohmann::json VerifyJson(const Journal& journal, const Journal::VerifyResult& r) {
  const sync::AuditReport& a = r.report;
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : a.devices) {
    devices.push_back({{"device", DeviceIdHex(d.device)},
                       {"name", d.name},
                       {"self", d.self},
                       {"first", d.first},
                       {"last", d.last},
                       {"files", d.files},
                       {"segments", d.segments},
                       {"merged", d.merged},
                       {"device_file", d.device_file},
                       {"problems", d.problems}});
  }
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : a.problems) {
    problems.push_back({{"code", p.code},
                        {"device", p.device == 0 ? nlohmann::json() : nlohmann::json(DeviceIdHex(p.device))},
                        {"path", p.path.empty() ? nlohmann::json() : nlohmann::json(p.path)},
                        {"message", p.message},
                        {"fix", p.fix}});
  }
  return {{"ok", a.ok()},
          {"journal", JournalIdHex(journal.journal_id())},
          {"device", DeviceIdHex(journal.device_id())},
          {"read_data", a.read_data},
          {"objects", a.objects},
          {"bytes_listed", a.bytes_listed},
          {"change_files_checked", a.change_files_checked},
          {"snapshots", a.snapshots},
          {"requests",
           {{"lists", r.calls.lists},
            {"gets", r.calls.gets},
            {"puts", r.calls.puts},
            {"removes", r.calls.removes},
            {"bytes_down", r.calls.bytes_down}}},
          {"elapsed_ms", r.elapsed_ms},
          {"devices", devices},
          {"problems", problems}};
}

}  // namespace

int RunVerify(const std::string& home, const VerifyArgs& args) {
  // The accounts this home linked, as every command that reaches the cloud; waits a throttling
  // service asks for are said on stderr.
  auto journal = Journal::Open(
      home, provider::MakeStorageOpener(auth::LinkedAccountFor, [](const std::string& message) {
        std::fprintf(stderr, "jsync: %s\n", message.c_str());
      }));
  if (!journal.ok()) return Fail(journal.status().message(), kExitError, journal.status().code());
  sync::AuditOptions options;
  options.read_data = args.read_data;
  auto result = (*journal)->Verify(options);
  if (!result.ok()) return Fail(result.status().message(), kExitError, result.status().code());
  std::cout << (args.json ? VerifyJson(**journal, *result).dump(2) + "\n"
                          : VerifyText(**journal, *result));
  if (!result->report.ok()) {
    std::fprintf(stderr, "jsync: error: verify found %zu problem%s in the cloud\n",
                 result->report.problems.size(), result->report.problems.size() == 1 ? "" : "s");
    return kExitError;
  }
  return kExitOk;
}

}  // namespace jsync::cli
