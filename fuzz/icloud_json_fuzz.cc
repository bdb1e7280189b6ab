// CloudKit Web Services answers as the iCloud plugin (mode A) reads them. The target opens the
// real plugin table over a host whose every HTTP exchange answers with the input: as a
// zones/modify answer, records/modify and records/lookup answers (put with its EXISTS check,
// get of inline bytes, an asset and parts, remove), changes/zone pages (list, changes from
// scratch and from a cursor), changes/database, assets/upload and the asset POST's receipt, and
// as an error body under CloudKit's statuses (401, 404, 409, 413, 421, 429, 500, 503) with the
// input's first line as Retry-After and Content-Range. The free readers (ReadCkError,
// ReadFileRecord, PathOfRecordName, Base64Decode) get the input too. No network.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ck_bytes.h"
#include "ck_client.h"
#include "ck_names.h"
#include "records.h"

extern "C" const jsync_provider* jsync_provider_entry(const jsync_host_info* h);

namespace {

struct StubHost {
  std::string body;
  std::string first_line;
  std::vector<int> statuses{200};
  size_t served = 0;
};

int Answer(void* ctx, const jsync_http_request*, jsync_http_response* resp, jsync_error*) {
  auto* h = static_cast<StubHost*>(ctx);
  const int status = h->statuses[std::min(h->served, h->statuses.size() - 1)];
  ++h->served;
  resp->status = status;
  if (resp->on_header != nullptr) {
    const std::string length = std::to_string(h->body.size());
    resp->on_header(resp->header_ctx, "Content-Type", "application/json; charset=UTF-8");
    resp->on_header(resp->header_ctx, "Content-Length", length.c_str());
    resp->on_header(resp->header_ctx, "Retry-After", h->first_line.c_str());
    resp->on_header(resp->header_ctx, "Content-Range", h->first_line.c_str());
  }
  if (resp->body.write != nullptr) {
    const size_t n = status >= 300 ? std::min<size_t>(h->body.size(), 64 << 10) : h->body.size();
    resp->body.write(resp->body.ctx, reinterpret_cast<const uint8_t*>(h->body.data()), n);
  }
  return JSYNC_OK;
}
void Log(void*, int, const char*) {}
int64_t Now(void*) { return 1767225600000; }  // 2026-01-01
void Random(void*, uint8_t* out, size_t len) {
  for (size_t i = 0; i < len; ++i) out[i] = static_cast<uint8_t>(i * 37);
}

struct Sinks {
  static void Emit(void*, const char*, uint64_t) {}
  static void Next(void*, const char*) {}
  static void Entry(void*, const jsync_list_entry*) {}
  static int Write(void*, const uint8_t*, size_t) { return 0; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync_icloud;
  StubHost stub;
  stub.body.assign(reinterpret_cast<const char*>(data), size);
  stub.first_line = stub.body.substr(0, std::min<size_t>(stub.body.find('\n'), 256));
  if (stub.first_line.find('\0') != std::string::npos) stub.first_line.clear();

  // The free readers.
  const nlohmann::json j = nlohmann::json::parse(stub.body, nullptr, /*allow_exceptions=*/false);
  CkError e;
  (void)ReadCkError(j, &e);
  FileRecord r;
  (void)ReadFileRecord(j, &r);
  for (const char* key : {"records", "zones"}) {
    if (j.is_object() && j.contains(key) && j[key].is_array()) {
      for (const auto& v : j[key]) {
        (void)ReadFileRecord(v, &r);
        (void)ReadCkError(v, &e);
      }
    }
  }
  (void)PathOfRecordName(stub.first_line);
  (void)Base64Decode(stub.first_line);

  const jsync_host_info info{JSYNC_PROVIDER_ABI_VERSION, "fuzz"};
  const jsync_provider* table = jsync_provider_entry(&info);
  jsync_host_services host{JSYNC_PROVIDER_ABI_VERSION,
                           sizeof(jsync_host_services),
                           &stub,
                           Answer,
                           Log,
                           Now,
                           Random,
                           Answer};
  jsync_error err{};
  jsync_instance* inst = nullptr;
  // Small thresholds: a few bytes already go to an asset, a little more into parts.
  const char* config = R"({"inline_max":"8","asset_max":"1024","page_size":"5"})";
  if (table->open(&host, "journal", config, &inst, &err) != JSYNC_OK) return 0;
  jsync_list_sink list{nullptr, Sinks::Emit, Sinks::Next, Sinks::Entry};
  jsync_get_sink get_sink{{nullptr, Sinks::Write}, nullptr};
  jsync_sink& sink = get_sink.sink;
  static const std::string big(3000, 'b');
  const auto* bytes = reinterpret_cast<const uint8_t*>(big.data());
  auto run = [&](std::vector<int> statuses, auto call) {
    stub.statuses = std::move(statuses);
    stub.served = 0;
    (void)call();
  };
  const char* cursor = R"({"db":"d1","z":"z1"})";
  for (int status : {200, 401, 404, 409, 413, 421, 429, 500, 503}) {
    run({status}, [&] { return table->list(inst, "", "", &list, &err); });
    run({status}, [&] { return table->changes(inst, "", &list, &err); });
    run({status}, [&] { return table->changes(inst, cursor, &list, &err); });
    run({200, status}, [&] { return table->changes(inst, cursor, &list, &err); });
    run({status}, [&] { return table->get(inst, "a/b", 0, UINT64_MAX, &sink, &err); });
    run({status}, [&] { return table->put(inst, "s", bytes, 4, 1, &err); });
    run({status}, [&] { return table->remove(inst, "a/b", &err); });
  }
  run({200}, [&] { return table->list(inst, "changes/", stub.body.c_str(), &list, &err); });
  run({200}, [&] { return table->changes(inst, stub.body.c_str(), &list, &err); });
  run({200, 200, 206}, [&] { return table->get(inst, "a/b", 3, 100, &sink, &err); });
  run({200, 200, 200, 206, 200, 206}, [&] { return table->get(inst, "a/b", 1000, 1100, &sink, &err); });
  // Asset and parts: assets/upload, the POST, records/modify (and the EXISTS check).
  run({200, 200, 200, 200}, [&] { return table->put(inst, "asset", bytes, 500, 1, &err); });
  run({200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200},
      [&] { return table->put(inst, "parts", bytes, big.size(), 1, &err); });
  run({200, 200}, [&] { return table->remove(inst, "parts", &err); });
  table->close(inst);
  return 0;
}
