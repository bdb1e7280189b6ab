#include "tests/support/onedrive_emulator.h"

namespace jsync::testing {

std::unique_ptr<OnedriveEmulator> OnedriveEmulator::Start(
    const std::vector<std::string>& extra_args, std::string* error) {
  OnedriveEmulatorOptions options;
  options.args = extra_args;
  return Start(options, error);
}

std::unique_ptr<OnedriveEmulator> OnedriveEmulator::Start(const OnedriveEmulatorOptions& options,
                                                          std::string* error) {
  auto process = EmulatorProcess::Start("onedrive", options, error);
  if (!process) return nullptr;
  std::unique_ptr<OnedriveEmulator> emu(new OnedriveEmulator());
  emu->process_ = std::move(process);
  return emu;
}

OnedriveTokens OnedriveEmulator::AuthorizeWithCode(std::string* error, const std::string& client_id,
                                                   const std::string& scope) const {
  return AuthorizeWithPkce(base_url() + "/common/oauth2/v2.0/authorize",
                           base_url() + "/common/oauth2/v2.0/token", client_id, scope, error);
}

}  // namespace jsync::testing
