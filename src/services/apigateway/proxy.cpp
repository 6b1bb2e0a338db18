#include "services/apigateway/proxy.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "common/text.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {

// The media type of a Content-Type, lower case, without parameters: "application/json".
std::string media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  return ascii_lower(t);
}

bool is_text_media_type(const std::string& type) {
  if (type.starts_with("text/")) return true;
  for (std::string_view t : {"application/json", "application/javascript", "application/xml",
                             "application/ecmascript", "application/x-javascript"})
    if (type == t) return true;
  return type.ends_with("+json") || type.ends_with("+xml");
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (n < 0) return false;
    if (n > 0 && i + static_cast<std::size_t>(n) >= s.size()) return false;
    for (int k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) >> 6) != 0x2) return false;
    i += static_cast<std::size_t>(n) + 1;
  }
  return true;
}

std::string domain_prefix(const std::string& domain) { return domain.substr(0, domain.find('.')); }

json path_parameters(const RouteMatch& match, bool null_when_empty) {
  if (match.path_parameters.empty()) return null_when_empty ? json(nullptr) : json();
  json out = json::object();
  for (const auto& [k, v] : match.path_parameters) out[k] = v;
  return out;
}

json stage_variables(const ProxyRequest& r, bool null_when_empty) {
  if (!r.stage_variables || r.stage_variables->empty()) return null_when_empty ? json(nullptr) : json();
  json out = json::object();
  for (const auto& [k, v] : *r.stage_variables) out[k] = v;
  return out;
}

std::string trace_id(std::int64_t time_ms, const std::string& request_id) {
  // Root=1-{8 hex digits of epoch seconds}-{24 hex digits}; the request id supplies the random part.
  std::string hex;
  for (unsigned char c : request_id) {
    if (std::isxdigit(c)) hex += static_cast<char>(std::tolower(c));
    if (hex.size() == 24) break;
  }
  while (hex.size() < 24) hex += fmt::format("{:x}", (hex.size() * 7 + static_cast<std::size_t>(time_ms)) % 16);
  return fmt::format("Root=1-{:08x}-{}", static_cast<std::uint64_t>(time_ms / 1000), hex);
}

// The headers API Gateway adds to those the client sent (X-Forwarded-*, X-Amzn-Trace-Id).
std::vector<http::Headers::Field> forwarded_headers(const ProxyRequest& r) {
  std::vector<http::Headers::Field> out;
  const http::Headers& h = *r.headers;
  if (!h.contains("X-Amzn-Trace-Id")) out.push_back({"X-Amzn-Trace-Id", trace_id(r.time_ms, r.extended_request_id + r.request_id)});
  std::string port = "80";
  std::string_view host = h.get("Host");
  if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos)
    port = std::string(host.substr(colon + 1));
  if (auto xff = h.find("X-Forwarded-For"))
    out.push_back({"X-Forwarded-For", std::string(*xff) + ", " + r.source_ip});
  else
    out.push_back({"X-Forwarded-For", r.source_ip});
  if (!h.contains("X-Forwarded-Port")) out.push_back({"X-Forwarded-Port", port});
  if (!h.contains("X-Forwarded-Proto")) out.push_back({"X-Forwarded-Proto", "http"});
  return out;
}

json body_member(const ProxyRequest& r, bool& base64) {
  base64 = !r.body.empty() && body_is_binary(r);
  if (r.body.empty()) return json();
  if (base64) return base64_encode(r.body);
  return std::string(r.body);
}

}  // namespace

std::string request_time(std::int64_t epoch_ms) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000", tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool media_type_matches(std::string_view content_type, const std::vector<std::string>& patterns) {
  std::string type = media_type(content_type);
  for (const auto& p : patterns) {
    std::string pattern = ascii_lower(p);
    if (pattern == "*/*" || pattern == type) return true;
    if (pattern.ends_with("/*") && type.starts_with(pattern.substr(0, pattern.size() - 1))) return true;
  }
  return false;
}

bool body_is_binary(const ProxyRequest& r) {
  std::string_view content_type = r.headers ? r.headers->get("Content-Type") : std::string_view{};
  if (r.rest) return r.binary_media_types && media_type_matches(content_type, *r.binary_media_types);
  if (content_type.empty()) return !valid_utf8(r.body);
  return !is_text_media_type(media_type(content_type));
}

std::string build_event_v2(const ProxyRequest& r, const RouteMatch& match) {
  json headers = json::object();
  json cookies = json::array();
  auto add_header = [&](const std::string& name, std::string_view value) {
    std::string key = ascii_lower(name);
    if (key == "cookie") {
      // Each cookie of every Cookie header becomes one element of "cookies" (not a header).
      std::string_view v = value;
      while (!v.empty()) {
        auto semi = v.find(';');
        std::string_view c = v.substr(0, semi);
        while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
        while (!c.empty() && c.back() == ' ') c.remove_suffix(1);
        if (!c.empty()) cookies.push_back(std::string(c));
        if (semi == std::string_view::npos) break;
        v.remove_prefix(semi + 1);
      }
      return;
    }
    auto it = headers.find(key);
    if (it == headers.end())
      headers[key] = std::string(value);
    else
      it->get_ref<std::string&>() += "," + std::string(value);
  };
  for (const auto& f : r.headers->fields()) add_header(f.name, f.value);
  for (const auto& f : forwarded_headers(r)) {
    std::string key = ascii_lower(f.name);
    headers[key] = f.value;  // X-Forwarded-For replaces (it already carries the client's value)
  }

  json event = json::object();
  event["version"] = "2.0";
  const std::string& route_key = match.target ? match.target->route_key : std::string("$default");
  event["routeKey"] = route_key;
  event["rawPath"] = r.full_path;
  event["rawQueryString"] = r.query;
  if (!cookies.empty()) event["cookies"] = std::move(cookies);
  event["headers"] = std::move(headers);
  if (!r.query.empty()) {
    json qs = json::object();
    for (auto& [k, v] : http::parse_query(r.query, false)) {
      auto it = qs.find(k);
      if (it == qs.end())
        qs[k] = v;
      else
        it->get_ref<std::string&>() += "," + v;
    }
    if (!qs.empty()) event["queryStringParameters"] = std::move(qs);
  }
  json context = {
      {"accountId", r.account},
      {"apiId", r.api_id},
      {"domainName", r.domain_name},
      {"domainPrefix", domain_prefix(r.domain_name)},
      {"http",
       {{"method", r.method},
        {"path", r.full_path},
        {"protocol", r.protocol},
        {"sourceIp", r.source_ip},
        {"userAgent", std::string(r.headers->get("User-Agent"))}}},
      {"requestId", r.request_id},
      {"routeKey", route_key},
      {"stage", r.stage},
      {"time", request_time(r.time_ms)},
      {"timeEpoch", r.time_ms},
  };
  event["requestContext"] = std::move(context);
  bool base64 = false;
  json body = body_member(r, base64);
  if (!body.is_null()) event["body"] = std::move(body);
  if (json p = path_parameters(match, false); !p.is_null()) event["pathParameters"] = std::move(p);
  event["isBase64Encoded"] = base64;
  if (json s = stage_variables(r, false); !s.is_null()) event["stageVariables"] = std::move(s);
  return event.dump();
}

std::string build_event_v1(const ProxyRequest& r, const RouteMatch& match) {
  // REST APIs pass header names as sent; HTTP APIs lower-case them. `headers` keeps the last value of a
  // repeated header, `multiValueHeaders` all of them.
  json headers = json::object();
  json multi = json::object();
  auto add = [&](std::string name, const std::string& value) {
    if (!r.rest) name = ascii_lower(name);
    headers[name] = value;
    multi[name].push_back(value);
  };
  for (const auto& f : r.headers->fields()) add(f.name, f.value);
  for (const auto& f : forwarded_headers(r)) {
    std::string name = r.rest ? f.name : ascii_lower(f.name);
    headers[name] = f.value;
    multi[name] = json::array({f.value});
  }
  json qs = nullptr, multi_qs = nullptr;
  if (!r.query.empty()) {
    for (auto& [k, v] : http::parse_query(r.query, false)) {
      if (qs.is_null()) {
        qs = json::object();
        multi_qs = json::object();
      }
      qs[k] = v;
      multi_qs[k].push_back(v);
    }
  }
  std::string resource = match.target ? match.target->resource_path : std::string("/");
  json identity = {{"accessKey", nullptr},
                   {"accountId", nullptr},
                   {"caller", nullptr},
                   {"cognitoAuthenticationProvider", nullptr},
                   {"cognitoAuthenticationType", nullptr},
                   {"cognitoIdentityId", nullptr},
                   {"cognitoIdentityPoolId", nullptr},
                   {"principalOrgId", nullptr},
                   {"sourceIp", r.source_ip},
                   {"user", nullptr},
                   {"userAgent", std::string(r.headers->get("User-Agent"))},
                   {"userArn", nullptr}};
  json context = {
      {"accountId", r.account},
      {"apiId", r.api_id},
      {"domainName", r.domain_name},
      {"domainPrefix", domain_prefix(r.domain_name)},
      {"extendedRequestId", r.extended_request_id},
      {"httpMethod", r.method},
      {"identity", std::move(identity)},
      {"path", r.full_path},
      {"protocol", r.protocol},
      {"requestId", r.request_id},
      {"requestTime", request_time(r.time_ms)},
      {"requestTimeEpoch", r.time_ms},
      {"resourceId", r.rest && match.target ? json(match.target->resource_id) : json(nullptr)},
      {"resourcePath", resource},
      {"stage", r.stage},
  };
  json event = json::object();
  if (!r.rest) event["version"] = "1.0";
  event["resource"] = resource;
  event["path"] = r.rest ? r.path : r.full_path;
  event["httpMethod"] = r.method;
  event["headers"] = std::move(headers);
  event["multiValueHeaders"] = std::move(multi);
  event["queryStringParameters"] = std::move(qs);
  event["multiValueQueryStringParameters"] = std::move(multi_qs);
  event["requestContext"] = std::move(context);
  event["pathParameters"] = path_parameters(match, true);
  event["stageVariables"] = stage_variables(r, true);
  bool base64 = false;
  event["body"] = body_member(r, base64);
  event["isBase64Encoded"] = base64;
  return event.dump();
}

namespace {

bool set_status(const json& v, int& status) {
  if (v.is_number_integer()) {
    status = v.get<int>();
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 3 || !std::all_of(s.begin(), s.end(), ::isdigit)) return false;
    status = std::stoi(s);
  } else {
    return false;
  }
  return status >= 100 && status <= 599;
}

std::string scalar_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// headers + multiValueHeaders: "If the same key-value pair is specified in both, only the values from
// multiValueHeaders will appear in the merged list."
bool merge_headers(const json& doc, http::Headers& out, bool strict) {
  json::const_iterator mv = doc.find("multiValueHeaders");
  if (mv != doc.end() && !mv->is_null()) {
    if (!mv->is_object()) return false;
    for (auto it = mv->begin(); it != mv->end(); ++it) {
      if (it->is_null()) continue;
      if (!it->is_array()) return false;
      for (const auto& v : *it) {
        if (strict && !v.is_string()) return false;
        if (v.is_object() || v.is_array()) return false;
        out.add(it.key(), scalar_text(v));
      }
    }
  }
  json::const_iterator h = doc.find("headers");
  if (h != doc.end() && !h->is_null()) {
    if (!h->is_object()) return false;
    for (auto it = h->begin(); it != h->end(); ++it) {
      if (it->is_null()) continue;
      if (it->is_object() || it->is_array()) return false;
      if (strict && !it->is_string()) return false;
      bool in_multi = false;
      if (mv != doc.end() && mv->is_object())
        for (auto m = mv->begin(); m != mv->end(); ++m)
          if (http::Headers::iequals(m.key(), it.key())) in_multi = true;
      if (!in_multi) out.add(it.key(), scalar_text(*it));
    }
  }
  return true;
}

bool take_body(const json& doc, bool decode, std::string& body, bool strict) {
  auto b = doc.find("body");
  if (b == doc.end() || b->is_null()) return true;
  if (!b->is_string()) {
    if (strict) return false;
    body = b->dump();
    return true;
  }
  if (decode) {
    auto raw = base64_decode(b->get_ref<const std::string&>());
    if (!raw) return false;
    body = std::move(*raw);
  } else {
    body = b->get<std::string>();
  }
  return true;
}

bool is_base64(const json& doc, bool& out) {
  auto it = doc.find("isBase64Encoded");
  out = false;
  if (it == doc.end() || it->is_null()) return true;
  if (it->is_boolean()) {
    out = it->get<bool>();
    return true;
  }
  if (it->is_string()) {  // "true"/"false" as a string is accepted too
    out = it->get<std::string>() == "true";
    return true;
  }
  return false;
}

}  // namespace

bool map_response_v2(std::string_view payload, ProxyResponse& out) {
  json doc = json::parse(payload, nullptr, false);
  if (doc.is_discarded()) return false;
  if (!doc.is_object() || !doc.contains("statusCode")) {
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    // ("Lambda function response for format 2.0"): valid JSON without statusCode -> 200, the JSON as body.
    out.status = 200;
    out.headers.add("Content-Type", "application/json");
    out.body = std::string(payload);
    return true;
  }
  if (!set_status(doc["statusCode"], out.status)) return false;
  bool base64 = false;
  if (!is_base64(doc, base64)) return false;
  if (!merge_headers(doc, out.headers, false)) return false;
  if (auto c = doc.find("cookies"); c != doc.end() && !c->is_null()) {
    if (!c->is_array()) return false;
    for (const auto& cookie : *c) {
      if (!cookie.is_string()) return false;
      out.headers.add("Set-Cookie", cookie.get<std::string>());
    }
  }
  if (!take_body(doc, base64, out.body, false)) return false;
  if (!out.headers.contains("Content-Type")) out.headers.add("Content-Type", "application/json");
  return true;
}

bool map_response_v1(std::string_view payload, const ProxyRequest& request, ProxyResponse& out) {
  json doc = json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  if (request.rest) {
    // REST: "Malformed Lambda proxy response" for anything beyond the five members.
    for (auto it = doc.begin(); it != doc.end(); ++it)
      if (it.key() != "statusCode" && it.key() != "headers" && it.key() != "multiValueHeaders" &&
          it.key() != "body" && it.key() != "isBase64Encoded")
        return false;
  }
  auto sc = doc.find("statusCode");
  if (sc == doc.end() || !set_status(*sc, out.status)) return false;
  bool base64 = false;
  if (!is_base64(doc, base64)) return false;
  if (!merge_headers(doc, out.headers, request.rest)) return false;
  bool decode = base64;
  if (base64 && request.rest) {
    // REST returns binary only when the client accepts it or the payload's type is a binary media type;
    // otherwise the base64 text goes out as it is.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/lambda-proxy-binary-media.html
    const auto* types = request.binary_media_types;
    decode = types && (media_type_matches(request.headers->get("Accept"), *types) ||
                       media_type_matches(out.headers.get("Content-Type"), *types));
  }
  if (!take_body(doc, decode, out.body, request.rest)) return false;
  if (!out.headers.contains("Content-Type")) out.headers.add("Content-Type", "application/json");
  return true;
}

}  // namespace stratus::services::apigateway
