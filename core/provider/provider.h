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
};

// Checks the path rules above; kInvalid with the reason otherwise.
Status ValidateObjectPath(const std::string& path);

}  // namespace jsync::provider
