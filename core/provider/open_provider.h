// Opens a provider by name. Today only the built-in "folder"; plugins arrive through the
// plugin loader (see docs/architecture.md).
#pragma once

#include "core/provider/provider.h"

namespace jsync::provider {

// `create_location`: make a missing folder (only `jsync init` asks for that).
Result<std::unique_ptr<Provider>> OpenProvider(const std::string& name, const std::string& location,
                                               bool create_location);

}  // namespace jsync::provider
