// Writes the seed corpus of every fuzz target into DIR/<target>/ (fuzz/corpus in the source
// tree). Binary seeds come from the real encoders under the test key, so a format change is one
// re-run away: build-sanitize/fuzz/jsync_fuzz_seeds fuzz/corpus
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/format/change_file.h"
#include "core/format/device_file.h"
#include "core/format/key_file.h"
#include "core/format/op_codec.h"
#include "core/model/record_state.h"
#include "fuzz_support.h"

namespace {

using namespace jsync;
namespace fs = std::filesystem;

fs::path g_root;

void Write(const std::string& target, const std::string& name, ByteSpan bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
void Write(const std::string& target, const std::string& name, std::string_view text) {
  Write(target, name, AsBytes(text));
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "make_seeds: %s: %s\n", what, r.status().message().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

constexpr DeviceId kDevice = 0x1111222233334444;
constexpr DeviceId kOther = 0x5555666677778888;

RecordId Record(uint8_t b) {
  RecordId r{};
  r.fill(b);
  return r;
}

// One op of every kind, all made by kDevice (a change file holds one device's ops).
std::vector<Op> SampleOps() {
  std::vector<Op> ops;
  Hlc hlc = 1'700'000'000'000ull << 16;
  auto base = [&](OpKind kind, const char* field) {
    Op op;
    op.kind = kind;
    op.id = {++hlc, kDevice};
    op.collection = "entries";
    op.record = Record(7);
    op.field = field;
    return op;
  };
  Op set = base(OpKind::kSetRegister, "created_at");
  set.value = "1700000000000";
  ops.push_back(set);
  Op add = base(OpKind::kAddToSet, "tags");
  add.value = "travel";
  ops.push_back(add);
  Op remove = base(OpKind::kRemoveFromSet, "tags");
  remove.value = "travel";
  remove.observed = {add.id};
  ops.push_back(remove);
  Op ins = base(OpKind::kTextInsert, "title");
  ins.value = "héllo";
  ins.char_seq = 1;
  ops.push_back(ins);
  Op ins2 = base(OpKind::kTextInsert, "title");
  ins2.value = "!";
  ins2.char_seq = 6;
  ins2.origin_left = {kDevice, 5};
  ops.push_back(ins2);
  Op del = base(OpKind::kTextDelete, "title");
  del.ranges = {{kDevice, 2, 2}};
  ops.push_back(del);
  Op gone = base(OpKind::kDeleteRecord, "");
  gone.observed = {set.id, ins2.id};
  ops.push_back(gone);
  return ops;
}

Bytes Zstd(ByteSpan plain) {
  Bytes out(ZSTD_compressBound(plain.size()));
  out.resize(ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), 3));
  return out;
}

void ChangeFiles() {
  const auto ops = SampleOps();
  for (int with_vv = 0; with_vv < 2; ++with_vv) {
    format::ChangeHeader h;
    h.journal.fill(0x4a);
    h.device = kDevice;
    h.seq = with_vv ? 2 : 1;
    h.key_id = 0x0102030405060708;
    if (with_vv) {
      h.vv[kOther] = format::VvEntry{3, format::HeadTag{0x11, 0x22, 0x33}};
      h.vv[kOther + 1] = format::VvEntry{9, format::HeadTag{0x44}};
    }
    const std::vector<Op> some(ops.begin(), ops.begin() + (with_vv ? 7 : 2));
    const Bytes file = Must(format::SealChange(fuzz::TestKey(), h, some), "seal change");
    const std::string name = with_vv ? "seq2-vv" : "seq1";
    Write("change_file_header", name, file);
    // change_file_open: the same header, then the plaintext body.
    const auto parsed = Must(format::ParseChangeHeader(file), "parse change");
    Bytes open(file.begin(), file.begin() + static_cast<ptrdiff_t>(parsed.header_size));
    const Bytes body = Zstd(format::EncodeOps(some));
    open.insert(open.end(), body.begin(), body.end());
    Write("change_file_open", name, open);
  }
  Write("op_codec", "all-kinds", format::EncodeOps(ops));
  Write("op_codec", "one-register", format::EncodeOps({ops[0]}));
  Write("op_codec", "empty", format::EncodeOps({}));
}

void KeyFiles() {
  format::KeyFileInfo info;
  info.journal.fill(0x4a);
  info.key_id = 0x0102030405060708;
  for (uint32_t r : {1u, 8u}) {
    info.params = {10, r, 1};
    Write("key_file", "scrypt-10-r" + std::to_string(r),
          Must(format::WrapMasterKey(fuzz::TestKey(), "fuzz", info), "wrap"));
  }
  info.params = {17, 8, 1};  // the default: parsed, but too costly for the target to unwrap
  Write("key_file", "scrypt-default", Must(format::WrapMasterKey(fuzz::TestKey(), "x", info), "wrap"));
}

void DeviceFiles() {
  format::DeviceInfo info;
  info.journal.fill(0x4a);
  info.device = kDevice;
  info.key_id = 0x0102030405060708;
  info.name = "laptop";
  info.platform = "linux";
  info.created_ms = 1'700'000'000'000;
  const Bytes file = Must(format::SealDeviceFile(fuzz::TestKey(), info), "seal device");
  Write("device_file_header", "laptop", file);
  constexpr size_t kHeaderSize = 86;
  Bytes open(file.begin(), file.begin() + kHeaderSize);
  const std::string body = R"({"name":"laptop","platform":"linux","created_ms":1700000000000})";
  open.insert(open.end(), body.begin(), body.end());
  Write("device_file_open", "laptop", open);
  Bytes odd(file.begin(), file.begin() + kHeaderSize);
  const std::string odd_body = R"({"name":"ph\u00f6ne","platform":null})";
  odd.insert(odd.end(), odd_body.begin(), odd_body.end());
  Write("device_file_open", "no-platform", odd);
}

void States() {
  text::TextDocument doc;
  auto a = Must(doc.LocalInsert(kDevice, 1, 0, U"hello world"), "insert");
  auto b = Must(doc.LocalInsert(kOther, 1, 5, U", dear"), "insert");
  (void)Must(doc.LocalDelete(0, 1), "delete");
  Write("text_state", "two-devices", doc.Encode());
  Write("text_state", "empty", text::TextDocument().Encode());

  RecordState state;
  for (const Op& op : SampleOps()) {
    if (op.kind == OpKind::kDeleteRecord) continue;
    if (Status s = state.Apply(op); !s.ok()) {
      std::fprintf(stderr, "make_seeds: apply: %s\n", s.message().c_str());
      std::exit(1);
    }
  }
  Write("record_state", "entry", state.Encode());
  Write("record_state", "empty", RecordState().Encode());
  (void)a;
  (void)b;
}

void TextSeeds() {
  Write("propfind", "listing", R"(<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:">
 <d:response><d:href>/dav/j/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype>
  <d:quota-available-bytes>1000</d:quota-available-bytes><d:quota-used-bytes>24</d:quota-used-bytes>
 </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
 <d:response><d:href>/dav/j/a%20b.jchg</d:href><d:propstat><d:prop><d:resourcetype/>
  <d:getcontentlength>123</d:getcontentlength></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
  <d:propstat><d:prop><d:getetag/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>
</d:multistatus>
)");
  Write("propfind", "default-ns", R"(<multistatus xmlns="DAV:"><response><href>x</href></response></multistatus>)");
  Write("propfind", "retry-after", "Wed, 21 Oct 2015 07:28:00 GMT");

  Write("gdrive_json", "files-list", R"({"nextPageToken":"t2","files":[{"id":"1a","name":"journals/j/changes/a.jchg","size":"120","md5Checksum":"0CC175B9C0F1B6A831C399E269772661","createdTime":"2024-01-01T00:00:00.000Z","trashed":false},{"id":"2b","name":"journals/j/x","size":7,"trashed":true}]})");
  Write("gdrive_json", "changes", R"({"newStartPageToken":"99","changes":[{"fileId":"1a","removed":false,"file":{"id":"1a","name":"journals/j/keys/k.jkey","size":"136"}},{"fileId":"2","removed":true}]})");
  Write("gdrive_json", "error", R"({"error":{"code":403,"message":"Rate Limit Exceeded","errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded","location":"pageToken"}]}})");
  Write("gdrive_json", "about", R"({"storageQuota":{"limit":"16106127360","usage":"1234","usageInDrive":"0"}})");
  // Regression: a float quota (usage 1e300) was converted to uint64_t: undefined behaviour.
  Write("gdrive_json", "regression-about-float", R"({"storageQuota":{"limit":"100","usage":1e300}})");

  Write("oauth_token", "token", R"({"access_token":"ya29.a","expires_in":3599,"refresh_token":"1//r","scope":"https://www.googleapis.com/auth/drive.appdata","token_type":"Bearer","refresh_token_expires_in":"604799"})");
  Write("oauth_token", "error", R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})");
  Write("oauth_token", "device", R"({"device_code":"AH-1","user_code":"GQVQ-JKEC","verification_url":"https://www.google.com/device","expires_in":"1800","interval":5})");

  Write("local_http_request", "redirect",
        "GET /callback?code=4%2F0Ab&state=xyz+1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        "User-Agent: browser\r\n\r\n");
  Write("local_http_request", "form-keepalive",
        "POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 29\r\n\r\ngrant_type=refresh_token&a=b"
        "\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n");
  Write("local_http_request", "chunked",
        "PUT /upload/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n");

  // Regression: a txn without "patches" and an empty patch were unchecked reads.
  Write("editing_trace", "regression-no-patches", R"({"txns":[{},{"patches":[[]]}]})");
  Write("editing_trace", "small", R"({"startContent":"","endContent":"hi!","txns":[{"time":"2021-04-19T06:06:58.219Z","patches":[[0,0,"hx"],[1,1,"i"]]},{"patches":[[2,0,"!"]]}]})");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (fuzz/corpus)\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  ChangeFiles();
  KeyFiles();
  DeviceFiles();
  States();
  TextSeeds();
  return 0;
}
