#include "live/relay_session.h"

#include <algorithm>

#include "core/util/bytes.h"
#include "core/util/escape.h"

namespace jsync::live {

RelaySession::RelaySession(RelaySessionOptions options, format::RelayKeys keys, DeviceId self,
                           Log log)
    : options_(std::move(options)),
      keys_(std::move(keys)),
      self_(self),
      log_(std::move(log)),
      rng_(options_.seed) {
  if (options_.urls.empty()) connect_due_ = INT64_MAX;
}

RelaySession::~RelaySession() = default;

const std::string& RelaySession::url() const {
  static const std::string none;
  return options_.urls.empty() ? none : options_.urls[current_url_];
}

int64_t RelaySession::next_due() const {
  if (!client_) return connect_due_;
  int64_t due = options_.presence ? presence_due_ : INT64_MAX;
  for (const auto& [device, at] : online_) due = std::min(due, at + 3 * options_.presence_every_ms + 1);
  return due;
}

int RelaySession::fd() const { return client_ ? client_->ready_fd() : -1; }

void RelaySession::Tick(int64_t now, uint64_t wall_ms) {
  if (!client_ && now >= connect_due_) Connect(now, wall_ms);
  if (client_ && options_.presence && now >= presence_due_) {
    format::RelayMessage m;
    m.type = format::RelayType::kPresence;
    m.online = true;
    Send(std::move(m), wall_ms);
    presence_due_ = now + options_.presence_every_ms;
    reannounce_after_ = now + 5'000;
  }
}

void RelaySession::Connect(int64_t now, uint64_t wall_ms) {
  current_url_ = next_url_;
  next_url_ = (next_url_ + 1) % options_.urls.size();  // the next attempt, if this one fails
  std::string base = options_.urls[current_url_];
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string target = base + "/v1/room/" + ToHex(keys_.room) + "?hook=" + ToHex(keys_.hook);
  net::WsClientOptions o;
  o.connect_timeout_ms = options_.connect_timeout_ms;
  o.ca_file = options_.ca_file;
  o.max_message_bytes = format::kRelayMaxFrame;
  o.close_timeout_ms = 300;  // a dropped link must not hold up local edits
  auto client = net::WsClient::Connect(target, o);
  if (!client.ok()) {
    Dropped(now, "cannot reach relay " + EscapeForDisplay(base) + ": " + client.status().message());
    return;
  }
  client_ = std::move(client).value();
  heard_.clear();
  log_("relay: connected to " + EscapeForDisplay(base));
  failures_ = 0;
  // A drop moves on to the next relay (another instance of the same room, through Redis).
  next_url_ = (current_url_ + 1) % options_.urls.size();
  presence_due_ = now;  // announce at once
  Tick(now, wall_ms);
}

void RelaySession::Dropped(int64_t now, const std::string& why) {
  client_.reset();
  online_.clear();
  heard_.clear();
  ++failures_;
  const int shift = std::min(failures_ - 1, 16);
  const int64_t cap = std::min(options_.reconnect_max_ms, options_.reconnect_min_ms << shift);
  std::uniform_int_distribution<int64_t> d(cap / 2, cap);
  const int64_t wait = d(rng_);
  connect_due_ = now + wait;
  // Say it once per outage, not once per attempt.
  if (failures_ == 1 || failures_ % 10 == 0) {
    log_("relay: " + why + "; retrying in " + std::to_string((wait + 999) / 1000) +
         " s (polling covers the gap)");
  }
}

std::vector<RelayEvent> RelaySession::Drain(int64_t now, uint64_t wall_ms) {
  std::vector<RelayEvent> events;
  if (!client_) return events;
  for (;;) {
    auto got = client_->Receive(0);
    if (!got.ok()) {
      Dropped(now, "relay " + EscapeForDisplay(url()) + " went away: " + got.status().message());
      return events;
    }
    if (!got->has_value()) break;
    const Bytes& frame = **got;
    if (format::IsHookFrame(frame)) {
      events.push_back({RelayEvent::kHook, {}});
      continue;
    }
    auto opened = format::OpenRelayFrame(keys_, frame);
    if (!opened.ok() || opened->sender == self_ ||
        !guard_.Accept(opened->sender, opened->counter, wall_ms)) {
      ++refused_;
      if (!said_refused_) {
        said_refused_ = true;
        log_("relay: dropped a frame that is not an authentic, fresh message of this journal "
             "(further ones are counted, not logged)");
      }
      continue;
    }
    RelayEvent ev;
    ev.message = std::move(opened).value();
    // A device heard from for the first time since this connection may have joined after our
    // announcement: announce again (at most every few seconds), so presence needs no polling.
    if (options_.presence && heard_.insert(ev.message.sender).second) {
      presence_due_ = std::min(presence_due_, std::max(now, reannounce_after_));
    }
    switch (ev.message.type) {
      case format::RelayType::kNudge:
        ev.kind = RelayEvent::kNudge;
        break;
      case format::RelayType::kChange:
        ev.kind = RelayEvent::kChange;
        break;
      case format::RelayType::kPresence:
        ev.kind = RelayEvent::kPresence;
        if (ev.message.online) {
          online_[ev.message.sender] = now;
        } else {
          online_.erase(ev.message.sender);
        }
        break;
    }
    events.push_back(std::move(ev));
  }
  return events;
}

void RelaySession::Send(format::RelayMessage message, uint64_t wall_ms) {
  if (!client_) return;
  message.sender = self_;
  message.counter = counter_.Next(wall_ms);
  auto frame = format::SealRelayMessage(keys_, message);
  if (!frame.ok()) return;
  // A full send queue or a closed socket is noticed by the next Drain; the poll covers it.
  (void)client_->Send(std::move(frame).value());
}

void RelaySession::Close(uint64_t wall_ms) {
  if (!client_) return;
  if (options_.presence) {
    format::RelayMessage m;
    m.type = format::RelayType::kPresence;
    m.online = false;
    Send(std::move(m), wall_ms);
  }
  client_->Close(1001);
  client_.reset();
}

std::vector<DeviceId> RelaySession::Online(int64_t now) const {
  std::vector<DeviceId> out;
  for (const auto& [device, at] : online_) {
    if (now - at <= 3 * options_.presence_every_ms) out.push_back(device);
  }
  return out;
}

}  // namespace jsync::live
