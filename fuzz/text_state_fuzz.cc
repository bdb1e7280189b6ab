// A text field's encoded state, as a new device loads it from another device's snapshot or the
// local store reads it back; then read it and encode it again.
#include "core/model/text/text_document.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  auto doc = text::TextDocument::Decode(fuzz::Span(data, size));
  if (!doc.ok()) return 0;
  const std::u32string text = doc->Text();
  if (text.size() != doc->size()) fuzz::Fail("size() differs from Text().size()");
  auto again = text::TextDocument::Decode(doc->Encode(/*zstd_level=*/1));
  if (!again.ok() || !(*again == *doc) || again->Text() != text) {
    fuzz::Fail("text state does not survive encode/decode");
  }
  return 0;
}
