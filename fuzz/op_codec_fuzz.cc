// The op encoding of a change file body (after decompression), and its round trip.
#include "core/format/op_codec.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  constexpr DeviceId kDevice = 0x1234;
  auto ops = format::DecodeOps(fuzz::Span(data, size), kDevice);
  if (!ops.ok()) return 0;
  auto again = format::DecodeOps(format::EncodeOps(*ops), kDevice);
  if (!again.ok() || *again != *ops) fuzz::Fail("ops do not survive encode/decode");
  return 0;
}
