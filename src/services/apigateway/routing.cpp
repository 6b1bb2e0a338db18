#include "services/apigateway/routing.hpp"

#include "http/http_types.hpp"

namespace stratus::services::apigateway {

struct RouteTable::Entry {
  RouteTarget target;
  PathTemplate path;
};

struct RouteTable::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>> literals;
  std::unique_ptr<Node> param;                      // any one segment
  std::unordered_map<std::string, Entry> methods;   // routes ending here, by method ("ANY" included)
  std::unordered_map<std::string, Entry> greedy;    // routes whose {proxy+} starts below this node
};

RouteTable::RouteTable() : root_(std::make_unique<Node>()) {}
RouteTable::~RouteTable() = default;
RouteTable::RouteTable(RouteTable&&) noexcept = default;
RouteTable& RouteTable::operator=(RouteTable&&) noexcept = default;

std::optional<std::string> parse_path_template(std::string_view path, PathTemplate& out) {
  out.segments.clear();
  if (path.empty() || path.front() != '/') return "a path must start with /";
  if (path == "/") return std::nullopt;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    if (seg.empty()) return "a path may not contain an empty segment";
    PathTemplate::Segment s;
    if (seg.front() == '{' || seg.back() == '}') {
      if (seg.size() < 3 || seg.front() != '{' || seg.back() != '}') return "invalid path parameter " + std::string(seg);
      std::string_view name = seg.substr(1, seg.size() - 2);
      if (name.back() == '+') {
        name.remove_suffix(1);
        s.greedy = true;
      }
      if (name.empty() || name.find_first_of("{}/+") != std::string_view::npos)
        return "invalid path parameter " + std::string(seg);
      s.param = true;
      s.text = std::string(name);
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos) return "invalid path segment " + std::string(seg);
      s.text = std::string(seg);
    }
    out.segments.push_back(std::move(s));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  for (std::size_t i = 0; i + 1 < out.segments.size(); ++i)
    if (out.segments[i].greedy) return "a greedy path parameter {name+} must be the last segment";
  return std::nullopt;
}

std::vector<std::string> split_request_path(std::string_view path) {
  std::vector<std::string> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return out;
  while (true) {
    auto slash = path.find('/');
    out.push_back(http::percent_decode(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool RouteTable::add(const std::string& method, const PathTemplate& path, RouteTarget target) {
  Node* node = root_.get();
  for (const auto& seg : path.segments) {
    if (seg.greedy) break;
    std::unique_ptr<Node>& next = seg.param ? node->param : node->literals[seg.text];
    if (!next) next = std::make_unique<Node>();
    node = next.get();
  }
  bool greedy = !path.segments.empty() && path.segments.back().greedy;
  auto& slot = greedy ? node->greedy : node->methods;
  if (slot.contains(method)) return false;
  slot.emplace(method, Entry{std::move(target), path});
  ++size_;
  return true;
}

namespace {

// The entry for `method` in `entries`: the exact method first, then ANY.
template <typename Map>
const typename Map::mapped_type* pick(const Map& entries, std::string_view method) {
  if (entries.empty()) return nullptr;
  if (auto it = entries.find(std::string(method)); it != entries.end()) return &it->second;
  if (auto it = entries.find("ANY"); it != entries.end()) return &it->second;
  return nullptr;
}

}  // namespace

RouteMatch RouteTable::match(std::string_view method, const std::vector<std::string>& segments) const {
  RouteMatch result;
  const Entry* found = nullptr;
  // Depth-first, literal before parameter, greedy last: the first complete match is the most specific.
  auto search = [&](auto&& self, const Node* node, std::size_t depth) -> bool {
    if (depth == segments.size()) {
      if (const Entry* e = pick(node->methods, method)) {
        found = e;
        return true;
      }
      return false;
    }
    const std::string& seg = segments[depth];
    if (!seg.empty()) {
      if (auto it = node->literals.find(seg); it != node->literals.end() && self(self, it->second.get(), depth + 1))
        return true;
      if (node->param && self(self, node->param.get(), depth + 1)) return true;
    }
    if (const Entry* e = pick(node->greedy, method)) {
      found = e;
      return true;
    }
    return false;
  };
  if (search(search, root_.get(), 0)) {
    result.target = &found->target;
    const auto& tpl = found->path.segments;
    for (std::size_t i = 0; i < tpl.size(); ++i) {
      if (!tpl[i].param) continue;
      if (tpl[i].greedy) {
        std::string rest;
        for (std::size_t j = i; j < segments.size(); ++j) {
          if (j > i) rest += '/';
          rest += segments[j];
        }
        result.path_parameters.emplace_back(tpl[i].text, std::move(rest));
      } else {
        result.path_parameters.emplace_back(tpl[i].text, segments[i]);
      }
    }
    return result;
  }
  if (default_) result.target = &*default_;
  return result;
}

}  // namespace stratus::services::apigateway
