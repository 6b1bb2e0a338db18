#pragma once
// Internal: the state both API Gateway services share (management records, compiled routing tables) and
// the data plane.
//
// Store layout (Column::apigateway), one JSON record per API:
//   (account, region, "api", API_ID) -> {"Type": "HTTP"|"REST", "Account", "Region", "Api": {output shape},
//     HTTP: "Routes": {ID: route}, "Integrations": {ID: integration}, "Stages": {NAME: stage}
//     REST: "Resources": {ID: resource (resourceMethods with methodIntegration)},
//           "Deployments": {ID: {deployment, "_resources": snapshot of Resources}}, "Stages": {NAME: stage}}
// Shapes use the botocore member names (HTTP APIs: ApiId, RouteKey...; REST: id, pathPart...).
// Every write recompiles the API into a CompiledApi (routing tables per stage) that the data plane reads
// without locks on the store.
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "services/apigateway/apigateway.hpp"
#include "services/apigateway/edge.hpp"
#include "services/apigateway/routing.hpp"

namespace stratus::services::apigateway {

class AuthorizerRuntime;  // authorizers.hpp
struct AuthResult;

// What Gateway::serve carries into its second pass, once the route's authorizer allowed the request: the
// authorizer's result and the request's access-log trace (the edges ran in the first pass: CORS, throttling
// and the access log are not applied twice).
struct AuthorizedPass {
  std::shared_ptr<const AuthResult> result;
  std::shared_ptr<RequestTrace> trace;
};

struct Partition {
  std::string account;
  std::string region;
};

struct CompiledStage {
  std::string name;
  std::map<std::string, std::string> variables;
  std::shared_ptr<const RouteTable> table;
};

struct CompiledApi {
  bool rest = false;
  std::string id, name, account, region;
  std::vector<std::string> binary_media_types;
  std::unordered_map<std::string, CompiledStage> stages;
  std::shared_ptr<const ApiEdge> edge;  // CORS, throttling, access logs, own port (edge.hpp)
};

// Compiles a stored record (see the top of this file). Exposed for unit tests.
std::shared_ptr<const CompiledApi> compile_api(const nlohmann::json& record);

// Runs callbacks at deadlines (integration timeouts) on a thread of its own.
class Deadlines {
 public:
  Deadlines();
  ~Deadlines();
  void at(std::int64_t steady_ms, std::function<void()> fn);
  static std::int64_t now_ms();

 private:
  struct Item {
    std::int64_t when;
    std::uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Item& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };
  std::mutex mutex_;
  std::condition_variable cv_;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> items_;
  std::uint64_t seq_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

class Gateway {
 public:
  explicit Gateway(ApiGatewayDeps deps);

  const ApiGatewayDeps& deps() const { return deps_; }
  std::mutex& mutex() { return mutex_; }  // held by every management read-modify-write

  std::optional<nlohmann::json> load(const Partition& p, const std::string& id) const;
  // Writes the record and publishes its compiled form. An error sentence on failure.
  std::optional<std::string> save(const nlohmann::json& record);
  std::optional<std::string> erase(const Partition& p, const std::string& id);
  std::vector<nlohmann::json> list(const Partition& p, const std::string& type) const;
  bool id_taken(const std::string& id) const;

  std::shared_ptr<const CompiledApi> find(const std::string& id) const;
  std::vector<std::shared_ptr<const CompiledApi>> all() const;

  // `fixed_stage`: the stage that serves every path (an API's own port); null: the path's first segment.
  // `authorized`: the route's authorizer already allowed this request (serve runs again after it).
  void serve(const std::string& api_id, std::string path, http::Request request, http::Respond respond,
             const std::string* fixed_stage = nullptr, std::shared_ptr<const AuthorizedPass> authorized = nullptr);
  AuthorizerRuntime& authorizer_runtime() { return *authorizers_; }
  http::Response too_large(const std::string& api_id) const;
  TokenBuckets& buckets() { return buckets_; }  // throttling state, kept across recompiles

 private:
  void publish(const std::string& id, std::shared_ptr<const CompiledApi> api);
  ApiGatewayDeps deps_;
  std::mutex mutex_;
  mutable std::shared_mutex apis_mutex_;
  std::unordered_map<std::string, std::shared_ptr<const CompiledApi>> apis_;
  Deadlines deadlines_;
  TokenBuckets buckets_;
  std::shared_ptr<AuthorizerRuntime> authorizers_;  // Lambda authorizers' invocations and result cache
};

// Both services derive from this so that the data plane and the providers reach the shared Gateway.
class GatewayService : public Service {
 public:
  explicit GatewayService(std::shared_ptr<Gateway> gateway) : gateway_(std::move(gateway)) {}
  Gateway& gateway() { return *gateway_; }
  const std::shared_ptr<Gateway>& shared_gateway() const { return gateway_; }
  // Runs an operation synchronously (stack providers).
  Outcome call(const std::string& operation, const Partition& p, nlohmann::json input);

 protected:
  std::shared_ptr<Gateway> gateway_;
  std::vector<OperationSpec> operations_;
};

std::shared_ptr<GatewayService> make_http_service(std::shared_ptr<Gateway> gateway);
std::shared_ptr<GatewayService> make_rest_service(std::shared_ptr<Gateway> gateway);

// Random ids as API Gateway forms them: lower-case letters and digits.
std::string random_id(std::size_t length);
// A random id of `length` that is not a key of `existing` (routes, integrations, resources of one API).
std::string unique_id(const nlohmann::json& existing, std::size_t length);

// Shared by the management operations (http_apis.cpp, rest_apis.cpp) and the stack providers.
// The member `key` of `j` when it is an object, else an empty object (never a temporary, so that
// iterating its items() is safe).
const nlohmann::json& object_member(const nlohmann::json& j, const char* key);
// The string member `key` of `j`, or `fallback` when it is missing or not a string.
std::string str(const nlohmann::json& j, const char* key, std::string fallback = "");
AwsError bad_request(std::string message);  // 400 BadRequestException
AwsError not_found(std::string message);    // 404 NotFoundException
AwsError conflict(std::string message);     // 409 ConflictException
// Gateway::save with its failure as the 500 InternalFailure the operations answer.
std::optional<AwsError> save_record(Gateway& gateway, const nlohmann::json& record);

// The Lambda function an integration URI names: a function ARN, or
// arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations. "" if neither.
std::string function_of_uri(const std::string& uri);

}  // namespace stratus::services::apigateway
