// Object paths <-> Drive files (docs/decisions/0012-gdrive-object-mapping.md).
//
// Every object is one file directly in appDataFolder whose name is "<location>/<path>" (the
// location is the journal's namespace given at open). Drive allows several files with one name;
// the "winner" of a name is the earliest createdTime, then the smallest id, for every reader
// and writer alike, so all clients agree on which file an object is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "drive_client.h"

namespace jsync_gdrive {

// Relative, '/'-separated, no empty, "." or ".." part.
bool ValidObjectPath(std::string_view path);
// A location: non-empty, '/'-separated like a path (a trailing '/' is dropped); "" on error.
std::string NormalizeLocation(std::string_view location);

// "<location>/<path>".
std::string DriveName(const std::string& location, std::string_view path);
// The object path of a Drive file name under `location`; false for names outside it and for
// temporary names (JSYNC_TEMP_PREFIX in any segment).
bool ObjectPathOf(const std::string& location, const std::string& name, std::string* path);

// A string literal for Drive's query language: quoted, with \ and ' escaped.
std::string QuoteQ(std::string_view s);
// q for "files named exactly `name`" / "files whose name starts with `prefix`", both limited
// to live files directly in appDataFolder.
std::string ExactNameQuery(const std::string& name);
std::string NamePrefixQuery(const std::string& prefix);

// Winner order: earlier createdTime first, then smaller id.
bool WinsOver(const DriveFile& a, const DriveFile& b);
// Index of the winner among `files` (all with one name); -1 when empty.
int WinnerIndex(const std::vector<DriveFile>& files);

}  // namespace jsync_gdrive
