#include "host/plugin_options.h"

#include <nlohmann/json.hpp>

namespace jsync::provider {
namespace {

const OptionInfo* Find(const PluginInfo& plugin, const std::string& name) {
  for (const auto& o : plugin.options) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

Result<nlohmann::json> ParseObject(const PluginInfo& plugin, const std::string& config_json) {
  auto j = nlohmann::json::parse(config_json.empty() ? "{}" : config_json, nullptr,
                                 /*allow_exceptions=*/false);
  // The text may hold a secret: say what is wrong, not what it says.
  if (!j.is_object()) return Status::Invalid("the options of " + plugin.name + " are not a JSON object");
  return j;
}

}  // namespace

Result<OptionValues> ParseOptionArgs(const std::vector<std::string>& args) {
  OptionValues out;
  for (const auto& a : args) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      // No '=': the whole argument is a name, so it can be shown.
      return Status::Invalid("--option takes KEY=VALUE" +
                             (eq == 0 ? std::string(" (the key is missing)") : ", not '" + a + "'"));
    }
    out.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  return out;
}

std::string OptionNames(const PluginInfo& plugin) {
  std::string names;
  for (const auto& o : plugin.options) {
    names += (names.empty() ? "" : ", ") + o.name + (o.secret ? " (secret)" : "");
  }
  return names;
}

Status CheckOptionNames(const PluginInfo& plugin, const OptionValues& values) {
  for (const auto& [key, value] : values) {
    if (Find(plugin, key) != nullptr) continue;
    if (plugin.options.empty()) {
      return Status::Invalid("the " + plugin.name + " provider has no option '" + key +
                             "' (it takes no options)");
    }
    return Status::Invalid("the " + plugin.name + " provider has no option '" + key +
                           "' (its options: " + OptionNames(plugin) + ")");
  }
  return Status::Ok();
}

Status CheckRequiredOptions(const PluginInfo& plugin, const std::string& config_json) {
  JSYNC_ASSIGN_OR_RETURN(auto config, ParseObject(plugin, config_json));
  std::string missing;
  for (const auto& o : plugin.options) {
    if (o.default_value || config.contains(o.name)) continue;
    missing += (missing.empty() ? "" : ", ") + o.name + (o.help.empty() ? "" : " (" + o.help + ")");
  }
  if (missing.empty()) return Status::Ok();
  return Status::Invalid("the " + plugin.name + " provider needs the option" +
                         (missing.find(", ") == std::string::npos ? " " : "s ") + missing +
                         ": set it with --option KEY=VALUE (jsync init or jsync link " +
                         plugin.name + ")");
}

Result<std::string> ConfigForOpen(const PluginInfo& plugin, const std::string& config_json) {
  JSYNC_RETURN_IF_ERROR(CheckRequiredOptions(plugin, config_json));
  JSYNC_ASSIGN_OR_RETURN(auto config, ParseObject(plugin, config_json));
  for (const auto& o : plugin.options) {
    if (o.default_value && !config.contains(o.name)) config[o.name] = *o.default_value;
  }
  return config.dump();
}

bool IsSecretOption(const PluginInfo& plugin, const std::string& name) {
  const OptionInfo* o = Find(plugin, name);
  return o != nullptr && o->secret;
}

}  // namespace jsync::provider
