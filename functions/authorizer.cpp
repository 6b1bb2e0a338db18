// A Lambda authorizer for tests and examples (HTTP API REQUEST payload 1.0/2.0, REST TOKEN and REQUEST).
// It answers by the token: the TOKEN event's authorizationToken, else the first identity source value,
// else the Authorization header. The token's first word decides:
//   allow         an IAM policy allowing execute-api:Invoke on the whole API (API_ARN/*)
//   allow-get     allows API_ARN/*/GET/* only (a cached policy is evaluated against each request's ARN)
//   deny          an explicit Deny on the request's ARN (and an Allow on everything, which Deny beats)
//   none          a policy allowing another API only (no matching Allow: implicit deny)
//   simple-allow  {"isAuthorized": true}     simple-deny  {"isAuthorized": false}
//   unauthorized  throws "Unauthorized" (REST: 401)
//   crash         throws something else      slow  sleeps 5 s (set a short function timeout)
//   malformed     answers something that is neither a policy nor a simple response
//   nested        an Allow policy whose context has an object value (REST refuses such a context)
// Every answer's context carries "count" (invocations of this instance, to see the cache at work),
// "token", "flag" (true), "num" (7) and "event" (the event received, as JSON text).
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <string>
#include <stratus/function.hpp>
#include <thread>

static long g_count = 0;

static std::string token_of(const nlohmann::json& e) {
  if (e.contains("authorizationToken") && e["authorizationToken"].is_string())
    return e["authorizationToken"].get<std::string>();
  if (e.contains("identitySource")) {
    const auto& s = e["identitySource"];
    if (s.is_array() && !s.empty() && s[0].is_string()) return s[0].get<std::string>();
    if (s.is_string()) return s.get<std::string>();
  }
  if (e.contains("headers") && e["headers"].is_object())
    for (auto it = e["headers"].begin(); it != e["headers"].end(); ++it) {
      std::string k = it.key();
      for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (k == "authorization" && it->is_string()) return it->get<std::string>();
    }
  return "";
}

static nlohmann::json policy(const std::string& effect, const nlohmann::json& resource) {
  return {{"Version", "2012-10-17"},
          {"Statement", nlohmann::json::array({{{"Action", "execute-api:Invoke"}, {"Effect", effect}, {"Resource", resource}}})}};
}

static nlohmann::json handler(const nlohmann::json& event, stratus::Context&) {
  ++g_count;
  std::string token = token_of(event);
  std::string word = token.substr(0, token.find(' '));
  std::string arn = event.value("methodArn", event.value("routeArn", std::string()));
  // arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH -> the API's ARN
  std::string api_arn = arn.substr(0, arn.find('/'));
  nlohmann::json context = {{"count", g_count}, {"token", token}, {"flag", true}, {"num", 7}, {"event", event.dump()}};
  nlohmann::json answer = {{"principalId", "user-" + word}, {"context", context}};
  if (word == "allow") {
    answer["policyDocument"] = policy("Allow", api_arn + "/*");
  } else if (word == "allow-get") {
    answer["policyDocument"] = policy("Allow", api_arn + "/*/GET/*");
  } else if (word == "deny") {
    answer["policyDocument"] = {{"Version", "2012-10-17"},
                                {"Statement", nlohmann::json::array({
                                                  {{"Action", "execute-api:Invoke"}, {"Effect", "Allow"}, {"Resource", "*"}},
                                                  {{"Action", "execute-api:Invoke"}, {"Effect", "Deny"}, {"Resource", arn}},
                                              })}};
  } else if (word == "none") {
    answer["policyDocument"] = policy("Allow", "arn:aws:execute-api:*:*:someotherapi/*");
  } else if (word == "simple-allow" || word == "simple-deny") {
    return {{"isAuthorized", word == "simple-allow"}, {"context", context}};
  } else if (word == "unauthorized") {
    throw std::runtime_error("Unauthorized");
  } else if (word == "slow") {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    answer["policyDocument"] = policy("Allow", api_arn + "/*");
  } else if (word == "malformed") {
    return {{"hello", "world"}};
  } else if (word == "nested") {
    answer["policyDocument"] = policy("Allow", api_arn + "/*");
    answer["context"]["object"] = {{"a", 1}};
  } else {
    throw std::runtime_error("authorizer: unknown token '" + token + "'");
  }
  return answer;
}
STRATUS_HANDLER(handler)
