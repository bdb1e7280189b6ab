// What a change file decodes to once authenticated. Input: a change file header, then the
// plaintext body (a zstd frame of encoded ops). The target seals the body under the test key
// with the header as associated data, as a device holding the key would, then opens the file:
// decompression and DecodeOps see bytes an attacker could only send with the key, which a
// compromised or buggy device has.
#include "core/crypto/file_cipher.h"
#include "core/format/change_file.h"
#include "core/format/op_codec.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  const ByteSpan input = fuzz::Span(data, size);
  // The header parse wants a tag's worth of bytes after the header; the body may be shorter.
  Bytes padded(input.begin(), input.end());
  padded.resize(size + crypto::kTagSize);
  auto parsed = format::ParseChangeHeader(padded);
  if (!parsed.ok() || parsed->header_size > size) return 0;
  const ByteSpan header = input.first(parsed->header_size);
  const ByteSpan body = input.subspan(parsed->header_size);
  auto sealed = crypto::SealFile(fuzz::TestKey(), crypto::kChangeFileInfo, parsed->header.salt,
                                 parsed->header.nonce, header, body);
  if (!sealed.ok()) return 0;
  Bytes file(header.begin(), header.end());
  file.insert(file.end(), sealed->begin(), sealed->end());
  auto ops = format::OpenChange(fuzz::TestKey(), *parsed, file);
  if (!ops.ok()) return 0;
  // What decodes re-encodes to the same ops.
  auto again = format::DecodeOps(format::EncodeOps(*ops), parsed->header.device);
  if (!again.ok() || *again != *ops) fuzz::Fail("ops do not survive encode/decode");
  return 0;
}
