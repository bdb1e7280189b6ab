#include "tools/trace/editing_trace.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/model/text/text_document.h"

namespace jsync::trace {
namespace {

Result<std::string> ReadMaybeGzip(const std::string& path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) return Status::NotFound("cannot open trace " + path);
  unsigned char magic[2] = {0, 0};
  probe.read(reinterpret_cast<char*>(magic), 2);
  if (magic[0] != 0x1f || magic[1] != 0x8b) {
    probe.seekg(0);
    return std::string(std::istreambuf_iterator<char>(probe), std::istreambuf_iterator<char>());
  }
  // gzip is part of every Debian system; no need to link zlib for one file.
  std::string cmd = "gzip -dc -- '" + path + "'";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return Status::Fatal("cannot run gzip");
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  if (::pclose(pipe) != 0) return Status::Corrupt("gzip could not decompress " + path);
  return out;
}

}  // namespace

Result<EditingTrace> LoadEditingTrace(const std::string& path) {
  JSYNC_ASSIGN_OR_RETURN(std::string text, ReadMaybeGzip(path));
  return ParseEditingTrace(text, path);
}

Result<EditingTrace> ParseEditingTrace(std::string_view json_text, const std::string& name) {
  const auto json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("txns") || !json["txns"].is_array()) {
    return Status::Corrupt(name + " is not an editing trace");
  }
  // Every access is checked first: operator[] on a const json does not check, and a float or
  // negative position would be undefined behaviour to convert to a size.
  auto text_of = [&](const char* key, std::u32string* out) {
    if (!json.contains(key)) return true;
    if (!json[key].is_string()) return false;
    *out = text::Utf8ToUtf32(json[key].get_ref<const std::string&>());
    return true;
  };
  EditingTrace trace;
  if (!text_of("startContent", &trace.start) || !text_of("endContent", &trace.end)) {
    return Status::Corrupt(name + ": startContent and endContent must be strings");
  }
  for (const auto& txn : json["txns"]) {
    if (!txn.is_object() || !txn.contains("patches") || !txn["patches"].is_array()) {
      return Status::Corrupt(name + ": a txn without a patches array");
    }
    for (const auto& p : txn["patches"]) {
      if (!p.is_array() || p.size() != 3 || !p[0].is_number_unsigned() ||
          !p[1].is_number_unsigned() || !p[2].is_string()) {
        return Status::Corrupt(name + ": a patch is not [position, deleted, inserted text]");
      }
      trace.patches.push_back({p[0].get<size_t>(), p[1].get<size_t>(),
                               text::Utf8ToUtf32(p[2].get_ref<const std::string&>())});
    }
  }
  return trace;
}

Result<ConcurrentTrace> LoadConcurrentTrace(const std::string& path) {
  JSYNC_ASSIGN_OR_RETURN(std::string text, ReadMaybeGzip(path));
  return ParseConcurrentTrace(text, path);
}

Result<ConcurrentTrace> ParseConcurrentTrace(std::string_view json_text, const std::string& name) {
  const auto json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("txns") || !json["txns"].is_array() ||
      !json.contains("numAgents") || !json["numAgents"].is_number_unsigned() ||
      !json.contains("endContent") || !json["endContent"].is_string()) {
    return Status::Corrupt(name + " is not a concurrent editing trace");
  }
  ConcurrentTrace trace;
  trace.agents = json["numAgents"].get<size_t>();
  trace.end = text::Utf8ToUtf32(json["endContent"].get_ref<const std::string&>());
  for (const auto& txn : json["txns"]) {
    if (!txn.is_object() || !txn.contains("patches") || !txn["patches"].is_array() ||
        !txn.contains("parents") || !txn["parents"].is_array() || !txn.contains("agent") ||
        !txn["agent"].is_number_unsigned()) {
      return Status::Corrupt(name + ": a txn without patches, parents and agent");
    }
    ConcurrentTxn out;
    out.agent = txn["agent"].get<size_t>();
    if (out.agent >= trace.agents) return Status::Corrupt(name + ": a txn of an unknown agent");
    for (const auto& parent : txn["parents"]) {
      // Parents come first, so a replay in index order has them already.
      if (!parent.is_number_unsigned() || parent.get<size_t>() >= trace.txns.size()) {
        return Status::Corrupt(name + ": a parent that is not an earlier txn");
      }
      out.parents.push_back(parent.get<size_t>());
    }
    for (const auto& p : txn["patches"]) {
      if (!p.is_array() || p.size() != 3 || !p[0].is_number_unsigned() ||
          !p[1].is_number_unsigned() || !p[2].is_string()) {
        return Status::Corrupt(name + ": a patch is not [position, deleted, inserted text]");
      }
      out.patches.push_back({p[0].get<size_t>(), p[1].get<size_t>(),
                             text::Utf8ToUtf32(p[2].get_ref<const std::string&>())});
    }
    trace.txns.push_back(std::move(out));
  }
  return trace;
}

}  // namespace jsync::trace
