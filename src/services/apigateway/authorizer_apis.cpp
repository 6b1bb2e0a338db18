// Authorizer management for both API Gateway services, and the authorization members of HTTP API routes
// and REST API methods.
//   apigatewayv2: https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-authorizers.html
//   apigateway:   https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html
// Authorizers are stored in the API's record: HTTP "Authorizers": {AuthorizerId: authorizer}; REST
// "Authorizers": {id: authorizer}, copied into each deployment ("_authorizers") as REST APIs serve what was
// deployed.
#include <regex>
#include <set>

#include <fmt/format.h>

#include "services/apigateway/authorizers.hpp"
#include "services/apigateway/gateway.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {

std::optional<AwsError> load_api(Gateway& g, const Partition& p, const std::string& id, const char* type, json& rec) {
  auto loaded = g.load(p, id);
  if (!loaded || str(*loaded, "Type") != type)
    return not_found(fmt::format("Invalid API identifier specified {}:{}", p.account, id));
  rec = std::move(*loaded);
  if (!rec["Authorizers"].is_object()) rec["Authorizers"] = json::object();
  return std::nullopt;
}

// --- apigatewayv2 -------------------------------------------------------------------------------------

// Identity sources of an HTTP API Lambda authorizer.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html#http-api-lambda-authorizer.identity-sources
bool valid_http_identity_source(const std::string& s) {
  for (std::string_view prefix : {"$request.header.", "$request.querystring.", "$context.", "$stageVariables."})
    if (s.starts_with(prefix) && s.size() > prefix.size()) return true;
  return false;
}

std::optional<AwsError> apply_http_authorizer(const json& in, json& a) {
  for (const char* key : {"AuthorizerCredentialsArn", "AuthorizerPayloadFormatVersion", "AuthorizerResultTtlInSeconds",
                          "AuthorizerType", "AuthorizerUri", "EnableSimpleResponses", "IdentitySource",
                          "IdentityValidationExpression", "JwtConfiguration", "Name"})
    if (in.contains(key)) a[key] = in[key];
  if (str(a, "Name").empty()) return bad_request("Invalid authorizer name specified: Name is required");
  std::string type = str(a, "AuthorizerType");
  if (type == "JWT") {
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html
    const json& jwt = object_member(a, "JwtConfiguration");
    if (str(jwt, "Issuer").empty()) return bad_request("JwtConfiguration.Issuer is required for JWT authorizers");
    if (auto aud = jwt.find("Audience"); aud != jwt.end() && !aud->is_array())
      return bad_request("JwtConfiguration.Audience must be a list");
    if (a.contains("AuthorizerUri")) return bad_request("AuthorizerUri is not supported for JWT authorizers");
    if (!a.contains("IdentitySource")) a["IdentitySource"] = json::array({"$request.header.Authorization"});
    const json& sources = a["IdentitySource"];
    if (!sources.is_array() || sources.size() != 1 || !sources[0].is_string() ||
        !(sources[0].get<std::string>().starts_with("$request.header.") ||
          sources[0].get<std::string>().starts_with("$request.querystring.")))
      return bad_request("A JWT authorizer takes one identity source, $request.header.<name> or "
                         "$request.querystring.<name>");
    return std::nullopt;
  }
  if (type != "REQUEST")
    return bad_request(fmt::format("Invalid authorizer type {}. Valid values for HTTP APIs are REQUEST and JWT", type));
  std::string uri = str(a, "AuthorizerUri");
  if (uri.empty()) return bad_request("AuthorizerUri is required for REQUEST authorizers");
  if (function_of_uri(uri).empty())
    return bad_request("Invalid Authorizer URI specified: " + uri +
                       ". A Lambda authorizer URI is a function ARN or "
                       "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations");
  // "If you create a Lambda authorizer by using the AWS CLI, CloudFormation, or an SDK, you must specify an
  // authorizerPayloadFormatVersion."
  std::string pfv = str(a, "AuthorizerPayloadFormatVersion");
  if (pfv.empty()) return bad_request("AuthorizerPayloadFormatVersion is required for HTTP API Lambda authorizers");
  if (pfv != "1.0" && pfv != "2.0")
    return bad_request("Invalid AuthorizerPayloadFormatVersion " + pfv + ". Supported values are 1.0 and 2.0");
  if (a.contains("EnableSimpleResponses") && !a["EnableSimpleResponses"].is_boolean())
    return bad_request("EnableSimpleResponses must be a boolean");
  if (a.value("EnableSimpleResponses", false) && pfv != "2.0")
    return bad_request("EnableSimpleResponses is only supported for authorizers with AuthorizerPayloadFormatVersion 2.0");
  if (!a.contains("EnableSimpleResponses")) a["EnableSimpleResponses"] = false;
  if (!a.contains("AuthorizerResultTtlInSeconds")) a["AuthorizerResultTtlInSeconds"] = 300;
  const json& ttl = a["AuthorizerResultTtlInSeconds"];
  if (!ttl.is_number_integer() || ttl.get<int>() < 0 || ttl.get<int>() > 3600)
    return bad_request("AuthorizerResultTtlInSeconds must be between 0 and 3600");
  if (!a.contains("IdentitySource")) a["IdentitySource"] = json::array();
  if (!a["IdentitySource"].is_array()) return bad_request("IdentitySource must be a list of selection expressions");
  for (const auto& s : a["IdentitySource"])
    if (!s.is_string() || !valid_http_identity_source(s.get<std::string>()))
      return bad_request(fmt::format(
          "Invalid identity source {}. An identity source is $request.header.<name>, $request.querystring.<name>, "
          "$context.<variable> or $stageVariables.<name>",
          s.is_string() ? s.get<std::string>() : s.dump()));
  return std::nullopt;
}

}  // namespace

Outcome http_create_authorizer(Gateway& g, const CallContext&, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "ApiId"), "HTTP", rec)) return Outcome::fail(*e);
  json a = json::object();
  if (auto e = apply_http_authorizer(in, a)) return Outcome::fail(*e);
  std::string id = unique_id(rec["Authorizers"], 6);
  a["AuthorizerId"] = id;
  rec["Authorizers"][id] = a;
  if (auto e = save_record(g, rec)) return Outcome::fail(*e);
  return Outcome::ok(a);
}

namespace {
std::optional<AwsError> find_http_authorizer(const json& rec, const json& in, const json*& out) {
  std::string id = str(in, "AuthorizerId");
  auto it = rec["Authorizers"].find(id);
  if (it == rec["Authorizers"].end()) return not_found("Invalid Authorizer identifier specified " + id);
  out = &*it;
  return std::nullopt;
}
}  // namespace

Outcome http_get_authorizer(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "ApiId"), "HTTP", rec)) return Outcome::fail(*e);
  const json* a = nullptr;
  if (auto e = find_http_authorizer(rec, in, a)) return Outcome::fail(*e);
  return Outcome::ok(*a);
}

Outcome http_get_authorizers(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "ApiId"), "HTTP", rec)) return Outcome::fail(*e);
  json items = json::array();
  for (const auto& [id, a] : rec["Authorizers"].items()) items.push_back(a);
  return Outcome::ok({{"Items", items}});
}

Outcome http_update_authorizer(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "ApiId"), "HTTP", rec)) return Outcome::fail(*e);
  const json* found = nullptr;
  if (auto e = find_http_authorizer(rec, in, found)) return Outcome::fail(*e);
  json a = *found;
  if (auto e = apply_http_authorizer(in, a)) return Outcome::fail(*e);
  rec["Authorizers"][str(in, "AuthorizerId")] = a;
  if (auto e = save_record(g, rec)) return Outcome::fail(*e);
  return Outcome::ok(a);
}

Outcome http_delete_authorizer(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "ApiId"), "HTTP", rec)) return Outcome::fail(*e);
  const json* found = nullptr;
  if (auto e = find_http_authorizer(rec, in, found)) return Outcome::fail(*e);
  std::string id = str(in, "AuthorizerId");
  for (const auto& [route_id, route] : object_member(rec, "Routes").items())
    if (str(route, "AuthorizerId") == id)
      return Outcome::fail(conflict(fmt::format(
          "Unable to delete authorizer {}: it is used by route {} ({})", id, route_id, str(route, "RouteKey"))));
  rec["Authorizers"].erase(id);
  if (auto e = save_record(g, rec)) return Outcome::fail(*e);
  return Outcome::ok(json::object());
}

Outcome http_reset_authorizers_cache(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "ApiId"), "HTTP", rec)) return Outcome::fail(*e);
  if (!object_member(rec, "Stages").contains(str(in, "StageName")))
    return Outcome::fail(not_found("Invalid stage identifier specified"));
  // Stratus keeps one cache per API, shared by its stages (every stage serves the same routes).
  g.authorizer_runtime().flush(str(in, "ApiId"));
  return Outcome::ok(json::object());
}

std::optional<AwsError> check_route_authorization(const json& rec, json& route) {
  // https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-routes.html#apis-apiid-routes-model-authorizationtype
  std::string auth = str(route, "AuthorizationType", "NONE");
  static const std::set<std::string> kTypes = {"NONE", "AWS_IAM", "CUSTOM", "JWT"};
  if (!kTypes.contains(auth))
    return bad_request("Invalid authorization type " + auth + ". Valid values are NONE, AWS_IAM, CUSTOM and JWT");
  if (auth == "AWS_IAM") return bad_request("Stratus does not support AWS_IAM authorization yet");
  route["AuthorizationType"] = auth;
  if (auth == "NONE") {
    if (route.contains("AuthorizerId") && !str(route, "AuthorizerId").empty())
      return bad_request("AuthorizerId can only be set when AuthorizationType is CUSTOM or JWT");
    route.erase("AuthorizerId");
    return std::nullopt;
  }
  std::string id = str(route, "AuthorizerId");
  if (id.empty()) return bad_request("AuthorizerId is required when AuthorizationType is " + auth);
  const json& authorizers = object_member(rec, "Authorizers");
  auto it = authorizers.find(id);
  if (it == authorizers.end()) return not_found("Invalid Authorizer identifier specified " + id);
  std::string wanted = auth == "JWT" ? "JWT" : "REQUEST";
  if (str(*it, "AuthorizerType") != wanted)
    return bad_request("AuthorizationType " + auth + " requires a " + wanted + " authorizer; " + id + " is " +
                       str(*it, "AuthorizerType"));
  return std::nullopt;
}

// --- apigateway (REST) --------------------------------------------------------------------------------

namespace {

// REST identity sources: method.request.header|querystring|path.N, stageVariables.N, context.N.
bool valid_rest_identity_source(const std::string& s, bool token) {
  if (token) return s.starts_with("method.request.header.") && s.size() > 22;
  for (std::string_view prefix : {"method.request.header.", "method.request.querystring.", "method.request.path.",
                                  "stageVariables.", "context."})
    if (s.starts_with(prefix) && s.size() > prefix.size()) return true;
  return false;
}

std::vector<std::string> split_sources(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (true) {
    auto comma = s.find(',', at);
    std::string part = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    out.push_back(part);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

std::optional<AwsError> check_rest_authorizer(json& a) {
  if (str(a, "name").empty()) return bad_request("Invalid authorizer name specified");
  std::string type = str(a, "type");
  if (type == "COGNITO_USER_POOLS") return bad_request("Stratus does not support COGNITO_USER_POOLS authorizers yet");
  if (type != "TOKEN" && type != "REQUEST")
    return bad_request("Invalid authorizer type " + type + ". Valid values are TOKEN, REQUEST and COGNITO_USER_POOLS");
  std::string uri = str(a, "authorizerUri");
  if (uri.empty()) return bad_request("Authorizer URI is required for TOKEN and REQUEST authorizers");
  if (function_of_uri(uri).empty()) return bad_request("Invalid Authorizer URI specified: " + uri);
  if (!a.contains("authorizerResultTtlInSeconds")) a["authorizerResultTtlInSeconds"] = 300;
  const json& ttl = a["authorizerResultTtlInSeconds"];
  if (!ttl.is_number_integer() || ttl.get<int>() < 0 || ttl.get<int>() > 3600)
    return bad_request("Authorizer result TTL must be between 0 and 3600 seconds");
  std::string sources = str(a, "identitySource");
  bool token = type == "TOKEN";
  // "For a TOKEN ... authorizer, this is required ... For the REQUEST authorizer, this is required when
  // authorization caching is enabled."
  if (sources.empty() && (token || ttl.get<int>() > 0))
    return bad_request(token ? "Identity source is required for TOKEN authorizers"
                             : "Identity source is required when authorization caching is enabled");
  if (!sources.empty()) {
    auto list = split_sources(sources);
    if (token && list.size() != 1) return bad_request("A TOKEN authorizer takes one identity source");
    for (const auto& s : list)
      if (!valid_rest_identity_source(s, token))
        return bad_request(fmt::format("Invalid identity source specified: {}", s));
  }
  if (auto expr = a.find("identityValidationExpression"); expr != a.end() && expr->is_string()) {
    if (!token) a.erase("identityValidationExpression");  // "not used for REQUEST authorizers"
    else {
      try {
        std::regex re(expr->get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        return bad_request("Invalid identity validation expression specified: " + expr->get<std::string>());
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Outcome rest_create_authorizer(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "restApiId"), "REST", rec)) return Outcome::fail(*e);
  json a = json::object();
  for (const char* key : {"name", "type", "providerARNs", "authType", "authorizerUri", "authorizerCredentials",
                          "identitySource", "identityValidationExpression", "authorizerResultTtlInSeconds"})
    if (in.contains(key) && !in[key].is_null()) a[key] = in[key];
  if (auto e = check_rest_authorizer(a)) return Outcome::fail(*e);
  std::string id = unique_id(rec["Authorizers"], 6);
  a["id"] = id;
  rec["Authorizers"][id] = a;
  if (auto e = save_record(g, rec)) return Outcome::fail(*e);
  return Outcome::ok(a);
}

namespace {
std::optional<AwsError> find_rest_authorizer(const json& rec, const json& in, const json*& out) {
  auto it = rec["Authorizers"].find(str(in, "authorizerId"));
  if (it == rec["Authorizers"].end()) return not_found("Invalid Authorizer identifier specified");
  out = &*it;
  return std::nullopt;
}
}  // namespace

Outcome rest_get_authorizer(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "restApiId"), "REST", rec)) return Outcome::fail(*e);
  const json* a = nullptr;
  if (auto e = find_rest_authorizer(rec, in, a)) return Outcome::fail(*e);
  return Outcome::ok(*a);
}

Outcome rest_get_authorizers(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "restApiId"), "REST", rec)) return Outcome::fail(*e);
  json items = json::array();
  for (const auto& [id, a] : rec["Authorizers"].items()) items.push_back(a);
  return Outcome::ok({{"items", items}});
}

Outcome rest_update_authorizer(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "restApiId"), "REST", rec)) return Outcome::fail(*e);
  const json* found = nullptr;
  if (auto e = find_rest_authorizer(rec, in, found)) return Outcome::fail(*e);
  json a = *found;
  // https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html: "replace" on the scalar members.
  static const std::set<std::string> kPaths = {"/name", "/type", "/authorizerUri", "/authorizerCredentials",
                                               "/identitySource", "/identityValidationExpression",
                                               "/authorizerResultTtlInSeconds", "/authType"};
  for (const auto& op : in.value("patchOperations", json::array())) {
    std::string path = str(op, "path");
    if (str(op, "op") != "replace")
      return Outcome::fail(bad_request("Invalid patch operation specified. Must be one of: [replace]"));
    if (!kPaths.contains(path))
      return Outcome::fail(bad_request("Invalid patch path " + path + " specified for op 'replace'. Must be one of: "
                                       "[/name, /type, /authorizerUri, /authorizerCredentials, /identitySource, "
                                       "/identityValidationExpression, /authorizerResultTtlInSeconds, /authType]"));
    std::string member = path.substr(1);
    std::string value = str(op, "value");
    if (member == "authorizerResultTtlInSeconds") {
      static const std::regex kInt("[0-9]{1,9}");
      if (!std::regex_match(value, kInt))
        return Outcome::fail(bad_request("Invalid value for authorizerResultTtlInSeconds: " + value));
      a[member] = std::stoi(value);
    } else if (value.empty()) {
      a.erase(member);
    } else {
      a[member] = value;
    }
  }
  if (auto e = check_rest_authorizer(a)) return Outcome::fail(*e);
  rec["Authorizers"][str(in, "authorizerId")] = a;
  if (auto e = save_record(g, rec)) return Outcome::fail(*e);
  return Outcome::ok(a);
}

Outcome rest_delete_authorizer(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "restApiId"), "REST", rec)) return Outcome::fail(*e);
  const json* found = nullptr;
  if (auto e = find_rest_authorizer(rec, in, found)) return Outcome::fail(*e);
  std::string id = str(in, "authorizerId");
  for (const auto& [rid, res] : object_member(rec, "Resources").items())
    for (const auto& [m, method] : object_member(res, "resourceMethods").items())
      if (str(method, "authorizerId") == id)
        return Outcome::fail(bad_request(
            fmt::format("Cannot delete authorizer '{}', is referenced in method: {} {}", id, m, str(res, "path"))));
  rec["Authorizers"].erase(id);
  if (auto e = save_record(g, rec)) return Outcome::fail(*e);
  return Outcome::ok(json::object());
}

Outcome rest_flush_authorizers_cache(Gateway& g, const Partition& p, const json& in) {
  json rec;
  if (auto e = load_api(g, p, str(in, "restApiId"), "REST", rec)) return Outcome::fail(*e);
  if (!object_member(rec, "Stages").contains(str(in, "stageName")))
    return Outcome::fail(not_found("Invalid Stage identifier specified"));
  g.authorizer_runtime().flush(str(in, "restApiId"));
  return Outcome::ok(json::object());
}

std::optional<AwsError> check_method_authorization(const json& rec, const json& in, json& method) {
  std::string auth = str(in, "authorizationType");
  static const std::set<std::string> kTypes = {"NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"};
  if (!kTypes.contains(auth))
    return bad_request("Invalid authorization type specified. Valid values are NONE, AWS_IAM, CUSTOM and "
                       "COGNITO_USER_POOLS");
  if (auth == "AWS_IAM" || auth == "COGNITO_USER_POOLS")
    return bad_request("Stratus does not support authorizationType " + auth + " yet (NONE and CUSTOM are supported)");
  method["authorizationType"] = auth;
  if (auth == "NONE") return std::nullopt;
  std::string id = str(in, "authorizerId");
  if (id.empty()) return bad_request("Invalid authorizer ID specified. Setting the authorization type to CUSTOM "
                                     "requires a valid authorizer.");
  if (!object_member(rec, "Authorizers").contains(id))
    return bad_request("Invalid authorizer ID specified. Setting the authorization type to CUSTOM requires a valid "
                       "authorizer.");
  method["authorizerId"] = id;
  return std::nullopt;
}

}  // namespace stratus::services::apigateway
