// Compiling an API's edge settings (edge.hpp) and the management operations that set them (edge_ops.hpp).
#include <charconv>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "services/apigateway/edge.hpp"
#include "services/apigateway/edge_ops.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {

// API Gateway's account-level defaults, used for the member a setting leaves out.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
constexpr double kAccountRate = 10000;
constexpr double kAccountBurst = 5000;

// A throttle from settings whose members are named `rate_key` / `burst_key`; nullopt when neither is set.
std::optional<ThrottleLimits> throttle_of(const json& s, const char* rate_key, const char* burst_key) {
  if (!s.is_object()) return std::nullopt;
  auto rate = s.find(rate_key);
  auto burst = s.find(burst_key);
  bool has_rate = rate != s.end() && rate->is_number();
  bool has_burst = burst != s.end() && burst->is_number();
  if (!has_rate && !has_burst) return std::nullopt;
  ThrottleLimits t;
  t.rate = has_rate ? rate->get<double>() : kAccountRate;
  t.burst = has_burst ? burst->get<double>() : kAccountBurst;
  return t;
}

std::optional<AccessLogConfig> access_log_of(const json& s, const char* arn_key, const char* format_key) {
  if (!s.is_object()) return std::nullopt;
  AccessLogConfig c;
  c.destination_arn = str(s, arn_key);
  c.format = str(s, format_key);
  c.log_group = log_group_of_arn(c.destination_arn);
  if (c.log_group.empty() || c.format.empty()) return std::nullopt;
  return c;
}

AwsError api_not_found(const Partition& p, const std::string& id) {
  return not_found(fmt::format("Invalid API identifier specified {}:{}", p.account, id));
}

json public_members(const json& j) {
  json out = json::object();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!it.key().starts_with("_")) out[it.key()] = it.value();
  return out;
}

// Runs `fn` under the gateway's mutex and replies with its outcome.
OperationSpec make_op(const std::shared_ptr<Gateway>& gateway, std::string name, std::string notes,
                      std::function<Outcome(Gateway&, const CallContext&, const json&)> fn) {
  OperationSpec spec;
  spec.name = std::move(name);
  spec.rules = InputRules::none;
  spec.notes = std::move(notes);
  spec.handler = [gateway, fn = std::move(fn)](const CallContext& ctx, json& input, Reply reply) {
    Outcome o;
    {
      std::lock_guard lock(gateway->mutex());
      o = fn(*gateway, ctx, input);
    }
    reply(std::move(o));
  };
  return spec;
}

std::optional<AwsError> check_throttle_members(const json& s, const char* what) {
  if (!s.is_object()) return std::nullopt;
  if (auto b = s.find("ThrottlingBurstLimit"); b != s.end())
    if (!b->is_number_integer() || b->get<long long>() < 0)
      return bad_request(fmt::format("{}: ThrottlingBurstLimit must be a whole number of requests, 0 or more", what));
  if (auto r = s.find("ThrottlingRateLimit"); r != s.end())
    if (!r->is_number() || r->get<double>() < 0)
      return bad_request(fmt::format("{}: ThrottlingRateLimit must be a number of requests per second, 0 or more", what));
  return std::nullopt;
}

// "/~1pets~1{id}/GET" -> "pets/{id}/GET"; "/*/*" -> "*/*". The method-settings key of a patch path's
// prefix, as the stage's methodSettings map names it.
std::string method_settings_key(std::string_view resource_and_method) {
  std::string out;
  for (std::size_t i = 0; i < resource_and_method.size(); ++i) {
    if (resource_and_method.compare(i, 2, "~1") == 0) {
      out += '/';
      ++i;
    } else {
      out += resource_and_method[i];
    }
  }
  while (out.starts_with("/")) out.erase(0, 1);
  return out;
}

json default_method_setting() {
  // What GetStage shows for a method setting nobody set more of.
  return {{"metricsEnabled", false},
          {"dataTraceEnabled", false},
          {"throttlingBurstLimit", static_cast<int>(kAccountBurst)},
          {"throttlingRateLimit", kAccountRate},
          {"cachingEnabled", false},
          {"cacheTtlInSeconds", 300},
          {"cacheDataEncrypted", false},
          {"requireAuthorizationForCacheControl", true},
          {"unauthorizedCacheControlHeaderStrategy", "SUCCEED_WITH_RESPONSE_HEADER"}};
}

bool parse_bool(const std::string& v, bool& out) {
  if (v == "true") return out = true, true;
  if (v == "false") return out = false, true;
  return false;
}

}  // namespace

std::shared_ptr<const ApiEdge> compile_edge(const json& rec) {
  auto edge = std::make_shared<ApiEdge>();
  bool rest = str(rec, "Type") == "REST";
  const json& api = object_member(rec, "Api");
  if (!rest) {
    if (auto c = api.find("CorsConfiguration"); c != api.end()) edge->cors = parse_cors(*c);
  }
  if (auto port = rec.find("_Port"); port != rec.end() && port->is_number_integer()) edge->port = port->get<int>();
  for (const auto& [name, stage] : object_member(rec, "Stages").items()) {
    StageEdge s;
    if (rest) {
      for (const auto& [key, setting] : object_member(stage, "methodSettings").items()) {
        auto t = throttle_of(setting, "throttlingRateLimit", "throttlingBurstLimit");
        if (!t) continue;
        if (key == "*/*")
          s.default_throttle = t;
        else
          s.route_throttle[key] = *t;
      }
      s.access_log = access_log_of(object_member(stage, "accessLogSettings"), "destinationArn", "format");
    } else {
      s.default_throttle =
          throttle_of(object_member(stage, "DefaultRouteSettings"), "ThrottlingRateLimit", "ThrottlingBurstLimit");
      for (const auto& [key, setting] : object_member(stage, "RouteSettings").items())
        if (auto t = throttle_of(setting, "ThrottlingRateLimit", "ThrottlingBurstLimit")) s.route_throttle[key] = *t;
      s.access_log = access_log_of(object_member(stage, "AccessLogSettings"), "DestinationArn", "Format");
    }
    edge->stages.emplace(name, std::move(s));
  }
  return edge;
}

std::size_t request_line_and_header_values_size(const http::Request& request) {
  std::size_t size = request.method.size() + 1 + request.target.size() + 1 + 8;  // "M T HTTP/1.1"
  for (const auto& f : request.headers.fields()) size += f.value.size();
  return size;
}

std::optional<AwsError> check_http_stage_settings(const json& stage) {
  if (auto e = check_throttle_members(object_member(stage, "DefaultRouteSettings"), "DefaultRouteSettings")) return e;
  for (const auto& [key, s] : object_member(stage, "RouteSettings").items())
    if (auto e = check_throttle_members(s, ("RouteSettings " + key).c_str())) return e;
  if (auto a = stage.find("AccessLogSettings"); a != stage.end()) {
    if (!a->is_object()) return bad_request("AccessLogSettings must be an object with DestinationArn and Format");
    if (auto e = check_access_log_settings(str(*a, "DestinationArn"), str(*a, "Format"))) return e;
  }
  return std::nullopt;
}

std::optional<json> sam_http_cors(const json& props) {
  auto it = props.find("CorsConfiguration");
  if (it == props.end() || it->is_null()) return std::nullopt;
  if (it->is_boolean()) {
    if (!it->get<bool>()) return std::nullopt;
    // SAM: "true" adds a CORS configuration that allows every origin, header and method.
    return json{{"AllowOrigins", {"*"}}, {"AllowHeaders", {"*"}}, {"AllowMethods", {"*"}}};
  }
  return *it;
}

std::optional<AwsError> apply_sam_rest_stage_settings(json& rec, const std::string& stage_name, const json& sam) {
  auto stage = rec["Stages"].find(stage_name);
  if (stage == rec["Stages"].end()) return std::nullopt;
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-apigateway-stage-methodsetting.html
  // ResourcePath "/~1pets" (slashes as ~1) or "/*" with HttpMethod "*" for every method.
  if (auto ms = sam.find("MethodSettings"); ms != sam.end() && ms->is_array()) {
    json settings = json::object();
    for (const auto& m : *ms) {
      std::string path = str(m, "ResourcePath", "/*");
      std::string method = str(m, "HttpMethod", "*");
      std::string key = path == "/*" && method == "*" ? "*/*" : method_settings_key(path) + "/" + method;
      json s = default_method_setting();
      if (auto b = m.find("ThrottlingBurstLimit"); b != m.end()) {
        if (!b->is_number_integer() || b->get<long long>() < 0)
          return bad_request("MethodSettings: ThrottlingBurstLimit must be a whole number, 0 or more");
        s["throttlingBurstLimit"] = *b;
      }
      if (auto r = m.find("ThrottlingRateLimit"); r != m.end()) {
        if (!r->is_number() || r->get<double>() < 0)
          return bad_request("MethodSettings: ThrottlingRateLimit must be a number, 0 or more");
        s["throttlingRateLimit"] = *r;
      }
      if (auto v = m.find("MetricsEnabled"); v != m.end() && v->is_boolean()) s["metricsEnabled"] = *v;
      if (auto v = m.find("DataTraceEnabled"); v != m.end() && v->is_boolean()) s["dataTraceEnabled"] = *v;
      if (auto v = m.find("LoggingLevel"); v != m.end() && v->is_string()) s["loggingLevel"] = *v;
      settings[key] = s;
    }
    (*stage)["methodSettings"] = settings;
  }
  if (auto a = sam.find("AccessLogSetting"); a != sam.end() && a->is_object()) {
    std::string arn = str(*a, "DestinationArn"), format = str(*a, "Format");
    if (auto e = check_access_log_settings(arn, format)) return e;
    (*stage)["accessLogSettings"] = {{"destinationArn", arn}, {"format", format}};
  }
  return std::nullopt;
}

// --- apigatewayv2 -------------------------------------------------------------------------------------

void add_http_edge_operations(std::vector<OperationSpec>& operations, const std::shared_ptr<Gateway>& gateway) {
  auto load = [](Gateway& g, const Partition& p, const json& in, json& rec) -> std::optional<AwsError> {
    std::string id = str(in, "ApiId");
    auto loaded = g.load(p, id);
    if (!loaded || str(*loaded, "Type") != "HTTP") return api_not_found(p, id);
    rec = std::move(*loaded);
    return std::nullopt;
  };
  operations.push_back(make_op(
      gateway, "DeleteCorsConfiguration", "the gateway stops answering preflights and adding CORS headers",
      [load](Gateway& g, const CallContext& ctx, const json& in) {
        json rec;
        if (auto e = load(g, Partition{ctx.account, ctx.region}, in, rec)) return Outcome::fail(*e);
        rec["Api"].erase("CorsConfiguration");
        if (auto e = save_record(g, rec)) return Outcome::fail(*e);
        return Outcome::ok(json::object());
      }));
  auto stage_op = [gateway, load](std::string name, std::string notes,
                                  std::function<std::optional<AwsError>(json& stage, const json& in)> change) {
    return make_op(gateway, std::move(name), std::move(notes),
                   [load, change](Gateway& g, const CallContext& ctx, const json& in) {
                     json rec;
                     if (auto e = load(g, Partition{ctx.account, ctx.region}, in, rec)) return Outcome::fail(*e);
                     auto stage = rec["Stages"].find(str(in, "StageName"));
                     if (stage == rec["Stages"].end())
                       return Outcome::fail(not_found("Invalid stage identifier specified"));
                     if (auto e = change(*stage, in)) return Outcome::fail(*e);
                     if (auto e = save_record(g, rec)) return Outcome::fail(*e);
                     return Outcome::ok(json::object());
                   });
  };
  operations.push_back(stage_op("DeleteAccessLogSettings", "the stage stops writing access log lines",
                                [](json& stage, const json&) -> std::optional<AwsError> {
                                  stage.erase("AccessLogSettings");
                                  return std::nullopt;
                                }));
  operations.push_back(stage_op("DeleteRouteSettings", "",
                                [](json& stage, const json& in) -> std::optional<AwsError> {
                                  std::string key = str(in, "RouteKey");
                                  auto& settings = stage["RouteSettings"];
                                  if (!settings.is_object() || !settings.contains(key))
                                    return not_found("Unable to find route settings for route key " + key);
                                  settings.erase(key);
                                  return std::nullopt;
                                }));
}

// --- apigateway (REST) UpdateStage ----------------------------------------------------------------------
// https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html#UpdateStage-Patch

namespace {

std::optional<AwsError> patch_stage(json& rec, json& stage, const json& op) {
  std::string kind = str(op, "op");
  std::string path = str(op, "path");
  std::string value = str(op, "value");
  auto invalid = [&] {
    return bad_request(fmt::format("Invalid patch path '{}' specified for op '{}'. Must be one of: [/description, "
                                   "/deploymentId, /variables/{{name}}, /tracingEnabled, /accessLogSettings, "
                                   "/accessLogSettings/destinationArn, /accessLogSettings/format, "
                                   "/{{resourcePath}}/{{httpMethod}}/{{setting}}]",
                                   path, kind));
  };
  if (kind != "replace" && kind != "add" && kind != "remove")
    return bad_request(fmt::format("Invalid patch operation specified. Must be one of: [add, remove, replace] "
                                   "(got '{}')",
                                   kind));
  if (path == "/description") {
    if (kind == "remove") stage.erase("description");
    else stage["description"] = value;
    return std::nullopt;
  }
  if (path == "/deploymentId") {
    if (kind != "replace") return invalid();
    if (!object_member(rec, "Deployments").contains(value))
      return not_found("Invalid Deployment identifier specified");
    stage["deploymentId"] = value;
    return std::nullopt;
  }
  if (path == "/tracingEnabled") {
    bool b = false;
    if (kind != "replace" || !parse_bool(value, b)) return bad_request("tracingEnabled must be true or false");
    stage["tracingEnabled"] = b;
    return std::nullopt;
  }
  if (path.starts_with("/variables/")) {
    std::string name = path.substr(11);
    if (name.empty()) return invalid();
    if (kind == "remove") {
      if (stage.contains("variables")) stage["variables"].erase(name);
    } else {
      stage["variables"][name] = value;
    }
    return std::nullopt;
  }
  if (path == "/accessLogSettings") {
    if (kind != "remove") return invalid();
    stage.erase("accessLogSettings");
    return std::nullopt;
  }
  if (path == "/accessLogSettings/destinationArn" || path == "/accessLogSettings/format") {
    if (kind != "replace") return invalid();
    json settings = stage.value("accessLogSettings", json::object());
    settings[path == "/accessLogSettings/format" ? "format" : "destinationArn"] = value;
    std::string arn = str(settings, "destinationArn");
    if (!arn.empty() && log_group_of_arn(arn).empty())
      return check_access_log_settings(arn, "$context.requestId");
    std::string format = str(settings, "format");
    if (!format.empty() && !arn.empty())
      if (auto e = check_access_log_settings(arn, format)) return e;
    stage["accessLogSettings"] = settings;
    return std::nullopt;
  }
  // /{resourcePath}/{httpMethod}/{area}/{setting}: the last two segments name the setting, the segment
  // before them the method, the rest the resource ("*" for every one).
  static const std::map<std::string, std::string> kSettings = {
      {"throttling/rateLimit", "throttlingRateLimit"},
      {"throttling/burstLimit", "throttlingBurstLimit"},
      {"metrics/enabled", "metricsEnabled"},
      {"logging/loglevel", "loggingLevel"},
      {"logging/dataTrace", "dataTraceEnabled"},
      {"caching/enabled", "cachingEnabled"},
      {"caching/ttlInSeconds", "cacheTtlInSeconds"},
      {"caching/dataEncrypted", "cacheDataEncrypted"},
      {"caching/requireAuthorizationForCacheControl", "requireAuthorizationForCacheControl"},
      {"caching/unauthorizedCacheControlHeaderStrategy", "unauthorizedCacheControlHeaderStrategy"}};
  auto last = path.rfind('/');
  auto area = last == std::string::npos || last == 0 ? std::string::npos : path.rfind('/', last - 1);
  if (area == std::string::npos || area == 0) {
    // remove /{resourcePath}/{httpMethod}: the whole method setting.
    if (kind == "remove" && last != std::string::npos && last > 0) {
      std::string key = method_settings_key(path);
      if (!stage["methodSettings"].is_object() || !stage["methodSettings"].contains(key)) return invalid();
      stage["methodSettings"].erase(key);
      return std::nullopt;
    }
    return invalid();
  }
  auto setting = kSettings.find(path.substr(area + 1));
  if (setting == kSettings.end()) {
    if (kind == "remove") {
      std::string key = method_settings_key(path);
      if (stage["methodSettings"].is_object() && stage["methodSettings"].contains(key)) {
        stage["methodSettings"].erase(key);
        return std::nullopt;
      }
    }
    return invalid();
  }
  std::string key = method_settings_key(std::string_view(path).substr(0, area));
  if (key.find('/') == std::string::npos) return invalid();
  if (kind != "replace") return invalid();
  json& methods = stage["methodSettings"];
  if (!methods.is_object()) methods = json::object();
  json& m = methods[key];
  if (!m.is_object()) m = default_method_setting();
  const std::string& member = setting->second;
  if (member == "throttlingRateLimit" || member == "throttlingBurstLimit" || member == "cacheTtlInSeconds") {
    double d = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() || d < 0 || !std::isfinite(d))
      return bad_request(fmt::format("Invalid value '{}' for {}: a number, 0 or more, is expected", value, path));
    if (member == "throttlingRateLimit")
      m[member] = d;
    else
      m[member] = static_cast<long long>(d);
  } else if (member == "loggingLevel" || member == "unauthorizedCacheControlHeaderStrategy") {
    m[member] = value;
  } else {
    bool b = false;
    if (!parse_bool(value, b)) return bad_request(fmt::format("Invalid value '{}' for {}: true or false", value, path));
    m[member] = b;
  }
  return std::nullopt;
}

}  // namespace

void add_rest_edge_operations(std::vector<OperationSpec>& operations, const std::shared_ptr<Gateway>& gateway) {
  operations.push_back(make_op(
      gateway, "UpdateStage",
      "patch operations on description, deploymentId, variables, tracingEnabled, accessLogSettings and method "
      "settings (throttling applied; caching, metrics and logging levels stored)",
      [](Gateway& g, const CallContext& ctx, const json& in) {
        Partition p{ctx.account, ctx.region};
        std::string id = str(in, "restApiId");
        auto loaded = g.load(p, id);
        if (!loaded || str(*loaded, "Type") != "REST") return Outcome::fail(api_not_found(p, id));
        json rec = std::move(*loaded);
        auto stage = rec["Stages"].find(str(in, "stageName"));
        if (stage == rec["Stages"].end()) return Outcome::fail(not_found("Invalid Stage identifier specified"));
        // All or nothing: a bad operation leaves the stage as it was.
        json updated = *stage;
        if (auto ops = in.find("patchOperations"); ops != in.end() && ops->is_array())
          for (const auto& op : *ops)
            if (auto e = patch_stage(rec, updated, op)) return Outcome::fail(*e);
        updated["lastUpdatedDate"] = static_cast<double>(ctx.now_ms) / 1000.0;
        *stage = updated;
        if (auto e = save_record(g, rec)) return Outcome::fail(*e);
        return Outcome::ok(public_members(updated));
      }));
}

}  // namespace stratus::services::apigateway
