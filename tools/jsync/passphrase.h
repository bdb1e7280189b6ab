// Where the CLI gets the journal passphrase: a file, JSYNC_PASSPHRASE, or a no-echo prompt.
#pragma once

#include <string>

#include "core/util/status.h"

namespace jsync::cli {

Result<std::string> ReadPassphrase(const std::string& passphrase_file);
// One line typed without echo, after `label` on stderr.
Result<std::string> PromptHidden(const char* label);

}  // namespace jsync::cli
