#include "core/provider/open_provider.h"

#include <filesystem>

#include "core/provider/folder_provider.h"

namespace jsync::provider {

Result<std::unique_ptr<Provider>> OpenProvider(const std::string& name, const std::string& location,
                                               bool create_location) {
  if (name != "folder") {
    return Status::Invalid("unknown provider '" + name + "' (available: folder)");
  }
  if (location.empty()) return Status::Invalid("the folder provider needs --location PATH");
  if (create_location) {
    std::error_code ec;
    std::filesystem::create_directories(location, ec);
    if (ec) return Status::Fatal("cannot create " + location + ": " + ec.message());
  }
  JSYNC_ASSIGN_OR_RETURN(auto folder, FolderProvider::Open(location));
  return std::unique_ptr<Provider>(std::move(folder));
}

}  // namespace jsync::provider
