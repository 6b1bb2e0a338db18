#pragma once
// The management side of the data plane's edges (edge.hpp): the operations and checks they add to the two
// operation tables, and the stack file's settings for them. Kept apart from http_apis.cpp / rest_apis.cpp so
// those tables only gain one call each.
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "services/apigateway/edge.hpp"
#include "services/apigateway/gateway.hpp"
#include "services/apigateway/proxy.hpp"
#include "services/function_invoker.hpp"

namespace stratus::services::apigateway {

// apigatewayv2: DeleteCorsConfiguration, DeleteAccessLogSettings, DeleteRouteSettings.
void add_http_edge_operations(std::vector<OperationSpec>& operations, const std::shared_ptr<Gateway>& gateway);
// apigateway: UpdateStage (patch operations on description, deploymentId, variables, method settings,
// access log settings, tracing).
void add_rest_edge_operations(std::vector<OperationSpec>& operations, const std::shared_ptr<Gateway>& gateway);

// CreateStage/UpdateStage of HTTP APIs: throttling limits and AccessLogSettings as API Gateway checks them.
std::optional<AwsError> check_http_stage_settings(const nlohmann::json& stage);

// SAM AWS::Serverless::Api MethodSettings [{ResourcePath, HttpMethod, Throttling*...}] and AccessLogSetting,
// written onto the REST stage `stage_name` of the stored record `rec` (the stage exists after the first
// deployment). An error when a setting is malformed.
std::optional<AwsError> apply_sam_rest_stage_settings(nlohmann::json& rec, const std::string& stage_name,
                                                      const nlohmann::json& sam_stage);

// SAM's CorsConfiguration of AWS::Serverless::HttpApi: `true` allows every origin, method and header; an
// object is the CorsConfiguration itself. nullopt: no CORS (false or absent).
std::optional<nlohmann::json> sam_http_cors(const nlohmann::json& props);

// --- The hooks in Gateway::serve (edge_serve.cpp) ---
// Once the stage is known: answers a CORS preflight (true: answered), else wraps `respond` so that every
// answer of this request gets the CORS headers and writes the stage's access-log line; `trace` is set when
// the stage logs.
bool edge_begin(Gateway& gateway, const CompiledApi& api, const CompiledStage& stage, const http::Request& request,
                const ProxyRequest& req, http::Respond& respond, std::shared_ptr<RequestTrace>& trace);
// Once the route is matched: records it for the log; false when its token bucket is empty (answer 429).
bool edge_route(Gateway& gateway, const CompiledApi& api, const CompiledStage& stage, const RouteTarget& target,
                const std::string& method, RequestTrace* trace);
// When the integration answered: its status and latency for the log. `mapped`: its response is the answer.
void edge_integration(RequestTrace* trace, const FunctionInvocationResult& result, bool mapped, std::int64_t now_ms);

}  // namespace stratus::services::apigateway
