// A device file straight from the cloud, opened under the test key: size, magic and version
// checks, then authentication (which fails for nearly every input).
#include "core/format/device_file.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  (void)format::OpenDeviceFile(fuzz::TestKey(), fuzz::Span(data, size));
  return 0;
}
