#include "tools/relay/room_hub.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "tools/relay/frame.h"

namespace jsync::relay {
namespace {
constexpr auto kNudgeWindow = std::chrono::milliseconds(250);
constexpr size_t kInstanceIdBytes = 16;
}  // namespace

std::string RoomChannel(const std::string& room) { return "jsync:room:" + room; }
std::string HookChannel(const std::string& hook) { return "jsync:hook:" + hook; }

RoomHub::RoomHub(size_t max_connections, size_t max_per_room, Scheduler scheduler)
    : max_connections_(max_connections),
      max_per_room_(max_per_room),
      scheduler_(std::move(scheduler)),
      nudge_frame_(std::make_shared<const std::string>(kHookNudgeFrame)) {}

void RoomHub::SetBus(Bus* bus, std::string instance_id) {
  std::lock_guard lock(mu_);
  bus_ = bus;
  instance_id_ = std::move(instance_id);
}

RoomHub::Admission RoomHub::Join(Peer* key, std::weak_ptr<Peer> peer, const std::string& room,
                                 const std::string& hook) {
  std::lock_guard lock(mu_);
  if (members_.size() >= max_connections_) return Admission::kServerFull;
  auto it = rooms_.find(room);
  if (it != rooms_.end() && it->second.members.size() >= max_per_room_) return Admission::kRoomFull;
  if (it == rooms_.end()) {
    it = rooms_.emplace(room, Room{}).first;
    if (bus_) bus_->Subscribe(RoomChannel(room));
  }
  it->second.members.insert(key);
  if (!hook.empty()) {
    auto& registrants = hooks_[hook];
    if (registrants.empty() && bus_) bus_->Subscribe(HookChannel(hook));
    registrants.insert(key);
  }
  members_[key] = Member{std::move(peer), room, hook};
  return Admission::kOk;
}

void RoomHub::Leave(Peer* key) {
  std::lock_guard lock(mu_);
  auto m = members_.find(key);
  if (m == members_.end()) return;
  auto r = rooms_.find(m->second.room);
  if (r != rooms_.end()) {
    r->second.members.erase(key);
    if (r->second.members.empty()) {
      if (bus_) bus_->Unsubscribe(RoomChannel(r->first));
      rooms_.erase(r);
    }
  }
  if (!m->second.hook.empty()) {
    auto h = hooks_.find(m->second.hook);
    if (h != hooks_.end()) {
      h->second.erase(key);
      if (h->second.empty()) {
        if (bus_) bus_->Unsubscribe(HookChannel(h->first));
        hooks_.erase(h);
      }
    }
  }
  members_.erase(m);
}

bool RoomHub::Forward(Peer* from, std::shared_ptr<const std::string> frame) {
  std::vector<std::shared_ptr<Peer>> to;
  {
    std::lock_guard lock(mu_);
    auto m = members_.find(from);
    if (m == members_.end()) return true;  // leaving: nothing to do, nothing to count
    auto r = rooms_.find(m->second.room);
    if (r == rooms_.end()) return true;
    if (!r->second.bucket.Take()) return false;
    for (Peer* p : r->second.members) {
      if (p == from) continue;
      auto other = members_.find(p);
      if (other == members_.end()) continue;
      if (auto sp = other->second.peer.lock()) to.push_back(std::move(sp));
    }
    if (bus_) bus_->Publish(RoomChannel(r->first), instance_id_ + *frame);
  }
  DeliverAll(to, frame);
  return true;
}

void RoomHub::OnBusMessage(const std::string& channel, const std::string& payload) {
  if (payload.size() < kInstanceIdBytes) return;
  std::vector<std::shared_ptr<Peer>> to;
  std::shared_ptr<const std::string> frame;
  {
    std::lock_guard lock(mu_);
    if (payload.compare(0, kInstanceIdBytes, instance_id_) == 0) return;  // our own
    static const std::string kRoom = "jsync:room:", kHook = "jsync:hook:";
    if (channel.rfind(kRoom, 0) == 0) {
      const auto* bytes = reinterpret_cast<const uint8_t*>(payload.data()) + kInstanceIdBytes;
      if (!IsForwardable(bytes, payload.size() - kInstanceIdBytes)) return;
      auto r = rooms_.find(channel.substr(kRoom.size()));
      if (r == rooms_.end()) return;
      for (Peer* p : r->second.members) {
        auto m = members_.find(p);
        if (m == members_.end()) continue;
        if (auto sp = m->second.peer.lock()) to.push_back(std::move(sp));
      }
      frame = std::make_shared<const std::string>(payload.substr(kInstanceIdBytes));
    } else if (channel.rfind(kHook, 0) == 0) {
      // The sending instance coalesced already.
      to = HookPeersLocked(channel.substr(kHook.size()));
      frame = nudge_frame_;
    } else {
      return;
    }
  }
  DeliverAll(to, frame);
}

std::vector<std::shared_ptr<Peer>> RoomHub::HookPeersLocked(const std::string& hook) const {
  std::vector<std::shared_ptr<Peer>> to;
  auto h = hooks_.find(hook);
  if (h == hooks_.end()) return to;
  for (Peer* p : h->second) {
    auto m = members_.find(p);
    if (m == members_.end()) continue;
    if (auto sp = m->second.peer.lock()) to.push_back(std::move(sp));
  }
  return to;
}

void RoomHub::SendNudgeLocked(const std::string& hook, std::vector<std::shared_ptr<Peer>>* to) {
  *to = HookPeersLocked(hook);
  if (bus_) bus_->Publish(HookChannel(hook), instance_id_ + *nudge_frame_);
}

void RoomHub::Nudge(const std::string& hook) {
  std::vector<std::shared_ptr<Peer>> to;
  {
    std::lock_guard lock(mu_);
    auto [w, fresh] = windows_.try_emplace(hook);
    if (!fresh) {
      w->second.pending = true;  // sent at the window's end
      return;
    }
    w->second.sent = Clock::now();
    SendNudgeLocked(hook, &to);
  }
  scheduler_(kNudgeWindow, [this, hook] { WindowEnds(hook); });
  DeliverAll(to, nudge_frame_);
}

void RoomHub::WindowEnds(const std::string& hook) {
  std::vector<std::shared_ptr<Peer>> to;
  {
    std::lock_guard lock(mu_);
    auto w = windows_.find(hook);
    if (w == windows_.end()) return;
    if (!w->second.pending) {
      windows_.erase(w);  // only hooks nudged in the last 250 ms are remembered
      return;
    }
    w->second.pending = false;
    w->second.sent = Clock::now();
    SendNudgeLocked(hook, &to);
  }
  scheduler_(kNudgeWindow, [this, hook] { WindowEnds(hook); });
  DeliverAll(to, nudge_frame_);
}

void RoomHub::DeliverAll(const std::vector<std::shared_ptr<Peer>>& to,
                         const std::shared_ptr<const std::string>& frame) {
  for (const auto& p : to) p->Deliver(frame);
}

void RoomHub::CloseAll(uint16_t code) {
  std::vector<std::shared_ptr<Peer>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, m] : members_)
      if (auto sp = m.peer.lock()) all.push_back(std::move(sp));
  }
  for (const auto& p : all) p->Close(code);
}

size_t RoomHub::connections() const {
  std::lock_guard lock(mu_);
  return members_.size();
}

std::string RoomHub::StatsJson() const {
  nlohmann::json j;
  {
    std::lock_guard lock(mu_);
    j["connections"] = members_.size();
    j["rooms"] = rooms_.size();
    j["hook_ids"] = hooks_.size();
  }
  const auto& c = counters_;
  j["frames_in"] = c.frames_in.load();
  j["frames_forwarded"] = c.frames_forwarded.load();
  j["garbage"] = c.garbage.load();
  j["oversize"] = c.oversize.load();
  j["text_frames"] = c.text_frames.load();
  j["rate_limited"] = c.rate_limited.load();
  j["hooks"] = c.hooks.load();
  j["slow_dropped"] = c.slow_dropped.load();
  j["refused"] = c.refused.load();
  j["redis_connected"] = bus_ != nullptr && bus_->connected();
  j["redis_published"] = bus_ ? bus_->published() : 0;
  j["redis_received"] = bus_ ? bus_->received() : 0;
  j["redis_dropped"] = bus_ ? bus_->dropped() : 0;
  return j.dump();
}

}  // namespace jsync::relay
