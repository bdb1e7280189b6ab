// Finds and loads provider plugins (shared libraries) with Boost.DLL.
//
// Search path: the folders in JSYNC_PLUGIN_PATH (':'-separated), then the install's plugin
// folder (<prefix>/lib/jsync/plugins, found relative to the running executable), then the
// build tree's plugin folder. A plugin is refused — with a message naming its file — when its
// descriptor is missing or of another ABI version, a required symbol or slot is missing, or its
// entry returns NULL; the others keep working. The built-in folder provider is always present.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/provider/provider.h"
#include "providers/sdk/jsync_provider.h"

namespace jsync::provider {

class HttpClient;

struct PluginInfo {
  std::string name;
  std::string version;
  std::string file;  // "(built in)" for the folder provider
  Capabilities capabilities;
  // Instances of one location to transfer on at once: the table's max_concurrency (v3), 0 when
  // the plugin leaves it to the host.
  uint32_t max_concurrency = 0;
  const jsync_provider* table = nullptr;
  std::shared_ptr<void> library;  // keeps the shared library loaded while anything uses it
};

struct LoadReport {
  std::vector<PluginInfo> loaded;
  std::vector<std::string> refused;  // one sentence per refused file
};

// Loads one plugin file; kInvalid/kFatal with a sentence naming the file when refused.
Result<PluginInfo> LoadPlugin(const std::string& file);

// The provider compiled into the host (the folder provider); needs no file or scan.
PluginInfo BuiltinFolderPlugin();

// Scans the search path (plus `extra_dirs`), loading every *.so found. Duplicate names: the
// first found wins, later ones are refused.
LoadReport LoadAllPlugins(const std::vector<std::string>& extra_dirs = {});

// The directories LoadAllPlugins searches, in order.
std::vector<std::string> PluginSearchPath();

}  // namespace jsync::provider
