// Finds and loads provider plugins (shared libraries) with Boost.DLL.
//
// Search path: the folders in JSYNC_PLUGIN_PATH (':'-separated), then the install's plugin
// folder (<prefix>/lib/jsync/plugins, found relative to the running executable), then the
// build tree's plugin folder (only for a program running from that build tree, never an
// installed one). A plugin is refused — with a message naming its file — when its
// descriptor is missing or of another ABI version, a required symbol or slot is missing, or its
// entry returns NULL; the others keep working. The built-in folder provider is always present.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/provider/provider.h"
#include "providers/sdk/jsync_provider.h"

namespace jsync::provider {

class HttpClient;

// One entry of a plugin's option table (jsync_option).
struct OptionInfo {
  std::string name;
  std::string help;
  std::optional<std::string> default_value;  // none: required
  bool secret = false;                       // never shown, kept in the token store
};

// What a plugin says about its location (ABI 3; older plugins: see LoadPlugin).
struct LocationPolicy {
  bool required = true;          // the user must give one
  std::string default_location;  // used when none is given (required false)
  std::string help;              // "a directory path"; "" when the plugin says nothing
};

struct PluginInfo {
  std::string name;
  std::string version;
  std::string file;  // "(built in)" for the folder provider
  uint32_t abi_version = 1;  // the table's
  Capabilities capabilities;
  LocationPolicy location;
  std::vector<OptionInfo> options;
  int64_t pacer_min_interval_ms = 0;  // the plugin's pace hint (0: none)
  int pacer_burst = 1;
  // Instances of one location to transfer on at once: the table's max_concurrency (v3), 0 when
  // the plugin leaves it to the host.
  uint32_t max_concurrency = 0;
  const jsync_provider* table = nullptr;
  std::shared_ptr<void> library;  // keeps the shared library loaded while anything uses it
};

// True when `table` (of a version-3 plugin) is large enough to hold `field`.
#define JSYNC_TABLE_HAS(table, field)                                    \
  ((table)->abi_version >= 3 &&                                          \
   (table)->struct_size >= offsetof(jsync_provider, field) + sizeof((table)->field))

// Checks a table (as LoadPlugin does) and describes it; kInvalid with the reason when it is
// unusable. `file` is what messages and `jsync providers` show.
Result<PluginInfo> PluginInfoFromTable(const jsync_provider* table, std::string file);

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

// The provider called `name`: the built-in one without a scan, else the first plugin of that
// name on the search path; kInvalid listing the available ones (and the refusals) otherwise.
Result<PluginInfo> FindPlugin(const std::string& name);

}  // namespace jsync::provider
