#include "core/sync/verify.h"

#include "core/format/key_file.h"

namespace jsync::sync {

bool IsSignedChange(ByteSpan file, const JournalId& journal, DeviceId device) {
  auto parsed = format::ParseChangeHeader(file);
  return parsed.ok() && parsed->header.version == format::kChangeVersion &&
         parsed->header.journal == journal && parsed->header.device == device;
}

Result<VerifiedChange> VerifyChange(const crypto::SecretKey& master, const Expected& expected,
                                    ByteSpan file, bool* chain_broken) {
  if (chain_broken) *chain_broken = false;
  // Messages here complete "<file> was refused: it ...", so format errors get a verb.
  auto parsed_or = format::ParseChangeHeader(file);
  if (!parsed_or.ok()) {
    return parsed_or.status().WithContext("is not a valid change file");
  }
  const format::ParsedChange& parsed = *parsed_or;
  const format::ChangeHeader& h = parsed.header;
  // Name checks come first: they explain a moved or foreign file better than a failed tag would.
  if (h.journal != expected.journal) {
    return Status::Corrupt("belongs to another journal (" + JournalIdHex(h.journal) + ")");
  }
  if (h.device != expected.device) {
    return Status::Corrupt("was written by device " + DeviceIdHex(h.device) +
                           " but is stored under device " + DeviceIdHex(expected.device));
  }
  if (h.seq != expected.seq) {
    return Status::Corrupt("holds change " + std::to_string(h.seq) + " but is stored as change " +
                           std::to_string(expected.seq));
  }
  const crypto::SecretKey* key = h.key_id == expected.key_id ? &master : nullptr;
  if (!key && expected.keys) key = expected.keys->Find(h.key_id);
  if (!key) {
    return Status::Corrupt("is encrypted under key " + format::KeyIdHex(h.key_id) +
                           ", which this device does not hold");
  }
  if (h.vv.contains(h.device)) {
    return Status::Corrupt("has a version vector that names its own device");
  }
  auto opened = format::OpenChange(*key, parsed, file);
  if (!opened.ok()) return opened.status().WithContext("failed verification");
  if (expected.signer) {
    // Anyone holding the journal key can seal a change; only the author can sign it.
    const bool must_sign = h.seq >= expected.signed_from;
    if (h.version == format::kChangeVersion) {
      if (!format::ChangeSignatureValid(parsed, file, *expected.signer)) {
        return Status::Corrupt("is not signed by the device it names (its signature does not "
                               "verify): someone holding the journal key wrote it as that device");
      }
    } else if (must_sign) {
      return Status::Corrupt("is unsigned, but its device signs every change since change " +
                             std::to_string(expected.signed_from) +
                             ": someone holding the journal key wrote it as that device");
    }
  }
  std::vector<Op> ops = std::move(opened).value();
  // Authenticated from here on.
  if (expected.previous.seq + 1 != expected.seq) {
    return Status::Corrupt("is not the next change of its device");
  }
  const crypto::Sha256 zero{};
  const crypto::Sha256& want = expected.seq == 1 ? zero : expected.previous.hash;
  if (h.prev_hash != want) {
    if (chain_broken) *chain_broken = true;
    return Status::Corrupt(
        "does not follow the previous change of its device (hash chain broken: the device's "
        "log was rewritten or rolled back)");
  }
  return VerifiedChange{h, std::move(ops), crypto::HashSha256(file)};
}

}  // namespace jsync::sync
