// Binary encoding of the ops in a change file body (before compression). See docs/formats.md.
#pragma once

#include <vector>

#include "core/model/op.h"
#include "core/util/bytes.h"

namespace jsync::format {

// REQUIRES: every op was made by one device (the change file's); that id is not repeated.
Bytes EncodeOps(const std::vector<Op>& ops);
// `device` is the change file's device, which made every op in it.
Result<std::vector<Op>> DecodeOps(ByteSpan body, DeviceId device);

}  // namespace jsync::format
