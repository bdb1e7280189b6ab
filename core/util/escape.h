// Printable forms of untrusted text (titles, names found in the cloud) for one-line output.
#pragma once

#include <string>
#include <string_view>

namespace jsync {

// Control characters (C0, DEL, C1) become \n, \t, \r, \\ or \xNN / \u{NN}; bytes that are
// not valid UTF-8 become \xNN. A backslash is doubled so the form is unambiguous. Printable
// UTF-8 passes through unchanged.
std::string EscapeForDisplay(std::string_view s);

}  // namespace jsync
