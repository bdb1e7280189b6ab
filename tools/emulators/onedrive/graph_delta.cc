// delta: a change feed over a folder ([P]) or the root only ([B]). Cursors are signed and
// encode positions in the change log: "d|seq|issued" (a deltaLink: changes after seq) and
// "n|from|to|offset|issued" (a nextLink: page `offset` of the round over (from, to]). A round's
// membership depends only on the log up to `to`, so pages never skip or repeat an item; entries
// show each item's latest state, parents before children.
#include <algorithm>
#include <set>
#include <sstream>

#include "tools/emulators/common/numbers.h"
#include "tools/emulators/common/util.h"
#include "tools/emulators/onedrive/graph_api.h"
#include "tools/emulators/onedrive/graph_errors.h"

namespace jsync::emulator::onedrive {

using net::LocalRequest;
using net::LocalResponse;

namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) out.push_back(part);
  return out;
}

}  // namespace

LocalResponse GraphApi::Delta(const Call& c, const Address& a) {
  const LocalRequest& req = *c.req;
  std::set<std::string> select;
  if (auto e = ParseSelect(req, &select)) return *e;
  int64_t top = options_.page_size;
  const std::string top_text = req.QueryParam("$top");
  if (!top_text.empty() && (!ParseDecimal(top_text, &top) || top < 1 || top > 1000))
    return GraphError(400, "invalidRequest", "Invalid $top value: " + top_text);
  const std::string token = a.has_token_fn ? a.delta_token : req.QueryParam("token");
  // The address the links point at (the path as requested, without the function form).
  std::string link_path = req.target.substr(0, req.target.find('?'));
  if (a.has_token_fn) link_path = link_path.substr(0, link_path.rfind("/delta(")) + "/delta";
  const std::string link_base = base_url_ + link_path;

  std::lock_guard lock(mu_);
  Resolved r;
  if (auto e = Resolve(c, a, &r)) return *e;
  if (r.item == nullptr) return GraphError(404, "itemNotFound", "Item not found");
  if (!r.item->folder) return GraphError(400, "invalidRequest", "delta needs a folder.");
  if (options_.business && r.item->id != state_->root_id())
    return GraphError(400, "notSupported", "view.delta can only be called on the root.");
  const std::string scope = r.item->id;

  auto resync = [&] {
    LocalResponse gone = GraphError(
        410, "resyncRequired",
        "Resync required. Replace any local items with the server's version (including "
        "deletes) if you're sure that the service was up to date with your local changes when "
        "you last sync'd. Upload any local changes that the server doesn't know about.");
    gone.headers.emplace_back("Location", link_base);
    return gone;
  };
  // Graph keeps $top and $select in the links it hands back.
  std::string extra;
  if (!top_text.empty()) extra += "&$top=" + top_text;
  if (!req.QueryParam("$select").empty())
    extra += "&$select=" + net::PercentEncode(req.QueryParam("$select"));
  const int64_t now = NowMs();
  int64_t from = 0, to = state_->last_seq(), offset = 0;
  bool scratch = token.empty();  // a round from scratch: every live item, no tombstones
  if (token == "latest") {
    return GraphJson(
        200, {{"value", nlohmann::json::array()},
              {"@odata.deltaLink",
               link_base + "?token=" + Sign("d|" + std::to_string(to) + "|" + std::to_string(now)) +
                   extra}});
  }
  if (!token.empty()) {
    std::string payload;
    if (!Verify(token, &payload))
      return GraphError(400, "invalidRequest", "The delta token is not valid.");
    const auto parts = Split(payload, '|');
    int64_t issued = 0;
    bool ok = false;
    if (parts.size() == 3 && parts[0] == "d") {
      ok = ParseDecimal(parts[1], &from) && ParseDecimal(parts[2], &issued);
    } else if (parts.size() == 5 && (parts[0] == "n" || parts[0] == "s")) {
      scratch = parts[0] == "s";
      ok = ParseDecimal(parts[1], &from) && ParseDecimal(parts[2], &to) &&
           ParseDecimal(parts[3], &offset) && ParseDecimal(parts[4], &issued);
    }
    if (!ok || from > state_->last_seq())
      return GraphError(400, "invalidRequest", "The delta token is not valid.");
    if (now - issued > options_.delta_token_ttl_s * 1000) return resync();
  }
  if (TakeArmed(FaultKind::kResync)) return resync();

  // The round's members: every live item under the scope (from scratch), or the items changed
  // in (from, to] and their ancestors up to the scope.
  std::set<std::string> ids;
  if (scratch) {
    for (const auto& ch : state_->changes()) {
      if (ch.seq > to) break;
      if (state_->Find(ch.item_id) != nullptr && state_->IsWithin(ch.item_id, scope))
        ids.insert(ch.item_id);
    }
    if (state_->Find(scope) != nullptr) ids.insert(scope);
  } else {
    for (const auto& ch : state_->changes()) {
      if (ch.seq <= from) continue;
      if (ch.seq > to) break;
      if (!state_->IsWithin(ch.item_id, scope)) continue;
      // A page set built from scratch lists only live items; a deleted one there was created
      // and deleted inside the round: still reported, as the service does.
      ids.insert(ch.item_id);
      const GraphItem* at = state_->FindAny(ch.item_id);
      while (at != nullptr && at->id != scope && !at->parent_id.empty()) {
        at = state_->FindAny(at->parent_id);
        if (at != nullptr && !at->deleted) ids.insert(at->id);
      }
    }
  }
  std::vector<std::pair<int, std::string>> ordered;
  for (const auto& id : ids) ordered.emplace_back(state_->Depth(id), id);
  std::sort(ordered.begin(), ordered.end());

  nlohmann::json value = nlohmann::json::array();
  for (int64_t i = offset; i < static_cast<int64_t>(ordered.size()) && i < offset + top; ++i) {
    const GraphItem* item = state_->FindAny(ordered[static_cast<size_t>(i)].second);
    if (item != nullptr) value.push_back(ItemJson(*item, select, true, false));
  }
  nlohmann::json body = {{"value", value}};
  if (offset + top < static_cast<int64_t>(ordered.size())) {
    const std::string cursor = std::string(scratch ? "s|" : "n|") + std::to_string(from) + "|" +
                               std::to_string(to) + "|" + std::to_string(offset + top) + "|" +
                               std::to_string(now);
    body["@odata.nextLink"] = link_base + "?token=" + Sign(cursor) + extra;
  } else {
    body["@odata.deltaLink"] =
        link_base + "?token=" + Sign("d|" + std::to_string(to) + "|" + std::to_string(now)) + extra;
  }
  return GraphJson(200, body);
}

}  // namespace jsync::emulator::onedrive
