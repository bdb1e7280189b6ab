// Microsoft Graph's answers as the OneDrive plugin reads them. The plugin reads most of its
// JSON inside the slots, so the target opens the real plugin table over a host whose every HTTP
// exchange answers with the input: as a children page (list), a page token (list), delta pages
// (changes, from scratch and from a cursor, with the id lookups they make), a quota
// (/me/drive), subscription answers (watch), a driveItem and a download (get, put's same-bytes
// check), upload-session answers (uploadUrl, nextExpectedRanges), and as an error body under
// 4xx/5xx statuses with the input's first line as Retry-After, Location and Content-Range. The
// plugin's free parsers (ParseGraphError, ParseItem, ParseGraphTime, NextExpectedStart,
// OriginOf) get the input too. No network: the host here is a stub.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graph_client.h"
#include "items.h"
#include "onedrive_names.h"

extern "C" const jsync_provider* jsync_provider_entry(const jsync_host_info* h);

namespace {

// The stub host: request i of a slot call answers statuses[min(i, size - 1)] with the input.
struct StubHost {
  std::string body;
  std::string first_line;  // Retry-After, Location, Content-Range
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
    resp->on_header(resp->header_ctx, "Content-Type", "application/json");
    resp->on_header(resp->header_ctx, "Content-Length", length.c_str());
    resp->on_header(resp->header_ctx, "Retry-After", h->first_line.c_str());
    resp->on_header(resp->header_ctx, "Location", h->first_line.c_str());
    resp->on_header(resp->header_ctx, "Content-Range", h->first_line.c_str());
  }
  if (resp->body.write != nullptr) {
    // An error document reaches the plugin cut at 64 KiB, as the host passes it.
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
  using namespace jsync_onedrive;
  StubHost stub;
  stub.body.assign(reinterpret_cast<const char*>(data), size);
  stub.first_line = stub.body.substr(0, std::min<size_t>(stub.body.find('\n'), 256));
  if (stub.first_line.find('\0') != std::string::npos) stub.first_line.clear();

  // The free parsers.
  const GraphError e = ParseGraphError(stub.body);
  (void)e.Has("resyncRequired");
  const nlohmann::json j = nlohmann::json::parse(stub.body, nullptr, /*allow_exceptions=*/false);
  Item item;
  (void)ParseItem(&j, &item);
  if (j.is_object() && j.contains("value") && j["value"].is_array()) {
    for (const auto& v : j["value"]) (void)ParseItem(&v, &item);
  }
  (void)ParseGraphTime(stub.first_line);
  std::vector<std::string> ranges;
  for (size_t at = 0; at <= stub.first_line.size() && ranges.size() < 8;) {
    const size_t comma = stub.first_line.find(',', at);
    ranges.push_back(stub.first_line.substr(at, comma == std::string::npos ? comma : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  uint64_t start = 0;
  (void)NextExpectedStart(ranges, 1 << 20, &start);
  (void)OriginOf(stub.first_line);
  (void)DecodeName(stub.first_line);
  jsync_plugin::Response response;
  response.headers.emplace_back("retry-after", stub.first_line);
  (void)RetryAfterMs(response, 0);

  // The slots over the stub host.
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
  // Personal: no /me/drive lookup before delta; small objects go through an upload session.
  const char* config = R"({"drive_type":"personal","simple_upload_max":"8","page_size":"5"})";
  if (table->open(&host, "journal", config, &inst, &err) != JSYNC_OK) return 0;
  jsync_list_sink list{nullptr, Sinks::Emit, Sinks::Next, Sinks::Entry};
  // A version-2+ host hands get() a jsync_get_sink (here without the size callback).
  jsync_get_sink get_sink{{nullptr, Sinks::Write}, nullptr};
  jsync_sink& sink = get_sink.sink;
  const uint8_t bytes[] = "twenty bytes of data";
  auto run = [&](std::vector<int> statuses, auto call) {
    stub.statuses = std::move(statuses);
    stub.served = 0;
    (void)call();
  };
  const char* cursor = "https://graph.microsoft.com/v1.0/me/drive/special/approot/delta?token=1";
  for (int status : {200, 404, 410, 429, 500}) {
    run({status}, [&] { return table->list(inst, "", "", &list, &err); });
    run({status}, [&] { return table->changes(inst, "", &list, &err); });
    run({200, status}, [&] { return table->changes(inst, cursor, &list, &err); });
    run({status}, [&] { return table->quota(inst, &start, &start, &err); });
  }
  run({200}, [&] { return table->list(inst, "changes/", stub.body.c_str(), &list, &err); });
  run({200, 201}, [&] { return table->watch(inst, "https://hook.example/x", &err); });
  run({404, 201}, [&] { return table->watch(inst, "https://hook.example/x", &err); });
  run({200}, [&] { return table->get(inst, "a/b", 3, 100, &sink, &err); });
  run({206}, [&] { return table->get(inst, "a/b", 3, 100, &sink, &err); });
  run({302, 200}, [&] { return table->get(inst, "a/b", 0, UINT64_MAX, &sink, &err); });
  run({302, 403, 302, 206}, [&] { return table->get(inst, "a/b", 5, 10, &sink, &err); });
  run({409, 200, 302, 200}, [&] { return table->put(inst, "s", bytes, 6, 1, &err); });
  run({201}, [&] { return table->put(inst, "s", bytes, 6, 1, &err); });
  // Session: folder, createUploadSession, fragments and status queries.
  run({201, 200, 202, 200, 416, 200, 201},
      [&] { return table->put(inst, "big", bytes, sizeof bytes - 1, 1, &err); });
  run({201, 200, 503}, [&] { return table->put(inst, "big2", bytes, sizeof bytes - 1, 1, &err); });
  run({200, 202, 200, 201},
      [&] { return table->put(inst, "big2", bytes, sizeof bytes - 1, 1, &err); });
  run({409}, [&] { return table->remove(inst, "a/b", &err); });
  table->close(inst);
  return 0;
}
