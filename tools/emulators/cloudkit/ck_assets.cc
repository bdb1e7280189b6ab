// Assets (icloud.md §5.1): assets/upload hands out upload URLs on the emulator host (valid
// --asset-url-lifetime), a raw POST there stores the bytes and answers {"singleFile":{…}} with
// a one-use receipt that records/modify turns into the field's asset; fetched records carry a
// pre-authenticated, expiring downloadURL with the literal ${f} placeholder. Downloads honour
// Range. The fileChecksum is base64(0x01 + SHA-1(bytes)): equal for equal content, as Apple's.
#include <openssl/evp.h>

#include <vector>

#include "core/crypto/primitives.h"
#include "tools/emulators/cloudkit/ck_api.h"
#include "tools/emulators/cloudkit/ck_errors.h"
#include "tools/emulators/cloudkit/ck_ids.h"
#include "tools/emulators/common/numbers.h"
#include "tools/emulators/common/util.h"

namespace jsync::emulator::cloudkit {

using net::LocalRequest;
using net::LocalResponse;
using nlohmann::json;

namespace {

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Sha1(const std::string& bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &len, EVP_sha1(), nullptr);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string RandomBytes(size_t n) {
  std::vector<uint8_t> b(n);
  crypto::RandomBytes(b);
  return std::string(b.begin(), b.end());
}

// "bytes=A-B", "bytes=A-", "bytes=-N" against `size`: false when absent or not one range
// (then the whole file is sent); *satisfiable false for a range past the end.
bool ParseRange(const std::string& h, int64_t size, int64_t* first, int64_t* last,
                bool* satisfiable) {
  if (h.rfind("bytes=", 0) != 0 || h.find(',') != std::string::npos) return false;
  const std::string spec = h.substr(6);
  const size_t dash = spec.find('-');
  if (dash == std::string::npos) return false;
  const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  int64_t x = 0, y = 0;
  *satisfiable = true;
  if (a.empty()) {
    if (!ParseDecimal(b, &y) || y == 0) return false;
    *first = y >= size ? 0 : size - y;
    *last = size - 1;
  } else {
    if (!ParseDecimal(a, &x)) return false;
    if (!b.empty() && (!ParseDecimal(b, &y) || y < x)) return false;
    *first = x;
    *last = b.empty() || y >= size ? size - 1 : y;
  }
  if (size == 0 || *first >= size) *satisfiable = false;
  return true;
}

}  // namespace

std::string CloudKitApi::DownloadUrl(const CkAsset& a) const {
  // Rounded up: the URL works at least --asset-url-lifetime seconds.
  const std::string e = std::to_string((NowMs() + 999) / 1000 + options_.asset_url_lifetime_s);
  const std::string sig = Sign("dl|" + a.id + "|" + e);
  return base_url_ + "/_download/" + a.id + "/${f}?e=" + e + "&o=" + sig.substr(sig.rfind('.') + 1);
}

LocalResponse CloudKitApi::AssetsUpload(Call& c) {
  const json& tokens = c.body.contains("tokens") ? c.body["tokens"] : json();
  if (!tokens.is_array() || tokens.empty())
    return CkError(400, "BAD_REQUEST", "tokens is required (1 to 200 of them)");
  if (tokens.size() > 200) return CkError(400, "BAD_REQUEST", "at most 200 tokens per request");
  const std::string zone_name =
      c.body.contains("zoneID") ? ZoneNameOf(c.body["zoneID"]) : std::string(kDefaultZone);
  std::lock_guard lock(mu_);
  if (!state_->LiveZone(c.db, zone_name))
    return CkError(404, "ZONE_NOT_FOUND", "Zone '" + zone_name + "' does not exist");
  json out = json::array();
  const int64_t expires = NowMs() + options_.asset_url_lifetime_s * 1000;
  for (const auto& t : tokens) {
    const std::string record = t.is_object() ? t.value("recordName", "") : "";
    const std::string field = t.is_object() ? t.value("fieldName", "") : "";
    if (field.empty()) return CkError(400, "BAD_REQUEST", "each token needs a fieldName");
    const std::string id = RandomString(40);
    uploads_[id] = UploadSlot{c.db, zone_name, record, field, expires};
    out.push_back({{"recordName", record}, {"fieldName", field}, {"url", base_url_ + "/_upload/" + id}});
  }
  return CkJson(200, {{"tokens", out}});
}

LocalResponse CloudKitApi::UploadAsset(const LocalRequest& req, const std::string& id) {
  if (req.method != "POST" && req.method != "PUT")
    return CkError(400, "BAD_REQUEST", "POST the asset's bytes to the upload URL");
  std::lock_guard lock(mu_);
  auto it = uploads_.find(id);
  if (it == uploads_.end()) return CkError(404, "NOT_FOUND", "unknown upload URL");
  if (it->second.expires_ms < NowMs()) {
    uploads_.erase(it);
    return CkError(403, "ACCESS_DENIED", "the upload URL has expired; ask assets/upload again");
  }
  const int64_t size = static_cast<int64_t>(req.body.size());
  if (size > options_.asset_max_bytes)
    return CkError(413, "BAD_REQUEST",
                   "asset too large: " + std::to_string(size) + " bytes, at most " +
                       std::to_string(options_.asset_max_bytes));
  state_->CollectOrphans(options_.asset_url_lifetime_s * 1000);
  if (options_.quota > 0 && state_->UsedBytes() + size > options_.quota)
    return CkError(413, "QUOTA_EXCEEDED", "iCloud storage is full");
  uploads_.erase(it);
  CkAsset a;
  a.id = RandomString(32, "0123456789abcdef");
  a.size = size;
  a.checksum = Base64(std::string(1, '\x01') + Sha1(req.body));
  a.wrapping_key = Base64(RandomBytes(32));
  a.reference_checksum = Base64(std::string(1, '\x01') + Sha1(a.wrapping_key + a.checksum));
  const std::string receipt = "Rc" + RandomString(46);
  a.receipt_hash = HexSha256(receipt);
  a.created_ms = NowMs();
  if (auto st = state_->PutAsset(a, &req.body); !st.ok())
    return CkError(500, "INTERNAL_ERROR", st.message());
  return CkJson(200, {{"singleFile",
                       {{"wrappingKey", a.wrapping_key},
                        {"fileChecksum", a.checksum},
                        {"receipt", receipt},
                        {"referenceChecksum", a.reference_checksum},
                        {"size", a.size}}}});
}

LocalResponse CloudKitApi::DownloadAsset(const LocalRequest& req, const std::string& rest) {
  if (req.method != "GET" && req.method != "HEAD")
    return CkError(400, "BAD_REQUEST", "download URLs take GET");
  const std::string id = rest.substr(0, rest.find('/'));
  const std::string e = req.QueryParam("e");
  const std::string sig = Sign("dl|" + id + "|" + e);
  if (req.QueryParam("o") != sig.substr(sig.rfind('.') + 1))
    return CkError(403, "ACCESS_DENIED", "this download URL is not valid");
  int64_t expires = 0;
  if (!ParseDecimal(e, &expires) || expires * 1000 < NowMs())
    return CkError(403, "ACCESS_DENIED", "this download URL has expired; look the record up again");
  std::string bytes;
  {
    std::lock_guard lock(mu_);
    if (!state_->ReadAsset(id, &bytes)) return CkError(404, "NOT_FOUND", "no such asset");
  }
  const int64_t size = static_cast<int64_t>(bytes.size());
  LocalResponse r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  r.headers.emplace_back("Accept-Ranges", "bytes");
  int64_t first = 0, last = size - 1;
  bool satisfiable = true;
  if (ParseRange(req.Header("range"), size, &first, &last, &satisfiable)) {
    if (!satisfiable) {
      LocalResponse bad = CkError(416, "BAD_REQUEST", "requested range not satisfiable");
      bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      return bad;
    }
    r.status = 206;
    r.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" +
                                                std::to_string(last) + "/" + std::to_string(size));
    bytes = bytes.substr(static_cast<size_t>(first), static_cast<size_t>(last - first + 1));
  }
  if (req.method != "HEAD") r.body = std::move(bytes);
  return r;
}

}  // namespace jsync::emulator::cloudkit
