#pragma once
// API Gateway: HTTP APIs (apigatewayv2) and REST APIs (apigateway) with Lambda proxy integrations.
//   - The management APIs over the store (Column::apigateway), one operation table per AWS service.
//   - The data plane: a request for an API (Host {apiId}.execute-api.<domain>, or the path form
//     /_aws/execute-api/{apiId}/...) is routed as API Gateway routes it, turned into the Lambda proxy event,
//     run through the FunctionInvoker (services/function_invoker.hpp, implemented by Lambda) and the
//     function's answer mapped back (proxy.hpp).
//   - Stack providers for the APIs SAM and CloudFormation declare.
// See docs/services/apigateway.md for the URL forms and what differs from AWS.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "http/http_types.hpp"
#include "services/function_invoker.hpp"
#include "services/service.hpp"
#include "stack/stack_file.hpp"
#include "store/store.hpp"

namespace stratus::services::apigateway {

struct ApiGatewayDeps {
  Store* store = nullptr;
  const Clock* clock = nullptr;
  std::string account_id = "000000000000";
  // Runs Lambda proxy integrations; may be null (such routes then answer as a failed integration).
  std::shared_ptr<FunctionInvoker> invoker;
  // Where stages' access-log lines go: (CloudWatch Logs group name, time, line). Null: not written.
  std::function<void(const std::string& log_group, std::int64_t time_ms, std::string line)> access_log;
};

// The two services, sharing one state: `rest` is "apigateway" (REST APIs, v1), `http` is "apigatewayv2".
struct ApiGatewayServices {
  std::shared_ptr<Service> rest;
  std::shared_ptr<Service> http;
};
ApiGatewayServices make_apigateway_services(ApiGatewayDeps deps);

// The data plane. `service` is either of the two services above; `api_id` the API's id; `path` the path the
// API sees (the request path for the host form; what follows /_aws/execute-api/{apiId} for the path form).
// `respond` is called exactly once, possibly later, from any thread.
void serve_api(Service& service, const std::string& api_id, std::string path, http::Request request,
               http::Respond respond);
// The same for a request on an API's own port (the stack file's Port): every path goes to `stage`, no prefix.
void serve_api_stage(Service& service, const std::string& api_id, const std::string& stage, std::string path,
                     http::Request request, http::Respond respond);
// The answer to a request whose body is over API Gateway's 10 MB payload limit.
http::Response api_payload_too_large(Service& service, const std::string& api_id);
constexpr std::uint64_t kApiPayloadLimit = 10ull * 1024 * 1024;

// Every API's invoke URL per stage, for `stratus` to print at start. `authority` is "localhost:4566".
struct ApiEndpoint {
  std::string api_id;
  std::string name;
  std::string type;   // "HTTP" or "REST"
  std::string stage;  // "$default" or the name
  std::string url;    // http://{id}.execute-api.localhost:4566/{stage}/
};
std::vector<ApiEndpoint> api_endpoints(Service& service, const std::string& authority);

// The APIs with a port of their own (the stack file's `Port`, a Stratus extension) and the stage served
// there: the API's $default stage, else its only stage, else the first of its stages by name.
struct ApiPort {
  std::string api_id;
  std::string name;
  std::string type;  // "HTTP" or "REST"
  std::string stage;
  int port = 0;
};
std::vector<ApiPort> api_ports(Service& service);

// Stack providers: "AWS::Serverless::HttpApi", "AWS::Serverless::Api", "AWS::ApiGatewayV2::Api",
// "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Stage",
// "AWS::ApiGatewayV2::Authorizer" (Lambda REQUEST authorizers; SAM's Auth.Authorizers too), and the
// route a SAM function event declares ("Stratus::Serverless::ApiEvent", made by the stack loader from
// AWS::Serverless::Function Events of Type HttpApi and Api). Null for another type.
std::shared_ptr<stack::ResourceProvider> make_api_provider(const std::shared_ptr<Service>& service,
                                                          std::string_view type);
std::vector<std::string> api_provider_types();

}  // namespace stratus::services::apigateway
