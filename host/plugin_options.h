// A plugin's option table (jsync_option) as the host reads it: the options a user sets with
// `jsync init/link --option KEY=VALUE` are checked against it, the defaults are filled in
// before open, and secret options are told apart (kept in the token store, never shown).
// Messages name options, never their values.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "host/plugin_loader.h"

namespace jsync::provider {

using OptionValues = std::vector<std::pair<std::string, std::string>>;

// "key=value" arguments (the value may hold '='); kInvalid for one without '=' or a key.
Result<OptionValues> ParseOptionArgs(const std::vector<std::string>& args);

// kInvalid naming the first key the plugin does not declare, listing the ones it does.
Status CheckOptionNames(const PluginInfo& plugin, const OptionValues& values);

// kInvalid naming the required options (no default) that `config` (a JSON object) lacks.
Status CheckRequiredOptions(const PluginInfo& plugin, const std::string& config_json);

// `config_json` with every declared option it lacks set to the option's default; kInvalid
// when it is not a JSON object or a required option is missing. What open is given.
Result<std::string> ConfigForOpen(const PluginInfo& plugin, const std::string& config_json);

bool IsSecretOption(const PluginInfo& plugin, const std::string& name);

// "api_base, page_size, client_secret (secret)": the names, for help and errors.
std::string OptionNames(const PluginInfo& plugin);

}  // namespace jsync::provider
