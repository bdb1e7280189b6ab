#include "tools/emulators/common/json_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "tools/emulators/common/util.h"

namespace jsync::emulator {

Status ForEachJsonFile(const std::string& dir,
                       const std::function<void(const nlohmann::json&)>& each) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    std::string text;
    if (!ReadFile(entry.path().string(), &text)) continue;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return Status::Fatal(entry.path().string() + " is not valid JSON");
    each(j);
  }
  return Status::Ok();
}

void ForEachJsonLine(const std::string& path,
                     const std::function<void(const nlohmann::json&)>& each) {
  std::string text;
  if (!ReadFile(path, &text)) return;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) each(j);
  }
}

Status AppendLine(const std::string& path, const std::string& line) {
  const std::string bytes = line + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Fatal("cannot open " + path);
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ::close(fd);
  if (!ok) return Status::Fatal("cannot append to " + path);
  return Status::Ok();
}

}  // namespace jsync::emulator
