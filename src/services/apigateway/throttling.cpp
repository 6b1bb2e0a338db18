// Throttling: API Gateway's token bucket ("Throttle requests to your HTTP APIs", "Throttle requests to your
// REST APIs"): the burst is the bucket's size, the rate its refill per second; a request over the limit is
// answered 429 {"message":"Too Many Requests"} by the gateway itself.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
// Stage defaults apply to each route (HTTP) or method (REST) separately ("default per-method limits");
// a route's own settings override them member by member.
#include <algorithm>

#include "services/apigateway/edge.hpp"

namespace stratus::services::apigateway {

bool TokenBuckets::take(const std::string& key, const ThrottleLimits& limits, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(key);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = limits.burst;
  } else if (now_ms > b.last_ms) {
    b.tokens += limits.rate * static_cast<double>(now_ms - b.last_ms) / 1000.0;
  }
  // A lowered burst takes effect at once.
  b.tokens = std::min(b.tokens, limits.burst);
  b.last_ms = std::max(b.last_ms, now_ms);
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void TokenBuckets::clear() {
  std::lock_guard lock(mutex_);
  buckets_.clear();
}

std::optional<ThrottleLimits> throttle_for(const StageEdge& stage, const std::string& route_key,
                                           const std::string& alternative_key) {
  auto it = stage.route_throttle.find(route_key);
  if (it == stage.route_throttle.end() && !alternative_key.empty()) it = stage.route_throttle.find(alternative_key);
  if (it != stage.route_throttle.end()) return it->second;
  return stage.default_throttle;
}

}  // namespace stratus::services::apigateway
