// An OAuth server's answers: token responses, error objects (RFC 6749 §5), the device
// authorization response (RFC 8628 §3.2), and Retry-After.
#include "auth/device_flow.h"
#include "auth/token_endpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string retry_after = text.substr(0, 24);
  constexpr int64_t kSentAt = 1'700'000'000;
  for (int status : {200, 400, 503}) {
    const auth::EndpointAnswer answer =
        auth::ReadEndpointAnswer(status, text, retry_after, "https://oauth.example/token");
    if (answer.is_error()) {
      (void)auth::ClassifyTokenError(answer.error, "fuzzing");
    } else {
      (void)auth::ParseTokenResponse(answer.body, kSentAt);
      (void)auth::ParseDeviceAuthorization(answer.body, /*default_interval_s=*/5);
    }
  }
  return 0;
}
