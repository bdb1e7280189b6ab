// UTF-8 validation: text fields must be valid UTF-8 before they become ops.
#pragma once

#include <string_view>

namespace jsync {

// Rejects overlong forms, surrogates and code points above U+10FFFF.
bool IsValidUtf8(std::string_view s);

}  // namespace jsync
