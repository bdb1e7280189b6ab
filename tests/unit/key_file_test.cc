// Key file v2 (docs/formats.md, decision 0037), the recovery key text and the keyring file.
#include "core/format/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "core/crypto/keyring.h"
#include "tests/support/test_support.h"

namespace jsync::format {
namespace {

constexpr crypto::ScryptParams kCheap{10, 8, 1};

crypto::SecretKey RandomKey() {
  crypto::SecretKey k;
  crypto::RandomBytes(std::span<uint8_t>(k.data(), k.size()));
  return k;
}

struct Fixture {
  crypto::KeyPair writer = crypto::NewSigningKey();
  crypto::KeyPair device = crypto::NewAgreementKey();
  RecoverySecret recovery = RandomKey();
  crypto::SecretKey key = RandomKey();
  crypto::SecretKey old_key = RandomKey();
  NewEpoch epoch;
  Bytes file;

  Fixture() {
    epoch.journal = NewJournalId();
    epoch.key_id = 0x1234;
    epoch.epoch = 3;
    epoch.previous = 0x99;
    epoch.created_ms = 1'800'000'000'000;
    epoch.writer = 0x42;
    epoch.key = key;
    auto pass = NewPassphraseRecipient("hunter2", kCheap);
    EXPECT_TRUE(pass.ok());
    epoch.recipients.push_back(*pass);
    KeyRecipient rec;
    rec.kind = RecipientKind::kRecovery;
    rec.pub = RecoveryKeyPair(recovery)->pub;
    epoch.recipients.push_back(rec);
    KeyRecipient dev;
    dev.kind = RecipientKind::kDevice;
    dev.device = 0x77;
    dev.pub = device.pub;
    epoch.recipients.push_back(dev);
    epoch.old_keys.push_back({0x99, old_key});
    epoch.revoked.push_back({0x55, 12, 0x42, 1'700'000'000'000, 3});
    auto sealed = SealKeyFileV2(epoch, writer.priv);
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    file = *sealed;
  }
};

bool SameKey(const crypto::SecretKey& a, const crypto::SecretKey& b) {
  return std::equal(a.data(), a.data() + a.size(), b.data());
}

TEST(KeyFileV2Test, RoundTripsAndEveryRecipientOpensIt) {
  Fixture f;
  EXPECT_EQ(KeyFileVersion(f.file), kKeyVersionV2);
  auto k = ParseKeyFileV2(f.file);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->journal, f.epoch.journal);
  EXPECT_EQ(k->key_id, 0x1234u);
  EXPECT_EQ(k->epoch, 3u);
  EXPECT_EQ(k->previous, 0x99u);
  EXPECT_EQ(k->writer, 0x42u);
  EXPECT_EQ(k->revoked, f.epoch.revoked);
  EXPECT_TRUE(KeyFileSignatureValid(*k, f.file, f.writer.pub));
  EXPECT_FALSE(KeyFileSignatureValid(*k, f.file, crypto::NewSigningKey().pub));

  auto by_device =
      UnwrapEpochKey(*k, f.file, *k->Find(RecipientKind::kDevice, 0x77), f.device.priv);
  ASSERT_TRUE(by_device.ok());
  EXPECT_TRUE(SameKey(*by_device, f.key));
  auto by_pass = UnwrapMasterKey(f.file, "hunter2");
  ASSERT_TRUE(by_pass.ok());
  EXPECT_TRUE(SameKey(*by_pass, f.key));
  auto wrong = UnwrapMasterKey(f.file, "hunter3");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("wrong passphrase"), std::string::npos);
  auto pair = RecoveryKeyPair(f.recovery);
  auto by_recovery = UnwrapEpochKey(*k, f.file, *k->Find(RecipientKind::kRecovery), pair->priv);
  ASSERT_TRUE(by_recovery.ok());
  EXPECT_TRUE(SameKey(*by_recovery, f.key));
  // Another device's key opens nothing.
  EXPECT_FALSE(UnwrapEpochKey(*k, f.file, *k->Find(RecipientKind::kDevice, 0x77),
                              crypto::NewAgreementKey().priv)
                   .ok());
  auto old = OpenOldEpochs(*k, f.file, *by_device);
  ASSERT_TRUE(old.ok());
  ASSERT_EQ(old->size(), 1u);
  EXPECT_EQ((*old)[0].id, 0x99u);
  EXPECT_TRUE(SameKey((*old)[0].key, f.old_key));
  EXPECT_FALSE(OpenOldEpochs(*k, f.file, f.old_key).ok());

  auto info = ReadKeyFileInfo(f.file);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->version, kKeyVersionV2);
  EXPECT_EQ(info->epoch, 3u);
  EXPECT_EQ(info->key_id, 0x1234u);
  EXPECT_EQ(info->params.log2_n, 10);
}

TEST(KeyFileV2Test, EveryFlippedByteIsCaught) {
  Fixture f;
  for (size_t i = 0; i < f.file.size(); ++i) {
    Bytes bad = f.file;
    bad[i] ^= 0x01;
    auto k = ParseKeyFileV2(bad);
    if (!k.ok()) continue;  // structure refused: as good
    EXPECT_FALSE(KeyFileSignatureValid(*k, bad, f.writer.pub)) << "byte " << i;
  }
  // Truncated anywhere, or with a trailing byte: refused as damaged.
  for (size_t n : {size_t{0}, size_t{10}, size_t{61}, f.file.size() / 2, f.file.size() - 1}) {
    auto k = ParseKeyFileV2(ByteSpan(f.file).first(n));
    if (k.ok()) {
      EXPECT_FALSE(KeyFileSignatureValid(*k, ByteSpan(f.file).first(n), f.writer.pub));
    }
  }
  Bytes longer = f.file;
  longer.push_back(0);
  auto k = ParseKeyFileV2(longer);
  EXPECT_TRUE(!k.ok() || !KeyFileSignatureValid(*k, longer, f.writer.pub));
}

TEST(KeyFileV2Test, HostileScryptCostIsRefusedBeforeAnyWork) {
  Fixture f;
  auto pass = *f.epoch.recipients.begin();
  f.epoch.recipients[0].params = {30, 8, 1};
  // SealKeyFileV2 does not judge; a reader does.
  auto sealed = SealKeyFileV2(f.epoch, f.writer.priv);
  ASSERT_TRUE(sealed.ok());
  auto k = ParseKeyFileV2(*sealed);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("scrypt"), std::string::npos);
  (void)pass;
}

TEST(KeyFileV1Test, IsStillRead) {
  KeyFileInfo info{NewJournalId(), 7, kCheap};
  auto master = RandomKey();
  auto file = WrapMasterKey(master, "pw", info);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(KeyFileVersion(*file), kKeyVersion);
  auto read = ReadKeyFileInfo(*file);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->version, kKeyVersion);
  EXPECT_EQ(read->epoch, 1u);
  auto key = UnwrapMasterKey(*file, "pw");
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(SameKey(*key, master));
  EXPECT_FALSE(ParseKeyFileV2(*file).ok());
}

TEST(RecoveryKeyTest, TextRoundTripsAndTyposAreCaught) {
  RecoverySecret s = RandomKey();
  const std::string text = RecoveryKeyText(s);
  EXPECT_EQ(text.size(), 14u * 4 + 13);
  EXPECT_EQ(text[4], '-');
  auto back = ParseRecoveryKey(text);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(SameKey(*back, s));
  // Case, spaces and dashes do not matter.
  std::string loose;
  for (char c : text) loose += c == '-' ? ' ' : static_cast<char>(std::tolower(c));
  auto relaxed = ParseRecoveryKey(loose + "\n");
  ASSERT_TRUE(relaxed.ok());
  EXPECT_TRUE(SameKey(*relaxed, s));
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-') continue;
    std::string typo = text;
    typo[i] = typo[i] == 'A' ? 'B' : 'A';
    auto r = ParseRecoveryKey(typo);
    // 24 checksum bits: a single changed character is always caught except in ~1/16M cases.
    EXPECT_FALSE(r.ok()) << i;
  }
  auto short_key = ParseRecoveryKey(text.substr(0, 20));
  ASSERT_FALSE(short_key.ok());
  EXPECT_NE(short_key.status().message().find("characters"), std::string::npos);
  auto bad_char = ParseRecoveryKey("0000-" + text.substr(5));
  ASSERT_FALSE(bad_char.ok());
}

TEST(KeyringFileTest, SavesLoadsAndRefusesOthersReading) {
  testing::TempDir dir;
  const std::string path = dir / "keyring";
  auto none = crypto::LoadKeyringFile(path);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  crypto::Keyring ring(1, RandomKey());
  const crypto::SecretKey second = RandomKey();
  ring.Add(2, second);
  ring.SetCurrent(2);
  ASSERT_TRUE(crypto::SaveKeyringFile(path, ring).ok());
  auto loaded = crypto::LoadKeyringFile(path);
  ASSERT_TRUE(loaded.ok() && *loaded);
  EXPECT_EQ((*loaded)->current_id(), 2u);
  EXPECT_EQ((*loaded)->keys().size(), 2u);
  EXPECT_TRUE(SameKey((*loaded)->current(), second));
  ::chmod(path.c_str(), 0644);
  auto open = crypto::LoadKeyringFile(path);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos);
  ::chmod(path.c_str(), 0600);
  testing::WriteFileBytes(path, "JSYNCKR1 broken");
  ::chmod(path.c_str(), 0600);
  EXPECT_FALSE(crypto::LoadKeyringFile(path).ok());
}

}  // namespace
}  // namespace jsync::format
