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
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json["txns"].is_array()) {
    return Status::Corrupt(path + " is not an editing trace");
  }
  EditingTrace trace;
  try {
    trace.start = text::Utf8ToUtf32(json.value("startContent", ""));
    trace.end = text::Utf8ToUtf32(json.value("endContent", ""));
    for (const auto& txn : json["txns"]) {
      for (const auto& p : txn["patches"]) {
        trace.patches.push_back(
            {p[0].get<size_t>(), p[1].get<size_t>(), text::Utf8ToUtf32(p[2].get<std::string>())});
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Corrupt(path + ": " + e.what());
  }
  return trace;
}

}  // namespace jsync::trace
