#include <gtest/gtest.h>

#include "core/crypto/aead.h"
#include "core/crypto/file_cipher.h"
#include "core/crypto/primitives.h"

namespace jsync::crypto {
namespace {

SecretKey KeyOf(uint8_t fill) {
  std::array<uint8_t, kKeySize> a;
  a.fill(fill);
  return SecretKey(a);
}

TEST(Aead, RoundTrip) {
  SecretKey key = KeyOf(7);
  Nonce nonce = RandomArray<kNonceSize>();
  Bytes aad = {1, 2, 3};
  std::string msg = "dear diary";
  auto sealed = AeadSeal(key, nonce, aad, AsBytes(msg));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), msg.size() + kTagSize);
  auto opened = AeadOpen(key, nonce, aad, *sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(AsString(*opened), msg);
}

TEST(Aead, EveryFlippedBitIsRejected) {
  SecretKey key = KeyOf(9);
  Nonce nonce{};
  Bytes aad = {4, 5};
  auto sealed = AeadSeal(key, nonce, aad, AsBytes("secret text"));
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size() * 8; ++i) {
    Bytes bad = *sealed;
    bad[i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
    auto r = AeadOpen(key, nonce, aad, bad);
    ASSERT_FALSE(r.ok()) << "bit " << i;
    EXPECT_EQ(r.status().code(), Code::kCorrupt);
  }
  Bytes other_aad = {4, 6};
  EXPECT_FALSE(AeadOpen(key, nonce, other_aad, *sealed).ok());
  EXPECT_FALSE(AeadOpen(KeyOf(10), nonce, aad, *sealed).ok());
  Bytes truncated(sealed->begin(), sealed->end() - 1);
  EXPECT_FALSE(AeadOpen(key, nonce, aad, truncated).ok());
  EXPECT_FALSE(AeadOpen(key, nonce, aad, Bytes{}).ok());
}

TEST(Hkdf, DependsOnSaltAndInfo) {
  SecretKey master = KeyOf(1);
  Bytes salt1(32, 1), salt2(32, 2);
  auto a = HkdfSha256(master, salt1, "x");
  auto b = HkdfSha256(master, salt1, "x");
  auto c = HkdfSha256(master, salt2, "x");
  auto d = HkdfSha256(master, salt1, "y");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  auto bytes = [](const SecretKey& k) { return Bytes(k.data(), k.data() + k.size()); };
  EXPECT_EQ(bytes(*a), bytes(*b));
  EXPECT_NE(bytes(*a), bytes(*c));
  EXPECT_NE(bytes(*a), bytes(*d));
}

TEST(Scrypt, MatchesRfc7914Vector) {
  // RFC 7914 section 12: P="password", S="NaCl", N=1024, r=8, p=16; first 32 bytes of dkLen 64.
  ScryptParams params{10, 8, 16};
  auto key = Scrypt("password", AsBytes("NaCl"), params);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(ToHex(ByteSpan(key->data(), key->size())),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162");
}

TEST(Scrypt, RefusesWeakOrAbsurdParameters) {
  EXPECT_FALSE(ValidateScryptParams({9, 8, 1}).ok());
  EXPECT_FALSE(ValidateScryptParams({23, 8, 1}).ok());
  EXPECT_FALSE(ValidateScryptParams({17, 0, 1}).ok());
  EXPECT_TRUE(ValidateScryptParams({17, 8, 1}).ok());
}

TEST(FileCipher, KeysOfOneKindDoNotOpenAnother) {
  SecretKey master = KeyOf(3);
  Salt salt = RandomArray<kSaltSize>();
  Nonce nonce = RandomArray<kNonceSize>();
  Bytes header = {9};
  auto sealed = SealFile(master, kChangeFileInfo, salt, nonce, header, AsBytes("ops"));
  ASSERT_TRUE(sealed.ok());
  EXPECT_TRUE(OpenFile(master, kChangeFileInfo, salt, nonce, header, *sealed).ok());
  EXPECT_FALSE(OpenFile(master, kDeviceFileInfo, salt, nonce, header, *sealed).ok());
}

}  // namespace
}  // namespace jsync::crypto
