// What an iCloud ".name.icloud" stub says about the file it stands for. The stub is a small
// property list (under 200 bytes on macOS <= 13 and iOS): a binary plist ("bplist00") from
// Apple, an XML plist from the simulator (tools/emulators/icloud_drive). The keys read are
// NSURLFileSizeKey (the real size) and NSURLNameKey (the real name). Parsed defensively: the
// folder is hostile, so any malformed stub is simply "size unknown".
#pragma once

#include <cstdint>
#include <string>

namespace jsync_icloud_drive {

struct StubInfo {
  bool has_size = false;
  uint64_t size = 0;
  std::string name;  // "" when the stub does not say
};

// Stubs larger than this are not read (a real stub is far smaller).
inline constexpr size_t kMaxStubBytes = 4096;

StubInfo ParseStub(const std::string& bytes);

}  // namespace jsync_icloud_drive
