// The built-in provider: any local directory (a USB stick, a synced folder, a network mount).
//
// Writes go to a hidden temporary file in the target directory, are flushed, and are then
// hard-linked into place, which fails if the name exists: creation is atomic and never
// replaces an object. Temporary files are never listed, so a torn write is never a change.
#pragma once

#include <filesystem>

#include "core/provider/provider.h"

namespace jsync::provider {

class FolderProvider final : public Provider {
 public:
  // kFatal when `root` does not exist or is not a directory: a missing mount must not be
  // mistaken for an empty cloud.
  static Result<std::unique_ptr<FolderProvider>> Open(const std::filesystem::path& root);

  std::string Describe() const override { return "folder " + root_.string(); }
  Status PutIfAbsent(const std::string& path, ByteSpan bytes) override;
  Result<Bytes> Get(const std::string& path) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Remove(const std::string& path) override;

  static constexpr const char* kTempPrefix = ".jsync-tmp-";

 private:
  explicit FolderProvider(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace jsync::provider
