#include "tests/support/gdrive_emulator.h"

namespace jsync::testing {

std::unique_ptr<GdriveEmulator> GdriveEmulator::Start(const std::vector<std::string>& extra_args,
                                                      std::string* error) {
  GdriveEmulatorOptions options;
  options.args = extra_args;
  return Start(options, error);
}

std::unique_ptr<GdriveEmulator> GdriveEmulator::Start(const GdriveEmulatorOptions& options,
                                                      std::string* error) {
  auto process = EmulatorProcess::Start("gdrive", options, error);
  if (!process) return nullptr;
  std::unique_ptr<GdriveEmulator> emu(new GdriveEmulator());
  emu->process_ = std::move(process);
  return emu;
}

GdriveTokens GdriveEmulator::AuthorizeWithCode(std::string* error, const std::string& client_id,
                                               const std::string& scope) const {
  return AuthorizeWithPkce(base_url() + "/o/oauth2/v2/auth", base_url() + "/token", client_id,
                           scope, error);
}

}  // namespace jsync::testing
