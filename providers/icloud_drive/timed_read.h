// Reads of files iCloud may not have downloaded yet, bounded in time. On macOS 14 and later an
// evicted file is "dataless": it keeps its name and size, and the first read blocks while
// fileproviderd downloads it, for as long as that takes (reference/icloud.md §6: apps froze
// on it). So every read runs on a worker thread; the caller waits until a deadline and then
// gives up with JSYNC_RETRYABLE, leaving the worker to finish (or stay blocked) on its own.
// The worker owns the descriptor and a buffer; the caller alone writes to the host's sink,
// so nothing touches the host's memory after the call returned.
#pragma once

#include <cstdint>
#include <string>

#include "jsync_plugin_fs.h"
#include "jsync_provider.h"

namespace jsync_icloud_drive {

// What `jsync_plugin::ReadFd` does, on a worker thread: [offset, offset + length) of fd into
// out, stopping when out says stop. JSYNC_RETRYABLE "<shown>: the file is still downloading
// from iCloud ..." when it did not finish within timeout_ms (what reached out by then is a
// prefix; the host restarts a failed get cleanly). delay_ms (a test hook): the worker waits
// that long before its first read, as a dataless file's download would.
int TimedRead(jsync_plugin::Fd fd, uint64_t offset, uint64_t length, jsync_sink* out,
              int64_t timeout_ms, int64_t delay_ms, const std::string& shown, jsync_error* err);

// SameBytesFd through TimedRead: whether fd (st_size `size`) holds exactly data.
int TimedSameBytes(jsync_plugin::Fd fd, uint64_t size, const uint8_t* data, size_t len,
                   int64_t timeout_ms, int64_t delay_ms, const std::string& shown, bool* same,
                   jsync_error* err);

// Workers still running (blocked on a download, or finishing after a timeout).
int RunningReadWorkers();

// The test hook's delay: JSYNC_ICLOUD_DRIVE_TEST_READ_DELAY_MS, 0 when unset.
int64_t TestReadDelayMs();

}  // namespace jsync_icloud_drive
