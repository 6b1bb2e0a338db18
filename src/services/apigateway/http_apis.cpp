// apigatewayv2 for HTTP APIs: APIs (with quick create), routes, integrations and stages.
// Reference: https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/ and botocore's model
// (src/protocol/models/apigatewayv2.json). Errors are API Gateway's: BadRequestException (400),
// NotFoundException (404), ConflictException (409), each {"message": ...}.
#include <regex>
#include <set>

#include <fmt/format.h>

#include "services/apigateway/edge_ops.hpp"
#include "services/apigateway/authorizers.hpp"
#include "services/apigateway/gateway.hpp"
#include "services/apigateway/routing.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {



// The port of the Host the client used, so that ApiEndpoint is a URL that works from where it called.
std::string endpoint_of(const CallContext& ctx, const std::string& api_id) {
  std::string port = "4566";
  if (auto colon = ctx.host.rfind(':'); colon != std::string::npos && ctx.host.find(']', colon) == std::string::npos)
    port = ctx.host.substr(colon + 1);
  return fmt::format("http://{}.execute-api.localhost:{}", api_id, port);
}

const std::set<std::string>& route_methods() {
  static const std::set<std::string> methods = {"ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
  return methods;
}

// "$default" or "METHOD /path" as HTTP APIs accept them.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
std::optional<AwsError> check_route_key(const std::string& key) {
  if (key == "$default") return std::nullopt;
  auto space = key.find(' ');
  std::string method = key.substr(0, space);
  if (space == std::string::npos || !route_methods().contains(method))
    return bad_request(fmt::format(
        "Unable to create route {}. Route key must be $default or an HTTP method (ANY, GET, POST, PUT, PATCH, "
        "DELETE, HEAD, OPTIONS) followed by a space and a path starting with /",
        key));
  PathTemplate tpl;
  if (auto e = parse_path_template(key.substr(space + 1), tpl))
    return bad_request(fmt::format("Unable to create route {}: {}", key, *e));
  return std::nullopt;
}

json public_members(const json& j) {
  json out = json::object();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!it.key().starts_with("_")) out[it.key()] = it.value();
  return out;
}

struct Ops {
  Gateway& g;
  const CallContext& ctx;
  Partition p;

  AwsError api_not_found(const std::string& id) const {
    return not_found(fmt::format("Invalid API identifier specified {}:{}", p.account, id));
  }

  std::optional<AwsError> load(const json& in, json& rec) {
    std::string id = str(in, "ApiId");
    auto loaded = g.load(p, id);
    if (!loaded || str(*loaded, "Type") != "HTTP") return api_not_found(id);
    rec = std::move(*loaded);
    return std::nullopt;
  }

  std::optional<AwsError> save(const json& rec) { return save_record(g, rec); }


  // --- integrations ---

  std::optional<AwsError> apply_integration(const json& in, json& integ) {
    for (const char* key : {"ConnectionId", "ConnectionType", "ContentHandlingStrategy", "CredentialsArn",
                            "Description", "IntegrationMethod", "IntegrationSubtype", "IntegrationType",
                            "IntegrationUri", "PassthroughBehavior", "PayloadFormatVersion", "RequestParameters",
                            "RequestTemplates", "ResponseParameters", "TemplateSelectionExpression",
                            "TimeoutInMillis", "TlsConfig"})
      if (in.contains(key)) integ[key] = in[key];
    std::string type = str(integ, "IntegrationType");
    static const std::set<std::string> kTypes = {"AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"};
    if (!kTypes.contains(type))
      return bad_request(fmt::format("Invalid IntegrationType {}; valid values are AWS, AWS_PROXY, HTTP, HTTP_PROXY, MOCK",
                                     type));
    // HTTP APIs support AWS_PROXY and HTTP_PROXY only.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations.html
    if (type != "AWS_PROXY" && type != "HTTP_PROXY")
      return bad_request("Integration type " + type + " is not supported for HTTP APIs; use AWS_PROXY or HTTP_PROXY");
    if (type == "AWS_PROXY") {
      if (str(integ, "IntegrationUri").empty() && !integ.contains("IntegrationSubtype"))
        return bad_request("IntegrationUri is required for AWS_PROXY integrations");
      if (!integ.contains("IntegrationSubtype") && function_of_uri(str(integ, "IntegrationUri")).empty())
        return bad_request("Invalid integration URI specified: " + str(integ, "IntegrationUri") +
                           ". A Lambda integration URI is a function ARN or "
                           "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations");
      std::string pfv = str(integ, "PayloadFormatVersion");
      if (pfv.empty()) return bad_request("PayloadFormatVersion is required for AWS_PROXY integrations of HTTP APIs");
      if (pfv != "1.0" && pfv != "2.0")
        return bad_request("Invalid PayloadFormatVersion " + pfv + ". Supported values are 1.0 and 2.0");
      integ["IntegrationMethod"] = "POST";
    }
    if (!integ.contains("TimeoutInMillis")) integ["TimeoutInMillis"] = 30000;
    auto t = integ["TimeoutInMillis"];
    if (!t.is_number_integer() || t.get<int>() < 50 || t.get<int>() > 30000)
      return bad_request("Timeout must be between 50 milliseconds and 30000 milliseconds");
    if (!integ.contains("ConnectionType")) integ["ConnectionType"] = "INTERNET";
    return std::nullopt;
  }

  Outcome create_integration(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json integ = json::object();
    if (auto e = apply_integration(in, integ)) return Outcome::fail(*e);
    std::string id = unique_id(rec["Integrations"], 7);
    integ["IntegrationId"] = id;
    integ["ApiGatewayManaged"] = false;
    rec["Integrations"][id] = integ;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(public_members(integ));
  }

  std::optional<AwsError> find_integration(const json& rec, const json& in, const json*& out) {
    std::string id = str(in, "IntegrationId");
    auto it = rec["Integrations"].find(id);
    if (it == rec["Integrations"].end()) return not_found("Invalid Integration identifier specified");
    out = &*it;
    return std::nullopt;
  }

  Outcome get_integration(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    const json* integ = nullptr;
    if (auto e = find_integration(rec, in, integ)) return Outcome::fail(*e);
    return Outcome::ok(public_members(*integ));
  }

  Outcome update_integration(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    const json* found = nullptr;
    if (auto e = find_integration(rec, in, found)) return Outcome::fail(*e);
    json integ = *found;
    if (auto e = apply_integration(in, integ)) return Outcome::fail(*e);
    rec["Integrations"][str(in, "IntegrationId")] = integ;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(public_members(integ));
  }

  Outcome delete_integration(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    const json* found = nullptr;
    if (auto e = find_integration(rec, in, found)) return Outcome::fail(*e);
    std::string target = "integrations/" + str(in, "IntegrationId");
    for (const auto& [id, route] : rec["Routes"].items())
      if (str(route, "Target") == target)
        return Outcome::fail(conflict(fmt::format(
            "Unable to delete integration {}: it is the target of route {}", str(in, "IntegrationId"), id)));
    rec["Integrations"].erase(str(in, "IntegrationId"));
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome get_integrations(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json items = json::array();
    for (const auto& [id, integ] : rec["Integrations"].items()) items.push_back(public_members(integ));
    return Outcome::ok({{"Items", items}});
  }

  // --- routes ---

  std::optional<AwsError> apply_route(const json& rec, const json& in, json& route, const std::string& self_id) {
    for (const char* key : {"ApiKeyRequired", "AuthorizationScopes", "AuthorizationType", "AuthorizerId",
                            "ModelSelectionExpression", "OperationName", "RequestModels", "RequestParameters",
                            "RouteKey", "RouteResponseSelectionExpression", "Target"})
      if (in.contains(key)) route[key] = in[key];
    std::string key = str(route, "RouteKey");
    if (auto e = check_route_key(key)) return e;
    for (const auto& [id, other] : rec["Routes"].items())
      if (id != self_id && str(other, "RouteKey") == key)
        return conflict(fmt::format("Unable to create route {}. Route key already exists for this API", key));
    std::string target = str(route, "Target");
    if (!target.empty()) {
      if (!target.starts_with("integrations/"))
        return bad_request("Invalid target " + target + ". A route target has the form integrations/{integrationId}");
      if (!rec["Integrations"].contains(target.substr(13)))
        return not_found("Invalid Integration identifier specified " + target.substr(13));
    }
    if (auto e = check_route_authorization(rec, route)) return e;  // authorizer_apis.cpp
    if (!route.contains("ApiKeyRequired")) route["ApiKeyRequired"] = false;
    return std::nullopt;
  }

  Outcome create_route(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json route = json::object();
    if (auto e = apply_route(rec, in, route, "")) return Outcome::fail(*e);
    std::string id = unique_id(rec["Routes"], 7);
    route["RouteId"] = id;
    route["ApiGatewayManaged"] = false;
    rec["Routes"][id] = route;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(public_members(route));
  }

  std::optional<AwsError> find_route(const json& rec, const json& in, const json*& out) {
    auto it = rec["Routes"].find(str(in, "RouteId"));
    if (it == rec["Routes"].end()) return not_found("Invalid Route identifier specified " + str(in, "RouteId"));
    out = &*it;
    return std::nullopt;
  }

  Outcome get_route(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    const json* route = nullptr;
    if (auto e = find_route(rec, in, route)) return Outcome::fail(*e);
    return Outcome::ok(public_members(*route));
  }

  Outcome update_route(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    const json* found = nullptr;
    if (auto e = find_route(rec, in, found)) return Outcome::fail(*e);
    json route = *found;
    if (auto e = apply_route(rec, in, route, str(in, "RouteId"))) return Outcome::fail(*e);
    rec["Routes"][str(in, "RouteId")] = route;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(public_members(route));
  }

  Outcome delete_route(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    const json* found = nullptr;
    if (auto e = find_route(rec, in, found)) return Outcome::fail(*e);
    rec["Routes"].erase(str(in, "RouteId"));
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome get_routes(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json items = json::array();
    for (const auto& [id, route] : rec["Routes"].items()) items.push_back(public_members(route));
    return Outcome::ok({{"Items", items}});
  }

  // --- stages ---

  std::optional<AwsError> apply_stage(const json& in, json& stage) {
    for (const char* key : {"AccessLogSettings", "AutoDeploy", "ClientCertificateId", "DefaultRouteSettings",
                            "DeploymentId", "Description", "RouteSettings", "StageVariables", "Tags"})
      if (in.contains(key)) stage[key] = in[key];
    if (auto vars = stage.find("StageVariables"); vars != stage.end()) {
      static const std::regex kName("[A-Za-z0-9_]{1,64}");
      static const std::regex kValue("[A-Za-z0-9\\-._~:/?#&=,]{0,2048}");
      for (const auto& [k, v] : vars->items()) {
        if (!std::regex_match(k, kName))
          return bad_request("Stage variable name " + k + " must match [A-Za-z0-9_]{1,64}");
        if (!v.is_string() || !std::regex_match(v.get<std::string>(), kValue))
          return bad_request("Stage variable value for " + k + " must match [A-Za-z0-9-._~:/?#&=,]{0,2048}");
      }
    }
    if (auto e = check_http_stage_settings(stage)) return e;
    if (!stage.contains("DefaultRouteSettings")) stage["DefaultRouteSettings"] = {{"DetailedMetricsEnabled", false}};
    if (!stage.contains("RouteSettings")) stage["RouteSettings"] = json::object();
    if (!stage.contains("StageVariables")) stage["StageVariables"] = json::object();
    if (!stage.contains("Tags")) stage["Tags"] = json::object();
    if (!stage.contains("AutoDeploy")) stage["AutoDeploy"] = false;
    stage["LastUpdatedDate"] = static_cast<double>(ctx.now_ms) / 1000.0;
    return std::nullopt;
  }

  Outcome create_stage(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    std::string name = str(in, "StageName");
    static const std::regex kStage("[A-Za-z0-9_\\-]{1,128}");
    if (name != "$default" && !std::regex_match(name, kStage))
      return Outcome::fail(bad_request("Stage name only allows a-zA-Z0-9_- or $default"));
    if (rec["Stages"].contains(name)) return Outcome::fail(conflict("Stage " + name + " already exists"));
    json stage = json::object();
    stage["StageName"] = name;
    stage["CreatedDate"] = static_cast<double>(ctx.now_ms) / 1000.0;
    stage["ApiGatewayManaged"] = false;
    if (auto e = apply_stage(in, stage)) return Outcome::fail(*e);
    rec["Stages"][name] = stage;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(public_members(stage));
  }

  std::optional<AwsError> find_stage(const json& rec, const json& in, const json*& out) {
    auto it = rec["Stages"].find(str(in, "StageName"));
    if (it == rec["Stages"].end()) return not_found("Invalid stage identifier specified");
    out = &*it;
    return std::nullopt;
  }

  Outcome get_stage(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    const json* stage = nullptr;
    if (auto e = find_stage(rec, in, stage)) return Outcome::fail(*e);
    return Outcome::ok(public_members(*stage));
  }

  Outcome update_stage(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    const json* found = nullptr;
    if (auto e = find_stage(rec, in, found)) return Outcome::fail(*e);
    json stage = *found;
    if (auto e = apply_stage(in, stage)) return Outcome::fail(*e);
    rec["Stages"][str(in, "StageName")] = stage;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(public_members(stage));
  }

  Outcome delete_stage(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    const json* found = nullptr;
    if (auto e = find_stage(rec, in, found)) return Outcome::fail(*e);
    rec["Stages"].erase(str(in, "StageName"));
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome get_stages(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json items = json::array();
    for (const auto& [name, stage] : rec["Stages"].items()) items.push_back(public_members(stage));
    return Outcome::ok({{"Items", items}});
  }

  // --- APIs ---

  json api_out(const json& rec) const {
    json out = public_members(rec["Api"]);
    out["ApiEndpoint"] = endpoint_of(ctx, str(rec["Api"], "ApiId"));
    return out;
  }

  std::optional<AwsError> apply_api(const json& in, json& api) {
    for (const char* key : {"ApiKeySelectionExpression", "CorsConfiguration", "Description",
                            "DisableExecuteApiEndpoint", "DisableSchemaValidation", "IpAddressType", "Name",
                            "RouteSelectionExpression", "Version"})
      if (in.contains(key)) api[key] = in[key];
    if (str(api, "Name").empty()) return bad_request("Invalid API name specified: Name is required");
    if (api.contains("CorsConfiguration"))
      if (auto e = check_cors_configuration(api["CorsConfiguration"])) return e;
    if (str(api, "RouteSelectionExpression") != "$request.method $request.path")
      return bad_request("Invalid RouteSelectionExpression; HTTP APIs use $request.method $request.path");
    return std::nullopt;
  }

  Outcome create_api(const json& in) {
    std::string protocol = str(in, "ProtocolType");
    if (protocol != "HTTP" && protocol != "WEBSOCKET")
      return Outcome::fail(bad_request("Invalid ProtocolType " + protocol + "; valid values are HTTP and WEBSOCKET"));
    if (protocol == "WEBSOCKET")
      return Outcome::fail(bad_request("Stratus does not support WebSocket APIs yet (ProtocolType WEBSOCKET)"));
    bool quick = in.contains("Target");
    if (!quick && in.contains("RouteKey"))
      return Outcome::fail(bad_request("RouteKey can only be specified together with Target (quick create)"));
    json api = {{"ProtocolType", "HTTP"},
                {"RouteSelectionExpression", "$request.method $request.path"},
                {"ApiKeySelectionExpression", "$request.header.x-api-key"},
                {"DisableExecuteApiEndpoint", false},
                {"CreatedDate", static_cast<double>(ctx.now_ms) / 1000.0},
                {"Tags", in.value("Tags", json::object())}};
    if (auto e = apply_api(in, api)) return Outcome::fail(*e);
    std::string id;
    do id = random_id(10);
    while (g.id_taken(id));
    api["ApiId"] = id;
    json rec = {{"Type", "HTTP"},
                {"Account", p.account},
                {"Region", p.region},
                {"Api", api},
                {"Routes", json::object()},
                {"Integrations", json::object()},
                {"Stages", json::object()}};
    if (quick) {
      // Quick create: a Lambda proxy (or HTTP proxy) integration, a route (RouteKey, default $default) and
      // the $default stage with automatic deployment, all API Gateway-managed.
      // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop.html#http-api-examples
      std::string target = str(in, "Target");
      bool lambda = !function_of_uri(target).empty();
      json integ = {{"IntegrationType", lambda ? "AWS_PROXY" : "HTTP_PROXY"}, {"IntegrationUri", target}};
      if (lambda) integ["PayloadFormatVersion"] = "2.0";
      if (!lambda) integ["IntegrationMethod"] = "ANY";
      json stored = json::object();
      if (auto e = apply_integration(integ, stored)) return Outcome::fail(*e);
      std::string integ_id = random_id(7);
      stored["IntegrationId"] = integ_id;
      stored["ApiGatewayManaged"] = true;
      rec["Integrations"][integ_id] = stored;
      std::string key = str(in, "RouteKey", "$default");
      if (auto e = check_route_key(key)) return Outcome::fail(*e);
      std::string route_id = random_id(7);
      rec["Routes"][route_id] = {{"RouteId", route_id},        {"RouteKey", key},
                                 {"Target", "integrations/" + integ_id}, {"AuthorizationType", "NONE"},
                                 {"ApiKeyRequired", false},     {"ApiGatewayManaged", true}};
      json stage = {{"StageName", "$default"}, {"AutoDeploy", true}, {"ApiGatewayManaged", true},
                    {"CreatedDate", static_cast<double>(ctx.now_ms) / 1000.0}};
      if (auto e = apply_stage(json::object(), stage)) return Outcome::fail(*e);
      stage["AutoDeploy"] = true;
      rec["Stages"]["$default"] = stage;
    }
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(api_out(rec));
  }

  Outcome get_api(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    return Outcome::ok(api_out(rec));
  }

  Outcome update_api(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json api = rec["Api"];
    if (auto e = apply_api(in, api)) return Outcome::fail(*e);
    rec["Api"] = api;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(api_out(rec));
  }

  Outcome delete_api(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    if (auto e = g.erase(p, str(in, "ApiId"))) return Outcome::fail(AwsError::receiver(500, "InternalFailure", *e));
    return Outcome::ok(json::object());
  }

  // --- authorizers (authorizer_apis.cpp) ---
  Outcome create_authorizer(const json& in) { return http_create_authorizer(g, ctx, p, in); }
  Outcome get_authorizer(const json& in) { return http_get_authorizer(g, p, in); }
  Outcome get_authorizers(const json& in) { return http_get_authorizers(g, p, in); }
  Outcome update_authorizer(const json& in) { return http_update_authorizer(g, p, in); }
  Outcome delete_authorizer(const json& in) { return http_delete_authorizer(g, p, in); }
  Outcome reset_authorizers_cache(const json& in) { return http_reset_authorizers_cache(g, p, in); }

  Outcome get_apis(const json&) {
    json items = json::array();
    for (const auto& rec : g.list(p, "HTTP")) items.push_back(api_out(rec));
    return Outcome::ok({{"Items", items}});
  }
};

class HttpApiService final : public GatewayService {
 public:
  explicit HttpApiService(std::shared_ptr<Gateway> gateway) : GatewayService(std::move(gateway)) {
    using Fn = Outcome (Ops::*)(const json&);
    auto add = [this](std::string name, Fn fn, std::string notes = "") {
      OperationSpec spec;
      spec.name = name;
      spec.rules = InputRules::none;  // API Gateway answers BadRequestException, not coral's ValidationException
      spec.notes = std::move(notes);
      spec.handler = [this, fn](const CallContext& ctx, json& input, Reply reply) {
        Outcome o;
        {
          std::lock_guard lock(gateway_->mutex());
          Ops ops{*gateway_, ctx, Partition{ctx.account, ctx.region}};
          o = (ops.*fn)(input);
        }
        reply(std::move(o));
      };
      operations_.push_back(std::move(spec));
    };
    add("CreateApi", &Ops::create_api,
        "HTTP APIs only (no WEBSOCKET); quick create (Target, RouteKey); ApiEndpoint is the local http URL; "
        "CorsConfiguration applied by the gateway (preflight answered, CORS headers on every answer)");
    add("GetApi", &Ops::get_api);
    add("GetApis", &Ops::get_apis, "one page");
    add("UpdateApi", &Ops::update_api);
    add("DeleteApi", &Ops::delete_api);
    add("CreateRoute", &Ops::create_route,
        "AuthorizationType NONE, CUSTOM (a Lambda REQUEST authorizer) or JWT; AWS_IAM is refused");
    add("GetRoute", &Ops::get_route);
    add("GetRoutes", &Ops::get_routes, "one page");
    add("UpdateRoute", &Ops::update_route);
    add("DeleteRoute", &Ops::delete_route);
    add("CreateIntegration", &Ops::create_integration,
        "AWS_PROXY to Lambda is served; HTTP_PROXY is stored but answers 500 when called");
    add("GetIntegration", &Ops::get_integration);
    add("GetIntegrations", &Ops::get_integrations, "one page");
    add("UpdateIntegration", &Ops::update_integration);
    add("DeleteIntegration", &Ops::delete_integration);
    add("CreateStage", &Ops::create_stage,
        "every stage serves the API's current routes, as with AutoDeploy; throttling (DefaultRouteSettings, "
        "RouteSettings) and AccessLogSettings applied (see apigateway.md)");
    add("GetStage", &Ops::get_stage);
    add("GetStages", &Ops::get_stages, "one page");
    add("UpdateStage", &Ops::update_stage);
    add("DeleteStage", &Ops::delete_stage);
    add_http_edge_operations(operations_, gateway_);
    add("CreateAuthorizer", &Ops::create_authorizer,
        "REQUEST (Lambda) authorizers, payload 1.0/2.0, simple responses, caching; JWT (RS256, keys from a "
        "local JWKS file: Issuer file:///DIR); AuthorizerCredentialsArn stored, not used");
    add("GetAuthorizer", &Ops::get_authorizer);
    add("GetAuthorizers", &Ops::get_authorizers, "one page");
    add("UpdateAuthorizer", &Ops::update_authorizer);
    add("DeleteAuthorizer", &Ops::delete_authorizer, "refused (ConflictException) while a route uses it");
    add("ResetAuthorizersCache", &Ops::reset_authorizers_cache, "flushes the API's cache (shared by its stages)");
  }
  std::string_view name() const override { return "apigatewayv2"; }
  const std::vector<OperationSpec>& operations() const override { return operations_; }
};

}  // namespace

std::shared_ptr<GatewayService> make_http_service(std::shared_ptr<Gateway> gateway) {
  return std::make_shared<HttpApiService>(std::move(gateway));
}

}  // namespace stratus::services::apigateway
