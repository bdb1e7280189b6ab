#include "host/plugin_loader.h"

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

extern "C" const jsync_provider* jsync_folder_provider_table(const jsync_host_info* host);

namespace jsync::provider {
namespace {

constexpr const char* kHostVersion = "0.1.0";

Capabilities CapabilitiesOf(uint32_t flags) {
  Capabilities c;
  c.change_feed = flags & JSYNC_CAP_CHANGE_FEED;
  c.push = flags & JSYNC_CAP_PUSH;
  c.quota = flags & JSYNC_CAP_QUOTA;
  c.range_read = flags & JSYNC_CAP_RANGE_READ;
  c.oauth = flags & JSYNC_CAP_OAUTH;
  c.case_insensitive = flags & JSYNC_CAP_CASE_INSENSITIVE;
  c.own_storage = flags & JSYNC_CAP_OWN_STORAGE;
  return c;
}

// Older plugins keep loading: the table only grows, and the host reads nothing a plugin of an
// older version does not have (struct_size, optional slots, sink fields by the host's version).
std::string SpokenVersions() {
  return "this jsync speaks version " + std::to_string(JSYNC_PROVIDER_ABI_VERSION) +
         " (and loads plugins of version " + std::to_string(JSYNC_PROVIDER_ABI_MIN_VERSION) +
         " and later)";
}

// Checks the table a plugin returned; empty when it is usable.
std::string CheckTable(const jsync_provider* t) {
  if (t->abi_version < JSYNC_PROVIDER_ABI_MIN_VERSION ||
      t->abi_version > JSYNC_PROVIDER_ABI_VERSION) {
    return "its provider table is for ABI version " + std::to_string(t->abi_version) + ", " +
           SpokenVersions();
  }
  if (t->struct_size < offsetof(jsync_provider, close) + sizeof(t->close)) {
    return "its provider table is too small (" + std::to_string(t->struct_size) + " bytes)";
  }
  if (!t->name || !*t->name || !t->version) return "its provider table has no name or version";
  if (!t->open || !t->put || !t->get || !t->list || !t->remove || !t->close) {
    return "its provider table lacks a required operation (open, put, get, list, remove, close)";
  }
  return "";
}

std::string Str(const char* s) { return s ? s : ""; }

PluginInfo InfoFromTable(const jsync_provider* t, std::string file) {
  PluginInfo info;
  info.name = t->name;
  info.version = t->version;
  info.file = std::move(file);
  info.abi_version = t->abi_version;
  info.capabilities = CapabilitiesOf(t->capabilities);
  if (t->abi_version >= 3 &&
      t->struct_size >= offsetof(jsync_provider, max_concurrency) + sizeof(t->max_concurrency)) {
    info.max_concurrency = t->max_concurrency;
  }
  info.table = t;
  for (size_t i = 0; t->options != nullptr && i < t->option_count; ++i) {
    const jsync_option& o = t->options[i];
    if (o.name == nullptr || *o.name == '\0') continue;
    OptionInfo option{o.name, Str(o.help), std::nullopt, o.secret != 0};
    if (o.default_value != nullptr) option.default_value = o.default_value;
    info.options.push_back(std::move(option));
  }
  if (JSYNC_TABLE_HAS(t, location_help)) {
    info.location.required = t->default_location == nullptr;
    info.location.default_location = Str(t->default_location);
    info.location.help = Str(t->location_help);
  } else if (info.capabilities.oauth) {
    // Before version 3 the host knew only this: an OAuth provider keeps the app's files in an
    // app folder, where a default namespace will do.
    info.location = {false, "journal", ""};
  }
  if (JSYNC_TABLE_HAS(t, pacer_burst)) {
    info.pacer_min_interval_ms = t->pacer_min_interval_ms;
    info.pacer_burst = t->pacer_burst == 0 ? 1 : static_cast<int>(std::min<uint32_t>(t->pacer_burst, 1u << 20));
  }
  return info;
}

const jsync_host_info kHostInfo{JSYNC_PROVIDER_ABI_VERSION, kHostVersion};

}  // namespace

Result<PluginInfo> PluginInfoFromTable(const jsync_provider* table, std::string file) {
  if (table == nullptr) return Status::Invalid(file + ": no provider table");
  if (std::string why = CheckTable(table); !why.empty()) return Status::Invalid(file + ": " + why);
  return InfoFromTable(table, std::move(file));
}

Result<PluginInfo> LoadPlugin(const std::string& file) {
  const std::string who = "plugin " + file;
  try {
    auto lib = std::make_shared<boost::dll::shared_library>(
        file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    if (!lib->has(JSYNC_PROVIDER_DESCRIPTOR_SYMBOL)) {
      return Status::Invalid(who + " was refused: it has no " JSYNC_PROVIDER_DESCRIPTOR_SYMBOL
                                   " symbol (not a journal-sync provider?)");
    }
    const auto& desc =
        lib->get<const jsync_provider_descriptor_t>(JSYNC_PROVIDER_DESCRIPTOR_SYMBOL);
    if (desc.magic != JSYNC_PROVIDER_DESCRIPTOR_MAGIC) {
      return Status::Invalid(who + " was refused: its descriptor is damaged (bad magic)");
    }
    if (desc.abi_version < JSYNC_PROVIDER_ABI_MIN_VERSION ||
        desc.abi_version > JSYNC_PROVIDER_ABI_VERSION) {
      return Status::Invalid(who + " was refused: it was built for provider ABI version " +
                             std::to_string(desc.abi_version) + ", " + SpokenVersions());
    }
    if (!lib->has(JSYNC_PROVIDER_ENTRY_SYMBOL)) {
      return Status::Invalid(who + " was refused: it has no " JSYNC_PROVIDER_ENTRY_SYMBOL
                                   " symbol");
    }
    auto entry =
        lib->get<const jsync_provider*(const jsync_host_info*)>(JSYNC_PROVIDER_ENTRY_SYMBOL);
    const jsync_provider* table = entry(&kHostInfo);
    if (table == nullptr) {
      return Status::Invalid(who + " was refused: its initialisation failed (entry returned NULL)");
    }
    if (std::string why = CheckTable(table); !why.empty()) {
      return Status::Invalid(who + " was refused: " + why);
    }
    PluginInfo info = InfoFromTable(table, file);
    info.library = std::static_pointer_cast<void>(lib);
    return info;
  } catch (const std::exception& e) {
    return Status::Invalid(who + " was refused: it cannot be loaded (" + e.what() + ")");
  }
}

std::vector<std::string> PluginSearchPath() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("JSYNC_PLUGIN_PATH"); env && *env) {
    std::string s = env;
    for (size_t start = 0; start <= s.size();) {
      size_t end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) dirs.push_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  fs::path exe;
  try {
    exe = boost::dll::program_location().string();
    dirs.push_back((exe.parent_path().parent_path() / "lib/jsync/plugins").string());
  } catch (...) {
  }
#ifdef JSYNC_BUILD_PLUGIN_DIR
  // The build tree's plugins, for programs that run from that build tree only: an installed
  // jsync must not find (and warn about duplicates of) the plugins it was built beside.
  const fs::path build = fs::path(JSYNC_BUILD_PLUGIN_DIR).parent_path().lexically_normal();
  const fs::path from = exe.lexically_normal();
  const auto [b, f] = std::mismatch(build.begin(), build.end(), from.begin(), from.end());
  if (!exe.empty() && b == build.end()) dirs.push_back(JSYNC_BUILD_PLUGIN_DIR);
#endif
  return dirs;
}

PluginInfo BuiltinFolderPlugin() {
  return InfoFromTable(jsync_folder_provider_table(&kHostInfo), "(built in)");
}

LoadReport LoadAllPlugins(const std::vector<std::string>& extra_dirs) {
  LoadReport report;
  std::set<std::string> names;
  // The folder provider is built in: it needs no file and cannot be missing.
  PluginInfo folder = BuiltinFolderPlugin();
  names.insert(folder.name);
  report.loaded.push_back(folder);

  std::vector<std::string> dirs = extra_dirs;
  for (auto& d : PluginSearchPath()) dirs.push_back(d);
  std::set<fs::path> seen;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".so") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      fs::path canonical = fs::weakly_canonical(f, ec);
      if (!seen.insert(canonical).second) continue;
      auto info = LoadPlugin(f.string());
      if (!info.ok()) {
        report.refused.push_back(info.status().message());
        continue;
      }
      if (!names.insert(info->name).second) {
        report.refused.push_back("plugin " + f.string() + " was refused: a provider named '" +
                                 info->name + "' is already loaded");
        continue;
      }
      report.loaded.push_back(std::move(info).value());
    }
  }
  return report;
}

}  // namespace jsync::provider

namespace jsync::provider {

Result<PluginInfo> FindPlugin(const std::string& name) {
  // The built-in provider always wins over a plugin of the same name, so opening it needs no
  // scan: most commands of a folder journal then load no shared library at all.
  PluginInfo builtin = BuiltinFolderPlugin();
  if (name == builtin.name) return builtin;
  LoadReport plugins = LoadAllPlugins();
  auto it = std::find_if(plugins.loaded.begin(), plugins.loaded.end(),
                         [&](const PluginInfo& p) { return p.name == name; });
  if (it != plugins.loaded.end()) return *it;
  std::string names;
  for (const auto& p : plugins.loaded) names += (names.empty() ? "" : ", ") + p.name;
  std::string msg = "unknown provider '" + name + "' (available: " + names + ")";
  for (const auto& r : plugins.refused) msg += "; " + r;
  return Status::Invalid(msg);
}

}  // namespace jsync::provider
