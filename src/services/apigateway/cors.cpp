// CORS for HTTP APIs, as "Configure CORS for HTTP APIs in API Gateway" describes it:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
//   - "If you configure CORS for an API, API Gateway automatically sends a response to preflight OPTIONS
//     requests, even if there isn't an OPTIONS route configured for your API."
//   - "For a CORS request, API Gateway adds the configured CORS headers to the response from an integration."
//   - "If you configure CORS for an API, API Gateway ignores CORS headers returned from your backend
//     integration."
//   - "To return CORS headers, your request must contain an origin header. For the OPTIONS method, your
//     request must contain an origin header and an Access-Control-Request-Method header."
#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "common/text.hpp"
#include "services/apigateway/edge.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ",";
    out += i;
  }
  return out;
}

bool contains_star(const std::vector<std::string>& items) {
  return std::find(items.begin(), items.end(), "*") != items.end();
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// "https://*.example.com" against "https://app.example.com": one '*' standing for any non-empty text.
bool wildcard_match(std::string_view pattern, std::string_view text) {
  auto star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == text;
  std::string_view head = pattern.substr(0, star), tail = pattern.substr(star + 1);
  return text.size() > head.size() + tail.size() && text.starts_with(head) && text.ends_with(tail);
}

}  // namespace

std::optional<AwsError> check_cors_configuration(const json& cors) {
  auto bad = [](std::string message) { return AwsError::sender(400, "BadRequestException", std::move(message)); };
  if (!cors.is_object()) return bad("Invalid CorsConfiguration: an object is expected");
  for (const char* key : {"AllowHeaders", "AllowMethods", "AllowOrigins", "ExposeHeaders"}) {
    auto it = cors.find(key);
    if (it == cors.end()) continue;
    if (!it->is_array()) return bad(fmt::format("Invalid CorsConfiguration: {} must be a list of strings", key));
    for (const auto& v : *it)
      if (!v.is_string() || v.get<std::string>().empty())
        return bad(fmt::format("Invalid CorsConfiguration: {} must be a list of non-empty strings", key));
  }
  if (auto it = cors.find("MaxAge"); it != cors.end()) {
    if (!it->is_number_integer() || it->get<long long>() < -1 || it->get<long long>() > 86400)
      return bad("Invalid CorsConfiguration: MaxAge must be between -1 and 86400 seconds");
  }
  if (auto it = cors.find("AllowCredentials"); it != cors.end() && !it->is_boolean())
    return bad("Invalid CorsConfiguration: AllowCredentials must be a boolean");
  static const std::set<std::string> kMethods = {"*",      "GET",  "POST",    "PUT", "PATCH",
                                                 "DELETE", "HEAD", "OPTIONS", "ANY"};
  for (const auto& m : strings(cors, "AllowMethods"))
    if (!kMethods.contains(m))
      return bad(fmt::format("Invalid CorsConfiguration: {} is not an HTTP method (GET, POST, PUT, PATCH, DELETE, "
                             "HEAD, OPTIONS or *)",
                             m));
  // Browsers refuse "Access-Control-Allow-Origin: *" together with credentials, and API Gateway refuses the
  // configuration that would need it.
  if (cors.value("AllowCredentials", false) && contains_star(strings(cors, "AllowOrigins")))
    return bad("Invalid CorsConfiguration: AllowCredentials is not supported with the wildcard origin *; "
               "list the allowed origins instead");
  return std::nullopt;
}

std::optional<CorsConfig> parse_cors(const json& cors) {
  if (!cors.is_object()) return std::nullopt;
  CorsConfig c;
  c.allow_credentials = cors.value("AllowCredentials", false) == true;
  c.allow_headers = strings(cors, "AllowHeaders");
  c.allow_methods = strings(cors, "AllowMethods");
  c.allow_origins = strings(cors, "AllowOrigins");
  c.expose_headers = strings(cors, "ExposeHeaders");
  if (auto it = cors.find("MaxAge"); it != cors.end() && it->is_number_integer()) c.max_age = it->get<int>();
  return c;
}

bool cors_origin_allowed(const CorsConfig& cors, std::string_view origin, std::string* allow_origin) {
  if (origin.empty()) return false;
  std::string wanted = ascii_lower(origin);
  for (const auto& o : cors.allow_origins) {
    if (o == "*") {
      if (allow_origin) *allow_origin = cors.allow_credentials ? std::string(origin) : "*";
      return true;
    }
    if (wildcard_match(ascii_lower(o), wanted)) {
      if (allow_origin) *allow_origin = std::string(origin);
      return true;
    }
  }
  return false;
}

bool is_cors_preflight(const http::Request& request) {
  return request.method == "OPTIONS" && request.headers.contains("Origin") &&
         request.headers.contains("Access-Control-Request-Method");
}

http::Response cors_preflight_response(const CorsConfig& cors, const http::Headers& request_headers) {
  http::Response r;
  r.status = 204;
  std::string allow_origin;
  if (!cors_origin_allowed(cors, request_headers.get("Origin"), &allow_origin)) return r;
  r.headers.add("Access-Control-Allow-Origin", allow_origin);
  if (allow_origin != "*") r.headers.add("Vary", "Origin");
  if (cors.allow_credentials) r.headers.add("Access-Control-Allow-Credentials", "true");
  if (!cors.allow_methods.empty()) {
    // "*" is literal to a browser only without credentials: answer the method asked for instead.
    bool star = contains_star(cors.allow_methods);
    r.headers.add("Access-Control-Allow-Methods",
                  star ? std::string(request_headers.get("Access-Control-Request-Method")) : join(cors.allow_methods));
  }
  if (!cors.allow_headers.empty()) {
    std::string_view asked = request_headers.get("Access-Control-Request-Headers");
    bool star = contains_star(cors.allow_headers);
    if (!star)
      r.headers.add("Access-Control-Allow-Headers", join(cors.allow_headers));
    else if (!asked.empty())
      r.headers.add("Access-Control-Allow-Headers", std::string(asked));
  }
  if (cors.max_age && *cors.max_age >= 0) r.headers.add("Access-Control-Max-Age", std::to_string(*cors.max_age));
  return r;
}

void apply_cors_headers(const CorsConfig& cors, const http::Headers& request_headers, http::Response& response) {
  // The integration's own CORS headers are ignored.
  std::vector<std::string> drop;
  for (const auto& f : response.headers.fields())
    if (ascii_lower(f.name).starts_with("access-control-")) drop.push_back(f.name);
  for (const auto& name : drop) response.headers.erase(name);
  std::string allow_origin;
  if (!cors_origin_allowed(cors, request_headers.get("Origin"), &allow_origin)) return;
  response.headers.add("Access-Control-Allow-Origin", allow_origin);
  if (allow_origin != "*") {
    std::string vary(response.headers.get("Vary"));
    if (vary.empty())
      response.headers.set("Vary", "Origin");
    else if (ascii_lower(vary).find("origin") == std::string::npos)
      response.headers.set("Vary", vary + ", Origin");
  }
  if (cors.allow_credentials) response.headers.add("Access-Control-Allow-Credentials", "true");
  if (!cors.expose_headers.empty()) response.headers.add("Access-Control-Expose-Headers", join(cors.expose_headers));
}

}  // namespace stratus::services::apigateway
