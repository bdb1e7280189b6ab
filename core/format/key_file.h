// Key files. Version 1: the journal's random 256-bit master key wrapped with AES-256-GCM under
// a key derived from the passphrase by scrypt (still read: journals made before epochs).
// Version 2: one key *epoch* (docs/decisions/0037-key-epochs.md): a fresh random key, wrapped
// to several recipients (the passphrase, the recovery key, each device's X25519 key), every
// earlier epoch key sealed under it, the list of revoked devices, and an Ed25519 signature by
// the device that wrote it. Byte layouts in docs/formats.md.
#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/crypto/asym.h"
#include "core/crypto/file_cipher.h"
#include "core/format/change_file.h"

namespace jsync::format {

inline constexpr char kKeyMagic[8] = {'J', 'S', 'Y', 'N', 'C', 'K', 'E', 'Y'};
inline constexpr uint16_t kKeyVersion = 1;
inline constexpr uint16_t kKeyVersionV2 = 2;  // what this build writes
inline constexpr uint8_t kKdfScrypt = 1;
inline constexpr size_t kKeyFileSize = 136;  // version 1
// Downloads of key files stop here: a version 2 file grows with devices and epochs (about 140
// bytes per device and 40 per earlier epoch), far below anything harmful.
inline constexpr size_t kMaxKeyFileSize = 256u << 10;
inline constexpr std::string_view kKeySignatureLabel = "key file v2";
inline constexpr size_t kKeyHeaderV2Size = 62;
inline constexpr size_t kMaxKeyRecipients = 255;
inline constexpr size_t kMaxRevokedDevices = 4096;

struct KeyFileInfo {
  JournalId journal{};
  KeyId key_id = 0;
  crypto::ScryptParams params;  // version 2: the passphrase recipient's
  uint16_t version = kKeyVersion;
  uint32_t epoch = 1;  // version 1 files count as epoch 1
};

// --- Version 1 (kept for tests of legacy journals and for reading old ones).
Result<Bytes> WrapMasterKey(const crypto::SecretKey& master, std::string_view passphrase,
                            const KeyFileInfo& info);
// Reads the plaintext fields of a version 1 or 2 file without any secret.
Result<KeyFileInfo> ReadKeyFileInfo(ByteSpan file);
// Version 1 or 2: the key the passphrase opens. kCorrupt "wrong passphrase ..." when it does not.
Result<crypto::SecretKey> UnwrapMasterKey(ByteSpan file, std::string_view passphrase);

// --- Version 2
enum class RecipientKind : uint8_t { kPassphrase = 1, kRecovery = 2, kDevice = 3 };

struct KeyRecipient {
  RecipientKind kind = RecipientKind::kDevice;
  DeviceId device = 0;          // kDevice only
  crypto::PublicKey pub{};      // X25519
  crypto::ScryptParams params;  // kPassphrase: how the passphrase becomes the private key
  crypto::Salt salt{};          // kPassphrase
  Bytes wrap;                   // crypto::WrapTo(pub, aad = header, epoch key)
};

struct RevokedDevice {
  DeviceId device = 0;
  uint64_t through_seq = 0;  // changes of the device with a higher seq are refused
  DeviceId by = 0;           // the device that revoked it
  uint64_t at_ms = 0;
  uint32_t epoch = 0;  // the epoch that revoked it: its key files from this epoch on are refused

  bool operator==(const RevokedDevice&) const = default;
};

struct EpochKey {
  KeyId id = 0;
  crypto::SecretKey key;
};

struct KeyFileV2 {
  JournalId journal{};
  KeyId key_id = 0;
  uint32_t epoch = 1;
  KeyId previous = 0;  // 0 for the first epoch
  uint64_t created_ms = 0;
  DeviceId writer = 0;
  std::vector<KeyRecipient> recipients;
  std::vector<RevokedDevice> revoked;
  // As read: the sealed list of earlier epochs, the signed bytes and the signature.
  crypto::Nonce old_nonce{};
  Bytes old_sealed;
  size_t signed_size = 0;
  crypto::Signature signature{};

  const KeyRecipient* Find(RecipientKind kind, DeviceId device = 0) const;
};

// What a writer puts into a new epoch; the wraps and the seal are made by SealKeyFileV2.
struct NewEpoch {
  JournalId journal{};
  KeyId key_id = 0;
  uint32_t epoch = 1;
  KeyId previous = 0;
  uint64_t created_ms = 0;
  DeviceId writer = 0;
  crypto::SecretKey key;
  std::vector<KeyRecipient> recipients;  // kind, device, pub (+ params, salt); wrap ignored
  std::vector<EpochKey> old_keys;
  std::vector<RevokedDevice> revoked;
};

// The version of a key file (1 or 2), 0 when it is not one.
uint16_t KeyFileVersion(ByteSpan file);
Result<Bytes> SealKeyFileV2(const NewEpoch& epoch, const crypto::SecretKey& writer_sign_seed);
// Parses and checks the structure; authenticates nothing (see KeyFileSignatureValid).
Result<KeyFileV2> ParseKeyFileV2(ByteSpan file);
bool KeyFileSignatureValid(const KeyFileV2& parsed, ByteSpan file, const crypto::PublicKey& pub);
// kCorrupt when `priv` is not the recipient's key or the wrap was altered.
Result<crypto::SecretKey> UnwrapEpochKey(const KeyFileV2& parsed, ByteSpan file,
                                         const KeyRecipient& recipient,
                                         const crypto::SecretKey& priv);
// Every earlier epoch key, opened with this epoch's key.
Result<std::vector<EpochKey>> OpenOldEpochs(const KeyFileV2& parsed, ByteSpan file,
                                            const crypto::SecretKey& epoch_key);

// The passphrase recipient: its X25519 private key is scrypt(passphrase, salt, params).
Result<crypto::KeyPair> PassphraseKeyPair(std::string_view passphrase, const crypto::Salt& salt,
                                          const crypto::ScryptParams& params);
// A passphrase recipient with a fresh salt (wrap left empty).
Result<KeyRecipient> NewPassphraseRecipient(std::string_view passphrase,
                                            const crypto::ScryptParams& params);

// --- The recovery key: 32 random bytes shown once as 56 base32 characters in 14 groups of 4
// (the secret and a 3-byte SHA-256 checksum), e.g. "ABCD-EFGH-...". Its X25519 private key is
// HKDF-SHA256(secret, salt = 32 zero bytes, "jsync recovery v1").
using RecoverySecret = crypto::SecretKey;
std::string RecoveryKeyText(const RecoverySecret& secret);
// Case, spaces and dashes do not matter; kInvalid for a mistyped key (bad checksum/length).
Result<RecoverySecret> ParseRecoveryKey(std::string_view text);
Result<crypto::KeyPair> RecoveryKeyPair(const RecoverySecret& secret);

}  // namespace jsync::format
