// The provider interface the sync engine talks to: a flat namespace of immutable objects.
//
// Paths are relative, '/'-separated, without empty, "." or ".." components. Implementations
// must make PutIfAbsent atomic: a reader sees either no object or the complete bytes.
// Thread-safety: one provider object is used by one thread at a time. The batch calls
// (GetMany) let a provider overlap transfers on threads of its own (host/transfer_pool.h)
// while its caller stays single-threaded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/util/bytes.h"

namespace jsync::provider {

// What sits at a listed name. The cloud is not trusted to hold only objects: something that
// is not a readable object is listed (and refused by Get) so the caller can report it.
enum class ObjectKind {
  kFile,       // an object
  kSpecial,    // a symlink, FIFO, socket or device: never followed or opened
  kDirectory,  // a directory with nothing listable below it
};

struct ObjectInfo {
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ms = -1;  // last modification, Unix milliseconds; -1 when the provider can't say
  ObjectKind kind = ObjectKind::kFile;
};

// Get refuses an object over its max_size without reading it whole (see Get).
inline constexpr uint64_t kNoSizeLimit = UINT64_MAX;

struct QuotaInfo {
  uint64_t used = 0;
  uint64_t total = 0;  // 0: unlimited or unknown
};

// What a provider can do beyond the required operations (the C ABI's JSYNC_CAP_* flags).
struct Capabilities {
  bool change_feed = false;
  bool push = false;
  bool quota = false;
  bool range_read = false;
  bool oauth = false;
  bool case_insensitive = false;  // names differing only in case collide
  bool own_storage = false;       // a journal made on it is joined only through it
};

// One answer of a change feed (Provider::Changes).
struct ChangePage {
  std::vector<ObjectInfo> changed;   // objects created (or rewritten) since the cursor
  std::vector<std::string> removed;  // paths removed since the cursor
  std::string cursor;                // where the next call starts
  // The cursor given is no longer valid (Drive's refused page token, Graph's 410
  // resyncRequired): nothing else is set; take a start cursor and list everything again.
  bool expired = false;
  // Something was removed that the feed cannot name (a permanently deleted Drive file): a full
  // listing tells what.
  bool unnamed_removals = false;
};

// One download of a batch (Provider::GetMany).
struct GetRequest {
  std::string path;
  uint64_t max_size = kNoSizeLimit;
};

class Provider {
 public:
  virtual ~Provider() = default;
  Provider() = default;
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;

  virtual std::string Describe() const = 0;  // e.g. "folder /mnt/cloud"

  // Creates `path` holding `bytes`. An object already there with identical bytes is success
  // (a retried upload); one with other bytes is kExists and is left untouched.
  virtual Status PutIfAbsent(const std::string& path, ByteSpan bytes) = 0;
  // The whole object, at most max_size bytes: every caller passes the format's limit for what
  // it reads. kNotFound when there is no such object; kCorrupt (naming the path and the limit)
  // for an object larger than max_size, which is never read whole, and for anything that is
  // not a regular object (a symlink, FIFO, device or directory at the name).
  virtual Result<Bytes> Get(const std::string& path, uint64_t max_size) = 0;
  // Several Gets, answered in request order, each exactly as Get would answer it. A provider
  // may run them at once (the host's transfer pool); the default runs them one after another.
  virtual std::vector<Result<Bytes>> GetMany(const std::vector<GetRequest>& requests);
  // How many transfers GetMany overlaps (1: none); callers size their batches by it.
  virtual int max_parallel() const { return 1; }
  // Every object whose path starts with `prefix`, at any depth, sorted by path; entries that
  // are not objects (ObjectKind) are included, temporary upload files are not.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // The temporary upload files (JSYNC_TEMP_PREFIX names) under `prefix`, with their times, for
  // removing orphans a killed upload left behind. Empty for providers that write none.
  virtual Result<std::vector<ObjectInfo>> ListTemporary(const std::string& /*prefix*/) {
    return std::vector<ObjectInfo>{};
  }
  // Removing an absent object is success.
  virtual Status Remove(const std::string& path) = 0;

  virtual Capabilities capabilities() const { return {}; }
  // Bytes [offset, offset + length) of an object; length UINT64_MAX reads to the end.
  virtual Result<Bytes> GetRange(const std::string& path, uint64_t offset, uint64_t length);
  // kNotFound ("not supported") unless capabilities().quota.
  virtual Result<QuotaInfo> Quota() { return Status::NotFound(Describe() + " reports no quota"); }
  // The change feed (capabilities().change_feed; kNotFound otherwise): what changed under the
  // location since `cursor`, all pages of it. An empty cursor asks for a start cursor only
  // (nothing in changed): take it before a full listing, so nothing written meanwhile is missed.
  virtual Result<ChangePage> Changes(const std::string& /*cursor*/) {
    return Status::NotFound(Describe() + " has no change feed");
  }
  // Asks the service to call `webhook_url` on changes (capabilities().push; kNotFound
  // otherwise). Empty: the address the provider was configured with.
  virtual Status Watch(const std::string& /*webhook_url*/) {
    return Status::NotFound(Describe() + " has no push notifications");
  }
};

// Forwards every call to another provider: the base of the layers the host stacks around a
// plugin (policy, counting, faults), as LevelDB's EnvWrapper. A layer overrides what it adds.
class ProviderWrapper : public Provider {
 public:
  explicit ProviderWrapper(std::unique_ptr<Provider> target) : target_(std::move(target)) {}

  std::string Describe() const override { return target_->Describe(); }
  Status PutIfAbsent(const std::string& path, ByteSpan bytes) override {
    return target_->PutIfAbsent(path, bytes);
  }
  Result<Bytes> Get(const std::string& path, uint64_t max_size) override {
    return target_->Get(path, max_size);
  }
  // A layer that overrides Get must override GetMany too, or the batch bypasses it.
  std::vector<Result<Bytes>> GetMany(const std::vector<GetRequest>& requests) override {
    return target_->GetMany(requests);
  }
  int max_parallel() const override { return target_->max_parallel(); }
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    return target_->List(prefix);
  }
  Result<std::vector<ObjectInfo>> ListTemporary(const std::string& prefix) override {
    return target_->ListTemporary(prefix);
  }
  Status Remove(const std::string& path) override { return target_->Remove(path); }
  Capabilities capabilities() const override { return target_->capabilities(); }
  Result<Bytes> GetRange(const std::string& path, uint64_t offset, uint64_t length) override {
    return target_->GetRange(path, offset, length);
  }
  Result<QuotaInfo> Quota() override { return target_->Quota(); }
  Result<ChangePage> Changes(const std::string& cursor) override {
    return target_->Changes(cursor);
  }
  Status Watch(const std::string& webhook_url) override { return target_->Watch(webhook_url); }

  Provider& target() { return *target_; }
  const Provider& target() const { return *target_; }

 private:
  std::unique_ptr<Provider> target_;
};

// Checks the path rules above; kInvalid with the reason otherwise.
Status ValidateObjectPath(const std::string& path);

// The kCorrupt status Get returns for an object over its limit.
Status TooLarge(const std::string& path, uint64_t size_or_more, bool exact, uint64_t max_size);

// "1.5 MiB", "136 bytes": sizes in messages.
std::string SizeText(uint64_t bytes);

}  // namespace jsync::provider
