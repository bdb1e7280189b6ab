// File work of the iCloud Drive simulator inside one root: walking it, stub and duplicate
// names, and writes that readers never see half done (a temporary file in the simulator's
// own staging folder, renamed into place, as iCloud's daemon publishes downloads).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace jsync::emulator::icloud_drive {

struct FileStat {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t ino = 0;
  bool operator==(const FileStat&) const = default;
};

// What a walk of a root (or one folder of it, recursively) found: regular files that are not
// stubs, and the stubs by the relative path of the file each stands for.
struct Walk {
  std::map<std::string, FileStat> files;
  std::set<std::string> stubs;
  std::set<std::string> dirs;  // every folder seen, relative ("" not included)
};

Walk WalkTree(const std::string& root, const std::string& under);

// lstat as a FileStat; false when it is not a regular file (or gone).
bool StatFile(const std::string& path, FileStat* out);

bool IsStubName(const std::string& file_name, std::string* real);
std::string StubPathFor(const std::string& rel);  // "a/b.x" -> "a/.b.x.icloud"
// iCloud's duplicate name: style "space" -> "a 2.x", "paren" -> "a(1).x", "underscore" -> "a_2.x".
// "" for an unknown style.
std::string DuplicateName(const std::string& rel, const std::string& style);

// The XML property list of a stub (as macOS <= 13 writes, in XML rather than binary form).
std::string StubBytes(const std::string& real_name, uint64_t size);

bool ReadWhole(const std::string& path, std::string* out);
// bytes -> root/rel via staging/<random> and rename, making parent folders; "" or why not.
std::string Publish(const std::string& staging, const std::string& root, const std::string& rel,
                    const std::string& bytes);
// Removes root/rel's emptied parent folders (not root itself).
void RemoveEmptyParents(const std::string& root, const std::string& rel);

std::string Join(const std::string& root, const std::string& rel);

}  // namespace jsync::emulator::icloud_drive
