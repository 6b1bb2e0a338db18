#pragma once
// The edges of the data plane, compiled from an API's record next to its routing tables (CompiledApi::edge)
// and applied by small hooks in Gateway::serve:
//   - CORS of HTTP APIs (cors.cpp): preflight answered by the gateway, CORS headers on every answer.
//   - Throttling (throttling.cpp): a token bucket per API, stage and route (HTTP: RouteSettings /
//     DefaultRouteSettings; REST: the stage's methodSettings "*/*" and "path/METHOD"), answering 429.
//   - Access logs (access_log.cpp): one line per request in the stage's format, to a log source named after
//     the CloudWatch Logs group of DestinationArn (what `stratus logs GROUP` reads).
//   - A port of an API's own (the stack file's `Port`, a Stratus extension): see Gateway::serve's fixed stage.
// Each part is a pure function over plain structs, unit tested without a daemon.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/aws_error.hpp"
#include "http/http_types.hpp"

namespace stratus::services::apigateway {

// --- CORS (HTTP APIs) ---------------------------------------------------------------------------------
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html

struct CorsConfig {
  bool allow_credentials = false;
  std::vector<std::string> allow_headers, allow_methods, allow_origins, expose_headers;
  std::optional<int> max_age;
};

// The CorsConfiguration of CreateApi/UpdateApi (botocore member names), checked as API Gateway checks it:
// MaxAge in -1..86400, AllowMethods HTTP methods or "*", AllowCredentials not with the origin "*".
std::optional<AwsError> check_cors_configuration(const nlohmann::json& cors);
std::optional<CorsConfig> parse_cors(const nlohmann::json& cors);

// Whether `origin` is allowed: "*", an exact origin (scheme and host compared case-insensitively), or a
// pattern with one "*" ("https://*.example.com"). `allow_origin` receives the Access-Control-Allow-Origin
// value: "*" when the configuration allows every origin without credentials, else the request's origin.
bool cors_origin_allowed(const CorsConfig& cors, std::string_view origin, std::string* allow_origin = nullptr);
// An OPTIONS request with Origin and Access-Control-Request-Method: a CORS preflight.
bool is_cors_preflight(const http::Request& request);
// The gateway's answer to a preflight: 204, with the CORS headers when the origin is allowed, none otherwise.
http::Response cors_preflight_response(const CorsConfig& cors, const http::Headers& request_headers);
// On every other answer: the integration's Access-Control-* headers are dropped (API Gateway ignores them
// when CORS is configured) and, for an allowed Origin, Allow-Origin, Allow-Credentials, Expose-Headers added.
void apply_cors_headers(const CorsConfig& cors, const http::Headers& request_headers, http::Response& response);

// --- Throttling -------------------------------------------------------------------------------------
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html

struct ThrottleLimits {
  double rate = 0;  // tokens per second
  double burst = 0;  // bucket size
};

// Token buckets by key. Starts full; refills at `rate` per second up to `burst`; a request takes one token
// or is throttled. Time comes from the caller (the injected Clock), so tests need no sleeps. Thread-safe.
class TokenBuckets {
 public:
  // True when the request may pass.
  bool take(const std::string& key, const ThrottleLimits& limits, std::int64_t now_ms);
  void clear();

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t last_ms = 0;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// --- Access logs ------------------------------------------------------------------------------------
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html#context-variable-reference

struct AccessLogConfig {
  std::string destination_arn;
  std::string log_group;  // NAME of arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]
  std::string format;
};

// The log group a DestinationArn names, or "" when it is not a CloudWatch Logs log group ARN.
std::string log_group_of_arn(std::string_view arn);
// Checks AccessLogSettings {DestinationArn, Format} (HTTP) / {destinationArn, format} (REST): a log group
// ARN, a non-empty format of at most 3 KB that contains $context.requestId (or extendedRequestId).
std::optional<AwsError> check_access_log_settings(std::string_view destination_arn, std::string_view format);

// $context.NAME variables -> values. Missing ones render as "-", as API Gateway writes them.
using LogVariables = std::map<std::string, std::string, std::less<>>;
std::string render_access_log(std::string_view format, const LogVariables& vars);

// --- Request size quota ---------------------------------------------------------------------------------
// "Total combined size of request line and header values: 10240 bytes" (quotas of HTTP APIs and REST APIs):
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
constexpr std::size_t kApiRequestLineAndHeaderValuesLimit = 10240;
// "METHOD TARGET HTTP/1.1" plus every header value (names not counted).
std::size_t request_line_and_header_values_size(const http::Request& request);

// --- What a compiled API carries ----------------------------------------------------------------------

struct StageEdge {
  std::optional<ThrottleLimits> default_throttle;     // stage-wide, per route/method
  std::map<std::string, ThrottleLimits> route_throttle;  // HTTP: route key; REST: "path/METHOD"
  std::optional<AccessLogConfig> access_log;
};

struct ApiEdge {
  std::optional<CorsConfig> cors;  // HTTP APIs only
  std::map<std::string, StageEdge> stages;
  int port = 0;  // the stack file's Port: served on 127.0.0.1:port too (0: none)
};

// From the stored record (see gateway.hpp): Api.CorsConfiguration, each stage's DefaultRouteSettings,
// RouteSettings and AccessLogSettings (HTTP) or methodSettings and accessLogSettings (REST), and "_Port".
std::shared_ptr<const ApiEdge> compile_edge(const nlohmann::json& record);

// The throttle that applies to a route: HTTP: RouteSettings[routeKey] over DefaultRouteSettings; REST:
// methodSettings["path/METHOD"] (then "path/ANY") over "*/*". nullopt: no limit set.
std::optional<ThrottleLimits> throttle_for(const StageEdge& stage, const std::string& route_key,
                                           const std::string& alternative_key = "");

// Where access log lines go: (log group, time, line). Set by the emulator; null: not written.
using AccessLogSink = std::function<void(const std::string& log_group, std::int64_t time_ms, std::string line)>;

}  // namespace stratus::services::apigateway

// --- The hooks in Gateway::serve (edge_serve.cpp) -------------------------------------------------------

namespace stratus::services::apigateway {

// What one request's access-log line needs, filled as the request goes through the gateway.
struct RequestTrace {
  std::mutex mutex;
  LogVariables vars;
  std::int64_t start_ms = 0;
  std::int64_t integration_start_ms = 0;
  bool integration_answered = false;  // the response is the integration's (not an error of the gateway)
};

}  // namespace stratus::services::apigateway
