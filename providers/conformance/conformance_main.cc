// jsync-conformance: runs the provider conformance suite against a plugin file.
//
//   jsync-conformance --plugin PATH --location LOCATION [--config JSON]
//                     [--user U --password-file F] [--no-large] [--list-files N]
//                     [--provider-faults SPEC] [--real-sleep] [--keep] [gtest flags]
//
// --provider NAME instead of --plugin opens a provider the host finds by itself (the built-in
// "folder", or one on the plugin search path). Each test gets a fresh sub-location: a new
// subdirectory of a folder LOCATION (removed afterwards unless --keep), or a new path segment
// appended to a URL LOCATION (left in place). Credentials: --user with --password-file (read
// again on every refresh), else JSYNC_<NAME>_USER / JSYNC_<NAME>_PASSWORD from the environment.
// JSYNC_FAULTS (see host/http_client.h) turns transport faults on for every test;
// --provider-faults does the same one layer up, per provider call. The exit code is gtest's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "host/plugin_provider.h"
#include "providers/conformance/conformance_suite.h"
#include "providers/conformance/plain_failures.h"

namespace fs = std::filesystem;

namespace jsync::conformance {
namespace {

using provider::CredentialSource;
using provider::PluginInfo;

const char kUsage[] =
    "usage: jsync-conformance (--plugin PATH | --provider NAME) --location LOCATION\n"
    "                         [--config JSON] [--user U --password-file F] [--no-large]\n"
    "                         [--list-files N] [--provider-faults SPEC] [--real-sleep] [--keep]\n"
    "                         [gtest flags]\n"
    "Runs the provider conformance suite; each test gets a fresh sub-location of LOCATION.\n"
    "Transport faults: JSYNC_FAULTS=\"429@3,503@5,reset@7,torn@9,401@11,timeout@13\".\n";

struct Options {
  std::string plugin_file;
  std::string provider_name;
  std::string location;
  std::string config = "{}";
  std::string user;
  std::string password_file;
  bool large = true;
  int list_files = 2500;
  std::string provider_faults;
  bool real_time = false;
  bool keep = false;
};

// HTTP Basic credentials whose password is fetched again on every refresh (a password file
// that was rotated, an environment variable): a refresh succeeds while the password is there.
class BasicSecretCredentials final : public CredentialSource {
 public:
  BasicSecretCredentials(std::string user, std::function<Result<std::string>()> password)
      : user_(std::move(user)), password_(std::move(password)) {}
  Result<std::string> Authorization() override {
    if (header_.empty()) JSYNC_RETURN_IF_ERROR(Refresh());
    return header_;
  }
  Status Refresh() override {
    auto pw = password_();
    if (!pw.ok()) return Status(Code::kAuthExpired, pw.status().message());
    JSYNC_ASSIGN_OR_RETURN(header_, provider::BasicCredentials(user_, *pw)->Authorization());
    return Status::Ok();
  }

 private:
  std::string user_;
  std::function<Result<std::string>()> password_;
  std::string header_;
};

Result<std::string> ReadPasswordFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Invalid("cannot read the password file " + file);
  std::string pw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  return pw;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string RandomTag() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return buf;
}

bool IsUrl(const std::string& location) { return location.find("://") != std::string::npos; }

// Fresh sub-locations of LOCATION: "<LOCATION>/jsync-conformance-<tag>-<n>".
class Locations {
 public:
  Locations(std::string base, bool keep) : base_(std::move(base)), keep_(keep) {}
  // Removes the folders Next() created (unless --keep).
  void RemoveCreated() {
    if (keep_) return;
    for (const auto& dir : created_) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
    created_.clear();
  }
  Result<std::string> Next() {
    const std::string segment = "jsync-conformance-" + tag_ + "-" + std::to_string(++count_);
    if (IsUrl(base_)) {
      last_ = base_ + (base_.ends_with("/") ? "" : "/") + segment;
      return last_;
    }
    fs::path dir = fs::absolute(fs::path(base_) / segment);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::Fatal("cannot create " + dir.string() + ": " + ec.message());
    created_.push_back(dir);
    last_ = dir.string();
    return last_;
  }
  const std::string& last() const { return last_; }

 private:
  std::string base_;
  bool keep_;
  std::string tag_ = RandomTag();
  int count_ = 0;
  std::string last_;
  std::vector<fs::path> created_;
};

// Our flags are consumed; everything else (gtest flags) is kept for InitGoogleTest.
Result<Options> ParseArgs(int argc, char** argv, std::vector<char*>* rest) {
  Options o;
  rest->push_back(argv[0]);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string* out) -> Status {
      if (i + 1 >= argc) return Status::Invalid(arg + " needs a value");
      *out = argv[++i];
      return Status::Ok();
    };
    if (arg == "--plugin") {
      JSYNC_RETURN_IF_ERROR(value(&o.plugin_file));
    } else if (arg == "--provider") {
      JSYNC_RETURN_IF_ERROR(value(&o.provider_name));
    } else if (arg == "--location") {
      JSYNC_RETURN_IF_ERROR(value(&o.location));
    } else if (arg == "--config") {
      JSYNC_RETURN_IF_ERROR(value(&o.config));
    } else if (arg == "--user") {
      JSYNC_RETURN_IF_ERROR(value(&o.user));
    } else if (arg == "--password-file") {
      JSYNC_RETURN_IF_ERROR(value(&o.password_file));
    } else if (arg == "--provider-faults") {
      JSYNC_RETURN_IF_ERROR(value(&o.provider_faults));
    } else if (arg == "--list-files") {
      std::string n;
      JSYNC_RETURN_IF_ERROR(value(&n));
      o.list_files = std::atoi(n.c_str());
      if (o.list_files < 1) return Status::Invalid("--list-files needs a positive number");
    } else if (arg == "--no-large") {
      o.large = false;
    } else if (arg == "--real-sleep") {
      o.real_time = true;
    } else if (arg == "--keep") {
      o.keep = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg.starts_with("--gtest_") || arg.starts_with("--gmock_")) {
      rest->push_back(argv[i]);
    } else {
      return Status::Invalid("unknown argument " + arg);
    }
  }
  if (o.plugin_file.empty() == o.provider_name.empty()) {
    return Status::Invalid("give exactly one of --plugin PATH or --provider NAME");
  }
  if (o.location.empty()) return Status::Invalid("--location is required");
  if (!o.user.empty() && o.password_file.empty()) {
    return Status::Invalid("--user needs --password-file");
  }
  if (!o.provider_faults.empty()) {
    auto plan = provider::FaultPlan::Parse(o.provider_faults);
    if (!plan.ok()) return plan.status().WithContext("--provider-faults");
  }
  return o;
}

Result<PluginInfo> FindPlugin(const Options& o) {
  if (!o.plugin_file.empty()) return provider::LoadPlugin(o.plugin_file);
  provider::LoadReport report = provider::LoadAllPlugins();
  for (const auto& p : report.loaded) {
    if (p.name == o.provider_name) return p;
  }
  std::string msg = "no provider named '" + o.provider_name + "' was found";
  for (const auto& r : report.refused) msg += "; " + r;
  return Status::Invalid(msg);
}

std::shared_ptr<CredentialSource> MakeCredentials(const Options& o, const std::string& name) {
  if (!o.user.empty()) {
    const std::string file = o.password_file;
    return std::make_shared<BasicSecretCredentials>(o.user,
                                                    [file] { return ReadPasswordFile(file); });
  }
  const std::string prefix = "JSYNC_" + Upper(name) + "_";
  const char* user = std::getenv((prefix + "USER").c_str());
  if (user == nullptr) return nullptr;
  const std::string var = prefix + "PASSWORD";
  return std::make_shared<BasicSecretCredentials>(user, [var]() -> Result<std::string> {
    const char* pw = std::getenv(var.c_str());
    if (pw == nullptr) return Status::Invalid(var + " is not set");
    return std::string(pw);
  });
}

int Main(int argc, char** argv) {
  std::vector<char*> rest;
  auto options = ParseArgs(argc, argv, &rest);
  if (!options.ok()) {
    std::cerr << "jsync-conformance: " << options.status().message() << "\n" << kUsage;
    return 2;
  }
  const Options o = *options;
  auto plugin = FindPlugin(o);
  if (!plugin.ok()) {
    std::cerr << "jsync-conformance: " << plugin.status().message() << "\n";
    return 2;
  }
  const PluginInfo info = *plugin;
  std::cerr << "jsync-conformance: provider '" << info.name << "' " << info.version << " ("
            << info.file << ") at " << o.location << "\n";

  auto locations = std::make_shared<Locations>(o.location, o.keep);
  std::shared_ptr<CredentialSource> base = MakeCredentials(o, info.name);
  auto counting = base ? std::make_shared<CountingCredentials>(base) : nullptr;

  ConformanceTarget target;
  target.name = "";
  for (char c : info.name) target.name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  target.large = o.large;
  target.list_files = o.list_files;
  target.provider_faults = o.provider_faults;
  target.real_time = o.real_time;
  target.credentials = counting;
  target.open = [info, locations, counting,
                 config = o.config]() -> Result<std::unique_ptr<provider::Provider>> {
    JSYNC_ASSIGN_OR_RETURN(std::string where, locations->Next());
    JSYNC_ASSIGN_OR_RETURN(auto p, provider::PluginProvider::Open(info, where, config, counting));
    return std::unique_ptr<provider::Provider>(std::move(p));
  };
  target.reopen = [info, locations, counting,
                   config = o.config]() -> Result<std::unique_ptr<provider::Provider>> {
    JSYNC_ASSIGN_OR_RETURN(auto p,
                           provider::PluginProvider::Open(info, locations->last(), config, counting));
    return std::unique_ptr<provider::Provider>(std::move(p));
  };
  RegisterConformanceTarget(std::move(target));

  int gtest_argc = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  ::testing::InitGoogleTest(&gtest_argc, rest.data());
  UsePlainFailures();  // an installed kit's failures point to the guide, not to its sources
  const int rc = RUN_ALL_TESTS();
  locations->RemoveCreated();
  return rc;
}

}  // namespace
}  // namespace jsync::conformance

int main(int argc, char** argv) { return jsync::conformance::Main(argc, argv); }
