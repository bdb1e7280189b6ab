#include "tools/jsync/render.h"

#include <algorithm>
#include <ctime>
#include <sstream>

#include "core/util/escape.h"

namespace jsync::cli {
namespace {

std::string Plural(uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string Size(uint64_t bytes) {
  std::ostringstream out;
  out.precision(1);
  if (bytes < 1024) return std::to_string(bytes) + " B";
  if (bytes < (1u << 20)) {
    out << std::fixed << bytes / 1024.0 << " KiB";
  } else {
    out << std::fixed << bytes / 1048576.0 << " MiB";
  }
  return out.str();
}

}  // namespace

std::string IsoTime(uint64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03uZ", buf, static_cast<unsigned>(unix_ms % 1000));
  return out;
}

nlohmann::json EntryJson(const Entry& e) {
  nlohmann::json conflicts = nlohmann::json::array();
  for (const auto& c : e.conflicts) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& v : c.values) {
      nlohmann::json ops = nlohmann::json::array();
      for (const OpId& op : v.ops) {
        ops.push_back({{"device", DeviceIdHex(op.device)}, {"hlc", op.hlc}});
      }
      values.push_back({{"value", nlohmann::json::parse(v.value, nullptr, false)},
                        {"device", DeviceIdHex(v.device)},
                        {"at", IsoTime(v.wall_ms)},
                        {"hlc", v.hlc},
                        {"ops", ops}});
    }
    conflicts.push_back({{"field", c.field}, {"kind", c.kind}, {"values", values}});
  }
  return {{"id", RecordIdHex(e.id)},
          {"title", e.title},
          {"body", e.body},
          {"tags", e.tags},
          {"created_at", IsoTime(e.created_ms)},
          {"updated_at", IsoTime(e.updated_ms)},
          {"conflicts", conflicts}};
}

std::string EntryText(const Entry& e) {
  std::ostringstream out;
  out << "id:       " << RecordIdHex(e.id) << "\n"
      << "title:    " << EscapeForDisplay(e.title) << "\n";
  if (!e.tags.empty()) {
    out << "tags:    ";
    for (const auto& t : e.tags) out << " " << EscapeForDisplay(t);
    out << "\n";
  }
  out << "created:  " << IsoTime(e.created_ms) << "\n"
      << "updated:  " << IsoTime(e.updated_ms) << "\n";
  for (const auto& c : e.conflicts) {
    const bool text = c.kind == "text";
    out << "conflict: " << c.field
        << (text ? " was rewritten on several devices at once; shown merged above; each version:\n"
                 : " was changed on several devices at once; shown is the latest, others:\n");
    // A register shows its latest value above; a text field shows none of the versions.
    const size_t listed = text ? c.values.size() : c.values.size() - 1;
    for (size_t i = 0; i < listed; ++i) {
      out << "          " << EscapeForDisplay(c.values[i].value) << " (device " << DeviceIdHex(c.values[i].device)
          << ", " << IsoTime(c.values[i].wall_ms) << ")\n";
    }
  }
  if (!e.body.empty()) out << "\n" << e.body << (e.body.back() == '\n' ? "" : "\n");
  return out.str();
}

namespace {

std::string Line(const RecordId& id, uint64_t created_ms, const std::string& title,
                 const std::vector<std::string>& tags, bool conflict) {
  std::string line = RecordIdHex(id).substr(0, 12) + "  " + IsoTime(created_ms).substr(0, 10) +
                     "  " + EscapeForDisplay(title);
  if (!tags.empty()) {
    line += "  [";
    for (size_t i = 0; i < tags.size(); ++i) line += (i ? ", " : "") + EscapeForDisplay(tags[i]);
    line += "]";
  }
  if (conflict) line += "  (conflict)";
  return line;
}

}  // namespace

std::string EntryLine(const Entry& e) {
  return Line(e.id, e.created_ms, e.title, e.tags, !e.conflicts.empty());
}

std::string EntryLine(const EntrySummary& e) {
  return Line(e.id, e.created_ms, e.title, e.tags, e.conflicts);
}

void JsonArrayWriter::Add(const nlohmann::json& element) {
  // dump(2) of an array puts each element on its own lines, indented one level: the
  // element's own dump(2) with two more spaces after every line break (strings never hold
  // a raw line break: JSON escapes it).
  std::string text = element.dump(2);
  out_ << (count_++ == 0 ? "[\n  " : ",\n  ");
  size_t from = 0;
  for (size_t nl; (nl = text.find('\n', from)) != std::string::npos; from = nl + 1) {
    out_.write(text.data() + from, static_cast<std::streamsize>(nl + 1 - from));
    out_ << "  ";
  }
  out_.write(text.data() + from, static_cast<std::streamsize>(text.size() - from));
}

void JsonArrayWriter::Finish() { out_ << (count_ == 0 ? "[]\n" : "\n]\n"); }

nlohmann::json SyncJson(const SyncResult& r) {
  const auto& rep = r.report;
  nlohmann::json by_device = nlohmann::json::object();
  for (const auto& [d, n] : rep.merged_by_device) by_device[DeviceIdHex(d)] = n;
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : rep.problems) {
    problems.push_back({{"code", CodeName(p.code)}, {"message", p.message}});
  }
  return {{"ok", rep.ok()},
          {"sealed", rep.sealed_changes},
          {"uploaded", {{"changes", rep.uploaded_changes}, {"bytes", rep.uploaded_bytes}}},
          {"repaired", rep.repaired_changes},
          {"downloaded", {{"changes", rep.downloaded_changes}, {"bytes", rep.downloaded_bytes}}},
          {"merged",
           {{"changes", rep.merged_changes}, {"ops", rep.merged_ops}, {"by_device", by_device}}},
          {"provider_calls",
           {{"put", r.calls.puts},
            {"get", r.calls.gets},
            {"list", r.calls.lists},
            {"remove", r.calls.removes},
            {"feed", r.calls.feeds}}},
          {"discovery", rep.discovery},
          {"lifecycle",
           {{"snapshot_loaded", rep.snapshot_loaded},
            {"rebuilt", rep.rebuilt_from_snapshot},
            {"snapshot_written", rep.snapshot_written},
            {"segments_downloaded", rep.downloaded_segments},
            {"segments_written", rep.segments_written},
            {"removed", rep.pruned_files}}},
          {"elapsed_ms", r.elapsed_ms},
          {"notices", rep.notices},
          {"problems", problems}};
}

std::string SyncText(const SyncResult& r) {
  const auto& rep = r.report;
  std::ostringstream out;
  out << "uploaded " << Plural(rep.uploaded_changes, "change") << " (" << Size(rep.uploaded_bytes)
      << "), downloaded " << Plural(rep.downloaded_changes, "change") << " ("
      << Size(rep.downloaded_bytes) << "), merged " << Plural(rep.merged_ops, "op") << " from "
      << Plural(rep.merged_changes, "change") << " in " << r.elapsed_ms << " ms\n";
  for (const auto& n : rep.notices) out << "note: " << n << "\n";
  return out.str();
}

nlohmann::json StatusJson(const JournalStatus& s, const LiveStatus& live) {
  nlohmann::json online = nlohmann::json::array();
  for (DeviceId d : live.online) online.push_back(DeviceIdHex(d));
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : s.devices) {
    devices.push_back({{"device", DeviceIdHex(d.device)},
                       {"name", d.name},
                       {"seq", d.merged_seq},
                       {"self", d.self}});
  }
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : s.last_sync_problems) {
    problems.push_back({{"code", p.code}, {"message", p.message}});
  }
  return {
      {"journal_id", JournalIdHex(s.journal)},
      {"problems", problems},
      {"reidentified_from",
       s.reidentified_from ? nlohmann::json(DeviceIdHex(s.reidentified_from)) : nlohmann::json()},
      {"rebuilding", s.rebuilding},
      {"device", {{"id", DeviceIdHex(s.device)}, {"name", s.device_name}}},
      {"provider", {{"name", s.provider}, {"location", s.location}}},
      {"outbox", {{"ops", s.outbox_ops}, {"unuploaded_changes", s.unuploaded_changes}}},
      {"last_sync", s.last_sync_ms ? nlohmann::json(IsoTime(s.last_sync_ms)) : nlohmann::json()},
      {"cursors", devices},
      {"watch", live.watch.empty() ? nlohmann::json() : nlohmann::json(live.watch)},
      {"online_devices", online}};
}

std::string StatusText(const JournalStatus& s, const LiveStatus& live) {
  std::ostringstream out;
  out << "journal:   " << JournalIdHex(s.journal) << "\n"
      << "device:    " << DeviceIdHex(s.device) << " (" << s.device_name << ")\n"
      << "provider:  " << s.provider << " " << s.location << "\n"
      << "outbox:    " << Plural(s.outbox_ops, "op") << " not sealed, "
      << Plural(s.unuploaded_changes, "change") << " not uploaded\n"
      << "last sync: " << (s.last_sync_ms ? IsoTime(s.last_sync_ms) : "never") << "\n";
  if (s.quota) {
    out << "quota:     " << Size(s.quota->used) << " used"
        << (s.quota->total ? " of " + Size(s.quota->total) : std::string()) << "\n";
  }
  if (s.reidentified_from) {
    out << "identity:  this home's former device id " << DeviceIdHex(s.reidentified_from)
        << " was in use by another home (a copy); it now writes as " << DeviceIdHex(s.device)
        << (s.rebuilding ? " and is still rebuilding its entries from the cloud" : "") << "\n";
  }
  if (!s.last_sync_problems.empty()) {
    out << "problems found by the last sync:\n";
    for (const auto& p : s.last_sync_problems) out << "  " << EscapeForDisplay(p.message) << "\n";
  }
  out << "watch:     " << (live.watch.empty() ? "not running" : "running (" + live.watch + ")")
      << "\n";
  out << "devices:\n";
  for (const auto& d : s.devices) {
    const bool online =
        std::find(live.online.begin(), live.online.end(), d.device) != live.online.end();
    out << "  " << DeviceIdHex(d.device) << "  " << (d.name.empty() ? "?" : d.name)
        << (d.self ? " (this device): sealed " : ": merged ") << "up to change " << d.merged_seq
        << (online ? ", online now" : "") << "\n";
  }
  return out.str();
}

}  // namespace jsync::cli
