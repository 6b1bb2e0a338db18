// Lambda authorizers: see authorizers.hpp for the AWS pages each piece follows.
#include "services/apigateway/authorizers.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include <fmt/format.h>

#include "common/log.hpp"
#include "services/apigateway/gateway.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {

std::vector<std::string> string_list(const json& j) {
  std::vector<std::string> out;
  if (j.is_string()) {
    // REST identitySource: "method.request.header.A, method.request.querystring.b"
    std::string s = j.get<std::string>();
    std::size_t at = 0;
    while (at <= s.size()) {
      auto comma = s.find(',', at);
      std::string part = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      while (!part.empty() && part.front() == ' ') part.erase(part.begin());
      while (!part.empty() && part.back() == ' ') part.pop_back();
      if (!part.empty()) out.push_back(part);
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  } else if (j.is_array()) {
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

char fold(char c, bool icase) { return icase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c; }

}  // namespace

std::shared_ptr<const AuthorizerConfig> compile_http_authorizer(const json& authorizers, const json& route) {
  std::string type = str(route, "AuthorizationType", "NONE");
  if (type != "CUSTOM" && type != "JWT") return nullptr;
  auto config = std::make_shared<AuthorizerConfig>();
  config->id = str(route, "AuthorizerId");
  auto it = authorizers.is_object() ? authorizers.find(config->id) : authorizers.end();
  if (type == "JWT") {
    if (it == authorizers.end() || str(*it, "AuthorizerType") != "JWT") return config;  // broken
    config->kind = AuthorizerConfig::Kind::jwt;
    config->identity_sources = string_list(it->value("IdentitySource", json::array()));
    const json& jwt = object_member(*it, "JwtConfiguration");
    config->issuer = str(jwt, "Issuer");
    config->audience = string_list(jwt.value("Audience", json::array()));
    config->scopes = string_list(route.value("AuthorizationScopes", json::array()));
    return config;
  }
  if (it == authorizers.end() || str(*it, "AuthorizerType") != "REQUEST") return config;  // broken
  config->kind = AuthorizerConfig::Kind::http_request;
  config->function = function_of_uri(str(*it, "AuthorizerUri"));
  config->payload_version = str(*it, "AuthorizerPayloadFormatVersion", "2.0");
  config->simple_responses = it->value("EnableSimpleResponses", false);
  config->identity_sources = string_list(it->value("IdentitySource", json::array()));
  config->ttl_seconds = it->value("AuthorizerResultTtlInSeconds", 300);
  config->fingerprint = it->dump();
  return config;
}

std::shared_ptr<const AuthorizerConfig> compile_rest_authorizer(const json& authorizers, const json& method) {
  if (str(method, "authorizationType", "NONE") != "CUSTOM") return nullptr;
  auto config = std::make_shared<AuthorizerConfig>();
  config->id = str(method, "authorizerId");
  auto it = authorizers.is_object() ? authorizers.find(config->id) : authorizers.end();
  if (it == authorizers.end()) return config;  // broken
  std::string type = str(*it, "type");
  if (type == "TOKEN")
    config->kind = AuthorizerConfig::Kind::rest_token;
  else if (type == "REQUEST")
    config->kind = AuthorizerConfig::Kind::rest_request;
  else
    return config;
  config->function = function_of_uri(str(*it, "authorizerUri"));
  config->payload_version = "1.0";
  config->identity_sources = string_list(it->value("identitySource", json()));
  config->validation_expression = str(*it, "identityValidationExpression");
  config->ttl_seconds = it->value("authorizerResultTtlInSeconds", 300);
  config->fingerprint = it->dump();
  return config;
}

// --- pure pieces ----------------------------------------------------------------------------------------

bool iam_glob_match(std::string_view pattern, std::string_view text, bool icase) {
  // Iterative wildcard matching with one backtrack point (the last '*').
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || fold(pattern[p], icase) == fold(text[t], icase))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

// A policy's Action/Resource: a string or a list of strings. False when malformed.
bool patterns_of(const json& j, std::vector<std::string>& out) {
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
    return true;
  }
  if (!j.is_array() || j.empty()) return false;
  for (const auto& v : j) {
    if (!v.is_string()) return false;
    out.push_back(v.get<std::string>());
  }
  return true;
}

}  // namespace

std::optional<PolicyDecision> evaluate_policy(const json& doc, const std::string& arn) {
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
  // and the policy evaluation table of
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html
  if (!doc.is_object()) return std::nullopt;
  auto statements = doc.find("Statement");
  if (statements == doc.end()) return std::nullopt;
  std::vector<const json*> list;
  if (statements->is_object()) {
    list.push_back(&*statements);
  } else if (statements->is_array()) {
    for (const auto& s : *statements) list.push_back(&s);
  } else {
    return std::nullopt;
  }
  bool allowed = false, denied = false;
  for (const json* s : list) {
    if (!s->is_object()) return std::nullopt;
    std::string effect = str(*s, "Effect");
    if (effect != "Allow" && effect != "Deny") return std::nullopt;
    std::vector<std::string> actions, resources;
    auto a = s->find("Action");
    auto r = s->find("Resource");
    if (a == s->end() || r == s->end() || !patterns_of(*a, actions) || !patterns_of(*r, resources))
      return std::nullopt;
    bool action = std::any_of(actions.begin(), actions.end(),
                              [](const std::string& x) { return iam_glob_match(x, "execute-api:Invoke", true); });
    bool resource = std::any_of(resources.begin(), resources.end(),
                                [&](const std::string& x) { return iam_glob_match(x, arn, false); });
    if (!action || !resource) continue;
    (effect == "Deny" ? denied : allowed) = true;
  }
  if (denied) return PolicyDecision::explicit_deny;
  return allowed ? PolicyDecision::allow : PolicyDecision::implicit_deny;
}

std::string execute_api_arn(const std::string& region, const std::string& account, const std::string& api_id,
                            const std::string& stage, const std::string& method, const std::string& path) {
  std::string_view p = path;
  if (!p.empty() && p.front() == '/') p.remove_prefix(1);
  return fmt::format("arn:aws:execute-api:{}:{}:{}/{}/{}/{}", region, account, api_id, stage, method, p);
}

std::optional<std::string> identity_value(const std::string& expression, const ProxyRequest& r,
                                          const RouteMatch& match) {
  std::string_view e = expression;
  auto strip = [&e](std::string_view prefix) {
    if (!e.starts_with(prefix)) return false;
    e.remove_prefix(prefix.size());
    return true;
  };
  std::string value;
  if (strip("$request.header.") || strip("method.request.header.")) {
    // Repeated headers: their values joined with commas, as the payload 2.0 headers member does.
    if (r.headers)
      for (const auto& f : r.headers->fields())
        if (http::Headers::iequals(f.name, e)) value += (value.empty() ? "" : ",") + f.value;
  } else if (strip("$request.querystring.") || strip("method.request.querystring.")) {
    for (const auto& [k, v] : http::parse_query(r.query, false))
      if (k == e) value += (value.empty() ? "" : ",") + v;
  } else if (strip("$request.path.") || strip("method.request.path.")) {
    for (const auto& [k, v] : match.path_parameters)
      if (k == e) value = v;
  } else if (strip("$stageVariables.") || strip("stageVariables.")) {
    if (r.stage_variables)
      if (auto it = r.stage_variables->find(std::string(e)); it != r.stage_variables->end()) value = it->second;
  } else if (strip("$context.") || strip("context.")) {
    if (e == "requestId") value = r.request_id;
    else if (e == "extendedRequestId") value = r.extended_request_id;
    else if (e == "stage") value = r.stage;
    else if (e == "apiId") value = r.api_id;
    else if (e == "accountId") value = r.account;
    else if (e == "domainName") value = r.domain_name;
    else if (e == "httpMethod") value = r.method;
    else if (e == "path") value = r.full_path;
    else if (e == "protocol") value = r.protocol;
    else if (e == "identity.sourceIp") value = r.source_ip;
    else if (e == "identity.userAgent" && r.headers) value = std::string(r.headers->get("User-Agent"));
    else if (e == "routeKey" && match.target) value = match.target->route_key;
    else if (e == "resourcePath" && match.target) value = match.target->resource_path;
    else if (e == "resourceId" && match.target) value = match.target->resource_id;
  }
  if (value.empty()) return std::nullopt;
  return value;
}

std::string build_authorizer_event(const AuthorizerConfig& config, const ProxyRequest& r, const RouteMatch& match,
                                   const std::string& arn, const std::vector<std::string>& identity) {
  using Kind = AuthorizerConfig::Kind;
  if (config.kind == Kind::rest_token) {
    // {"type": "TOKEN", "authorizationToken": "...", "methodArn": "..."}
    return json{{"type", "TOKEN"}, {"authorizationToken", identity.empty() ? "" : identity.front()}, {"methodArn", arn}}
        .dump();
  }
  bool v2 = config.kind == Kind::http_request && config.payload_version == "2.0";
  // The request event an authorizer gets is the proxy event of the same payload version without the body.
  json event = json::parse(v2 ? build_event_v2(r, match) : build_event_v1(r, match));
  event.erase("body");
  event.erase("isBase64Encoded");
  event["type"] = "REQUEST";
  if (v2) {
    event["routeArn"] = arn;
    event["identitySource"] = identity;
  } else {
    event["methodArn"] = arn;
    if (config.kind == Kind::http_request) {
      // Payload 1.0 of HTTP APIs: the identity sources' values, comma-separated, under both names.
      std::string joined;
      for (const auto& v : identity) joined += (joined.empty() ? "" : ",") + v;
      event["identitySource"] = joined;
      event["authorizationToken"] = joined;
    }
  }
  return event.dump();
}

std::optional<AuthorizerAnswer> parse_authorizer_answer(const AuthorizerConfig& config, std::string_view payload) {
  json doc = json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  AuthorizerAnswer answer;
  if (auto c = doc.find("context"); c != doc.end() && !c->is_null()) {
    if (!c->is_object()) return std::nullopt;
    if (config.rest()) {
      // REST: "You can't set a JSON object or array as a valid value of any key in the context map" — such
      // an answer is an authorizer configuration error.
      for (const auto& [k, v] : c->items())
        if (v.is_object() || v.is_array()) return std::nullopt;
    }
    answer.context = *c;
  }
  if (config.simple_responses) {
    // Payload 2.0 with EnableSimpleResponses: {"isAuthorized": bool, "context": {...}}.
    auto a = doc.find("isAuthorized");
    if (a != doc.end()) {
      if (!a->is_boolean()) return std::nullopt;
      answer.simple = true;
      answer.authorized = a->get<bool>();
      return answer;
    }
  }
  auto policy = doc.find("policyDocument");
  if (policy == doc.end() || !policy->is_object()) return std::nullopt;
  answer.policy = *policy;
  if (auto pid = doc.find("principalId"); pid != doc.end()) {
    if (pid->is_string())
      answer.principal_id = pid->get<std::string>();
    else if (pid->is_number())
      answer.principal_id = pid->dump();
    else if (!pid->is_null())
      return std::nullopt;
  }
  // A policy that cannot be evaluated is malformed whatever ARN it is checked against.
  if (!evaluate_policy(answer.policy, "arn:aws:execute-api:x:0:x/x/GET/")) return std::nullopt;
  return answer;
}

json authorizer_context(const AuthorizerAnswer& answer, bool payload_v1) {
  if (!answer.jwt.is_null()) {
    // JWT: 2.0 {"jwt": {"claims", "scopes"}}; 1.0 {"claims", "scopes"}.
    if (!payload_v1) return json{{"jwt", answer.jwt}};
    return answer.jwt;
  }
  if (!payload_v1) return json{{"lambda", answer.context.is_object() ? answer.context : json(nullptr)}};
  json out = json::object();
  if (answer.context.is_object())
    for (const auto& [k, v] : answer.context.items()) out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  if (!answer.simple) out["principalId"] = answer.principal_id;
  return out;
}

AuthResult decide(const AuthorizerConfig&, std::shared_ptr<const AuthorizerAnswer> answer, const std::string& arn) {
  AuthResult result;
  if (answer->simple) {
    result.kind = answer->authorized ? AuthResult::Kind::allow : AuthResult::Kind::forbidden;
  } else {
    auto d = evaluate_policy(answer->policy, arn);
    if (!d)
      result.kind = AuthResult::Kind::failure;
    else if (*d == PolicyDecision::allow)
      result.kind = AuthResult::Kind::allow;
    else
      result.kind = *d == PolicyDecision::explicit_deny ? AuthResult::Kind::explicit_deny : AuthResult::Kind::forbidden;
  }
  if (result.kind == AuthResult::Kind::allow) result.answer = std::move(answer);
  return result;
}

http::Response auth_refusal(bool rest, AuthResult::Kind kind) {
  http::Response r;
  r.headers.add("Content-Type", "application/json");
  if (!rest) {
    // HTTP APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
    switch (kind) {
      case AuthResult::Kind::unauthorized: r.status = 401; r.body = R"({"message":"Unauthorized"})"; break;
      case AuthResult::Kind::forbidden:
      case AuthResult::Kind::explicit_deny: r.status = 403; r.body = R"({"message":"Forbidden"})"; break;
      default: r.status = 500; r.body = R"({"message":"Internal Server Error"})"; break;
    }
    return r;
  }
  // REST APIs: the default gateway responses UNAUTHORIZED, ACCESS_DENIED and AUTHORIZER_FAILURE /
  // AUTHORIZER_CONFIGURATION_ERROR (whose $context.error.messageString is null).
  switch (kind) {
    case AuthResult::Kind::unauthorized:
      r.status = 401;
      r.body = R"({"message":"Unauthorized"})";
      r.headers.add("x-amzn-ErrorType", "UnauthorizedException");
      break;
    case AuthResult::Kind::explicit_deny:
      r.status = 403;
      r.body = R"({"Message":"User is not authorized to access this resource with an explicit deny"})";
      r.headers.add("x-amzn-ErrorType", "AccessDeniedException");
      break;
    case AuthResult::Kind::forbidden:
      r.status = 403;
      r.body = R"({"Message":"User is not authorized to access this resource"})";
      r.headers.add("x-amzn-ErrorType", "AccessDeniedException");
      break;
    default:
      r.status = 500;
      r.body = R"({"message": null})";
      r.headers.add("x-amzn-ErrorType", "AuthorizerConfigurationException");
      break;
  }
  return r;
}

http::Response auth_refusal(bool rest, const AuthResult& result) {
  http::Response r = auth_refusal(rest, result.kind);
  if (!result.www_authenticate.empty()) r.headers.add("WWW-Authenticate", result.www_authenticate);
  return r;
}

std::string with_authorizer(std::string_view event, const AuthResult& result, bool payload_v1) {
  if (!result.answer) return std::string(event);
  json doc = json::parse(event, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::string(event);
  doc["requestContext"]["authorizer"] = authorizer_context(*result.answer, payload_v1);
  return doc.dump();
}

// --- the runtime ----------------------------------------------------------------------------------------

AuthorizerRuntime::AuthorizerRuntime(const Clock* clock, std::shared_ptr<FunctionInvoker> invoker)
    : clock_(clock ? clock : &SystemClock::instance()), invoker_(std::move(invoker)) {}

void AuthorizerRuntime::store(const std::string& key, const std::string& api_id, int ttl_seconds,
                              std::shared_ptr<const AuthorizerAnswer> answer) {
  std::int64_t now = clock_->now_ms();
  std::lock_guard lock(mutex_);
  if (cache_.size() >= 10000)
    for (auto it = cache_.begin(); it != cache_.end();) it = it->second.expires_ms <= now ? cache_.erase(it) : std::next(it);
  cache_[key] = Entry{now + std::int64_t{ttl_seconds} * 1000, api_id, std::move(answer)};
}

std::shared_ptr<const AuthorizerAnswer> AuthorizerRuntime::lookup(const std::string& key) {
  std::int64_t now = clock_->now_ms();
  std::lock_guard lock(mutex_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return nullptr;
  if (it->second.expires_ms <= now) {
    cache_.erase(it);
    return nullptr;
  }
  return it->second.answer;
}

void AuthorizerRuntime::flush(const std::string& api_id) {
  std::lock_guard lock(mutex_);
  for (auto it = cache_.begin(); it != cache_.end();) it = it->second.api_id == api_id ? cache_.erase(it) : std::next(it);
}

std::size_t AuthorizerRuntime::cached_entries() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

namespace {

std::string substitute(std::string text, const std::map<std::string, std::string>& vars) {
  constexpr std::string_view kOpen = "${stageVariables.";
  std::size_t at = 0;
  while ((at = text.find(kOpen, at)) != std::string::npos) {
    auto close = text.find('}', at);
    if (close == std::string::npos) break;
    auto it = vars.find(text.substr(at + kOpen.size(), close - at - kOpen.size()));
    std::string value = it == vars.end() ? std::string() : it->second;
    text.replace(at, close - at + 1, value);
    at += value.size();
  }
  return text;
}

}  // namespace

void AuthorizerRuntime::authorize(const AuthorizerConfig& config, const std::string& account,
                                  const std::string& region, const std::map<std::string, std::string>& stage_variables,
                                  const ProxyRequest& request, const RouteMatch& match,
                                  std::function<void(AuthResult)> done) {
  using Kind = AuthResult::Kind;
  auto finish = [&](Kind kind) {
    AuthResult r;
    r.kind = kind;
    r.request_id = request.request_id;
    r.extended_request_id = request.extended_request_id;
    done(std::move(r));
  };
  if (config.kind == AuthorizerConfig::Kind::jwt) {
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html: 401 with
    // WWW-Authenticate for a missing or invalid token, 403 when no required scope is granted.
    std::optional<std::string> token;
    if (!config.identity_sources.empty()) token = identity_value(config.identity_sources.front(), request, match);
    AuthResult r;
    r.request_id = request.request_id;
    r.extended_request_id = request.extended_request_id;
    if (!token) {
      r.kind = Kind::unauthorized;
      r.www_authenticate = "Bearer";
      return done(std::move(r));
    }
    JwtVerdict v = verify_jwt(*token, config.issuer, config.audience, config.scopes, clock_->now_ms() / 1000);
    r.kind = v.kind;
    if (v.kind == Kind::allow) {
      auto answer = std::make_shared<AuthorizerAnswer>();
      answer->jwt = {{"claims", v.claims}, {"scopes", v.scopes.empty() ? json(nullptr) : json(v.scopes)}};
      r.answer = std::move(answer);
    } else {
      std::string scopes;
      for (const auto& s : config.scopes) scopes += (scopes.empty() ? "" : " ") + s;
      r.www_authenticate = fmt::format(R"(Bearer scope="{}" error="{}" error_description="{}")", scopes,
                                       v.kind == Kind::forbidden ? "insufficient_scope" : "invalid_token", v.error);
    }
    return done(std::move(r));
  }
  if (config.kind == AuthorizerConfig::Kind::broken || config.function.empty() || !invoker_)
    return finish(Kind::failure);

  // Identity sources: every one present and non-empty, or 401 without calling the function. REST REQUEST
  // authorizers check them only when caching is on ("When the authorization caching is not enabled, this
  // property is optional").
  bool check_identity = !(config.kind == AuthorizerConfig::Kind::rest_request && config.ttl_seconds == 0);
  std::vector<std::string> identity;
  for (const auto& source : config.identity_sources) {
    auto v = identity_value(source, request, match);
    if (!v) {
      if (check_identity) return finish(Kind::unauthorized);
      continue;
    }
    identity.push_back(std::move(*v));
  }
  if (config.kind == AuthorizerConfig::Kind::rest_token) {
    if (identity.empty()) return finish(Kind::unauthorized);
    if (!config.validation_expression.empty()) {
      // identityValidationExpression: the whole token must match, else 401 without calling the function.
      std::regex re;
      try {
        re = std::regex(config.validation_expression, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        return finish(Kind::failure);
      }
      if (!std::regex_match(identity.front(), re)) return finish(Kind::unauthorized);
    }
  }

  std::string arn = execute_api_arn(region, account, request.api_id, request.stage, request.method, request.path);

  // The cache: per authorizer (and its configuration), keyed by all the identity sources' values.
  // HTTP APIs without identity sources never cache.
  bool cacheable = config.ttl_seconds > 0 && !config.identity_sources.empty() &&
                   identity.size() == config.identity_sources.size();
  std::string key;
  if (cacheable) {
    key = request.api_id + '\n' + config.id + '\n' + config.fingerprint;
    for (const auto& v : identity) key += '\n' + v;
    if (auto hit = lookup(key)) {
      AuthResult r = decide(config, std::move(hit), arn);
      r.cached = true;
      r.request_id = request.request_id;
      r.extended_request_id = request.extended_request_id;
      return done(std::move(r));
    }
  }

  FunctionInvocation invocation;
  invocation.account = account;
  invocation.region = region;
  invocation.function = substitute(config.function, stage_variables);
  invocation.payload = build_authorizer_event(config, request, match, arn, identity);
  auto cfg = std::make_shared<AuthorizerConfig>(config);
  invoker_->invoke(std::move(invocation),
                   [this, cfg, key, arn, api_id = request.api_id, request_id = request.request_id,
                    extended = request.extended_request_id, done = std::move(done)](FunctionInvocationResult res) {
                     AuthResult r;
                     r.request_id = request_id;
                     r.extended_request_id = extended;
                     if (res.status == FunctionInvocationResult::Status::ok) {
                       auto answer = parse_authorizer_answer(*cfg, res.payload);
                       if (!answer) {
                         log::warn("apigateway", "authorizer {}: malformed answer: {}", cfg->id, res.payload.substr(0, 512));
                         r.kind = Kind::failure;
                         return done(std::move(r));
                       }
                       auto shared = std::make_shared<const AuthorizerAnswer>(std::move(*answer));
                       if (!key.empty()) store(key, api_id, cfg->ttl_seconds, shared);
                       AuthResult d = decide(*cfg, std::move(shared), arn);
                       d.request_id = request_id;
                       d.extended_request_id = extended;
                       return done(std::move(d));
                     }
                     if (res.status == FunctionInvocationResult::Status::function_error && cfg->rest()) {
                       // REST: an authorizer that fails with the message "Unauthorized" means 401.
                       json err = json::parse(res.payload, nullptr, false);
                       if (err.is_object() && str(err, "errorMessage") == "Unauthorized") {
                         r.kind = Kind::unauthorized;
                         return done(std::move(r));
                       }
                     }
                     log::warn("apigateway", "authorizer {} failed: {} {}", cfg->id, res.error_code,
                               res.payload.substr(0, 512));
                     r.kind = Kind::failure;
                     done(std::move(r));
                   });
}

}  // namespace stratus::services::apigateway
