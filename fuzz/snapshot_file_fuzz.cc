// A snapshot from the cloud: the header parse, the signature check and the open under the test
// key (authentication fails for nearly every input), then the same bytes as a decrypted body
// (what a key holder could make a reader decompress and parse), each record decoded as the
// loader decodes it.
#include "core/format/snapshot_file.h"
#include "core/model/record_state.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  const ByteSpan file = fuzz::Span(data, size);
  auto sink = [](const format::SnapshotRecord& rec) -> Status {
    return RecordState::Decode(rec.state).status();
  };
  if (auto parsed = format::ParseSnapshotHeader(file); parsed.ok()) {
    (void)format::SnapshotSignatureValid(file, crypto::PublicKey{});
    (void)format::OpenSnapshot(fuzz::TestKey(), *parsed, file, sink);
  }
  (void)format::ReadSnapshotBody(file, sink);
  return 0;
}
