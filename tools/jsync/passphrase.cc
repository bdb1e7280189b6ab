#include "tools/jsync/passphrase.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

namespace jsync::cli {
namespace {

void StripNewline(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
}

}  // namespace

Result<std::string> PromptHidden(const char* label) {
  std::fprintf(stderr, "%s", label);
  std::fflush(stderr);
  termios old{};
  bool restore = tcgetattr(STDIN_FILENO, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (restore) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::fprintf(stderr, "\n");
  StripNewline(line);
  return line;
}

Result<std::string> ReadPassphrase(const std::string& passphrase_file) {
  std::string pass;
  if (!passphrase_file.empty()) {
    std::ifstream in(passphrase_file);
    if (!in) return Status::Invalid("cannot read passphrase file " + passphrase_file);
    std::getline(in, pass);
  } else if (const char* env = std::getenv("JSYNC_PASSPHRASE"); env && *env) {
    pass = env;
  } else if (isatty(STDIN_FILENO)) {
    JSYNC_ASSIGN_OR_RETURN(pass, PromptHidden("Journal passphrase: "));
  } else {
    return Status::Invalid(
        "no passphrase: pass --passphrase-file, set JSYNC_PASSPHRASE, or run in a terminal");
  }
  StripNewline(pass);
  if (pass.empty()) return Status::Invalid("the passphrase is empty");
  return pass;
}

}  // namespace jsync::cli
