// The emulators' state-folder files: one JSON object per file in a folder (written with
// WriteFileAtomic), and append-only JSON-lines logs.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/util/status.h"

namespace jsync::emulator {

// Calls `each` with every *.json file in `dir`, parsed; kFatal naming a file that is not a JSON
// object. A missing folder has no files.
Status ForEachJsonFile(const std::string& dir,
                       const std::function<void(const nlohmann::json&)>& each);
// Calls `each` with every JSON object line of `path` (a torn last line after a crash is
// skipped). A missing file has no lines.
void ForEachJsonLine(const std::string& path,
                     const std::function<void(const nlohmann::json&)>& each);
// Appends `line` and a newline with one write(2); kFatal when it cannot.
Status AppendLine(const std::string& path, const std::string& line);

}  // namespace jsync::emulator
