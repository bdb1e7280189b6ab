// A key file from the cloud: the plaintext fields (no passphrase), then the unwrap with a
// passphrase, and a wrap/unwrap round trip under the parameters it names. scrypt runs only for
// cheap parameters (the parser's own limits allow up to 1 GiB per attempt, which is a device's
// budget, not a fuzzer's): the expensive cases are covered by ValidateScryptParams, which the
// parse runs before any scrypt.
#include <cstring>

#include "core/format/key_file.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  const ByteSpan file = fuzz::Span(data, size);
  auto info = format::ReadKeyFileInfo(file);
  if (!info.ok()) {
    // What the parse refused, the unwrap must refuse too, without running scrypt.
    if (format::UnwrapMasterKey(file, "fuzz").ok()) fuzz::Fail("unwrap accepted a bad key file");
    return 0;
  }
  if (!crypto::ValidateScryptParams(info->params).ok()) {
    fuzz::Fail("the parse accepted scrypt parameters the validator refuses");
  }
  const uint64_t work = (uint64_t{1} << info->params.log2_n) * info->params.r * info->params.p;
  if (work > (uint64_t{1} << 14)) return 0;
  (void)format::UnwrapMasterKey(file, "fuzz");
  auto wrapped = format::WrapMasterKey(fuzz::TestKey(), "fuzz", *info);
  if (!wrapped.ok()) fuzz::Fail("cannot wrap under parameters the parse accepted");
  auto master = format::UnwrapMasterKey(*wrapped, "fuzz");
  const crypto::SecretKey expected = fuzz::TestKey();
  if (!master.ok() || std::memcmp(master->data(), expected.data(), expected.size()) != 0) {
    fuzz::Fail("wrap/unwrap round trip");
  }
  return 0;
}
