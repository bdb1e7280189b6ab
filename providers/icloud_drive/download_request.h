// Asking iCloud for an evicted file's bytes. macOS: `brctl download <path>` (an unsupported
// but long-lived admin tool; reference/icloud.md §6), run without a shell and never waited for
// long. Elsewhere no iCloud client exists; the simulator (`jsync-emulator icloud-drive`) takes
// an open-for-writing of the stub (nothing written: inotify's IN_CLOSE_WRITE) as the request,
// which a plain read of the stub (to learn its size) never is.
#pragma once

#include <string>

#include "jsync_provider.h"

namespace jsync_icloud_drive {

// real_path: the file's own path; dir_fd + stub_name: its stub, when it has one ("" for a
// dataless file, which keeps its name). Best effort: JSYNC_OK, or why the request could not
// be made (the caller reports the file as not downloaded either way).
int RequestDownload(const std::string& real_path, int dir_fd, const std::string& stub_name,
                    jsync_error* err);

}  // namespace jsync_icloud_drive
