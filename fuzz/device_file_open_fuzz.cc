// What a device file decodes to once authenticated. Input: the 86-byte device file header,
// then the plaintext body (JSON). The target seals the body under the test key with the header
// as associated data, as a device holding the key would, then opens the file.
#include "core/crypto/file_cipher.h"
#include "core/format/device_file.h"
#include "fuzz_support.h"

namespace {
// docs/formats.md, device file v1: magic 8, version 2, journal 16, device 8, key id 8, salt 32,
// nonce 12.
constexpr size_t kSaltAt = 42;
constexpr size_t kNonceAt = kSaltAt + jsync::crypto::kSaltSize;
constexpr size_t kHeaderSize = kNonceAt + jsync::crypto::kNonceSize;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  if (size < kHeaderSize) return 0;
  const ByteSpan input = fuzz::Span(data, size);
  crypto::Salt salt;
  crypto::Nonce nonce;
  std::copy_n(data + kSaltAt, salt.size(), salt.begin());
  std::copy_n(data + kNonceAt, nonce.size(), nonce.begin());
  const ByteSpan header = input.first(kHeaderSize);
  auto sealed = crypto::SealFile(fuzz::TestKey(), crypto::kDeviceFileInfo, salt, nonce, header,
                                 input.subspan(kHeaderSize));
  if (!sealed.ok()) return 0;
  Bytes file(header.begin(), header.end());
  file.insert(file.end(), sealed->begin(), sealed->end());
  auto info = format::OpenDeviceFile(fuzz::TestKey(), file);
  if (!info.ok()) return 0;
  // What opens re-seals and opens to the same description.
  auto resealed = format::SealDeviceFile(fuzz::TestKey(), *info);
  if (!resealed.ok()) fuzz::Fail("cannot re-seal an opened device file");
  auto again = format::OpenDeviceFile(fuzz::TestKey(), *resealed);
  if (!again.ok() || again->name != info->name || again->platform != info->platform ||
      again->created_ms != info->created_ms || again->device != info->device) {
    fuzz::Fail("device file does not survive seal/open");
  }
  return 0;
}
