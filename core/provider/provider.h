// The provider interface the sync engine talks to: a flat namespace of immutable objects.
//
// Paths are relative, '/'-separated, without empty, "." or ".." components. Implementations
// must make PutIfAbsent atomic: a reader sees either no object or the complete bytes.
// Thread-safety: one provider object is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/util/bytes.h"

namespace jsync::provider {

struct ObjectInfo {
  std::string path;
  uint64_t size = 0;
};

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
  // kNotFound when there is no such object.
  virtual Result<Bytes> Get(const std::string& path) = 0;
  // Every object whose path starts with `prefix`, at any depth, sorted by path.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // Removing an absent object is success.
  virtual Status Remove(const std::string& path) = 0;

  virtual Capabilities capabilities() const { return {}; }
  // Bytes [offset, offset + length) of an object; length UINT64_MAX reads to the end.
  virtual Result<Bytes> GetRange(const std::string& path, uint64_t offset, uint64_t length);
  // kNotFound ("not supported") unless capabilities().quota.
  virtual Result<QuotaInfo> Quota() { return Status::NotFound(Describe() + " reports no quota"); }
};

// Checks the path rules above; kInvalid with the reason otherwise.
Status ValidateObjectPath(const std::string& path);

}  // namespace jsync::provider
