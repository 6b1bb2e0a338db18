// Request identification: which service, operation, region and credentials a request is for.
//
// Rules, in order (aws-wire.md "Which protocol each client speaks" and "Addressing traps"):
//  0. Host `<apiId>.execute-api.<domain>`: an API Gateway invocation (service "execute-api").
//  1. SigV2 (Authorization "AWS key:sig", or ?AWSAccessKeyId=&Signature=): S3.
//  2. The SigV4 credential scope (Authorization or X-Amz-Credential) names the service. "apigateway"
//     signs API Gateway v1 and v2 (/v2/ paths are v2); "dynamodb" signs DynamoDB Streams (told apart by
//     the X-Amz-Target prefix DynamoDBStreams_20120810). The region partitions state.
//  3. Unsigned: X-Amz-Target prefix → JSON service.
//  4. Unsigned: form `Action` (+ Version 2012-11-05 → SQS), or `POST /<account>/<queue>` with a form body.
//  5. Unsigned: Lambda's path prefixes (the first segment of every Lambda requestUri).
//  6. Everything else is S3 (path style or virtual-hosted).
// API Gateway management paths are only used when signed for apigateway: a path prefix never wins over
// the credential scope (2015-03-31 is a legal bucket name). Signatures are NOT verified.
#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "common/text.hpp"
#include "protocol/protocol.hpp"

namespace stratus::protocol {

namespace {

using http::Request;

struct Scope {
  bool present = false;
  bool sigv2 = false;
  std::string access_key, region, service;
  std::optional<std::string> malformed;  // what is wrong with the Authorization header
};

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http::Headers::iequals(s.substr(0, prefix.size()), prefix);
}

// "KEY/20240101/us-east-1/s3/aws4_request" → scope; false if malformed.
bool parse_credential(std::string_view credential, Scope& scope) {
  std::vector<std::string_view> parts;
  while (true) {
    auto slash = credential.find('/');
    parts.push_back(credential.substr(0, slash));
    if (slash == std::string_view::npos) break;
    credential.remove_prefix(slash + 1);
  }
  if (parts.size() != 5 || parts[4] != "aws4_request" || parts[0].empty() || parts[2].empty() ||
      parts[3].empty())
    return false;
  scope.present = true;
  scope.access_key = std::string(parts[0]);
  scope.region = std::string(parts[2]);
  scope.service = std::string(parts[3]);
  return true;
}

Scope parse_scope(const Request& req, const std::vector<std::pair<std::string, std::string>>& query) {
  Scope scope;
  if (auto auth = req.headers.find("authorization")) {
    std::string_view a = *auth;
    if (istarts_with(a, "AWS4-HMAC-SHA256")) {
      auto cred = a.find("Credential=");
      std::vector<std::string> missing;
      if (cred == std::string_view::npos) missing.push_back("Credential");
      if (a.find("Signature=") == std::string_view::npos) missing.push_back("Signature");
      if (a.find("SignedHeaders=") == std::string_view::npos) missing.push_back("SignedHeaders");
      if (cred != std::string_view::npos) {
        std::string_view c = a.substr(cred + 11);
        c = c.substr(0, c.find_first_of(", "));
        if (!parse_credential(c, scope))
          scope.malformed = fmt::format(
              "Credential should be scoped to a valid region, service and "
              "terminated by aws4_request. Credential={}",
              c);
      }
      if (!missing.empty() && !scope.malformed) {
        std::string msg;
        for (const auto& m : missing) msg += fmt::format("Authorization header requires '{}' parameter. ", m);
        scope.malformed = msg + fmt::format("Authorization={}", a);
      }
    } else if (a.size() > 4 && a.substr(0, 4) == "AWS " && a.find(':') != std::string_view::npos) {
      scope.sigv2 = true;
      scope.access_key = std::string(a.substr(4, a.find(':') - 4));
    } else {
      scope.malformed = fmt::format(
          "Authorization header requires 'Credential' parameter. Authorization header "
          "requires 'Signature' parameter. Authorization={}",
          a);
    }
    return scope;
  }
  std::string_view credential, v2_key;
  bool v2_signature = false;
  for (const auto& [k, v] : query) {
    if (k == "X-Amz-Credential")
      credential = v;
    else if (k == "AWSAccessKeyId")
      v2_key = v;
    else if (k == "Signature")
      v2_signature = true;
  }
  if (!credential.empty()) {
    if (!parse_credential(credential, scope))
      scope.malformed = fmt::format(
          "Credential should be scoped to a valid region, service and terminated by "
          "aws4_request. Credential={}",
          credential);
  } else if (!v2_key.empty() && v2_signature) {
    scope.sigv2 = true;
    scope.access_key = std::string(v2_key);
  }
  return scope;
}

std::string_view host_without_port(const Request& req) {
  std::string_view host = req.headers.get("host");
  if (!host.empty() && host.front() == '[') return host.substr(0, host.find(']') + 1);
  return host.substr(0, host.find(':'));
}

bool valid_bucket_name(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
}

// The bucket of a virtual-hosted S3 request, "" if path style.
std::string virtual_bucket(std::string_view host) {
  std::string h = ascii_lower(host);
  std::string_view hv = h;
  std::string_view bucket;
  if (hv.size() > 10 && hv.substr(hv.size() - 10) == ".localhost") {
    bucket = hv.substr(0, hv.size() - 10);
    if (bucket.size() > 3 && bucket.substr(bucket.size() - 3) == ".s3")
      bucket.remove_suffix(3);
    else if (bucket == "s3")
      bucket = {};
  } else {
    auto dot = hv.find(".s3.");
    auto dash = hv.find(".s3-");
    auto at = std::min(dot, dash);
    if (at != std::string_view::npos) bucket = hv.substr(0, at);
  }
  if (!valid_bucket_name(bucket)) return {};
  return std::string(bucket);
}

struct TargetService {
  std::string_view prefix;
  std::string_view service;
};
// X-Amz-Target prefixes (checked against the models by the unit tests) and a few unmodeled services,
// so that the dispatcher can name them in its "not supported" error.
constexpr TargetService k_targets[] = {{"AmazonSQS", "sqs"},
                                       {"DynamoDB_20120810", "dynamodb"},
                                       {"DynamoDBStreams_20120810", "dynamodbstreams"},
                                       {"AWSEvents", "events"},
                                       {"AWSStepFunctions", "states"},
                                       {"Logs_20140328", "logs"},
                                       {"AWSKinesisFirehose_20150804", "firehose"},
                                       {"Kinesis_20131202", "kinesis"},
                                       {"secretsmanager", "secretsmanager"},
                                       {"AmazonSSM", "ssm"},
                                       {"TrentService", "kms"}};

std::string_view service_for_target(std::string_view prefix) {
  for (const auto& t : k_targets)
    if (t.prefix == prefix) return t.service;
  return {};
}

struct QueryVersion {
  std::string_view version;
  std::string_view service;
};
constexpr QueryVersion k_query_versions[] = {{"2012-11-05", "sqs"},
                                             {"2010-03-31", "sns"},
                                             {"2011-06-15", "sts"},
                                             {"2010-05-08", "iam"},
                                             {"2010-05-15", "cloudformation"},
                                             {"2010-08-01", "monitoring"},
                                             {"2010-12-01", "ses"}};

bool is_form(const Request& req) {
  return istarts_with(req.headers.get("content-type"), "application/x-www-form-urlencoded");
}

// Form parameters of a query-protocol request: the body of a form POST, else the query string.
std::vector<std::pair<std::string, std::string>> query_params(const Request& req) {
  if (req.method == "POST" && is_form(req)) return http::parse_query(req.body, true);
  return http::parse_query(req.query, true);
}

std::optional<std::string> param(const std::vector<std::pair<std::string, std::string>>& params,
                                 std::string_view name) {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return std::nullopt;
}

// `/<12-digit account>/<queue>`
bool is_queue_path(std::string_view path) {
  if (path.size() < 15 || path[0] != '/') return false;
  for (std::size_t i = 1; i <= 12; ++i)
    if (!std::isdigit(static_cast<unsigned char>(path[i]))) return false;
  if (path[13] != '/') return false;
  std::string_view queue = path.substr(14);
  return !queue.empty() && queue.find('/') == std::string_view::npos;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segs;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return segs;
  while (true) {
    auto slash = path.find('/');
    segs.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segs;
}

const std::set<std::string, std::less<>>& lambda_prefixes() {
  static const std::set<std::string, std::less<>> prefixes = [] {
    std::set<std::string, std::less<>> out;
    if (const ServiceModel* lambda = find_model("lambda"))
      for (const auto& op : lambda->operations())
        if (!op.path.empty() && !op.path.front().label) out.insert(op.path.front().text);
    return out;
  }();
  return prefixes;
}

bool has_lambda_prefix(std::string_view path) {
  auto segs = split_path(path);
  return !segs.empty() && lambda_prefixes().count(segs.front()) > 0;
}

// Matches one REST template against the request path segments; fills labels. Returns false if no match.
bool match_path(const OperationModel& op, const std::vector<std::string_view>& segs,
                std::map<std::string, std::string>& labels) {
  const auto& t = op.path;
  std::size_t n = t.size(), m = segs.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (t[i].greedy) {
      if (i >= m) return false;
      std::string rest;
      for (std::size_t j = i; j < m; ++j) {
        if (j > i) rest += '/';
        rest.append(segs[j]);
      }
      if (rest.empty()) return false;
      labels[t[i].text] = http::percent_decode(rest);
      return true;
    }
    if (i >= m) return i + 1 == n && !t[i].label && t[i].text.empty();  // template's trailing "/"
    if (t[i].label) {
      if (segs[i].empty()) return false;
      labels[t[i].text] = http::percent_decode(segs[i]);
    } else if (segs[i] != t[i].text) {
      return false;
    }
  }
  return m == n || (m == n + 1 && segs[n].empty());  // request's trailing "/"
}

struct RouteMatch {
  const OperationModel* op = nullptr;
  std::map<std::string, std::string> labels;
};

RouteMatch match_route(const ServiceModel& model, const Request& req, std::string_view path) {
  auto segs = split_path(path);
  auto query = http::parse_query(req.query, false);
  auto has_query = [&](std::string_view key, std::string_view value) {
    for (const auto& [k, v] : query)
      if (k == key && (value.empty() || v == value)) return true;
    return false;
  };
  RouteMatch best;
  std::vector<int> best_rank;
  std::size_t best_keys = 0;
  for (const auto& op : model.operations()) {
    if (op.http_method != req.method) continue;
    bool ok = true;
    for (const auto& [k, v] : op.uri_query) ok = ok && has_query(k, v);
    for (const auto& k : op.required_query) ok = ok && has_query(k, "");
    for (const auto& h : op.required_headers) ok = ok && req.headers.contains(h);
    if (!ok) continue;
    std::map<std::string, std::string> labels;
    if (!match_path(op, segs, labels)) continue;
    std::vector<int> rank;
    for (const auto& s : op.path) rank.push_back(s.greedy ? 0 : s.label ? 1 : 2);
    std::size_t keys = op.uri_query.size() + op.required_query.size() + op.required_headers.size();
    if (best.op == nullptr || rank > best_rank || (rank == best_rank && keys > best_keys)) {
      best.op = &op;
      best.labels = std::move(labels);
      best_rank = std::move(rank);
      best_keys = keys;
    }
  }
  return best;
}

void identify_rest(const ServiceModel& model, const Request& req, std::string_view path, Identified& id) {
  auto m = match_route(model, req, path);
  if (m.op == nullptr) {
    id.unknown_operation = true;
    id.requested_operation = req.method + " " + std::string(path);
    return;
  }
  id.operation = m.op->name;
  for (auto& [k, v] : m.labels) id.labels[k] = std::move(v);
}

void identify_s3(const Request& req, Identified& id) {
  id.service = "s3";
  id.protocol = Protocol::rest_xml;
  const ServiceModel* model = find_model("s3");
  if (model == nullptr) return;
  std::string bucket = virtual_bucket(host_without_port(req));
  if (bucket.empty()) {
    identify_rest(*model, req, req.path, id);
    return;
  }
  id.virtual_hosted = true;
  std::string path = "/" + bucket + (req.path == "/" ? std::string{} : req.path);
  identify_rest(*model, req, path, id);
}

// Service known (from the scope or a rule): find the operation in its protocol.
void identify_in_service(const Request& req, std::string_view service, Identified& id) {
  id.service = std::string(service);
  if (service == "s3") {
    identify_s3(req, id);
    return;
  }
  const ServiceModel* model = find_model(service);
  std::string_view target = req.headers.get("x-amz-target");
  if (model == nullptr) {
    // Unmodeled service: guess the protocol so that the error is readable by the client.
    id.protocol = !target.empty() ? Protocol::json : is_form(req) ? Protocol::query : Protocol::rest_json;
    id.unknown_operation = true;
    return;
  }
  id.protocol = model->protocol();
  switch (model->protocol()) {
    case Protocol::json: {
      if (target.empty() && model->query_compatible()) {
        // SQS over query (AWS CLI v2 2.9, older SDKs).
        id.protocol = Protocol::query;
        auto params = query_params(req);
        auto action = param(params, "Action");
        if (!action || action->empty()) {
          id.error = AwsError::sender(400, "MissingAction", "The request must contain the parameter Action.");
          return;
        }
        if (model->operation(*action) != nullptr) {
          id.operation = *action;
        } else {
          id.unknown_operation = true;
          id.requested_operation = *action;
        }
        return;
      }
      auto dot = target.rfind('.');
      std::string_view op = dot == std::string_view::npos ? std::string_view{} : target.substr(dot + 1);
      std::string_view prefix = dot == std::string_view::npos ? target : target.substr(0, dot);
      if (prefix == model->target_prefix() && model->operation(op) != nullptr) {
        id.operation = std::string(op);
      } else {
        id.unknown_operation = true;
        id.requested_operation = std::string(target);
      }
      return;
    }
    case Protocol::query: {
      auto params = query_params(req);
      auto action = param(params, "Action");
      if (!action || action->empty()) {
        id.error = AwsError::sender(400, "MissingAction", "The request must contain the parameter Action.");
      } else if (model->operation(*action) != nullptr) {
        id.operation = *action;
      } else {
        id.unknown_operation = true;
        id.requested_operation = *action;
      }
      return;
    }
    case Protocol::rest_json:
    case Protocol::rest_xml:
      identify_rest(*model, req, req.path, id);
      return;
  }
}

AwsError malformed_auth_error(Protocol protocol, const std::string& detail) {
  if (protocol == Protocol::rest_xml)
    return AwsError::sender(400, "AuthorizationHeaderMalformed",
                            "The authorization header is malformed; the Credential is mal-formed; expecting "
                            "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
  return AwsError::sender(400, "IncompleteSignatureException", detail);
}

}  // namespace

Identified identify(const Request& req) {
  Identified id;
  auto raw_query = http::parse_query(req.query, false);
  std::string_view host = host_without_port(req);

  // 0. API Gateway invocations.
  if (auto at = ascii_lower(host).find(".execute-api."); at != std::string::npos && at > 0) {
    id.service = "execute-api";
    id.protocol = Protocol::rest_json;
    id.labels["apiId"] = std::string(host.substr(0, at));
    Scope scope = parse_scope(req, raw_query);
    if (scope.present) {
      id.region = scope.region;
      id.access_key = scope.access_key;
      id.signing_service = scope.service;
    }
    return id;
  }

  Scope scope = parse_scope(req, raw_query);
  if (scope.present) {
    id.region = scope.region;
    id.access_key = scope.access_key;
    id.signing_service = scope.service;
  } else if (scope.sigv2) {
    id.access_key = scope.access_key;
  }
  std::string_view target = req.headers.get("x-amz-target");

  if (scope.sigv2) {
    identify_s3(req, id);
  } else if (scope.present) {
    std::string_view service = scope.service;
    if (service == "apigateway") {
      std::string_view p = req.path;
      service = (p == "/v2" || p.substr(0, 4) == "/v2/") ? "apigatewayv2" : "apigateway";
    } else if (service == "dynamodb" && target.substr(0, target.find('.')) == "DynamoDBStreams_20120810") {
      service = "dynamodbstreams";
    } else if (service == "execute-api") {
      id.service = "execute-api";
      id.protocol = Protocol::rest_json;
      return id;
    }
    identify_in_service(req, service, id);
  } else if (!target.empty() && !service_for_target(target.substr(0, target.find('.'))).empty()) {
    identify_in_service(req, service_for_target(target.substr(0, target.find('.'))), id);
  } else {
    bool form = is_form(req);
    std::optional<std::string> action, version;
    if ((req.method == "POST" && form) || req.query.find("Action=") != std::string::npos) {
      auto params = query_params(req);
      action = param(params, "Action");
      version = param(params, "Version");
    }
    std::string_view by_version;
    if (version)
      for (const auto& qv : k_query_versions)
        if (qv.version == *version) by_version = qv.service;
    if (!by_version.empty() && action) {
      identify_in_service(req, by_version, id);
    } else if (is_queue_path(req.path) && (form || action)) {
      identify_in_service(req, "sqs", id);
    } else if (action && !version && req.path == "/" && find_model("sqs") &&
               find_model("sqs")->operation(*action) != nullptr) {
      identify_in_service(req, "sqs", id);
    } else if (has_lambda_prefix(req.path)) {
      identify_in_service(req, "lambda", id);
    } else {
      identify_s3(req, id);
    }
  }

  if (scope.malformed && !id.error) {
    id.error = malformed_auth_error(id.protocol, *scope.malformed);
    id.region = "us-east-1";
  }
  return id;
}

AwsError unknown_operation_error(const Identified& id) {
  switch (id.protocol) {
    case Protocol::json: {
      auto error = AwsError::sender(400, "UnknownOperationException",
                                    id.requested_operation.empty() ? std::string("Unknown operation")
                                                                   : "Unknown operation " + id.requested_operation);
      // What query-compatible services (SQS) put in x-amzn-query-error, so their clients see the same code
      // over JSON as over query.
      error.query_code = "InvalidAction";
      return error;
    }
    case Protocol::query:
      return AwsError::sender(
          400, "InvalidAction",
          fmt::format("The action {} is not valid for this endpoint.", id.requested_operation));
    case Protocol::rest_json:
      return AwsError::sender(404, "UnknownOperationException",
                              "Unknown operation " + id.requested_operation);
    case Protocol::rest_xml:
      return AwsError::sender(405, "MethodNotAllowed",
                              "The specified method is not allowed against this resource.");
  }
  return AwsError::sender(400, "UnknownOperationException", "Unknown operation");
}

}  // namespace stratus::protocol
