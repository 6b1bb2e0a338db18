#pragma once
// The request -> service -> response path: implements http::Handler for the one port.
//   /_stratus/...          the daemon's own endpoints (health)
//   everything else        protocol::identify -> decode -> input rules -> operation handler -> encode
// Operations AWS defines that this build does not implement answer 501 NotImplemented; operations AWS does
// not define answer the unknown-operation error each protocol's clients expect.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "http/http_types.hpp"
#include "runtime/log_buffer.hpp"
#include "services/service.hpp"

namespace stratus::emulator {

struct DispatcherConfig {
  std::string account_id = "000000000000";
  std::string default_region = "us-east-1";
  bool persistent = false;
  std::string data_dir;
  std::string version;
  // GET /_stratus/functions: every function pool's stats.
  std::function<nlohmann::json()> function_stats;
  // GET /_stratus/logs/NAME[?since=SEQ]: a function's recent log, or the lines after a cursor.
  std::function<runtime::LogPage(const std::string& name, std::optional<std::uint64_t> since)> function_logs;
  // GET /_stratus/async: Lambda's asynchronous invocations (queued, retries, outcomes, destinations).
  std::function<nlohmann::json()> async_stats;
  // GET /_stratus/queues: every SQS queue's counts (visible, in flight, delayed) and what happened to messages.
  std::function<nlohmann::json()> queue_stats;
  // GET /_stratus/event-source-mappings: per mapping counters (batches, messages, deleted, failed, ...).
  std::function<nlohmann::json()> esm_stats;
  // API Gateway's data plane: requests for Host {apiId}.execute-api.<domain> (path as sent) and for the path
  // form /_aws/execute-api/{apiId}/... (path = what follows the id). Null: such requests answer 404.
  std::function<void(const std::string& api_id, std::string path, http::Request, http::Respond)> execute_api;
  // The answer when such a request's body is over API Gateway's limit (413 as the API's type answers it).
  std::function<http::Response(const std::string& api_id)> execute_api_too_large;
  std::uint64_t execute_api_body_limit = 10ull * 1024 * 1024;
};

// Whether `head` is addressed to an API Gateway API, and which (see DispatcherConfig::execute_api).
bool execute_api_target(const http::Request& head, std::string& api_id, std::string& path);

class Dispatcher final : public http::Handler {
 public:
  Dispatcher(DispatcherConfig config, services::Registry& registry, const Clock& clock);

  http::BodyPlan plan_body(const http::Request& head) override;
  void handle(http::Request request, http::Respond respond) override;
  http::Response body_too_large(const http::Request& head) override;

  // The /_stratus/health document.
  std::string health_json() const;

 private:
  void handle_internal(const http::Request& request, http::Respond& respond);
  void handle_aws(http::Request request, http::Respond respond);
  nlohmann::json services_health() const;

  DispatcherConfig config_;
  services::Registry& registry_;
  const Clock& clock_;
  std::int64_t started_ms_;
  mutable std::once_flag services_health_once_;
  mutable std::string services_health_;  // the health document after its uptime member, serialized once
};

}  // namespace stratus::emulator
