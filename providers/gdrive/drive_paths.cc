#include "drive_paths.h"

#include "jsync_provider.h"

namespace jsync_gdrive {

bool ValidObjectPath(std::string_view path) {
  if (path.empty()) return false;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

std::string NormalizeLocation(std::string_view location) {
  while (!location.empty() && location.back() == '/') location.remove_suffix(1);
  return ValidObjectPath(location) ? std::string(location) : std::string();
}

std::string DriveName(const std::string& location, std::string_view path) {
  return location + "/" + std::string(path);
}

bool ObjectPathOf(const std::string& location, const std::string& name, std::string* path) {
  if (name.size() <= location.size() + 1 || name.compare(0, location.size(), location) != 0 ||
      name[location.size()] != '/') {
    return false;
  }
  std::string rel = name.substr(location.size() + 1);
  if (!ValidObjectPath(rel)) return false;
  if (rel.starts_with(JSYNC_TEMP_PREFIX) ||
      rel.find(std::string("/") + JSYNC_TEMP_PREFIX) != std::string::npos) {
    return false;
  }
  *path = std::move(rel);
  return true;
}

std::string QuoteQ(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string ExactNameQuery(const std::string& name) {
  return "name = " + QuoteQ(name) + " and 'appDataFolder' in parents and trashed = false";
}

std::string NamePrefixQuery(const std::string& prefix) {
  // Drive documents `name contains` as a prefix match on names.
  return "name contains " + QuoteQ(prefix) + " and 'appDataFolder' in parents and trashed = false";
}

bool WinsOver(const DriveFile& a, const DriveFile& b) {
  if (a.created_time != b.created_time) {
    // Both are RFC 3339 UTC with the same precision from one service: string order is time
    // order. A file without createdTime loses.
    if (a.created_time.empty()) return false;
    if (b.created_time.empty()) return true;
    return a.created_time < b.created_time;
  }
  return a.id < b.id;
}

int WinnerIndex(const std::vector<DriveFile>& files) {
  int best = -1;
  for (size_t i = 0; i < files.size(); ++i) {
    if (best < 0 || WinsOver(files[i], files[static_cast<size_t>(best)]))
      best = static_cast<int>(i);
  }
  return best;
}

}  // namespace jsync_gdrive
