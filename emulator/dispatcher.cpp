#include "emulator/dispatcher.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <memory>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/ids.hpp"
#include "common/log.hpp"
#include "protocol/protocol.hpp"

namespace stratus::emulator {

using nlohmann::json;

namespace {

constexpr std::uint64_t kInternalBodyLimit = 1024 * 1024;
// AWS's own request limits, by service. S3 bodies are streamed (never held whole) once S3 is built.
std::uint64_t body_limit_for(std::string_view service) {
  if (service == "lambda") return 80ull * 1024 * 1024;      // 50 MB zip, base64 in JSON
  if (service == "s3") return 5ull * 1024 * 1024 * 1024;    // 5 GB single PUT
  if (service == "apigateway" || service == "apigatewayv2") return 10ull * 1024 * 1024;
  return 16ull * 1024 * 1024;
}

// Consumes a body nobody needs (an S3 request for an operation this build lacks) without keeping it, so
// the client gets the operation's own error after sending its body, with memory bounded.
class DiscardSink final : public http::BodySink {
 public:
  void on_data(std::string_view) override {}
  void on_end() override {}
  void on_abort() override {}
};

http::Response json_response(int status, const json& body) {
  http::Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = body.dump();
  return r;
}

AwsError not_implemented_error(const protocol::Identified& id) {
  return AwsError::receiver(
      501, "NotImplemented",
      fmt::format("Stratus does not implement {}:{} yet (see docs/services/{}.md for what is covered)", id.service,
                  id.operation, id.service));
}

}  // namespace

bool execute_api_target(const http::Request& head, std::string& api_id, std::string& path) {
  constexpr std::string_view kPathForm = "/_aws/execute-api/";
  if (head.path.starts_with(kPathForm)) {
    std::string_view rest = std::string_view(head.path).substr(kPathForm.size());
    auto slash = rest.find('/');
    api_id = std::string(rest.substr(0, slash));
    path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    return !api_id.empty();
  }
  std::string_view host = head.headers.get("Host");
  host = host.substr(0, host.find(':'));
  constexpr std::string_view kMarker = ".execute-api.";
  for (std::size_t i = 1; i + kMarker.size() <= host.size(); ++i) {
    if (http::Headers::iequals(host.substr(i, kMarker.size()), kMarker)) {
      api_id = std::string(host.substr(0, i));
      std::transform(api_id.begin(), api_id.end(), api_id.begin(), [](unsigned char c) { return std::tolower(c); });
      path = head.path;
      return true;
    }
  }
  return false;
}

Dispatcher::Dispatcher(DispatcherConfig config, services::Registry& registry, const Clock& clock)
    : config_(std::move(config)), registry_(registry), clock_(clock), started_ms_(clock.now_ms()) {}

http::BodyPlan Dispatcher::plan_body(const http::Request& head) {
  http::BodyPlan plan;
  std::string api_id, api_path;
  if (execute_api_target(head, api_id, api_path)) {
    plan.limit = config_.execute_api_body_limit;
    return plan;
  }
  if (head.path.starts_with("/_stratus")) {
    plan.limit = kInternalBodyLimit;
    return plan;
  }
  // The head names service and operation for every protocol but query, whose Action is in the body.
  auto id = std::make_shared<protocol::Identified>(protocol::identify(head));
  plan.limit = body_limit_for(id->service);
  bool implemented = !id->error && !id->unknown_operation && !id->operation.empty() &&
                     registry_.find_operation(id->service, id->operation) != nullptr;
  // Only REST-XML (S3) takes its input from headers and path alone; other protocols decode the body first,
  // so a malformed body is reported before "not implemented", as AWS validates before it dispatches.
  // A form body may carry a query-protocol Action that changes what the request is: never discard it.
  bool form = head.headers.get("Content-Type").starts_with("application/x-www-form-urlencoded");
  if (!implemented && !form && !id->error && id->protocol == protocol::Protocol::rest_xml) {
    plan.sink = std::make_shared<DiscardSink>();
  }
  // Without a form body, identify() read nothing the body can change: handle_aws() reuses this result.
  if (!form) plan.context = std::move(id);
  return plan;
}

http::Response Dispatcher::body_too_large(const http::Request& head) {
  std::string api_id, api_path;
  if (execute_api_target(head, api_id, api_path) && config_.execute_api_too_large) {
    auto r = config_.execute_api_too_large(api_id);
    r.close = true;
    return r;
  }
  if (head.path.starts_with("/_stratus")) {
    auto r = json_response(413, {{"message", "Request body too large"}});
    r.close = true;
    return r;
  }
  protocol::Identified id = protocol::identify(head);
  const protocol::ServiceModel* model = protocol::find_model(id.service);
  AwsError error = id.protocol == protocol::Protocol::rest_xml
                       ? AwsError::sender(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
                       : AwsError::sender(413, "RequestEntityTooLarge",
                                          "Request body exceeds the size this service accepts");
  http::Response response =
      protocol::encode_error(model, id.protocol, error, new_request_id(), head.method == "HEAD");
  response.close = true;
  return response;
}

std::string Dispatcher::health_json() const {
  // Everything but the uptime is fixed after start-up (the registry does not change), so the document is
  // serialized once and only the uptime is spliced in: health is what load balancers and CI poll.
  std::call_once(services_health_once_, [this] {
    json doc = {
        {"status", "running"},
        {"version", config_.version},
        {"pid", static_cast<long>(::getpid())},
        {"account", config_.account_id},
        {"default_region", config_.default_region},
        {"persistent", config_.persistent},
        {"services", services_health()},
    };
    if (config_.persistent) doc["data_dir"] = config_.data_dir;
    std::string body = doc.dump();
    services_health_ = body.substr(1);  // without the opening brace
  });
  return fmt::format("{{\"uptime_ms\":{},{}", clock_.now_ms() - started_ms_, services_health_);
}

json Dispatcher::services_health() const {
  json services = json::object();
  for (const auto& entry : services::catalog()) {
    std::size_t implemented = 0;
    for (auto op : entry.operations) {
      if (registry_.find_operation(entry.service, op)) ++implemented;
    }
    services[std::string(entry.service)] = {
        {"state", implemented == 0 ? "not_implemented" : "running"},
        {"protocol", entry.protocol},
        {"operations", {{"implemented", implemented}, {"total", entry.operations.size()}}},
    };
  }
  return services;
}

void Dispatcher::handle(http::Request request, http::Respond respond) {
  // Answers at most once, whatever a handler does (reply then throw, throw then reply later).
  auto answered = std::make_shared<std::atomic<bool>>(false);
  http::Respond once = [answered, respond = std::move(respond)](http::Response response) {
    if (!answered->exchange(true)) respond(std::move(response));
  };
  try {
    std::string api_id, api_path;
    if (execute_api_target(request, api_id, api_path)) {
      if (!config_.execute_api) return once(json_response(404, {{"message", "Not Found"}}));
      config_.execute_api(api_id, std::move(api_path), std::move(request), once);
      return;
    }
    if (request.path.starts_with("/_stratus/") || request.path == "/_stratus") {
      handle_internal(request, once);
      return;
    }
    handle_aws(std::move(request), once);
  } catch (const std::exception& e) {
    // Nothing a request does may take the daemon down: answer 500 and keep serving.
    log::error("dispatch", "unhandled exception: {}", e.what());
    once(json_response(500, {{"__type", "InternalFailure"}, {"message", e.what()}}));
  }
}

void Dispatcher::handle_internal(const http::Request& request, http::Respond& respond) {
  if (request.path == "/_stratus/health") {
    if (request.method != "GET" && request.method != "HEAD") {
      auto r = json_response(405, {{"message", "Method Not Allowed"}});
      r.headers.add("Allow", "GET, HEAD");
      respond(std::move(r));
      return;
    }
    http::Response r;
    r.headers.add("Content-Type", "application/json");
    r.headers.add("Cache-Control", "no-store");
    r.body = health_json();
    respond(std::move(r));
    return;
  }
  if (request.path == "/_stratus/functions" && config_.function_stats) {
    respond(json_response(200, config_.function_stats()));
    return;
  }
  if (request.path == "/_stratus/async" && config_.async_stats) {
    respond(json_response(200, config_.async_stats()));
    return;
  }
  if (request.path == "/_stratus/queues" && config_.queue_stats) {
    respond(json_response(200, config_.queue_stats()));
    return;
  }
  if (request.path == "/_stratus/event-source-mappings" && config_.esm_stats) {
    nlohmann::json stats = config_.esm_stats();
    respond(json_response(200, stats.is_null() ? nlohmann::json::object() : stats));
    return;
  }
  if (request.path.starts_with("/_stratus/logs/") && config_.function_logs) {
    // ?since=SEQ: only the lines after that cursor. Every answer says in X-Stratus-Log-Cursor what to pass
    // next time, and X-Stratus-Log-Lost: true when lines after `since` fell out of the bounded buffer.
    std::string name = http::percent_decode(request.path.substr(std::string_view("/_stratus/logs/").size()));
    std::optional<std::uint64_t> since;
    for (const auto& [key, value] : http::parse_query(request.query, true)) {
      if (key != "since") continue;
      std::uint64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        respond(json_response(
            400, {{"message", fmt::format("since must be a log sequence number (0 or more), got '{}'", value)}}));
        return;
      }
      since = n;
    }
    runtime::LogPage page = config_.function_logs(name, since);
    http::Response r;
    r.headers.add("Content-Type", "text/plain; charset=utf-8");
    r.headers.add("Cache-Control", "no-store");
    r.headers.add("X-Stratus-Log-Cursor", std::to_string(page.cursor));
    if (page.lost) r.headers.add("X-Stratus-Log-Lost", "true");
    r.body = std::move(page.text);
    respond(std::move(r));
    return;
  }
  respond(json_response(404, {{"message", fmt::format("no such Stratus endpoint: {}", request.path)}}));
}

void Dispatcher::handle_aws(http::Request request, http::Respond respond) {
  std::string request_id = new_request_id();
  // plan_body() identified the head already unless the body could change the answer (a form body).
  protocol::Identified id = request.context
                                ? std::move(*std::static_pointer_cast<protocol::Identified>(request.context))
                                : protocol::identify(request);
  request.context.reset();
  bool head_request = request.method == "HEAD";
  if (id.region.empty()) id.region = config_.default_region;
  log::debug("dispatch", "{} {} -> {}:{} ({}) region={}", request.method, request.target, id.service,
             id.operation, protocol::protocol_name(id.protocol), id.region);

  if (id.service == "execute-api") {
    // Signed for execute-api but not addressed to an API (handle() serves those): nothing to call.
    respond(json_response(404, {{"message", "Not Found"}}));
    return;
  }
  const protocol::ServiceModel* model = protocol::find_model(id.service);
  auto fail = [&](const AwsError& error) {
    respond(protocol::encode_error(model, id.protocol, error, request_id, head_request));
  };
  if (id.error) return fail(*id.error);
  if (id.unknown_operation || id.operation.empty() || !model) return fail(protocol::unknown_operation_error(id));
  const protocol::OperationModel* operation = model->operation(id.operation);
  if (!operation) return fail(protocol::unknown_operation_error(id));
  const services::OperationSpec* spec = registry_.find_operation(id.service, id.operation);
  json input;
  if (!request.sink) {
    if (auto error = protocol::decode_input(*model, *operation, request, id, input)) return fail(*error);
  }
  if (!spec) return fail(not_implemented_error(id));
  if (spec->rules == services::InputRules::model) {
    if (auto error = protocol::validate_input(*model, *operation, input)) return fail(*error);
  }

  // The request must outlive the handler's asynchronous work: the context points into it.
  auto owned_request = std::make_shared<http::Request>(std::move(request));
  auto ctx = std::make_shared<services::CallContext>();
  ctx->request_id = request_id;
  ctx->account = config_.account_id;
  ctx->region = id.region;
  ctx->service = id.service;
  ctx->operation = id.operation;
  ctx->host = std::string(owned_request->headers.get("Host"));
  ctx->now_ms = clock_.now_ms();
  ctx->request = owned_request.get();
  auto reply = [model, operation, protocol = id.protocol, request_id, head_request, respond, owned_request,
                ctx](services::Outcome outcome) {
    if (outcome.error) {
      respond(protocol::encode_error(model, protocol, *outcome.error, request_id, head_request));
      return;
    }
    const std::string* raw = outcome.raw_payload ? &*outcome.raw_payload : nullptr;
    respond(protocol::encode_output(protocol, *model, *operation, outcome.output, request_id, raw));
  };
  try {
    spec->handler(*ctx, input, std::move(reply));
  } catch (const std::exception& e) {
    // A bug in one operation costs that request, answered as AWS answers its own internal errors.
    log::error("dispatch", "{}:{} threw: {}", id.service, id.operation, e.what());
    bool s3 = id.protocol == protocol::Protocol::rest_xml;
    fail(AwsError::receiver(500, s3 ? "InternalError" : "InternalFailure",
                            s3 ? "We encountered an internal error. Please try again."
                               : "The request processing has failed because of an unknown error."));
  }
}

}  // namespace stratus::emulator
