// The names iCloud Drive gives files in a synced folder (reference/icloud.md §6): evicted
// files as hidden ".<name>.icloud" stubs, and the duplicates it makes for concurrent saves,
// "<stem> 2.<ext>" (Apple platforms), "<stem>(1).<ext>" and "<stem>(1)(2).<ext>" (iCloud for
// Windows), "<stem>_2.<ext>" (iOS, observed). Pure string work, no file access.
#pragma once

#include <string>

namespace jsync_icloud_drive {

// ".name.icloud" -> true with *real = "name". False for anything else (".icloud" itself,
// "..icloud", names without the leading dot).
bool StubTarget(const std::string& file_name, std::string* real);

// "name" -> ".name.icloud".
std::string StubName(const std::string& real);

// Whether file_name looks like iCloud's duplicate of another name, and which: "a 2.jchg",
// "a(1).jchg", "a(1)(2)(2).jchg", "a_3.jchg" -> "a.jchg"; "a 2" -> "a". The counter is 1 to
// 9999 without a leading zero. Whether it is a duplicate depends on that name existing next to
// it: the caller checks.
bool ConflictCopyBase(const std::string& file_name, std::string* base);

}  // namespace jsync_icloud_drive
