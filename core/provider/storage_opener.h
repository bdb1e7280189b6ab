// How the engine gets its storage: the embedder (the CLI, an app, a test) injects an opener,
// as LevelDB's Options::env, so the engine never names a provider, loads a plugin or touches
// an account. Journal calls it lazily: only Init, Sync and GetStatus need the storage.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/provider/provider.h"

namespace jsync::provider {

struct StorageSpec {
  std::string home;      // the journal's home folder (where linked accounts live)
  std::string provider;  // the name `jsync init --provider` was given
  std::string location;  // as stored (canonical after Init), or as typed at Init
  bool create = false;   // Init only: the provider may create a missing location
};

struct OpenedStorage {
  std::unique_ptr<Provider> provider;
  // The location in the provider's canonical form (an absolute folder path, a URL without
  // user info): what Init stores, so the journal opens the same place from any directory.
  std::string location;
};

using StorageOpener = std::function<Result<OpenedStorage>(const StorageSpec&)>;

}  // namespace jsync::provider
