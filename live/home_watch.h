// Tells the watcher that some process committed to this home's store, without polling the
// disk: an inotify watch on the home folder for writes to journal.db and its WAL, and for the
// edit.signal file every Journal rewrites after committing a local edit (decision 0033). Commits of the watcher's own syncs fire it too; the caller confirms with the store
// (is anything waiting in the outbox?), which is one cheap query per burst.
#pragma once

#include <string>

#include "core/util/status.h"

namespace jsync::live {

class HomeWatch {
 public:
  static Result<HomeWatch> Start(const std::string& home);
  HomeWatch(HomeWatch&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  HomeWatch& operator=(HomeWatch&&) = delete;
  HomeWatch(const HomeWatch&) = delete;
  ~HomeWatch();

  int fd() const { return fd_; }  // readable when something happened
  // Reads every pending event; true when one touched the store's files.
  bool Drain();
  // Whether accounts.json (the linked accounts, auth/accounts.h) was rewritten since the last
  // call: a `jsync link` in another process.
  bool TakeAccountsChanged() {
    const bool c = accounts_changed_;
    accounts_changed_ = false;
    return c;
  }
  // journal.db was created or renamed into place (a restore, a new init): reopen the store.
  bool TakeReplaced() {
    const bool c = replaced_;
    replaced_ = false;
    return c;
  }
  // The home folder itself was removed or moved: nothing here can be watched any more.
  bool gone() const { return gone_; }

 private:
  explicit HomeWatch(int fd) : fd_(fd) {}
  int fd_ = -1;
  bool accounts_changed_ = false;
  bool replaced_ = false;
  bool gone_ = false;
};

}  // namespace jsync::live
