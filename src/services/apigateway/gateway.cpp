// The state shared by the two API Gateway services, and the data plane: stage and route selection,
// the Lambda proxy call with the integration timeout, and the answers API Gateway gives itself.
#include "services/apigateway/gateway.hpp"

#include <algorithm>
#include <chrono>
#include <utility>
#include <future>
#include <random>

#include <fmt/format.h>

#include "common/base64.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "services/apigateway/authorizers.hpp"
#include "services/apigateway/edge_ops.hpp"
#include "services/apigateway/proxy.hpp"
#include "store/key_codec.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {

std::string record_key(const std::string& account, const std::string& region, const std::string& id) {
  return KeyBuilder().add_string(account).add_string(region).add_string("api").add_string(id).build();
}


std::map<std::string, std::string> string_map(const json& j) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  return out;
}

// An HTTP API's routes, shared by all its stages (every stage serves the current routes, as AutoDeploy).
std::shared_ptr<const RouteTable> compile_http_routes(const json& rec) {
  auto table = std::make_shared<RouteTable>();
  const json& integrations = rec.value("Integrations", json::object());
  for (const auto& [id, route] : object_member(rec, "Routes").items()) {
    (void)id;
    std::string key = str(route, "RouteKey");
    RouteTarget target;
    target.route_key = key;
    std::string t = str(route, "Target");
    if (t.starts_with("integrations/")) {
      auto integration = integrations.find(t.substr(13));
      if (integration != integrations.end()) {
        target.has_integration = str(*integration, "IntegrationType") == "AWS_PROXY";
        target.function = function_of_uri(str(*integration, "IntegrationUri"));
        target.payload_version = str(*integration, "PayloadFormatVersion", "2.0");
        target.timeout_ms = integration->value("TimeoutInMillis", 30000);
      }
    }
    target.authorizer = compile_http_authorizer(object_member(rec, "Authorizers"), route);
    if (key == "$default") {
      target.resource_path = "$default";
      table->set_default(std::move(target));
      continue;
    }
    auto space = key.find(' ');
    if (space == std::string::npos) continue;
    PathTemplate tpl;
    if (parse_path_template(key.substr(space + 1), tpl)) continue;
    target.resource_path = key.substr(space + 1);
    table->add(key.substr(0, space), tpl, std::move(target));
  }
  return table;
}

// A REST API deployment's resources -> routing table.
std::shared_ptr<const RouteTable> compile_rest_resources(const json& resources, const json& authorizers) {
  auto table = std::make_shared<RouteTable>();
  for (const auto& [id, resource] : resources.items()) {
    std::string path = str(resource, "path", "/");
    PathTemplate tpl;
    if (parse_path_template(path, tpl)) continue;
    for (const auto& [method, m] : object_member(resource, "resourceMethods").items()) {
      RouteTarget target;
      target.resource_path = path;
      target.resource_id = id;
      target.payload_version = "1.0";
      auto integration = m.find("methodIntegration");
      if (integration != m.end() && integration->is_object()) {
        target.has_integration = str(*integration, "type") == "AWS_PROXY";
        target.function = function_of_uri(str(*integration, "uri"));
        target.timeout_ms = integration->value("timeoutInMillis", 29000);
      }
      target.authorizer = compile_rest_authorizer(authorizers, m);
      table->add(method, tpl, std::move(target));
    }
  }
  return table;
}

http::Response message_response(int status, std::string_view message) {
  http::Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = json{{"message", message}}.dump();
  return r;
}

// "JKJaXmPLvHcESHA=": the form of HTTP API request ids and REST extended request ids.
std::string short_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string bytes(11, '\0');
  for (auto& b : bytes) b = static_cast<char>(rng() & 0xff);
  return base64_encode(bytes);
}

}  // namespace

std::string random_id(std::size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(length, 'a');
  for (auto& c : out) c = kAlphabet[rng() % 36];
  return out;
}

std::string unique_id(const json& existing, std::size_t length) {
  std::string id;
  do id = random_id(length);
  while (existing.contains(id));
  return id;
}

const json& object_member(const json& j, const char* key) {
  static const json empty = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

std::string str(const json& j, const char* key, std::string fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

AwsError bad_request(std::string message) { return AwsError::sender(400, "BadRequestException", std::move(message)); }
AwsError not_found(std::string message) { return AwsError::sender(404, "NotFoundException", std::move(message)); }
AwsError conflict(std::string message) { return AwsError::sender(409, "ConflictException", std::move(message)); }

std::optional<AwsError> save_record(Gateway& gateway, const json& record) {
  if (auto e = gateway.save(record)) return AwsError::receiver(500, "InternalFailure", *e);
  return std::nullopt;
}

std::string function_of_uri(const std::string& uri) {
  if (uri.starts_with("arn:aws:lambda:")) return uri;
  constexpr std::string_view kPath = ":lambda:path/2015-03-31/functions/";
  auto at = uri.find(kPath);
  if (!uri.starts_with("arn:aws:apigateway:") || at == std::string::npos) return {};
  std::string rest = uri.substr(at + kPath.size());
  constexpr std::string_view kSuffix = "/invocations";
  if (!rest.ends_with(kSuffix)) return {};
  return rest.substr(0, rest.size() - kSuffix.size());
}

std::shared_ptr<const CompiledApi> compile_api(const json& rec) {
  auto api = std::make_shared<CompiledApi>();
  api->rest = str(rec, "Type") == "REST";
  api->account = str(rec, "Account");
  api->region = str(rec, "Region");
  const json& doc = rec.value("Api", json::object());
  if (api->rest) {
    api->id = str(doc, "id");
    api->name = str(doc, "name");
    if (auto b = doc.find("binaryMediaTypes"); b != doc.end() && b->is_array())
      for (const auto& t : *b)
        if (t.is_string()) api->binary_media_types.push_back(t.get<std::string>());
    const json& deployments = rec.value("Deployments", json::object());
    for (const auto& [name, stage] : object_member(rec, "Stages").items()) {
      auto d = deployments.find(str(stage, "deploymentId"));
      if (d == deployments.end()) continue;
      CompiledStage s;
      s.name = name;
      s.variables = string_map(stage.value("variables", json::object()));
      s.table = compile_rest_resources(d->value("_resources", json::object()), object_member(*d, "_authorizers"));
      api->stages.emplace(name, std::move(s));
    }
  } else {
    api->id = str(doc, "ApiId");
    api->name = str(doc, "Name");
    auto table = compile_http_routes(rec);
    for (const auto& [name, stage] : object_member(rec, "Stages").items()) {
      CompiledStage s;
      s.name = name;
      s.variables = string_map(stage.value("StageVariables", json::object()));
      s.table = table;
      api->stages.emplace(name, std::move(s));
    }
  }
  api->edge = compile_edge(rec);
  return api;
}

// ---------------------------------------------------------------------------------------------------

Deadlines::Deadlines() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (items_.empty()) {
        cv_.wait(lock);
        continue;
      }
      std::int64_t wait = items_.top().when - now_ms();
      if (wait > 0) {
        cv_.wait_for(lock, std::chrono::milliseconds(wait));
        continue;
      }
      auto fn = std::move(const_cast<Item&>(items_.top()).fn);
      items_.pop();
      lock.unlock();
      fn();
      lock.lock();
    }
  });
}

Deadlines::~Deadlines() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::int64_t Deadlines::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Deadlines::at(std::int64_t when, std::function<void()> fn) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    first = items_.empty() || when < items_.top().when;
    items_.push(Item{when, seq_++, std::move(fn)});
  }
  if (first) cv_.notify_one();
}

// ---------------------------------------------------------------------------------------------------

Gateway::Gateway(ApiGatewayDeps deps) : deps_(std::move(deps)) {
  authorizers_ = std::make_shared<AuthorizerRuntime>(deps_.clock, deps_.invoker);
  if (!deps_.store) return;
  // Compile every stored API once; from then on each write recompiles its own API.
  auto it = deps_.store->scan_prefix(Column::apigateway, "");
  for (; it->valid(); it->next()) {
    json rec = json::parse(it->value(), nullptr, false);
    if (rec.is_discarded() || !rec.is_object()) continue;
    auto api = compile_api(rec);
    std::string id = api->id;
    apis_[id] = std::move(api);
  }
}

std::optional<json> Gateway::load(const Partition& p, const std::string& id) const {
  if (!deps_.store) return std::nullopt;
  std::string value;
  if (!deps_.store->get(Column::apigateway, record_key(p.account, p.region, id), value).ok()) return std::nullopt;
  json rec = json::parse(value, nullptr, false);
  if (rec.is_discarded()) return std::nullopt;
  return rec;
}

std::optional<std::string> Gateway::save(const json& rec) {
  auto api = compile_api(rec);
  Status st = deps_.store->put(Column::apigateway, record_key(api->account, api->region, api->id), rec.dump());
  if (!st.ok()) return st.message;
  std::string id = api->id;
  publish(id, std::move(api));
  return std::nullopt;
}

std::optional<std::string> Gateway::erase(const Partition& p, const std::string& id) {
  Status st = deps_.store->erase(Column::apigateway, record_key(p.account, p.region, id));
  if (!st.ok()) return st.message;
  publish(id, nullptr);
  return std::nullopt;
}

std::vector<json> Gateway::list(const Partition& p, const std::string& type) const {
  std::vector<json> out;
  if (!deps_.store) return out;
  std::string prefix = KeyBuilder().add_string(p.account).add_string(p.region).add_string("api").build();
  auto it = deps_.store->scan_prefix(Column::apigateway, prefix);
  for (; it->valid(); it->next()) {
    json rec = json::parse(it->value(), nullptr, false);
    if (!rec.is_discarded() && str(rec, "Type") == type) out.push_back(std::move(rec));
  }
  return out;
}

bool Gateway::id_taken(const std::string& id) const {
  std::shared_lock lock(apis_mutex_);
  return apis_.contains(id);
}

void Gateway::publish(const std::string& id, std::shared_ptr<const CompiledApi> api) {
  std::unique_lock lock(apis_mutex_);
  if (api)
    apis_[id] = std::move(api);
  else
    apis_.erase(id);
}

std::shared_ptr<const CompiledApi> Gateway::find(const std::string& id) const {
  std::shared_lock lock(apis_mutex_);
  auto it = apis_.find(id);
  return it == apis_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const CompiledApi>> Gateway::all() const {
  std::shared_lock lock(apis_mutex_);
  std::vector<std::shared_ptr<const CompiledApi>> out;
  for (const auto& [id, api] : apis_) out.push_back(api);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->name + a->id < b->name + b->id; });
  return out;
}

// --- the data plane -----------------------------------------------------------------------------------

namespace {

// The answers API Gateway gives itself, per API type.
// HTTP APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html
// REST APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
// and https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html (a rejected invocation
// -> 500, a function error or malformed response -> 502, both {"message": "Internal server error"}).
enum class Failure { no_route, function_error, invoke_rejected, timeout, too_large, throttled, headers_too_large };

http::Response failure(bool rest, Failure f) {
  if (!rest) {
    switch (f) {
      case Failure::no_route: return message_response(404, "Not Found");
      case Failure::function_error:
      case Failure::invoke_rejected: return message_response(500, "Internal Server Error");
      case Failure::timeout: return message_response(503, "Service Unavailable");
      case Failure::too_large: return message_response(413, "Request Entity Too Large");
      case Failure::throttled: return message_response(429, "Too Many Requests");
      case Failure::headers_too_large: return message_response(431, "Request Header Fields Too Large");
    }
  }
  http::Response r;
  switch (f) {
    case Failure::no_route:
      r = message_response(403, "Missing Authentication Token");
      r.headers.add("x-amzn-ErrorType", "MissingAuthenticationTokenException");
      return r;
    case Failure::function_error:
      r = message_response(502, "Internal server error");
      r.headers.add("x-amzn-ErrorType", "InternalServerErrorException");
      return r;
    case Failure::invoke_rejected:
      r = message_response(500, "Internal server error");
      r.headers.add("x-amzn-ErrorType", "InternalServerErrorException");
      return r;
    case Failure::timeout: return message_response(504, "Endpoint request timed out");
    case Failure::too_large: return message_response(413, "Request Too Long");
    case Failure::throttled:
      r = message_response(429, "Too Many Requests");
      r.headers.add("x-amzn-ErrorType", "TooManyRequestsException");
      return r;
    case Failure::headers_too_large: return message_response(431, "Request Header Fields Too Large");
  }
  return r;
}

void add_gateway_headers(bool rest, const std::string& request_id, const std::string& extended_request_id,
                         http::Response& r) {
  if (rest) {
    r.headers.set("x-amzn-RequestId", request_id);
    r.headers.set("x-amz-apigw-id", extended_request_id);
  } else {
    r.headers.set("Apigw-Requestid", request_id);
  }
}

void add_gateway_headers(bool rest, const ProxyRequest& req, http::Response& r) {
  add_gateway_headers(rest, req.request_id, req.extended_request_id, r);
}

// ${stageVariables.name} in an integration URI, from the stage.
std::string substitute_stage_variables(std::string text, const std::map<std::string, std::string>& vars) {
  constexpr std::string_view kOpen = "${stageVariables.";
  std::size_t at = 0;
  while ((at = text.find(kOpen, at)) != std::string::npos) {
    auto close = text.find('}', at);
    if (close == std::string::npos) break;
    std::string name = text.substr(at + kOpen.size(), close - at - kOpen.size());
    auto it = vars.find(name);
    std::string value = it == vars.end() ? std::string() : it->second;
    text.replace(at, close - at + 1, value);
    at += value.size();
  }
  return text;
}

// The answer of one request, taken by whichever of the function and the timer comes first.
struct Pending {
  std::mutex mutex;
  http::Respond respond;
  bool rest = false;
  std::string request_id, extended_request_id;
  http::Respond take() {
    std::lock_guard lock(mutex);
    return std::exchange(respond, nullptr);
  }
};

}  // namespace

http::Response Gateway::too_large(const std::string& api_id) const {
  auto api = find(api_id);
  return failure(api && api->rest, Failure::too_large);
}

void Gateway::serve(const std::string& api_id, std::string path, http::Request request, http::Respond respond,
                    const std::string* fixed_stage, std::shared_ptr<const AuthorizedPass> authorized) {
  auto api = find(api_id);
  auto req = std::make_shared<ProxyRequest>();
  bool rest = api && api->rest;
  req->rest = rest;
  req->request_id = rest ? new_request_id() : short_request_id();
  req->extended_request_id = rest ? short_request_id() : req->request_id;
  if (!api) {
    http::Response r = failure(false, Failure::no_route);
    add_gateway_headers(false, *req, r);
    return respond(std::move(r));
  }
  if (path.empty()) path = "/";

  // Stage: the first path segment when it names a stage, else the $default stage (HTTP APIs).
  const CompiledStage* stage = nullptr;
  std::string routed_path = path;
  {
    std::string_view p = path;
    p.remove_prefix(1);
    std::string first = http::percent_decode(p.substr(0, p.find('/')));
    if (fixed_stage) {
      if (auto it = api->stages.find(*fixed_stage); it != api->stages.end()) stage = &it->second;
    } else if (auto it = api->stages.find(first); it != api->stages.end() && first != "$default") {
      stage = &it->second;
      auto slash = p.find('/');
      routed_path = slash == std::string_view::npos ? "/" : std::string(p.substr(slash));
    } else if (!rest) {
      if (auto d = api->stages.find("$default"); d != api->stages.end()) stage = &d->second;
    }
  }
  auto fail = [&](Failure f) {
    http::Response r = failure(rest, f);
    add_gateway_headers(rest, *req, r);
    respond(std::move(r));
  };
  if (request_line_and_header_values_size(request) > kApiRequestLineAndHeaderValuesLimit)
    return fail(Failure::headers_too_large);  // edge.hpp: the 10240-byte quota
  if (!stage) return fail(Failure::no_route);
  std::shared_ptr<RequestTrace> trace;  // edges (edge_ops.hpp): CORS preflight and headers, access log
  if (authorized)
    trace = authorized->trace;  // the first pass ran the edges and wrapped `respond`
  else if (edge_begin(*this, *api, *stage, request, *req, respond, trace))
    return;
  std::vector<std::string> segments = split_request_path(routed_path);
  RouteMatch match = stage->table->match(request.method, segments);
  if (!match.target) return fail(Failure::no_route);
  if (!authorized && !edge_route(*this, *api, *stage, *match.target, request.method, trace.get()))
    return fail(Failure::throttled);
  if (!match.target->has_integration || match.target->function.empty() || !deps_.invoker)
    return fail(Failure::invoke_rejected);

  // Keep what the event points into alive until the invocation is done: the request and the compiled API
  // (whose stage and route the event and the response mapping read).
  auto owned = std::make_shared<http::Request>(std::move(request));
  req->method = owned->method;
  req->full_path = path;
  req->path = routed_path;
  req->query = owned->query;
  req->headers = &owned->headers;
  req->body = owned->body;
  req->source_ip = owned->remote_ip.empty() ? "127.0.0.1" : owned->remote_ip;
  req->protocol = owned->version == 10 ? "HTTP/1.0" : "HTTP/1.1";
  std::string_view host = owned->headers.get("Host");
  req->domain_name = std::string(host.substr(0, host.rfind(':') == std::string_view::npos || host.starts_with("[")
                                                      ? host.size()
                                                      : host.rfind(':')));
  if (req->domain_name.empty()) req->domain_name = api->id + ".execute-api.localhost";
  req->api_id = api->id;
  req->account = api->account;
  req->stage = stage->name;
  req->time_ms = deps_.clock ? deps_.clock->now_ms() : 0;
  req->stage_variables = &stage->variables;
  req->binary_media_types = &api->binary_media_types;

  // --- Lambda authorizers (authorizers.hpp) -------------------------------------------------------------
  // The route's authorizer runs first. A refusal is the answer (401/403/500); when it allows, serve() runs
  // again with its result, which the event carries as requestContext.authorizer.
  if (match.target->authorizer && !authorized) {
    std::string authorized_path = path;
    std::optional<std::string> own_port_stage;
    if (fixed_stage) own_port_stage = *fixed_stage;
    authorizers_->authorize(
        *match.target->authorizer, api->account, api->region, stage->variables, *req, match,
        [this, api_id, authorized_path, own_port_stage, owned, req, rest, trace,
         respond = std::move(respond)](AuthResult result) mutable {
          if (result.kind != AuthResult::Kind::allow) {
            http::Response r = auth_refusal(rest, result);
            add_gateway_headers(rest, *req, r);
            if (req->method == "HEAD") r.body.clear();
            return respond(std::move(r));
          }
          if (trace) {  // the integration starts now, not when the authorizer was called
            std::lock_guard lock(trace->mutex);
            trace->integration_start_ms = deps_.clock ? deps_.clock->now_ms() : 0;
          }
          auto pass = std::make_shared<AuthorizedPass>();
          pass->result = std::make_shared<const AuthResult>(std::move(result));
          pass->trace = trace;
          serve(api_id, std::move(authorized_path), std::move(*owned), std::move(respond),
                own_port_stage ? &*own_port_stage : nullptr, std::move(pass));
        });
    return;
  }
  if (authorized) {
    req->request_id = authorized->result->request_id;
    req->extended_request_id = authorized->result->extended_request_id;
  }
  // -------------------------------------------------------------------------------------------------------

  bool v1 = match.target->payload_version == "1.0";
  std::string event = v1 ? build_event_v1(*req, match) : build_event_v2(*req, match);
  if (authorized) event = with_authorizer(event, *authorized->result, v1);  // authorizers.hpp

  services::FunctionInvocation invocation;
  invocation.account = api->account;
  invocation.region = api->region;
  invocation.function = substitute_stage_variables(match.target->function, stage->variables);
  invocation.payload = std::move(event);

  // Whichever comes first answers: the function or the integration timeout. The timer holds the pending
  // answer weakly, so a finished request leaves nothing but an expired pointer in the timer's queue.
  auto pending = std::make_shared<Pending>();
  pending->respond = std::move(respond);
  pending->rest = rest;
  pending->request_id = req->request_id;
  pending->extended_request_id = req->extended_request_id;
  std::weak_ptr<Pending> weak = pending;
  deadlines_.at(Deadlines::now_ms() + match.target->timeout_ms, [weak] {
    auto p = weak.lock();
    if (!p) return;
    http::Respond r = p->take();
    if (!r) return;
    http::Response answer = failure(p->rest, Failure::timeout);
    add_gateway_headers(p->rest, p->request_id, p->extended_request_id, answer);
    r(std::move(answer));
  });
  deps_.invoker->invoke(
      std::move(invocation),
      [pending, req, owned, api, rest, v1, trace, clock = deps_.clock](FunctionInvocationResult result) {
        http::Respond respond_now = pending->take();
        if (!respond_now) return;  // the integration timed out first
        http::Response r;
        ProxyResponse mapped;
        bool answered = result.status == FunctionInvocationResult::Status::ok &&
                        (v1 ? map_response_v1(result.payload, *req, mapped) : map_response_v2(result.payload, mapped));
        if (answered) {
          r.status = mapped.status;
          r.headers = std::move(mapped.headers);
          r.body = std::move(mapped.body);
        } else {
          bool ran = result.status == FunctionInvocationResult::Status::ok ||
                     result.status == FunctionInvocationResult::Status::function_error;
          if (!ran)
            log::warn("apigateway", "{} {}: the integration failed: {} {}", req->method, req->full_path,
                      result.error_code, result.error_message);
          r = failure(rest, ran ? Failure::function_error : Failure::invoke_rejected);
        }
        edge_integration(trace.get(), result, answered, clock ? clock->now_ms() : 0);
        add_gateway_headers(rest, *req, r);
        if (req->method == "HEAD") r.body.clear();
        respond_now(std::move(r));
      });
}

// --- the services' shared pieces --------------------------------------------------------------------------

Outcome GatewayService::call(const std::string& operation, const Partition& p, json input) {
  for (const auto& op : operations()) {
    if (op.name != operation) continue;
    CallContext ctx;
    ctx.account = p.account;
    ctx.region = p.region;
    ctx.service = std::string(name());
    ctx.operation = operation;
    ctx.request_id = new_request_id();
    ctx.now_ms = gateway_->deps().clock ? gateway_->deps().clock->now_ms() : 0;
    std::promise<Outcome> promise;
    auto future = promise.get_future();
    op.handler(ctx, input, [&promise](Outcome o) { promise.set_value(std::move(o)); });
    return future.get();
  }
  return Outcome::fail(AwsError::sender(400, "BadRequestException", "Unknown operation " + operation));
}

ApiGatewayServices make_apigateway_services(ApiGatewayDeps deps) {
  if (deps.clock == nullptr) deps.clock = &SystemClock::instance();
  auto gateway = std::make_shared<Gateway>(std::move(deps));
  return {make_rest_service(gateway), make_http_service(gateway)};
}

void serve_api(Service& service, const std::string& api_id, std::string path, http::Request request,
               http::Respond respond) {
  auto* gs = dynamic_cast<GatewayService*>(&service);
  if (!gs) return respond(message_response(404, "Not Found"));
  gs->gateway().serve(api_id, std::move(path), std::move(request), std::move(respond));
}

void serve_api_stage(Service& service, const std::string& api_id, const std::string& stage, std::string path,
                     http::Request request, http::Respond respond) {
  auto* gs = dynamic_cast<GatewayService*>(&service);
  if (!gs) return respond(message_response(404, "Not Found"));
  gs->gateway().serve(api_id, std::move(path), std::move(request), std::move(respond), &stage);
}

std::vector<ApiPort> api_ports(Service& service) {
  std::vector<ApiPort> out;
  auto* gs = dynamic_cast<GatewayService*>(&service);
  if (!gs) return out;
  for (const auto& api : gs->gateway().all()) {
    if (!api->edge || api->edge->port == 0 || api->stages.empty()) continue;
    std::vector<std::string> names;
    for (const auto& [name, stage] : api->stages) names.push_back(name);
    std::sort(names.begin(), names.end());
    ApiPort p;
    p.api_id = api->id;
    p.name = api->name;
    p.type = api->rest ? "REST" : "HTTP";
    p.stage = api->stages.contains("$default") ? "$default" : names.front();
    p.port = api->edge->port;
    out.push_back(std::move(p));
  }
  return out;
}

http::Response api_payload_too_large(Service& service, const std::string& api_id) {
  auto* gs = dynamic_cast<GatewayService*>(&service);
  if (!gs) return message_response(413, "Request Entity Too Large");
  return gs->gateway().too_large(api_id);
}

std::vector<ApiEndpoint> api_endpoints(Service& service, const std::string& authority) {
  std::vector<ApiEndpoint> out;
  auto* gs = dynamic_cast<GatewayService*>(&service);
  if (!gs) return out;
  for (const auto& api : gs->gateway().all()) {
    std::vector<std::string> names;
    for (const auto& [name, stage] : api->stages) names.push_back(name);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      ApiEndpoint e;
      e.api_id = api->id;
      e.name = api->name;
      e.type = api->rest ? "REST" : "HTTP";
      e.stage = name;
      e.url = fmt::format("http://{}.execute-api.{}/{}", api->id, authority, name == "$default" ? "" : name + "/");
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace stratus::services::apigateway
