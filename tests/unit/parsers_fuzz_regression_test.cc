// Inputs that crashed, overflowed or over-allocated a parser of untrusted bytes (found while
// adding the fuzz targets under fuzz/; see docs/fuzzing.md). Each stays refused or read sanely.
#include <gtest/gtest.h>

#include <cstring>
#include <zstd.h>

#include "auth/device_flow.h"
#include "auth/token_endpoint.h"
#include "core/crypto/file_cipher.h"
#include "core/format/device_file.h"
#include "core/format/key_file.h"
#include "core/model/text/text_document.h"
#include "tools/trace/editing_trace.h"

namespace jsync {
namespace {

crypto::SecretKey TestKey() {
  std::array<uint8_t, crypto::kKeySize> a;
  a.fill(0x42);
  return crypto::SecretKey(a);
}

// ---- key file: scrypt cost is bounded before scrypt runs ---------------------------------------

TEST(KeyFileFuzzRegression, RefusesScryptCostsThatEachLookFineButMultiplyToGigabytes) {
  format::KeyFileInfo info;
  info.params = {10, 1, 1};
  auto file = format::WrapMasterKey(TestKey(), "pw", info);
  ASSERT_TRUE(file.ok());
  // A planted key file: N = 2^22, r = 32, p = 16 (each within its own range; 16 GiB together).
  Bytes planted = *file;
  planted[11] = 22;
  planted[12] = 32;
  planted[16] = 16;
  auto read = format::ReadKeyFileInfo(planted);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("scrypt"), std::string::npos) << read.status().message();
  // The unwrap refuses it in the parse, before deriving anything.
  auto unwrap = format::UnwrapMasterKey(planted, "pw");
  ASSERT_FALSE(unwrap.ok());
  EXPECT_NE(unwrap.status().message().find("scrypt"), std::string::npos);
}

TEST(KeyFileFuzzRegression, ScryptLimitsAreOnMemoryAndWork) {
  EXPECT_TRUE(crypto::ValidateScryptParams({17, 8, 1}).ok());   // the default, 128 MiB
  EXPECT_TRUE(crypto::ValidateScryptParams({20, 8, 1}).ok());   // 1 GiB
  EXPECT_TRUE(crypto::ValidateScryptParams({20, 8, 2}).ok());   // 1 GiB, twice the work
  EXPECT_TRUE(crypto::ValidateScryptParams({22, 2, 1}).ok());   // 1 GiB
  EXPECT_FALSE(crypto::ValidateScryptParams({21, 8, 1}).ok());  // 2 GiB
  EXPECT_FALSE(crypto::ValidateScryptParams({22, 8, 1}).ok());  // 4 GiB
  EXPECT_FALSE(crypto::ValidateScryptParams({20, 8, 4}).ok());  // 64x the default work
  EXPECT_FALSE(crypto::ValidateScryptParams({22, 32, 16}).ok());
}

// ---- device file: a body field of the wrong type is corrupt, not an exception -------------------

// A device file whose authenticated body is `body` (what a device holding the key could write).
Bytes DeviceFileWithBody(const std::string& body) {
  format::DeviceInfo info;
  info.name = "n";
  auto real = format::SealDeviceFile(TestKey(), info);
  EXPECT_TRUE(real.ok());
  constexpr size_t kHeader = 86, kSaltAt = 42, kNonceAt = 74;
  crypto::Salt salt;
  crypto::Nonce nonce;
  std::memcpy(salt.data(), real->data() + kSaltAt, salt.size());
  std::memcpy(nonce.data(), real->data() + kNonceAt, nonce.size());
  Bytes file(real->begin(), real->begin() + kHeader);
  auto sealed = crypto::SealFile(TestKey(), crypto::kDeviceFileInfo, salt, nonce,
                                 ByteSpan(file), AsBytes(body));
  EXPECT_TRUE(sealed.ok());
  file.insert(file.end(), sealed->begin(), sealed->end());
  return file;
}

TEST(DeviceFileFuzzRegression, WrongFieldTypesAreCorruptNotThrown) {
  for (const char* body : {R"({"name":"a","platform":5})", R"({"name":"a","created_ms":"x"})",
                           R"({"name":"a","created_ms":-1.5e300})", R"({"name":7})", "[1]"}) {
    auto info = format::OpenDeviceFile(TestKey(), DeviceFileWithBody(body));
    ASSERT_FALSE(info.ok()) << body;
    EXPECT_EQ(info.status().code(), Code::kCorrupt) << body;
  }
  auto ok = format::OpenDeviceFile(TestKey(), DeviceFileWithBody(R"({"name":"a","platform":null})"));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->name, "a");
  EXPECT_EQ(ok->platform, "");
}

// ---- OAuth answers: huge numbers are capped, never thrown or overflowed -------------------------

TEST(OAuthFuzzRegression, HugeLifetimesAreCappedNotThrown) {
  constexpr int64_t kSentAt = 1'700'000'000;
  // std::stoll threw out_of_range for a 20-digit string; a 19-digit integer overflowed the sum.
  for (const char* body : {R"({"access_token":"a","expires_in":"99999999999999999999"})",
                           R"({"access_token":"a","expires_in":9223372036854775807})",
                           R"({"access_token":"a","expires_in":18446744073709551615})",
                           R"({"access_token":"a","refresh_token_expires_in":"99999999999999999999"})"}) {
    auto answer = auth::ReadEndpointAnswer(200, body, "", "https://t");
    auto tokens = auth::ParseTokenResponse(answer.body, kSentAt);
    ASSERT_TRUE(tokens.ok()) << body;
    EXPECT_GT(tokens->expires_at, kSentAt) << body;
    EXPECT_GE(tokens->refresh_expires_at, 0) << body;
  }
}

TEST(OAuthFuzzRegression, HugeRetryAfterIsCapped) {
  auto answer = auth::ReadEndpointAnswer(503, "{}", "99999999999999999999", "https://t");
  EXPECT_EQ(answer.error.error, "temporarily_unavailable");
  EXPECT_GT(answer.error.retry_after_ms, 0);
  EXPECT_LE(answer.error.retry_after_ms, 100LL * 366 * 24 * 3600 * 1000);
}

TEST(OAuthFuzzRegression, DeviceAuthorizationWithHugeNumbersParses) {
  auto body = nlohmann::json::parse(
      R"({"device_code":"d","user_code":"u","verification_uri":"https://v",)"
      R"("expires_in":"99999999999999999999","interval":"99999999999999999999"})");
  auto a = auth::ParseDeviceAuthorization(body, 5);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_GT(a->prompt.expires_in, 0);
  EXPECT_GT(a->interval_s, 0);
  EXPECT_FALSE(auth::ParseDeviceAuthorization(nlohmann::json::parse(R"({"user_code":"u"})"), 5).ok());
}

// ---- editing traces: malformed patches are corrupt, not out-of-bounds reads ---------------------

TEST(EditingTraceFuzzRegression, MalformedTracesAreCorrupt) {
  for (const char* text : {R"({"txns":[{}]})", R"({"txns":[{"patches":[[]]}]})",
                           R"({"txns":[{"patches":[[0]]}]})", R"({"txns":[{"patches":[7]}]})",
                           R"({"txns":[{"patches":[[1.5e300,0,"x"]]}]})",
                           R"({"txns":[{"patches":[[-1,0,"x"]]}]})",
                           R"({"txns":[{"patches":[[0,0,5]]}]})", R"({"txns":[], "startContent":3})",
                           R"({"txns":3})", "[]"}) {
    auto trace = trace::ParseEditingTrace(text, "t");
    ASSERT_FALSE(trace.ok()) << text;
    EXPECT_EQ(trace.status().code(), Code::kCorrupt) << text;
  }
  auto good = trace::ParseEditingTrace(
      R"({"startContent":"a","endContent":"ab","txns":[{"patches":[[1,0,"b"]]}]})", "t");
  ASSERT_TRUE(good.ok());
  ASSERT_EQ(good->patches.size(), 1u);
  EXPECT_EQ(good->patches[0].pos, 1u);
  EXPECT_EQ(good->patches[0].ins, U"b");
}

// ---- text state: a run count is checked against its columns before it sizes anything ------------

TEST(TextStateFuzzRegression, RunCountBeyondTheFlagColumnIsCorrupt) {
  // Plain: no devices, 1,000,000 runs claimed, five empty columns, then a text long enough that
  // the count passes the "no more elements than bytes" check. zstd makes it a few hundred
  // bytes; before the fix the decoder sized a vector of a million runs (64 MB) first.
  ByteWriter w;
  w.Varint(0);
  const uint64_t runs = 1'000'000;
  w.Varint(runs);
  for (int col = 0; col < 5; ++col) w.Varint(0);
  w.Str(std::string(runs, 'a'));
  const Bytes plain = w.Take();
  Bytes encoded(1 + ZSTD_compressBound(plain.size()));
  encoded[0] = 1;  // the text encoding version
  encoded.resize(1 + ZSTD_compress(encoded.data() + 1, encoded.size() - 1, plain.data(),
                                   plain.size(), 3));
  auto doc = text::TextDocument::Decode(encoded);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), Code::kCorrupt);
}

TEST(TextStateFuzzRegression, ExplicitOriginOnAnUnlistedDeviceIsCorrupt) {
  // From fuzz_text_state: an explicit origin whose device index is past the device list read
  // as {device 0, seq 6}, "none" with a seq, so the state changed across encode/decode.
  const Bytes input = {
      0x01, 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x3a, 0xd1, 0x01, 0x00, 0x02, 0x44,
      0x44, 0x33, 0x33, 0x22, 0x22, 0xe8, 0xee, 0x88, 0x88, 0x77, 0x77, 0x66,
      0x66, 0x55, 0x55, 0x04, 0x04, 0x00, 0x00, 0x01, 0x00, 0x04, 0x02, 0x00,
      0x09, 0x01, 0x04, 0x01, 0x04, 0x06, 0x06, 0x04, 0x01, 0x02, 0x0a, 0x04,
      0x02, 0x5b, 0x01, 0x10, 0x65, 0x6c, 0x6c, 0x6f, 0x2a, 0x20, 0x64, 0x65,
      0x61, 0x72, 0x20, 0x77, 0x6f, 0x72, 0x6c, 0x64,
  };
  auto doc = text::TextDocument::Decode(input);
  if (doc.ok()) {
    auto again = text::TextDocument::Decode(doc->Encode());
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(*again == *doc) << "the decoded state does not survive its own encoding";
  }
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), Code::kCorrupt);
}

TEST(TextStateFuzzRegression, OriginOnADeviceWithoutRunsIsCorrupt) {
  // From fuzz_text_state: an explicit origin on a listed device that has no run in the text.
  // Encode lists only devices with runs, so the origin came back as "none" (and the encoding
  // did not decode at all).
  const Bytes input = {
      0x01, 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x3a, 0xd1, 0x01, 0x00, 0x02, 0x44,
      0x44, 0x33, 0x33, 0x22, 0x22, 0x11, 0x11, 0x88, 0x88, 0x77, 0x77, 0x66,
      0x66, 0x55, 0x55, 0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x04, 0x0a, 0x09,
      0x00, 0x01, 0x04, 0x01, 0x04, 0x06, 0x06, 0x04, 0x01, 0x00, 0x0a, 0x04,
      0x02, 0x01, 0x00, 0x10, 0x65, 0x6c, 0x01, 0x00, 0x2c, 0x20, 0x64, 0x65,
      0x61, 0x77, 0x0a, 0x04, 0x02, 0x00, 0x55, 0x64,
  };
  auto doc = text::TextDocument::Decode(input);
  if (doc.ok()) {
    auto again = text::TextDocument::Decode(doc->Encode());
    ASSERT_TRUE(again.ok()) << "the decoded state's own encoding does not decode";
    EXPECT_TRUE(*again == *doc);
  }
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), Code::kCorrupt);
}

}  // namespace
}  // namespace jsync
