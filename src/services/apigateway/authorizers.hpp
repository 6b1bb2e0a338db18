#pragma once
// Lambda authorizers for HTTP APIs (apigatewayv2 REQUEST authorizers, payload 1.0 and 2.0) and REST APIs
// (TOKEN and REQUEST authorizers): the compiled configuration a route carries, the event the authorizer
// function receives, the answer it gives (simple response or IAM policy), policy evaluation with IAM's
// wildcards, the result cache, and the answers API Gateway gives when access is refused.
//   HTTP APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
//   REST APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
//     (input: api-gateway-lambda-authorizer-input.html, output: api-gateway-lambda-authorizer-output.html)
//   REST gateway responses (401/403/500 bodies and x-amzn-ErrorType):
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
// JWT authorizers of HTTP APIs (RS256 against a local JWKS file) are checked in jwt.cpp; SAM's Auth in
// stack files is applied by sam_authorizers.cpp.
// Management operations for authorizers live in authorizer_apis.cpp; the data plane calls authorize()
// from Gateway::serve once the route is matched, before the integration runs.
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
#include "common/clock.hpp"
#include "http/http_types.hpp"
#include "services/apigateway/proxy.hpp"
#include "services/apigateway/routing.hpp"
#include "services/function_invoker.hpp"
#include "services/service.hpp"

namespace stratus::services::apigateway {

class Gateway;
class GatewayService;
struct Partition;

// What a route (HTTP API) or method (REST API) needs to know of its authorizer.
struct AuthorizerConfig {
  enum class Kind {
    http_request,  // HTTP API REQUEST authorizer (payload_version 1.0 or 2.0)
    rest_token,    // REST TOKEN authorizer
    rest_request,  // REST REQUEST authorizer
    jwt,           // HTTP API JWT authorizer (jwt.cpp)
    broken,        // the route names an authorizer that does not exist (answers 500)
  };
  Kind kind = Kind::broken;
  std::string id;
  std::string function;  // the Lambda function ARN (from authorizerUri), may hold ${stageVariables.x}
  std::string payload_version = "1.0";
  bool simple_responses = false;
  std::vector<std::string> identity_sources;  // "$request.header.Auth" / "method.request.header.Auth" ...
  std::string validation_expression;          // REST TOKEN: identityValidationExpression ("" = none)
  int ttl_seconds = 300;
  std::string fingerprint;  // the stored authorizer's JSON: an update starts a fresh cache namespace
  std::string issuer;                    // JWT: JwtConfiguration.Issuer
  std::vector<std::string> audience;     // JWT: JwtConfiguration.Audience
  std::vector<std::string> scopes;       // JWT: the route's AuthorizationScopes
  bool rest() const { return kind == Kind::rest_token || kind == Kind::rest_request; }
};

// The authorizer of an HTTP API route (AuthorizationType CUSTOM + AuthorizerId) or of a REST method
// (authorizationType CUSTOM + authorizerId), looked up in the API's (or deployment's) authorizers.
// Null when the route is not authorized by a Lambda authorizer.
std::shared_ptr<const AuthorizerConfig> compile_http_authorizer(const nlohmann::json& authorizers,
                                                               const nlohmann::json& route);
std::shared_ptr<const AuthorizerConfig> compile_rest_authorizer(const nlohmann::json& authorizers,
                                                               const nlohmann::json& method);

// --- pure pieces (unit tested) ----------------------------------------------------------------------

// IAM's string matching: '*' any run of characters, '?' exactly one. Case-insensitive when `icase`.
bool iam_glob_match(std::string_view pattern, std::string_view text, bool icase = false);

enum class PolicyDecision { allow, explicit_deny, implicit_deny };
// Evaluates an authorizer's policyDocument for execute-api:Invoke on `arn`. An explicit Deny wins over any
// Allow; no matching Allow is an implicit deny. Returns nullopt when the document is malformed (no
// Statement, a statement without Effect Allow|Deny, Action or Resource not a string or list of strings).
std::optional<PolicyDecision> evaluate_policy(const nlohmann::json& policy_document, const std::string& arn);

// arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH (PATH without its leading '/').
std::string execute_api_arn(const std::string& region, const std::string& account, const std::string& api_id,
                            const std::string& stage, const std::string& method, const std::string& path);

// The value of one identity source for a request, or nullopt when it is missing or empty.
//   HTTP APIs: $request.header.N, $request.querystring.N, $stageVariables.N, $context.N
//   REST APIs: method.request.header.N, method.request.querystring.N, stageVariables.N, context.N
std::optional<std::string> identity_value(const std::string& expression, const ProxyRequest& request,
                                          const RouteMatch& match);

// The authorizer function's event. `arn` is the methodArn / routeArn; `identity` the identity sources'
// values in order (for TOKEN: the token).
std::string build_authorizer_event(const AuthorizerConfig& config, const ProxyRequest& request,
                                   const RouteMatch& match, const std::string& arn,
                                   const std::vector<std::string>& identity);

// The authorizer function's answer, parsed.
struct AuthorizerAnswer {
  bool simple = false;      // {"isAuthorized": bool, "context": {...}}
  bool authorized = false;  // simple only
  nlohmann::json policy;    // policyDocument (IAM policy answers)
  std::string principal_id;
  nlohmann::json context;   // object, or null when absent
  nlohmann::json jwt;       // JWT authorizers: {"claims": {...}, "scopes": [...] | null}
};
// Nullopt when API Gateway would call the answer malformed (-> 500).
std::optional<AuthorizerAnswer> parse_authorizer_answer(const AuthorizerConfig& config, std::string_view payload);

// What the integration sees as requestContext.authorizer. Payload 2.0: {"lambda": context}; payload 1.0
// and REST: the context's values as strings, plus principalId.
nlohmann::json authorizer_context(const AuthorizerAnswer& answer, bool payload_v1);

// --- the data plane ----------------------------------------------------------------------------------

struct AuthResult {
  enum class Kind {
    allow,
    unauthorized,   // 401: identity source missing, TOKEN validation failed, REST "Unauthorized" error
    forbidden,      // 403: simple isAuthorized false, or no Allow matched (implicit deny)
    explicit_deny,  // 403: a Deny statement matched
    failure,        // 500: the authorizer failed, timed out or answered something malformed
  };
  Kind kind = Kind::failure;
  std::shared_ptr<const AuthorizerAnswer> answer;  // when allowed
  std::string request_id, extended_request_id;    // of the request the authorizer ran for
  bool cached = false;                            // answered from the cache (tests, logs)
  std::string www_authenticate;                   // JWT refusals: the WWW-Authenticate header
};

// API Gateway's own answer for a refused request.
http::Response auth_refusal(bool rest, AuthResult::Kind kind);
http::Response auth_refusal(bool rest, const AuthResult& result);  // plus WWW-Authenticate (JWT)

// A JWT checked as an HTTP API JWT authorizer checks it (jwt.cpp): RS256 against the issuer's keys, iss,
// aud / client_id, exp, nbf, iat, and one of `required_scopes` (when any) in scope / scp. Keys: an issuer
// file:///DIR reads /DIR/.well-known/jwks.json. `token` may carry a "Bearer " prefix.
struct JwtVerdict {
  AuthResult::Kind kind = AuthResult::Kind::unauthorized;  // allow, unauthorized (401) or forbidden (scope)
  std::string error;                                       // why not, for WWW-Authenticate
  nlohmann::json claims;                                   // the claims, values as strings
  std::vector<std::string> scopes;
};
JwtVerdict verify_jwt(std::string_view token, const std::string& issuer, const std::vector<std::string>& audience,
                      const std::vector<std::string>& required_scopes, std::int64_t now_s);

// The proxy event with requestContext.authorizer set from an allowed result.
std::string with_authorizer(std::string_view event, const AuthResult& result, bool payload_v1);

class AuthorizerRuntime {
 public:
  AuthorizerRuntime(const Clock* clock, std::shared_ptr<FunctionInvoker> invoker);

  // Runs (or answers from the cache) the route's authorizer for one request. `done` is called exactly
  // once, possibly before this returns, possibly later from another thread; `request` and `match` are not
  // used after `done` is called nor after this returns.
  void authorize(const AuthorizerConfig& config, const std::string& account, const std::string& region,
                 const std::map<std::string, std::string>& stage_variables, const ProxyRequest& request,
                 const RouteMatch& match, std::function<void(AuthResult)> done);

  // ResetAuthorizersCache (HTTP) / FlushStageAuthorizersCache (REST): drops the API's cached results.
  void flush(const std::string& api_id);
  std::size_t cached_entries() const;

 private:
  struct Entry {
    std::int64_t expires_ms = 0;
    std::string api_id;
    std::shared_ptr<const AuthorizerAnswer> answer;
  };
  void store(const std::string& key, const std::string& api_id, int ttl_seconds,
             std::shared_ptr<const AuthorizerAnswer> answer);
  std::shared_ptr<const AuthorizerAnswer> lookup(const std::string& key);

  const Clock* clock_;
  std::shared_ptr<FunctionInvoker> invoker_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;
};

// Decides an answer (fresh or cached) for one request's ARN.
AuthResult decide(const AuthorizerConfig& config, std::shared_ptr<const AuthorizerAnswer> answer,
                  const std::string& arn);

// --- management (authorizer_apis.cpp) -------------------------------------------------------------------
// apigatewayv2: CreateAuthorizer, GetAuthorizer, GetAuthorizers, UpdateAuthorizer, DeleteAuthorizer,
// ResetAuthorizersCache. `p` is the caller's partition; each runs under the gateway's mutex.
Outcome http_create_authorizer(Gateway& g, const CallContext& ctx, const Partition& p, const nlohmann::json& in);
Outcome http_get_authorizer(Gateway& g, const Partition& p, const nlohmann::json& in);
Outcome http_get_authorizers(Gateway& g, const Partition& p, const nlohmann::json& in);
Outcome http_update_authorizer(Gateway& g, const Partition& p, const nlohmann::json& in);
Outcome http_delete_authorizer(Gateway& g, const Partition& p, const nlohmann::json& in);
Outcome http_reset_authorizers_cache(Gateway& g, const Partition& p, const nlohmann::json& in);
// A route's AuthorizationType / AuthorizerId against the API's authorizers (CreateRoute, UpdateRoute);
// normalises the route (AuthorizationType NONE drops AuthorizerId).
std::optional<AwsError> check_route_authorization(const nlohmann::json& rec, nlohmann::json& route);

// apigateway (REST): CreateAuthorizer, GetAuthorizer, GetAuthorizers, UpdateAuthorizer (patch operations),
// DeleteAuthorizer, FlushStageAuthorizersCache.
Outcome rest_create_authorizer(Gateway& g, const Partition& p, const nlohmann::json& in);
Outcome rest_get_authorizer(Gateway& g, const Partition& p, const nlohmann::json& in);
Outcome rest_get_authorizers(Gateway& g, const Partition& p, const nlohmann::json& in);
Outcome rest_update_authorizer(Gateway& g, const Partition& p, const nlohmann::json& in);
Outcome rest_delete_authorizer(Gateway& g, const Partition& p, const nlohmann::json& in);
Outcome rest_flush_authorizers_cache(Gateway& g, const Partition& p, const nlohmann::json& in);
// PutMethod's authorizationType / authorizerId against the API's authorizers.
std::optional<AwsError> check_method_authorization(const nlohmann::json& rec, const nlohmann::json& in,
                                                   nlohmann::json& method);

// --- stack files (sam_authorizers.cpp) --------------------------------------------------------------------
// SAM's Auth.Authorizers of an AWS::Serverless::HttpApi (rest = false) or AWS::Serverless::Api (rest =
// true), made through `service`'s CreateAuthorizer; their ids are kept by name in the API's record.
// Call without holding the gateway's mutex.
std::optional<AwsError> apply_sam_auth(Gateway& g, GatewayService& service, const Partition& p,
                                       const std::string& api_id, const nlohmann::json& props, bool rest);
// The authorization members of a SAM event's route (AuthorizationType/AuthorizerId) or method
// (authorizationType/authorizerId): the event's Auth.Authorizer, else the API's DefaultAuthorizer; NONE
// or no authorizer leaves `out` as it is. Call without holding the gateway's mutex.
std::optional<AwsError> sam_event_auth(Gateway& g, const Partition& p, const std::string& api_id,
                                       const nlohmann::json& event_props, bool rest, nlohmann::json& out);

}  // namespace stratus::services::apigateway
