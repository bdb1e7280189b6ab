// A change file straight from the cloud: header parse, then the full open under the test key
// (which fails authentication for nearly every input: that path must be clean too).
#include "core/format/change_file.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  const ByteSpan file = fuzz::Span(data, size);
  auto parsed = format::ParseChangeHeader(file);
  if (!parsed.ok()) return 0;
  if (parsed->header_size > size) fuzz::Fail("header_size past the end of the file");
  (void)format::OpenChange(fuzz::TestKey(), *parsed, file);
  return 0;
}
