// A relay frame from the network (any relay can send anything), opened under the test key's
// relay keys: length and kind checks, authentication, then the sealed body's decoder. Frames
// that open must seal back to something that opens to the same message.
#include "core/format/relay_message.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  static const format::RelayKeys keys = [] {
    JournalId journal{};
    journal.fill(0x4a);
    return format::DeriveRelayKeys(fuzz::TestKey(), journal).value();
  }();
  (void)format::IsHookFrame(fuzz::Span(data, size));
  auto opened = format::OpenRelayFrame(keys, fuzz::Span(data, size));
  if (!opened.ok()) return 0;
  auto again = format::SealRelayMessage(keys, *opened);
  if (!again.ok()) fuzz::Fail("an opened relay message does not seal again");
  auto back = format::OpenRelayFrame(keys, *again);
  if (!back.ok() || back->change != opened->change || back->seq != opened->seq ||
      back->type != opened->type) {
    fuzz::Fail("relay message round trip");
  }
  return 0;
}
