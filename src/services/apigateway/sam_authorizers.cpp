// SAM's Lambda authorizers: Auth.Authorizers / Auth.DefaultAuthorizer of AWS::Serverless::HttpApi and
// AWS::Serverless::Api, and the Auth.Authorizer of a function's HttpApi / Api event.
//   https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-httpapi-lambdaauthorizer.html
//   https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-httpapi-lambdaauthorizationidentity.html
//   https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-api-lambdatokenauthorizer.html
//   https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-api-lambdarequestauthorizer.html
// The authorizers are made through the services' CreateAuthorizer; their ids are kept by name in the API's
// record ("_SamAuth": {"Authorizers": {NAME: ID}, "DefaultAuthorizer": NAME}) for the events applied later.
#include <fmt/format.h>

#include "services/apigateway/authorizers.hpp"
#include "services/apigateway/gateway.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {

AwsError stack_error(std::string message) { return AwsError::sender(400, "BadRequestException", std::move(message)); }

// Identity.Headers / QueryStrings / StageVariables / Context as identity source expressions.
std::vector<std::string> identity_sources(const json& identity, bool rest) {
  std::vector<std::string> out;
  struct Kind {
    const char* member;
    const char* http_prefix;
    const char* rest_prefix;
  };
  for (const Kind& k : {Kind{"Headers", "$request.header.", "method.request.header."},
                        Kind{"QueryStrings", "$request.querystring.", "method.request.querystring."},
                        Kind{"StageVariables", "$stageVariables.", "stageVariables."},
                        Kind{"Context", "$context.", "context."}}) {
    auto it = identity.find(k.member);
    if (it == identity.end() || !it->is_array()) continue;
    for (const auto& v : *it)
      if (v.is_string()) out.push_back((rest ? k.rest_prefix : k.http_prefix) + v.get<std::string>());
  }
  return out;
}

std::string lambda_uri(const std::string& region, const std::string& function_arn) {
  return fmt::format("arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{}/invocations", region, function_arn);
}

}  // namespace

std::optional<AwsError> apply_sam_auth(Gateway& g, GatewayService& service, const Partition& p,
                                       const std::string& api_id, const json& props, bool rest) {
  const json& auth = object_member(props, "Auth");
  json names = json::object(), types = json::object();
  for (const auto& [name, a] : object_member(auth, "Authorizers").items()) {
    if (!a.is_object()) return stack_error("Auth.Authorizers." + name + " must be a mapping");
    if (a.contains("UserPoolArn"))
      return stack_error("Auth.Authorizers." + name + ": Stratus does not support Cognito user pool authorizers yet");
    if (!rest && a.contains("JwtConfiguration")) {
      // https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-httpapi-oauth2authorizer.html
      const json& jwt = object_member(a, "JwtConfiguration");
      json input = {{"ApiId", api_id},
                    {"Name", name},
                    {"AuthorizerType", "JWT"},
                    {"IdentitySource", json::array({str(a, "IdentitySource", "$request.header.Authorization")})},
                    {"JwtConfiguration", {{"Issuer", str(jwt, "issuer", str(jwt, "Issuer"))},
                                          {"Audience", jwt.value("audience", jwt.value("Audience", json::array()))}}}};
      Outcome o = service.call("CreateAuthorizer", p, input);
      if (o.error) return AwsError::sender(400, o.error->code, "Auth.Authorizers." + name + ": " + o.error->message);
      names[name] = str(o.output, "AuthorizerId");
      types[name] = "JWT";
      continue;
    }
    std::string function = str(a, "FunctionArn");
    if (function.empty()) return stack_error("Auth.Authorizers." + name + ": FunctionArn is required");
    const json& identity = object_member(a, "Identity");
    json input;
    const char* id_member = rest ? "id" : "AuthorizerId";
    if (!rest) {
      input = {{"ApiId", api_id},
               {"Name", name},
               {"AuthorizerType", "REQUEST"},
               {"AuthorizerUri", lambda_uri(p.region, function)},
               {"IdentitySource", identity_sources(identity, false)}};
      if (a.contains("AuthorizerPayloadFormatVersion")) {
        const json& v = a["AuthorizerPayloadFormatVersion"];
        // YAML may give 2.0 as a number.
        input["AuthorizerPayloadFormatVersion"] = v.is_string() ? v.get<std::string>() : fmt::format("{:.1f}", v.get<double>());
      }
      if (a.contains("EnableSimpleResponses")) input["EnableSimpleResponses"] = a["EnableSimpleResponses"];
      if (identity.contains("ReauthorizeEvery")) input["AuthorizerResultTtlInSeconds"] = identity["ReauthorizeEvery"];
    } else {
      std::string type = str(a, "FunctionPayloadType", "TOKEN");
      input = {{"restApiId", api_id}, {"name", name}, {"type", type}, {"authorizerUri", lambda_uri(p.region, function)}};
      if (type == "TOKEN") {
        input["identitySource"] = "method.request.header." + str(identity, "Header", "Authorization");
        if (identity.contains("ValidationExpression"))
          input["identityValidationExpression"] = identity["ValidationExpression"];
      } else {
        std::string joined;
        for (const auto& s : identity_sources(identity, true)) joined += (joined.empty() ? "" : ", ") + s;
        if (!joined.empty()) input["identitySource"] = joined;
      }
      if (identity.contains("ReauthorizeEvery")) input["authorizerResultTtlInSeconds"] = identity["ReauthorizeEvery"];
    }
    Outcome o = service.call("CreateAuthorizer", p, input);
    if (o.error) return AwsError::sender(400, o.error->code, "Auth.Authorizers." + name + ": " + o.error->message);
    names[name] = str(o.output, id_member);
    types[name] = "CUSTOM";
  }
  std::string default_name = str(auth, "DefaultAuthorizer");
  if (!default_name.empty() && !names.contains(default_name))
    return stack_error("Auth.DefaultAuthorizer " + default_name + " is not one of Auth.Authorizers");
  std::lock_guard lock(g.mutex());
  auto rec = g.load(p, api_id);
  if (!rec) return stack_error("API " + api_id + " vanished");
  (*rec)["_SamAuth"] = {{"Authorizers", names}, {"Types", types}, {"DefaultAuthorizer", default_name}};
  return save_record(g, *rec);
}

std::optional<AwsError> sam_event_auth(Gateway& g, const Partition& p, const std::string& api_id,
                                       const json& event_props, bool rest, json& out) {
  json sam_auth;
  {
    std::lock_guard lock(g.mutex());
    auto rec = g.load(p, api_id);
    if (rec) sam_auth = rec->value("_SamAuth", json::object());
  }
  std::string name = str(object_member(event_props, "Auth"), "Authorizer", str(sam_auth, "DefaultAuthorizer"));
  if (name.empty() || name == "NONE") return std::nullopt;
  if (name == "AWS_IAM") return stack_error("Stratus does not support AWS_IAM authorization yet");
  const json& ids = object_member(sam_auth, "Authorizers");
  if (!ids.contains(name)) return stack_error("Auth.Authorizer " + name + " is not an authorizer of the event's API");
  if (rest) {
    out["authorizationType"] = "CUSTOM";
    out["authorizerId"] = ids[name];
  } else {
    out["AuthorizationType"] = str(object_member(sam_auth, "Types"), name.c_str(), "CUSTOM");
    out["AuthorizerId"] = ids[name];
    // JWT: the event's Auth.AuthorizationScopes.
    const json& event_auth = object_member(event_props, "Auth");
    if (auto scopes = event_auth.find("AuthorizationScopes"); scopes != event_auth.end())
      out["AuthorizationScopes"] = *scopes;
  }
  return std::nullopt;
}

}  // namespace stratus::services::apigateway
