// Change file v3: header || AES-256-GCM(zstd(ops)) || tag || Ed25519 signature, the header bound
// as associated data and the signature (by the author device) over everything before it.
// Byte layout in docs/formats.md. Versions 2 (unsigned) and 1 (version vector without
// chain-head tags) are still read; which devices may still send them: decision 0036.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <vector>

#include "core/crypto/asym.h"
#include "core/crypto/file_cipher.h"
#include "core/model/op.h"

namespace jsync::format {

inline constexpr char kChangeMagic[8] = {'J', 'S', 'Y', 'N', 'C', 'C', 'H', 'G'};
inline constexpr uint16_t kChangeVersion = 3;    // what this build writes: signed
inline constexpr uint16_t kChangeVersionV2 = 2;  // still read: v3 without the signature
inline constexpr uint16_t kChangeVersionV1 = 1;  // still read: version vector without head tags
inline constexpr std::string_view kChangeSignatureLabel = "change file v3";
inline constexpr uint8_t kCipherAes256Gcm = 1;
inline constexpr uint8_t kCompressionZstd = 1;
// Limits a reader enforces before allocating: larger files are refused as corrupt.
inline constexpr size_t kMaxChangeFileSize = 64u << 20;
inline constexpr size_t kMaxChangeBodySize = 256u << 20;
inline constexpr uint32_t kMaxVersionVectorEntries = 1u << 16;

using KeyId = uint64_t;

// The first bytes of the SHA-256 of a change file: names which change a sender merged at a
// seq, so the owner of a forked device id can tell which branch readers hold
// (docs/decisions/0021-fork-head-tags.md).
inline constexpr size_t kHeadTagSize = 16;
using HeadTag = std::array<uint8_t, kHeadTagSize>;
HeadTag HeadTagOf(const crypto::Sha256& hash);

struct VvEntry {
  uint64_t seq = 0;            // highest seq of that device merged into the sender's state
  std::optional<HeadTag> head; // tag of that change; absent in version 1 files

  bool operator==(const VvEntry&) const = default;
};
// device -> what of that device the sender had merged when it sealed
using VersionVector = std::map<DeviceId, VvEntry>;

struct ChangeHeader {
  JournalId journal{};
  DeviceId device = 0;
  uint64_t seq = 0;
  KeyId key_id = 0;
  crypto::Salt salt{};
  crypto::Nonce nonce{};
  crypto::Sha256 prev_hash{};  // SHA-256 of the device's change seq-1; zeros for seq 1
  VersionVector vv;            // never contains `device` itself
  uint16_t version = kChangeVersion;  // as read; SealChange writes v3 (v2 without a signer)

  bool operator==(const ChangeHeader&) const = default;
};

struct ParsedChange {
  ChangeHeader header;
  size_t header_size = 0;
  size_t signature_size = 0;  // kSignatureSize for version 3: the file's last bytes
};

// Seals ops under a fresh random salt and nonce (written into `header`). Every vv entry must
// carry its head tag (kInvalid otherwise): version 2 has no way to say "unknown".
// With `signer` (the author device's Ed25519 key) the file is version 3, signed; without it
// version 2 (tests of legacy devices).
Result<Bytes> SealChange(const crypto::SecretKey& master, ChangeHeader& header,
                         const std::vector<Op>& ops, const crypto::SecretKey* signer = nullptr);
// Whether a parsed version 3 file carries a valid signature by `pub` (false for v1/v2).
bool ChangeSignatureValid(const ParsedChange& parsed, ByteSpan file, const crypto::PublicKey& pub);
// Reads only the plaintext header; authenticates nothing. Use OpenChange before trusting it.
Result<ParsedChange> ParseChangeHeader(ByteSpan file);
// Authenticates the whole file and returns its ops.
Result<std::vector<Op>> OpenChange(const crypto::SecretKey& master, const ParsedChange& parsed,
                                   ByteSpan file);

std::string KeyIdHex(KeyId id);

}  // namespace jsync::format
