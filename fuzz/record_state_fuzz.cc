// A record's merged state as the store reads it back (RecordState::Decode), and its round trip.
#include "core/model/record_state.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  auto state = RecordState::Decode(fuzz::Span(data, size));
  if (!state.ok()) return 0;
  (void)state->Visible();
  (void)state->LiveOps();
  const Bytes encoded = state->Encode();
  auto again = RecordState::Decode(encoded);
  if (!again.ok() || again->Encode() != encoded) fuzz::Fail("record state encoding is not stable");
  return 0;
}
