// An editing trace (josephg/editing-traces JSON) as the trace loader reads it.
#include <string_view>

#include "tools/trace/editing_trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)jsync::trace::ParseEditingTrace(text, "fuzz input");
  return 0;
}
