// The edge hooks Gateway::serve calls (edge_ops.hpp): CORS, throttling and access logs per request.
#include <fmt/format.h>

#include "services/apigateway/edge_ops.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {

// $context.error.responseType of the gateway's own answers, by status.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
std::string response_type(bool rest, int status) {
  switch (status) {
    case 403: return rest ? "MISSING_AUTHENTICATION_TOKEN" : "ACCESS_DENIED";
    case 404: return "RESOURCE_NOT_FOUND";
    case 413: return "REQUEST_TOO_LARGE";
    case 429: return "THROTTLED";
    case 500:
    case 502: return "INTEGRATION_FAILURE";
    case 503:
    case 504: return "INTEGRATION_TIMEOUT";
    default: return status >= 500 ? "DEFAULT_5XX" : "DEFAULT_4XX";
  }
}

}  // namespace

bool edge_begin(Gateway& gateway, const CompiledApi& api, const CompiledStage& stage, const http::Request& request,
                const ProxyRequest& req, http::Respond& respond, std::shared_ptr<RequestTrace>& trace) {
  if (!api.edge) return false;
  const ApiEdge& edge = *api.edge;
  const std::optional<CorsConfig>& cors = edge.cors;
  if (cors && is_cors_preflight(request)) {
    // Answered by the gateway whatever the routes are (no route or integration runs).
    http::Response r = cors_preflight_response(*cors, request.headers);
    if (req.rest) {
      r.headers.set("x-amzn-RequestId", req.request_id);
    } else {
      r.headers.set("Apigw-Requestid", req.request_id);
    }
    // Logged like any request.
    auto stage_edge = edge.stages.find(stage.name);
    const auto& sink = gateway.deps().access_log;
    if (stage_edge != edge.stages.end() && stage_edge->second.access_log && sink) {
      LogVariables vars = {{"requestId", req.request_id}, {"status", "204"}, {"httpMethod", request.method},
                           {"stage", stage.name},         {"apiId", api.id},  {"responseLength", "0"}};
      std::int64_t now = gateway.deps().clock ? gateway.deps().clock->now_ms() : 0;
      sink(stage_edge->second.access_log->log_group, now,
           render_access_log(stage_edge->second.access_log->format, vars));
    }
    respond(std::move(r));
    return true;
  }
  std::optional<AccessLogConfig> log;
  if (auto s = edge.stages.find(stage.name); s != edge.stages.end()) log = s->second.access_log;
  AccessLogSink sink = gateway.deps().access_log;
  if (!sink) log.reset();
  if (!cors && !log) return false;

  const Clock* clock = gateway.deps().clock;
  if (log) {
    trace = std::make_shared<RequestTrace>();
    trace->start_ms = clock ? clock->now_ms() : 0;
    std::string_view host = request.headers.get("Host");
    std::string domain(host.substr(0, host.find(':')));
    if (domain.empty()) domain = api.id + ".execute-api.localhost";
    std::string user_agent(request.headers.get("User-Agent"));
    trace->vars = {{"accountId", api.account},
                   {"apiId", api.id},
                   {"domainName", domain},
                   {"domainPrefix", domain.substr(0, domain.find('.'))},
                   {"extendedRequestId", req.extended_request_id},
                   {"httpMethod", request.method},
                   {"identity.sourceIp", request.remote_ip.empty() ? "127.0.0.1" : request.remote_ip},
                   {"identity.userAgent", user_agent},
                   {"path", request.path},
                   {"protocol", request.version == 10 ? "HTTP/1.0" : "HTTP/1.1"},
                   {"requestId", req.request_id},
                   {"requestTime", request_time(trace->start_ms)},
                   {"requestTimeEpoch", std::to_string(trace->start_ms)},
                   {"stage", stage.name}};
    if (!api.rest) trace->vars["routeKey"] = "-";
  }
  http::Headers origin;
  if (auto o = request.headers.find("Origin")) origin.add("Origin", std::string(*o));
  respond = [inner = std::move(respond), cors, origin = std::move(origin), log, sink, trace, clock,
             rest = api.rest](http::Response r) {
    if (cors) apply_cors_headers(*cors, origin, r);
    if (log && trace) {
      LogVariables vars;
      bool answered = false;
      {
        std::lock_guard lock(trace->mutex);
        vars = trace->vars;
        answered = trace->integration_answered;
      }
      std::int64_t now = clock ? clock->now_ms() : trace->start_ms;
      vars["status"] = std::to_string(r.status);
      vars["responseLength"] = std::to_string(r.body.size());
      vars["responseLatency"] = std::to_string(now - trace->start_ms);
      if (!answered && r.status >= 400) {
        json body = json::parse(r.body, nullptr, false);
        std::string message = body.is_object() ? str(body, "message") : std::string();
        if (!message.empty()) {
          vars["error.message"] = message;
          vars["error.messageString"] = json(message).dump();
        }
        vars["error.responseType"] = response_type(rest, r.status);
      }
      sink(log->log_group, now, render_access_log(log->format, vars));
    }
    inner(std::move(r));
  };
  return false;
}

bool edge_route(Gateway& gateway, const CompiledApi& api, const CompiledStage& stage, const RouteTarget& target,
                const std::string& method, RequestTrace* trace) {
  std::int64_t now = gateway.deps().clock ? gateway.deps().clock->now_ms() : 0;
  if (trace) {
    std::lock_guard lock(trace->mutex);
    if (api.rest) {
      trace->vars["resourcePath"] = target.resource_path;
      trace->vars["resourceId"] = target.resource_id;
    } else {
      trace->vars["routeKey"] = target.route_key;
    }
    trace->integration_start_ms = now;
  }
  if (!api.edge) return true;
  auto s = api.edge->stages.find(stage.name);
  if (s == api.edge->stages.end()) return true;
  std::string key, alternative;
  if (api.rest) {
    // methodSettings keys: the resource path without its leading slash, then the method ("pets/{id}/GET").
    std::string path = target.resource_path.size() > 1 ? target.resource_path.substr(1) : std::string();
    key = path + "/" + method;
    alternative = path + "/ANY";
  } else {
    key = target.route_key;
  }
  auto limits = throttle_for(s->second, key, alternative);
  if (!limits) return true;
  return gateway.buckets().take(api.id + "\n" + stage.name + "\n" + key, *limits, now);
}

void edge_integration(RequestTrace* trace, const FunctionInvocationResult& result, bool mapped, std::int64_t now_ms) {
  if (!trace) return;
  using Status = FunctionInvocationResult::Status;
  // For Lambda proxy integrations, the status AWS Lambda answered (not the function's statusCode).
  int status = 200;
  switch (result.status) {
    case Status::ok:
    case Status::function_error: status = 200; break;
    case Status::throttled: status = 429; break;
    case Status::not_found: status = 404; break;
    case Status::service_error: status = 500; break;
  }
  std::lock_guard lock(trace->mutex);
  trace->integration_answered = mapped;
  trace->vars["integration.status"] = trace->vars["integrationStatus"] = trace->vars["integration.integrationStatus"] =
      std::to_string(status);
  if (trace->integration_start_ms > 0)
    trace->vars["integration.latency"] = trace->vars["integrationLatency"] =
        std::to_string(now_ms - trace->integration_start_ms);
  std::string error;
  if (result.status == Status::function_error) {
    json doc = json::parse(result.payload, nullptr, false);
    error = doc.is_object() ? str(doc, "errorMessage", "The Lambda function returned an error") : result.payload;
  } else if (result.status != Status::ok) {
    error = result.error_message.empty() ? result.error_code : result.error_message;
  } else if (!mapped) {
    error = "The Lambda function returned a malformed response";
  }
  if (!error.empty()) trace->vars["integrationErrorMessage"] = trace->vars["integration.error"] = error;
}

}  // namespace stratus::services::apigateway
