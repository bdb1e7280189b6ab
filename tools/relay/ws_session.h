// One WebSocket connection of a room: reads frames, applies the relay rules (text → 1003,
// oversize → 1009 by Beast's read_message_max, garbage → dropped and the 16th → 1008, rate
// limits → dropped and the 200th → 1008), hands sealed frames to the hub, and writes what the
// hub delivers through a bounded queue (256 frames or 4 MiB: beyond, frames for this connection
// are dropped and counted, so a slow reader never grows memory or holds up the others).
//
// Thread-safety: Deliver and Close from any thread (they post to the connection's strand);
// everything else runs on that strand.
#pragma once

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "tools/relay/frame.h"
#include "tools/relay/rate_limit.h"
#include "tools/relay/room_hub.h"

namespace jsync::relay {

inline constexpr size_t kMaxQueuedFrames = 256;
inline constexpr size_t kMaxQueuedBytes = 4u << 20;
// All connections' write queues together: many slow readers cannot pin unbounded memory.
inline constexpr size_t kMaxQueuedBytesTotal = 256u << 20;
// A connection whose queue stays full this long does not read: it is closed (1008), and its
// device reconnects and polls.
inline constexpr int64_t kMaxStalledMs = 10'000;
inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline std::atomic<size_t>& QueuedBytesTotal() {
  static std::atomic<size_t> total{0};
  return total;
}
inline constexpr int kGarbageCloseAt = 16;
inline constexpr int kRateLimitedCloseAt = 200;

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;

template <class Stream>
class WsSession : public Peer, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, RoomHub& hub, int ping_seconds)
      : ws_(std::move(stream)), hub_(hub), ping_seconds_(ping_seconds),
        bucket_(kConnectionBurst, kConnectionPerSecond) {}
  ~WsSession() override { hub_.Leave(this); }

  // Takes the room's place (or answers 429/503) and accepts the upgrade.
  void Start(http::request<http::string_body> req, const std::string& room,
             const std::string& hook) {
    const auto admission = hub_.Join(this, this->weak_from_this(), room, hook);
    if (admission != RoomHub::Admission::kOk) {
      ++hub_.counters().refused;
      auto res = std::make_shared<http::response<http::string_body>>(
          admission == RoomHub::Admission::kRoomFull ? http::status::too_many_requests
                                                     : http::status::service_unavailable,
          req.version());
      res->set(http::field::content_type, "text/plain; charset=utf-8");
      res->body() = admission == RoomHub::Admission::kRoomFull ? "room full\n" : "relay full\n";
      res->keep_alive(false);
      res->prepare_payload();
      http::async_write(ws_.next_layer(), *res,
                        [self = this->shared_from_this(), res](beast::error_code, size_t) {
                          beast::error_code ec;
                          beast::get_lowest_layer(self->ws_).socket().shutdown(
                              boost::asio::ip::tcp::socket::shutdown_both, ec);
                        });
      return;
    }
    beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over
    websocket::stream_base::timeout t;
    t.handshake_timeout = std::chrono::seconds(30);
    // Beast pings after half the idle timeout without a frame and closes after the whole.
    t.idle_timeout = std::chrono::seconds(2 * ping_seconds_);
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, "jsync-relay");
    }));
    ws_.read_message_max(kMaxFrameBytes);
    ws_.auto_fragment(false);
    ws_.binary(true);
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
      self->OnAccept(ec);
    });
  }

  void Deliver(std::shared_ptr<const std::string> frame) override {
    if (queued_frames_.load() >= kMaxQueuedFrames ||
        queued_bytes_.load() + frame->size() > kMaxQueuedBytes ||
        QueuedBytesTotal().load() + frame->size() > kMaxQueuedBytesTotal) {
      ++hub_.counters().slow_dropped;
      const int64_t now = NowMs();
      int64_t since = 0;
      if (stalled_since_.compare_exchange_strong(since, now)) return;
      if (since != 0 && now - since > kMaxStalledMs) Close(1008);
      return;
    }
    ++queued_frames_;
    queued_bytes_ += frame->size();
    QueuedBytesTotal() += frame->size();
    ++hub_.counters().frames_forwarded;
    boost::asio::post(ws_.get_executor(), [self = this->shared_from_this(), frame] {
      self->queue_.push_back(frame);
      if (self->open_ && !self->writing_ && !self->closing_) self->DoWrite();
    });
  }

  void Close(uint16_t code) override {
    boost::asio::post(ws_.get_executor(),
                      [self = this->shared_from_this(), code] { self->CloseNow(code); });
  }

 private:
  void OnAccept(beast::error_code ec) {
    if (ec) return;  // the hub place is released by the destructor
    open_ = true;
    if (pending_close_) {
      CloseNow(pending_close_);
      return;
    }
    DoRead();
    if (!queue_.empty()) DoWrite();
  }

  void DoRead() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      self->OnRead(ec, n);
    });
  }

  void OnRead(beast::error_code ec, size_t n) {
    if (ec) {
      // Beast has already sent close 1009 for a message over read_message_max.
      if (ec == websocket::error::message_too_big) ++hub_.counters().oversize;
      DropQueue();
      return;
    }
    auto& c = hub_.counters();
    if (!ws_.got_binary()) {
      ++c.text_frames;
      CloseNow(websocket::close_code::unknown_data);  // 1003
      return;
    }
    ++c.frames_in;
    const auto* bytes = static_cast<const uint8_t*>(buffer_.data().data());
    if (!IsForwardable(bytes, n)) {
      ++c.garbage;
      if (++garbage_ >= kGarbageCloseAt) {
        CloseNow(websocket::close_code::policy_error);  // 1008
        return;
      }
    } else if (!bucket_.Take() ||
               !hub_.Forward(this, std::make_shared<const std::string>(
                                       reinterpret_cast<const char*>(bytes), n))) {
      ++c.rate_limited;
      if (++rate_limited_ >= kRateLimitedCloseAt) {
        CloseNow(websocket::close_code::policy_error);
        return;
      }
    }
    buffer_.consume(buffer_.size());
    DoRead();
  }

  void DoWrite() {
    writing_ = true;
    ws_.async_write(boost::asio::buffer(*queue_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, size_t) {
                      self->OnWrite(ec);
                    });
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    --queued_frames_;
    queued_bytes_ -= queue_.front()->size();
    QueuedBytesTotal() -= queue_.front()->size();
    queue_.pop_front();
    stalled_since_ = 0;  // it reads
    if (ec || closing_) {
      DropQueue();
      return;
    }
    if (!queue_.empty()) DoWrite();
  }

  void CloseNow(uint16_t code) {
    if (!open_) {
      pending_close_ = code;  // accepted later: closed at once
      return;
    }
    if (closing_) return;
    closing_ = true;
    if (!writing_) DropQueue();
    ws_.async_close(websocket::close_reason(code),
                    [self = this->shared_from_this()](beast::error_code) {});
  }

  // Frees what is queued and not being written.
  void DropQueue() {
    const size_t keep = writing_ ? 1 : 0;
    while (queue_.size() > keep) {
      --queued_frames_;
      queued_bytes_ -= queue_.back()->size();
      QueuedBytesTotal() -= queue_.back()->size();
      queue_.pop_back();
    }
  }

  websocket::stream<Stream> ws_;
  RoomHub& hub_;
  const int ping_seconds_;
  beast::flat_buffer buffer_;
  TokenBucket bucket_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::atomic<size_t> queued_frames_{0};
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<int64_t> stalled_since_{0};  // when a frame was first dropped for a full queue
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  uint16_t pending_close_ = 0;
  int garbage_ = 0;
  int rate_limited_ = 0;
};

}  // namespace jsync::relay
