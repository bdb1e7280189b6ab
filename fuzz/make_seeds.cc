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
#include "core/format/relay_message.h"
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

void RelayFrames() {
  JournalId journal{};
  journal.fill(0x4a);
  const auto keys = Must(format::DeriveRelayKeys(fuzz::TestKey(), journal), "relay keys");
  format::RelayMessage change;
  change.type = format::RelayType::kChange;
  change.sender = kDevice;
  change.counter = 1'700'000'000'000ull << 16;
  change.seq = 3;
  change.change = Bytes(200, 0x42);
  Write("relay_frame", "change", Must(format::SealRelayMessage(keys, change), "seal relay"));
  format::RelayMessage nudge{format::RelayType::kNudge, kDevice, change.counter + 1, 9, {}, true};
  Write("relay_frame", "nudge", Must(format::SealRelayMessage(keys, nudge), "seal relay"));
  format::RelayMessage presence{format::RelayType::kPresence, kDevice, change.counter + 2, 0, {},
                                false};
  Write("relay_frame", "presence", Must(format::SealRelayMessage(keys, presence), "seal relay"));
  Write("relay_frame", "hook", Bytes{1, 2});
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

  // Microsoft Graph answers (docs/fuzzing.md: onedrive_json); the first line doubles as the
  // Retry-After, Location and Content-Range header values. The emu-* seeds beside them are
  // response_json bodies of the Graph emulator's request log (a run of OnedriveSchemaTest, its
  // links pointed at graph.microsoft.com), copied by hand: this program leaves them alone.
  Write("onedrive_json", "children", R"({"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users('x')/drive/special/approot/children","value":[{"id":"63662EEEFB6662E1!104","name":"000001.chg","size":120,"eTag":"\"{63662EEE-FB66-62E1-8000-000000000068},2\"","lastModifiedDateTime":"2026-01-29T09:21:55.523Z","file":{"mimeType":"application/octet-stream","hashes":{"quickXorHash":"AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}},{"id":"63662EEEFB6662E1!105","name":"devices","folder":{"childCount":3}}],"@odata.nextLink":"https://graph.microsoft.com/v1.0/me/drive/special/approot:/journal:/children?$top=5&$skiptoken=Paged%3dTRUE"})");
  Write("onedrive_json", "delta-page", R"({"value":[{"id":"ROOT","name":"Apps","root":{},"folder":{"childCount":1}},{"id":"J1","name":"journal","parentReference":{"id":"APPROOT","driveId":"d1"},"folder":{"childCount":2}},{"id":"F9","name":"000002.chg","size":77,"parentReference":{"id":"J1"},"file":{"hashes":{"quickXorHash":"QUJD"}}},{"id":"F3","deleted":{"state":"deleted"},"parentReference":{"id":"J1"}}],"@odata.nextLink":"https://graph.microsoft.com/v1.0/me/drive/special/approot/delta?token=page2"})");
  Write("onedrive_json", "delta-last", R"({"value":[{"id":"F9","name":"000002.chg","size":78,"parentReference":{"id":"UNKNOWN"},"file":{}}],"@odata.deltaLink":"https://graph.microsoft.com/v1.0/me/drive/special/approot/delta?token=aTE09NjM2"})");
  Write("onedrive_json", "error-throttled", "120\n" R"({"error":{"code":"activityLimitReached","message":"The request has been throttled","innerError":{"code":"throttledRequest","innerError":{"code":"x"},"date":"2026-01-01T00:00:00","request-id":"1"}}})");
  Write("onedrive_json", "error-resync", R"({"error":{"code":"resyncRequired","message":"Resync required. Replace any local items with the server's version.","innererror":{"code":"resyncChangesApplyDifferences"}}})");
  Write("onedrive_json", "drive-item", R"({"id":"01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K","name":"large.snap","size":819200,"eTag":"\"{5B5C-1},3\"","cTag":"\"c:{5B5C-1},3\"","createdDateTime":"2026-01-29T09:21:55Z","lastModifiedDateTime":"2026-01-29T09:21:55.1234567Z","parentReference":{"driveId":"b!x","driveType":"business","id":"01BYE5RZ56Y2GOVW7725BZO354PWSELRRZ","path":"/drive/root:/Apps/journal-sync/journal/snapshots"},"file":{"mimeType":"application/octet-stream","hashes":{"quickXorHash":"ZRlh0HOObSumaBeH+ts6J8Vr7rU="}},"@microsoft.graph.downloadUrl":"https://public.dm.files.1drv.com/y4m"})");
  Write("onedrive_json", "upload-session", R"({"uploadUrl":"https://sn3302.up.1drv.com/up/fe6987415ace7X4e1eF866337","expirationDateTime":"2026-01-29T09:21:55.523Z","nextExpectedRanges":["0-"]})");
  Write("onedrive_json", "session-status", "327680-655359,700000-\n" R"({"expirationDateTime":"2026-01-29T09:21:55.523Z","nextExpectedRanges":["327680-655359","700000-"]})");
  Write("onedrive_json", "drive-quota", R"({"id":"b!t18F8ybsHUq1z3LTz8xvZqP8zaSWjkFNhsME-Fepo75dTf9vQKfeRblBZjoSQrd7","driveType":"personal","quota":{"deleted":256938,"remaining":1099447353,"state":"normal","total":1099511627776,"used":64274423}})");
  Write("onedrive_json", "subscriptions", R"({"value":[{"id":"7f105c7d-2dc5-4530-97cd-4e7ae6534c07","resource":"/me/drive/special/approot","changeType":"updated","notificationUrl":"https://hook.example/x","expirationDateTime":"2026-03-01T11:23:00.000Z","clientState":"abc"}]})");
  Write("onedrive_json", "retry-after-date", "Wed, 21 Oct 2015 07:28:00 GMT\n{}");
  Write("onedrive_json", "retry-after-decimal", "2.128\n{\"error\":{\"code\":\"serviceNotAvailable\"}}");
  Write("onedrive_json", "location", "https://public.dm.files.1drv.com/y4mdownload?tempauth=x\n");
  Write("onedrive_json", "content-range", "bytes 0-9/20\ntwenty bytes of data");

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
  RelayFrames();
  States();
  TextSeeds();
  return 0;
}
