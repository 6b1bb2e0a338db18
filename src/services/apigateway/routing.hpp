#pragma once
// Route selection as API Gateway does it, for HTTP APIs (route keys "GET /pets/{id}", "ANY /{proxy+}",
// "$default") and REST APIs (resources with methods). Precedence, from the AWS docs
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html#http-api-develop-routes.evaluation):
// the most specific path wins (a literal segment before a {param} at the same position, a full match before
// a greedy {proxy+}, a deeper greedy before a shallower one); at the same path an exact method wins over ANY;
// nothing matches -> the $default route (HTTP APIs) or no route.
//
// A trie by path segment: matching costs one hash lookup per segment (plus backtracking over the few
// candidates at each level), whatever the number of routes.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stratus::services::apigateway {

struct AuthorizerConfig;  // authorizers.hpp

// What a matched route leads to. Filled by whoever compiles an API; routing only stores it.
struct RouteTarget {
  std::string route_key;      // HTTP APIs: "GET /pets/{id}" or "$default"; REST: "" (unused)
  std::string resource_path;  // the path template: "/pets/{id}" ("$default" for the $default route)
  std::string resource_id;    // REST: the resource's id
  std::string function;       // the Lambda function (ARN, maybe with ${stageVariables.x}); "" = none
  std::string payload_version = "2.0";  // "1.0" or "2.0"
  int timeout_ms = 30000;
  bool has_integration = false;
  std::shared_ptr<const AuthorizerConfig> authorizer;  // the route's Lambda authorizer; null = none
};

// A parsed path template.
struct PathTemplate {
  struct Segment {
    std::string text;  // literal text, or the parameter's name
    bool param = false;
    bool greedy = false;  // {name+}, last segment only
  };
  std::vector<Segment> segments;
};

// Parses "/pets/{id}/{proxy+}". Returns an error sentence on a malformed template (empty segment, greedy
// not last, unbalanced braces).
std::optional<std::string> parse_path_template(std::string_view path, PathTemplate& out);

// Splits a request path ("/a/b%20c/") into percent-decoded segments ({"a", "b c", ""}); "/" -> {}.
std::vector<std::string> split_request_path(std::string_view path);

struct RouteMatch {
  const RouteTarget* target = nullptr;
  std::vector<std::pair<std::string, std::string>> path_parameters;  // name -> decoded value
};

class RouteTable {
 public:
  RouteTable();
  ~RouteTable();
  RouteTable(RouteTable&&) noexcept;
  RouteTable& operator=(RouteTable&&) noexcept;

  // Adds a route. `method` is upper case or "ANY". Returns false when the same method and path shape (the
  // same literals and parameter positions) is already present.
  bool add(const std::string& method, const PathTemplate& path, RouteTarget target);
  void set_default(RouteTarget target) { default_ = std::move(target); }
  std::size_t size() const { return size_; }

  // The route for a request. `segments` as split_request_path gives them.
  RouteMatch match(std::string_view method, const std::vector<std::string>& segments) const;

 private:
  struct Node;
  struct Entry;
  std::unique_ptr<Node> root_;
  std::optional<RouteTarget> default_;
  std::size_t size_ = 0;
};

}  // namespace stratus::services::apigateway
