// Ed25519, X25519 and wraps to a recipient (core/crypto/asym.h), and the signatures of change
// file v3 and device file v2 built on them.
#include <gtest/gtest.h>

#include "core/crypto/asym.h"
#include "core/crypto/keyring.h"
#include "core/format/change_file.h"
#include "core/format/device_file.h"

namespace jsync {
namespace {

Bytes Msg(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Asym, SignatureVerifiesOnlyForItsKeyAndMessage) {
  crypto::KeyPair a = crypto::NewSigningKey(), b = crypto::NewSigningKey();
  auto sig = crypto::Sign(a.priv, Msg("hello"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(crypto::VerifySignature(a.pub, Msg("hello"), *sig));
  EXPECT_FALSE(crypto::VerifySignature(b.pub, Msg("hello"), *sig));
  EXPECT_FALSE(crypto::VerifySignature(a.pub, Msg("hellp"), *sig));
  crypto::Signature bad = *sig;
  bad[10] ^= 1;
  EXPECT_FALSE(crypto::VerifySignature(a.pub, Msg("hello"), bad));
  auto pub = crypto::SigningPublicKey(a.priv);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, a.pub);
}

TEST(Asym, LabeledSignaturesDoNotCrossLabels) {
  crypto::KeyPair a = crypto::NewSigningKey();
  auto sig = crypto::SignLabeled(a.priv, "change file v3", Msg("data"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(crypto::VerifyLabeled(a.pub, "change file v3", Msg("data"), *sig));
  EXPECT_FALSE(crypto::VerifyLabeled(a.pub, "snapshot", Msg("data"), *sig));
  EXPECT_FALSE(crypto::VerifySignature(a.pub, Msg("data"), *sig));
}

TEST(Asym, AgreementIsSymmetricAndRefusesLowOrderPoints) {
  crypto::KeyPair a = crypto::NewAgreementKey(), b = crypto::NewAgreementKey();
  auto ab = crypto::Agree(a.priv, b.pub), ba = crypto::Agree(b.priv, a.pub);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_EQ(0, std::memcmp(ab->data(), ba->data(), ab->size()));
  crypto::PublicKey zero{};  // a point of small order: the shared secret would be zeros
  EXPECT_FALSE(crypto::Agree(a.priv, zero).ok());
}

TEST(Asym, WrapOpensOnlyForItsRecipientAndContext) {
  crypto::KeyPair r = crypto::NewAgreementKey(), other = crypto::NewAgreementKey();
  const Bytes secret = Msg("thirty-two bytes of epoch key...");
  auto wrapped = crypto::WrapTo(r.pub, Msg("header"), secret);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->size(), secret.size() + crypto::kWrapOverhead);
  auto opened = crypto::UnwrapWith(r.priv, Msg("header"), *wrapped);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, secret);
  EXPECT_FALSE(crypto::UnwrapWith(other.priv, Msg("header"), *wrapped).ok());
  EXPECT_FALSE(crypto::UnwrapWith(r.priv, Msg("other header"), *wrapped).ok());
  Bytes flipped = *wrapped;
  flipped[5] ^= 1;  // inside the ephemeral public key
  EXPECT_FALSE(crypto::UnwrapWith(r.priv, Msg("header"), flipped).ok());
  EXPECT_FALSE(crypto::UnwrapWith(r.priv, Msg("header"), ByteSpan(*wrapped).first(40)).ok());
  // Two wraps of one secret share nothing (fresh ephemeral key and nonce).
  auto again = crypto::WrapTo(r.pub, Msg("header"), secret);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *wrapped);
}

TEST(Asym, KeyringFindsEveryEpochAndKeepsTheFirstCurrent) {
  crypto::SecretKey k1, k2;
  k2.data()[0] = 7;
  crypto::Keyring ring(1, k1);
  ring.Add(2, k2);
  EXPECT_EQ(ring.current_id(), 1u);
  ASSERT_NE(ring.Find(2), nullptr);
  EXPECT_EQ(ring.Find(2)->data()[0], 7);
  EXPECT_EQ(ring.Find(3), nullptr);
  ring.SetCurrent(2);
  EXPECT_EQ(ring.current().data()[0], 7);
}

std::vector<Op> OneOp(DeviceId device) {
  Op set;
  set.id = {MakeHlc(1000, 1), device};
  set.kind = OpKind::kSetRegister;
  set.collection = "entries";
  set.record = NewRecordId();
  set.field = "title";
  set.value = "\"signed\"";
  return {set};
}

TEST(ChangeFileV3, SignatureCoversEverythingBeforeIt) {
  crypto::SecretKey master;
  master.data()[3] = 9;
  crypto::KeyPair author = crypto::NewSigningKey(), forger = crypto::NewSigningKey();
  format::ChangeHeader h;
  h.device = 0x42;
  h.seq = 1;
  h.key_id = 5;
  auto file = format::SealChange(master, h, OneOp(0x42), &author.priv);
  ASSERT_TRUE(file.ok());
  auto parsed = format::ParseChangeHeader(*file);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->header.version, format::kChangeVersion);
  EXPECT_EQ(parsed->signature_size, crypto::kSignatureSize);
  EXPECT_TRUE(format::OpenChange(master, *parsed, *file).ok());
  EXPECT_TRUE(format::ChangeSignatureValid(*parsed, *file, author.pub));
  EXPECT_FALSE(format::ChangeSignatureValid(*parsed, *file, forger.pub));
  for (size_t at : {size_t{20}, parsed->header_size + 3, file->size() - 1}) {
    Bytes bad = *file;
    bad[at] ^= 0x10;
    auto p = format::ParseChangeHeader(bad);
    EXPECT_TRUE(!p.ok() || !format::ChangeSignatureValid(*p, bad, author.pub)) << at;
  }
  // Without a signer: version 2, which carries no signature.
  format::ChangeHeader h2 = h;
  auto unsigned_file = format::SealChange(master, h2, OneOp(0x42));
  ASSERT_TRUE(unsigned_file.ok());
  auto p2 = format::ParseChangeHeader(*unsigned_file);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->header.version, format::kChangeVersionV2);
  EXPECT_FALSE(format::ChangeSignatureValid(*p2, *unsigned_file, author.pub));
}

TEST(DeviceFileV2, PublishesKeysAndRefusesAnAlteredSignature) {
  crypto::SecretKey master;
  format::DeviceKeys keys{crypto::NewSigningKey(), crypto::NewAgreementKey()};
  format::DeviceInfo info;
  info.device = 0x99;
  info.key_id = 3;
  info.name = "phone";
  info.revision = 4;
  info.signed_from = 12;
  auto file = format::SealDeviceFileV2(master, info, keys);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(format::DeviceFileKeyId(*file), std::optional<format::KeyId>(3));
  auto back = format::OpenDeviceFile(master, *file);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->version, format::kDeviceVersionV2);
  EXPECT_EQ(back->name, "phone");
  EXPECT_EQ(back->revision, 4u);
  EXPECT_EQ(back->signed_from, 12u);
  EXPECT_EQ(back->sign_pub, keys.sign.pub);
  EXPECT_EQ(back->agree_pub, keys.agree.pub);
  Bytes bad = *file;
  bad.back() ^= 1;
  EXPECT_FALSE(format::OpenDeviceFile(master, bad).ok());
  // Version 1 still opens, without keys.
  auto v1 = format::SealDeviceFile(master, info);
  ASSERT_TRUE(v1.ok());
  auto old = format::OpenDeviceFile(master, *v1);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->version, format::kDeviceVersion);
}

}  // namespace
}  // namespace jsync
