#include "stack/stack_file.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "stack/intrinsics.hpp"
#include "stack/resource_types.hpp"

namespace stratus::stack {

namespace detail {

bool is_pseudo_parameter(std::string_view name) {
  static const std::unordered_set<std::string_view> names = {
      "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue",   "AWS::Partition",
      "AWS::Region",    "AWS::StackId",          "AWS::StackName", "AWS::URLSuffix"};
  return names.contains(name);
}

bool parse_sub(std::string_view text, std::vector<SubPart>& parts, std::string& error) {
  parts.clear();
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        error = fmt::format("unterminated \"${{\" at offset {}", i);
        return false;
      }
      std::string_view name = text.substr(i + 2, close - i - 2);
      if (!name.empty() && name.front() == '!') {
        literal += "${";
        literal += name.substr(1);
        literal += '}';
      } else {
        if (name.empty()) {
          error = fmt::format("empty \"${{}}\" at offset {}", i);
          return false;
        }
        if (!literal.empty()) parts.push_back({false, std::move(literal)});
        literal.clear();
        parts.push_back({true, std::string(name)});
      }
      i = close + 1;
    } else {
      literal += text[i++];
    }
  }
  if (!literal.empty()) parts.push_back({false, std::move(literal)});
  return true;
}

bool is_logical_id(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

}  // namespace detail

std::string StackError::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += fmt::format(":{}", line);
    if (column > 0) out += fmt::format(":{}", column);
  }
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

std::string format_errors(const std::vector<StackError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

const Resource* Stack::find(std::string_view logical_id) const {
  for (const auto& r : resources) {
    if (r.logical_id == logical_id) return &r;
  }
  return nullptr;
}

namespace {

using nlohmann::json;

struct Pos {
  int line = 0;
  int column = 0;
};

// Stands in for a value already reported as wrong, so that it raises no further errors (it passes
// every type check as an intrinsic). It never reaches a loaded Stack: loading fails on that error.
nlohmann::json poisoned() { return {{"Fn::Invalid", nullptr}}; }

Pos to_pos(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

// Short-form tags and the long form they stand for.
const std::unordered_map<std::string_view, std::string_view>& short_forms() {
  static const std::unordered_map<std::string_view, std::string_view> forms = {
      {"!Ref", "Ref"},
      {"!Condition", "Condition"},
      {"!GetAtt", "Fn::GetAtt"},
      {"!Sub", "Fn::Sub"},
      {"!Join", "Fn::Join"},
      {"!Select", "Fn::Select"},
      {"!Split", "Fn::Split"},
      {"!If", "Fn::If"},
      {"!Equals", "Fn::Equals"},
      {"!And", "Fn::And"},
      {"!Or", "Fn::Or"},
      {"!Not", "Fn::Not"},
      {"!GetAZs", "Fn::GetAZs"},
      {"!ImportValue", "Fn::ImportValue"},
      {"!FindInMap", "Fn::FindInMap"},
      {"!Base64", "Fn::Base64"},
      {"!Cidr", "Fn::Cidr"},
      {"!Length", "Fn::Length"},
      {"!ToJsonString", "Fn::ToJsonString"},
      {"!Transform", "Fn::Transform"},
  };
  return forms;
}

bool all_digits(std::string_view s, bool hex = false) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [hex](char c) {
    return (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
  });
}

// YAML 1.2 core-schema float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool looks_like_float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t int_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

const std::vector<std::string> kTopLevelKeys = {"StratusVersion", "AWSTemplateFormatVersion",
                                                "Description",    "Parameters",
                                                "Resources",      "Outputs",
                                                "Transform",      "Metadata"};
const std::vector<std::string> kResourceKeys = {
    "Type",           "Properties",          "DependsOn",    "Condition",     "Metadata",
    "DeletionPolicy", "UpdateReplacePolicy", "UpdatePolicy", "CreationPolicy"};
const std::vector<std::string> kParameterKeys = {
    "Type",      "Default",   "Description", "AllowedValues", "AllowedPattern", "ConstraintDescription",
    "MaxLength", "MinLength", "MaxValue",    "MinValue",      "NoEcho"};
const std::vector<std::string> kOutputKeys = {"Value", "Description", "Export", "Condition"};

class Loader {
 public:
  Loader(std::string file, std::vector<StackError>& errors) : file_(std::move(file)), errors_(errors) {}

  bool load(std::string_view text, Stack& out) {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
      add("", to_pos(e.mark), e.msg);
      return finish();
    }
    if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
      add("", {1, 1}, "the file is empty; expected a mapping with Resources");
      return finish();
    }
    if (docs.size() > 1) {
      add("", to_pos(docs[1].Mark()), fmt::format("expected one YAML document, found {}", docs.size()));
      return finish();
    }
    json root = convert(docs[0], "", to_pos(docs[0].Mark()));
    if (converted_ > kMaxNodes) return finish();  // validating a truncated document would only add noise
    Stack stack;
    stack.file = file_;
    validate(root, stack);
    if (!finish()) return false;
    out = std::move(stack);
    return true;
  }

 private:
  // ---- errors --------------------------------------------------------------------------------

  void add(const std::string& path, Pos pos, std::string message) {
    found_.push_back(StackError{file_, path, pos.line, pos.column, std::move(message)});
  }

  // Position of `path`, or of its nearest ancestor that has one.
  Pos pos_of(std::string path) const {
    for (;;) {
      auto it = pos_.find(path);
      if (it != pos_.end()) return it->second;
      if (path.empty()) return {};
      std::size_t cut = path.find_last_of(".[");
      // "Fn::GetAtt" contains no '.', so cutting at the last '.' or '[' always removes one segment.
      path = cut == std::string::npos ? std::string() : path.substr(0, cut);
    }
  }

  void error(const std::string& path, std::string message) { add(path, pos_of(path), std::move(message)); }

  // Sorts by position (file order) and hands the errors over; true when there were none.
  bool finish() {
    std::stable_sort(found_.begin(), found_.end(), [](const StackError& a, const StackError& b) {
      if (a.line != b.line) return a.line < b.line;
      return a.column < b.column;
    });
    bool ok = found_.empty();
    errors_.insert(errors_.end(), found_.begin(), found_.end());
    found_.clear();
    return ok;
  }

  static std::string member(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  // ---- YAML -> JSON --------------------------------------------------------------------------

  // Converts `node` (at `path`; `pos` is where errors about it point: its key for mapping members).
  json convert(const YAML::Node& node, const std::string& path, Pos pos) {
    // Aliases expand when converted: bound the result so that a "billion laughs" file cannot exhaust memory.
    if (++converted_ > kMaxNodes) {
      if (converted_ == kMaxNodes + 1) {
        add(path, pos, fmt::format("the file expands to more than {} values (through aliases?)", kMaxNodes));
      }
      return poisoned();
    }
    pos_.emplace(path, pos);
    const std::string& tag = node.Tag();
    std::string_view long_form;
    bool core_tag = tag.starts_with("tag:yaml.org,2002:");
    if (!tag.empty() && tag != "?" && tag != "!" && !core_tag) {
      auto it = short_forms().find(tag);
      if (it == short_forms().end()) {
        error(path, fmt::format("unknown tag \"{}\"", tag));
        return poisoned();
      }
      long_form = it->second;
    }
    std::string inner_path = long_form.empty() ? path : member(path, std::string(long_form));
    if (!long_form.empty()) pos_.emplace(inner_path, to_pos(node.Mark()));

    json value;
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: value = nullptr; break;
      case YAML::NodeType::Scalar:
        if (!long_form.empty()) {
          value = node.Scalar();
        } else if (core_tag) {
          value = convert_core_tagged(tag.substr(std::strlen("tag:yaml.org,2002:")), node.Scalar(), path);
        } else if (tag == "?") {
          value = convert_plain(node.Scalar(), path);
        } else {
          value = node.Scalar();  // quoted or block scalar: always a string
        }
        break;
      case YAML::NodeType::Sequence: {
        value = json::array();
        std::size_t i = 0;
        for (const auto& child : node) {
          std::string child_path = fmt::format("{}[{}]", inner_path, i++);
          value.push_back(convert(child, child_path, to_pos(child.Mark())));
        }
        break;
      }
      case YAML::NodeType::Map: {
        value = json::object();
        for (auto it = node.begin(); it != node.end(); ++it) {
          Pos key_pos = to_pos(it->first.Mark());
          if (!it->first.IsScalar()) {
            add(inner_path, key_pos, "mapping keys must be strings");
            continue;
          }
          const std::string& key = it->first.Scalar();
          std::string child_path = member(inner_path, key);
          if (value.contains(key)) {
            bool resource = inner_path == "Resources";
            add(child_path, key_pos,
                fmt::format("duplicate {} \"{}\" (first defined on line {})", resource ? "logical id" : "key",
                            key, pos_of(child_path).line));
            continue;
          }
          if (inner_path == "Resources") resource_order_.push_back(key);
          value[key] = convert(it->second, child_path, key_pos);
        }
        break;
      }
    }
    if (long_form.empty()) return value;
    if (long_form == "Fn::GetAtt" && value.is_string()) {
      // !GetAtt Resource.Attribute (the attribute itself may contain dots).
      const std::string s = value.get<std::string>();
      std::size_t dot = s.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == s.size()) {
        error(inner_path, fmt::format("!GetAtt \"{}\" must be LogicalId.Attribute", s));
        return poisoned();
      }
      value = json::array({s.substr(0, dot), s.substr(dot + 1)});
    }
    if ((long_form == "Ref" || long_form == "Condition") && !value.is_string()) {
      error(inner_path, fmt::format("!{} takes a name", long_form));
      return poisoned();
    }
    return json{{std::string(long_form), std::move(value)}};
  }

  // A plain (unquoted, untagged) scalar: null, bool, int or float per the YAML 1.2 core schema,
  // else a string. Integers with leading zeros ("0123", account ids) and numbers that do not fit
  // stay strings so that nothing is lost.
  json convert_plain(const std::string& s, const std::string& path) {
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    std::string_view digits = s;
    bool negative = false;
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
      negative = digits.front() == '-';
      digits.remove_prefix(1);
    }
    if (all_digits(digits)) {
      if (digits.size() > 1 && digits.front() == '0') return s;
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data() + (s.front() == '+' ? 1 : 0), s.data() + s.size(), v);
      if (ec != std::errc() || end != s.data() + s.size()) return s;
      plain_text_.emplace(path, s);
      return v;
    }
    if (!negative && (s.starts_with("0x") || s.starts_with("0o"))) {
      bool hex = s[1] == 'x';
      std::string_view body = std::string_view(s).substr(2);
      bool ok = hex ? all_digits(body, true)
                    : (!body.empty() &&
                       std::all_of(body.begin(), body.end(), [](char c) { return c >= '0' && c <= '7'; }));
      std::int64_t v = 0;
      if (ok) {
        auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v, hex ? 16 : 8);
        if (ec == std::errc() && end == body.data() + body.size()) {
          plain_text_.emplace(path, s);
          return v;
        }
      }
      return s;
    }
    if (looks_like_float(s)) {
      double d = 0;
      try {
        d = std::stod(s);
      } catch (const std::exception&) {
        return s;
      }
      if (!std::isfinite(d)) return s;
      plain_text_.emplace(path, s);
      return d;
    }
    return s;  // including .inf and .nan, which JSON cannot hold
  }

  json convert_core_tagged(const std::string& kind, const std::string& s, const std::string& path) {
    if (kind == "str" || kind == "binary" || kind == "timestamp") return s;
    if (kind == "null") return nullptr;
    if (kind == "bool") {
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    } else if (kind == "int" || kind == "float") {
      json v = convert_plain(s, path);
      if (v.is_number_integer() || (kind == "float" && v.is_number())) return v;
    } else {
      error(path, fmt::format("unknown tag \"!!{}\"", kind));
      return poisoned();
    }
    error(path, fmt::format("\"{}\" is not a valid !!{}", s, kind));
    return poisoned();
  }

  // ---- validation ----------------------------------------------------------------------------

  void unknown_key(const std::string& path, const std::string& key, const std::vector<std::string>& known,
                   std::string_view where) {
    std::string message = fmt::format("unknown {} \"{}\"", where, key);
    std::string near = closest_name(key, known);
    if (!near.empty()) {
      message += fmt::format(" (did you mean \"{}\"?)", near);
    } else {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      message += fmt::format(" (expected one of: {})", list);
    }
    error(member(path, key), std::move(message));
  }

  void validate(json& root, Stack& stack) {
    if (!root.is_object()) {
      error("", "the top level must be a mapping with Resources");
      return;
    }
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), it.key()) == kTopLevelKeys.end()) {
        unknown_key("", it.key(), kTopLevelKeys, "top-level key");
      }
    }
    if (root.contains("StratusVersion")) {
      const json& v = root["StratusVersion"];
      if (!(v == "1" || (v.is_number_integer() && v == 1))) error("StratusVersion", "must be \"1\"");
    }
    if (root.contains("AWSTemplateFormatVersion") && root["AWSTemplateFormatVersion"] != "2010-09-09") {
      error("AWSTemplateFormatVersion", "must be \"2010-09-09\"");
    }
    if (root.contains("Description")) {
      if (root["Description"].is_string()) {
        stack.description = root["Description"].get<std::string>();
      } else {
        error("Description", "must be a string");
      }
    }
    if (root.contains("Transform")) {
      const json& t = root["Transform"];
      bool ok =
          t.is_string() || t.is_object() ||
          (t.is_array() && std::all_of(t.begin(), t.end(), [](const json& x) { return x.is_string(); }));
      if (!ok) error("Transform", "must be a string or a list of strings");
    }
    if (root.contains("Metadata") && !root["Metadata"].is_object()) error("Metadata", "must be a mapping");

    if (root.contains("Parameters")) validate_parameters(root["Parameters"], stack);

    if (!root.contains("Resources")) {
      error("", "missing Resources (a mapping of logical ids to resources; it may be empty)");
    } else {
      json& resources = root["Resources"];
      if (resources.is_null()) resources = json::object();
      if (!resources.is_object()) {
        error("Resources", "must be a mapping of logical ids to resources");
      } else {
        validate_resources(resources, stack);
      }
    }
    if (root.contains("Outputs")) validate_outputs(root["Outputs"], stack);
  }

  void validate_parameters(json& params, Stack& stack) {
    if (params.is_null()) return;
    if (!params.is_object()) {
      error("Parameters", "must be a mapping of parameter names to declarations");
      return;
    }
    for (auto it = params.begin(); it != params.end(); ++it) {
      std::string path = member("Parameters", it.key());
      if (!detail::is_logical_id(it.key())) {
        error(path, "parameter names must be alphanumeric (A-Za-z0-9)");
      }
      const json& decl = it.value();
      if (!decl.is_object()) {
        error(path, "must be a mapping with Type");
        continue;
      }
      for (auto k = decl.begin(); k != decl.end(); ++k) {
        if (std::find(kParameterKeys.begin(), kParameterKeys.end(), k.key()) == kParameterKeys.end()) {
          unknown_key(path, k.key(), kParameterKeys, "parameter attribute");
        }
      }
      if (!decl.contains("Type")) {
        error(path, "missing Type");
      } else if (!decl["Type"].is_string()) {
        error(member(path, "Type"), "must be a string");
      }
      if (decl.contains("Default") && (decl["Default"].is_object() || decl["Default"].is_null())) {
        error(member(path, "Default"), "must be a string, a number or a list");
      }
      parameters_.insert(it.key());
    }
    stack.parameters = params;
  }

  // SAM's implicit APIs: each HttpApi / Api event of an AWS::Serverless::Function becomes a
  // Stratus::Serverless::ApiEvent resource "<Function><Event>Route" (applied after the function and the API),
  // and events naming no ApiId / RestApiId go to the API SAM creates for them, ServerlessHttpApi
  // (AWS::Serverless::HttpApi, stage $default) or ServerlessRestApi (AWS::Serverless::Api, stage Prod),
  // which the rest of the file may reference as SAM templates do.
  // https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-httpapi.html
  // https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-api.html
  void expand_sam_events(json& resources) {
    bool need_http = false, need_rest = false;
    std::vector<std::pair<std::string, json>> added;
    for (const std::string& fn : std::vector<std::string>(resource_order_)) {
      const json& body = resources[fn];
      if (!body.is_object() || body.value("Type", json()) != "AWS::Serverless::Function") continue;
      auto props = body.find("Properties");
      if (props == body.end() || !props->is_object()) continue;
      auto events = props->find("Events");
      if (events == props->end() || !events->is_object()) continue;
      for (auto ev = events->begin(); ev != events->end(); ++ev) {
        if (!ev->is_object()) continue;
        std::string type = ev->value("Type", json()).is_string() ? (*ev)["Type"].get<std::string>() : "";
        if (type != "HttpApi" && type != "Api") continue;
        std::string path = fmt::format("Resources.{}.Properties.Events.{}", fn, ev.key());
        json ep = ev->value("Properties", json::object());
        if (!ep.is_object()) {
          error(member(path, "Properties"), "must be a mapping");
          continue;
        }
        json p = json::object();
        p["EventType"] = type;
        p["FunctionArn"] = {{"Fn::GetAtt", json::array({fn, "Arn"})}};
        for (const char* key : {"Path", "Method", "PayloadFormatVersion", "TimeoutInMillis", "Auth", "RouteSettings",
                                "RequestModel", "RequestParameters"})
          if (ep.contains(key)) p[key] = ep[key];
        if (type == "HttpApi") {
          if (ep.contains("ApiId")) {
            p["ApiId"] = ep["ApiId"];
          } else {
            p["ApiId"] = {{"Ref", "ServerlessHttpApi"}};
            need_http = true;
          }
        } else {
          if (!ep.contains("Path") || !ep.contains("Method"))
            error(member(path, "Properties"), "an Api event needs Path and Method");
          if (ep.contains("RestApiId")) {
            p["RestApiId"] = ep["RestApiId"];
          } else {
            p["RestApiId"] = {{"Ref", "ServerlessRestApi"}};
            need_rest = true;
          }
        }
        std::string id = fn + ev.key() + "Route";
        if (resources.contains(id)) continue;
        added.emplace_back(id, json{{"Type", "Stratus::Serverless::ApiEvent"}, {"Properties", std::move(p)}});
      }
    }
    if (need_http && !resources.contains("ServerlessHttpApi")) {
      resources["ServerlessHttpApi"] = {{"Type", "AWS::Serverless::HttpApi"}, {"Properties", json::object()}};
      resource_order_.push_back("ServerlessHttpApi");
    }
    if (need_rest && !resources.contains("ServerlessRestApi")) {
      resources["ServerlessRestApi"] = {{"Type", "AWS::Serverless::Api"}, {"Properties", {{"StageName", "Prod"}}}};
      resource_order_.push_back("ServerlessRestApi");
    }
    for (auto& [id, r] : added) {
      resources[id] = std::move(r);
      resource_order_.push_back(id);
    }
  }

  void validate_resources(json& resources, Stack& stack) {
    expand_sam_events(resources);
    // Logical ids first, so that references can be checked in any order.
    for (auto it = resources.begin(); it != resources.end(); ++it) {
      const std::string& id = it.key();
      std::string path = member("Resources", id);
      if (!detail::is_logical_id(id)) {
        error(path, "logical ids must be alphanumeric (A-Za-z0-9) and at most 255 characters");
      }
      if (parameters_.contains(id)) {
        error(path, fmt::format("\"{}\" is declared both as a parameter and as a resource", id));
      }
      const json& body = it.value();
      std::string type;
      if (body.is_object() && body.contains("Type") && body["Type"].is_string())
        type = body["Type"].get<std::string>();
      resource_types_.emplace(id, type);
    }

    std::vector<std::string> type_names;
    for (const auto& t : resource_types()) type_names.push_back(t.type);

    // In file order (json objects iterate in key order), which is the tie-break of the ordering.
    std::vector<Resource> declared;
    for (const std::string& id : resource_order_) {
      std::string path = member("Resources", id);
      json& body = resources[id];
      Resource r;
      r.logical_id = id;
      r.line = pos_of(path).line;
      if (!body.is_object()) {
        error(path, "must be a mapping with Type and Properties");
        declared.push_back(std::move(r));
        continue;
      }
      for (auto k = body.begin(); k != body.end(); ++k) {
        if (std::find(kResourceKeys.begin(), kResourceKeys.end(), k.key()) == kResourceKeys.end()) {
          unknown_key(path, k.key(), kResourceKeys, "resource attribute");
        }
      }

      // DependsOn
      std::vector<std::string> deps;
      if (body.contains("DependsOn")) {
        const json& d = body["DependsOn"];
        std::string dpath = member(path, "DependsOn");
        auto check_dep = [&](const json& name, const std::string& npath) {
          if (!name.is_string()) {
            error(npath, "must be a logical id");
            return;
          }
          const std::string& n = name.get_ref<const std::string&>();
          if (!resource_types_.contains(n)) {
            error(npath, fmt::format("DependsOn \"{}\", which is not a resource{}", n, suggestion(n, false)));
            return;
          }
          add_unique(deps, n);
        };
        if (d.is_array()) {
          for (std::size_t i = 0; i < d.size(); ++i) check_dep(d[i], fmt::format("{}[{}]", dpath, i));
        } else if (d.is_string()) {
          check_dep(d, dpath);
        } else {
          error(dpath, "must be a logical id or a list of logical ids");
        }
      }
      for (const char* key : {"Condition", "DeletionPolicy", "UpdateReplacePolicy"}) {
        if (body.contains(key) && !body[key].is_string()) error(member(path, key), "must be a string");
      }
      for (const char* key : {"Metadata", "UpdatePolicy", "CreationPolicy"}) {
        if (body.contains(key) && !body[key].is_object()) error(member(path, key), "must be a mapping");
      }

      // Type
      const ResourceTypeSpec* spec = nullptr;
      if (!body.contains("Type")) {
        error(path, "missing Type");
      } else if (!body["Type"].is_string()) {
        error(member(path, "Type"), "must be a string");
      } else {
        r.type = body["Type"].get<std::string>();
        spec = find_resource_type(r.type);
        if (!spec) {
          std::string near = closest_name(r.type, type_names);
          error(member(path, "Type"),
                near.empty()
                    ? fmt::format("unknown resource type \"{}\" (supported: {})", r.type,
                                  fmt::join(type_names, ", "))
                    : fmt::format("unknown resource type \"{}\" (did you mean \"{}\"?)", r.type, near));
        }
      }

      // Properties
      std::string ppath = member(path, "Properties");
      if (body.contains("Properties") && !body["Properties"].is_null()) {
        if (!body["Properties"].is_object()) {
          error(ppath, "must be a mapping");
        } else {
          r.properties = body["Properties"];
        }
      }
      if (spec) {
        std::vector<PropertyIssue> issues;
        check_properties(*spec, r.properties, issues, [&](const std::string& rel) -> const std::string* {
          auto found = plain_text_.find(ppath + rel);
          return found == plain_text_.end() ? nullptr : &found->second;
        });
        for (auto& issue : issues) {
          std::string where = ppath + issue.path;
          // A missing property inside a Properties block that is not written points at the resource.
          if (issue.path.empty() && !pos_.contains(ppath)) where = path;
          error(where, std::move(issue.message));
        }
      }
      check_references(r.properties, ppath, deps);
      r.depends_on = std::move(deps);
      declared.push_back(std::move(r));
    }
    if (!found_.empty()) return;  // ordering needs a well-formed graph; report what we have
    order(declared, stack);
  }

  void validate_outputs(json& outputs, Stack& stack) {
    if (outputs.is_null()) return;
    if (!outputs.is_object()) {
      error("Outputs", "must be a mapping of output names to declarations");
      return;
    }
    for (auto it = outputs.begin(); it != outputs.end(); ++it) {
      std::string path = member("Outputs", it.key());
      if (!detail::is_logical_id(it.key())) error(path, "output names must be alphanumeric (A-Za-z0-9)");
      const json& decl = it.value();
      if (!decl.is_object()) {
        error(path, "must be a mapping with Value");
        continue;
      }
      for (auto k = decl.begin(); k != decl.end(); ++k) {
        if (std::find(kOutputKeys.begin(), kOutputKeys.end(), k.key()) == kOutputKeys.end()) {
          unknown_key(path, k.key(), kOutputKeys, "output attribute");
        }
      }
      if (!decl.contains("Value")) {
        error(path, "missing Value");
      } else {
        std::vector<std::string> ignored;
        check_references(decl["Value"], member(path, "Value"), ignored);
      }
    }
    stack.outputs = outputs;
  }

  // ---- references ----------------------------------------------------------------------------

  static void add_unique(std::vector<std::string>& list, const std::string& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
  }

  std::string suggestion(const std::string& name, bool with_parameters) const {
    std::vector<std::string> known = resource_order_;
    if (with_parameters) known.insert(known.end(), parameters_.begin(), parameters_.end());
    std::string near = closest_name(name, known);
    return near.empty() ? std::string() : fmt::format(" (did you mean \"{}\"?)", near);
  }

  // A Ref target: a resource (recorded as a dependency), a parameter or a pseudo parameter.
  void check_ref(const std::string& name, const std::string& path, std::vector<std::string>& deps,
                 std::string_view what) {
    if (resource_types_.contains(name)) {
      add_unique(deps, name);
    } else if (!parameters_.contains(name) && !detail::is_pseudo_parameter(name)) {
      error(path, fmt::format("{} \"{}\", which is not a resource, parameter or pseudo parameter{}", what,
                              name, suggestion(name, true)));
    }
  }

  // A GetAtt target: a resource with that attribute (when the attribute is known now).
  void check_getatt(const std::string& id, const json* attribute, const std::string& path,
                    std::vector<std::string>& deps) {
    auto it = resource_types_.find(id);
    if (it == resource_types_.end()) {
      error(path, fmt::format("Fn::GetAtt on \"{}\", which is not a resource{}", id, suggestion(id, false)));
      return;
    }
    add_unique(deps, id);
    const ResourceTypeSpec* spec = find_resource_type(it->second);
    if (!spec || !attribute || !attribute->is_string()) return;
    const std::string& attr = attribute->get_ref<const std::string&>();
    if (std::find(spec->attributes.begin(), spec->attributes.end(), attr) == spec->attributes.end()) {
      error(path, spec->attributes.empty()
                      ? fmt::format("{} has no attributes for Fn::GetAtt", spec->type)
                      : fmt::format("{} has no attribute \"{}\" (it has: {})", spec->type, attr,
                                    fmt::join(spec->attributes, ", ")));
    }
  }

  // Walks `value` (at `path`) for Ref, Fn::GetAtt and Fn::Sub; checks each target exists and
  // appends the resources referenced to `deps`.
  void check_references(const json& value, const std::string& path, std::vector<std::string>& deps) {
    if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i)
        check_references(value[i], fmt::format("{}[{}]", path, i), deps);
      return;
    }
    if (!value.is_object()) return;
    if (value.size() == 1) {
      const std::string& fn = value.begin().key();
      const json& arg = value.begin().value();
      std::string fpath = member(path, fn);
      if (fn == "Ref") {
        if (!arg.is_string()) {
          error(fpath, "Ref takes the name of a resource or parameter");
        } else {
          check_ref(arg.get<std::string>(), fpath, deps, "Ref to");
        }
        return;
      }
      if (fn == "Fn::GetAtt") {
        if (arg.is_string()) {
          const std::string& s = arg.get_ref<const std::string&>();
          std::size_t dot = s.find('.');
          if (dot == std::string::npos) {
            error(fpath, "Fn::GetAtt takes [LogicalId, Attribute]");
          } else {
            json attr = s.substr(dot + 1);
            check_getatt(s.substr(0, dot), &attr, fpath, deps);
          }
        } else if (arg.is_array() && arg.size() == 2 && arg[0].is_string()) {
          check_getatt(arg[0].get<std::string>(), &arg[1], fpath, deps);
          check_references(arg[1], fpath + "[1]", deps);
        } else {
          error(fpath, "Fn::GetAtt takes [LogicalId, Attribute]");
        }
        return;
      }
      if (fn == "Fn::Sub") {
        check_sub(arg, fpath, deps);
        return;
      }
    }
    for (auto it = value.begin(); it != value.end(); ++it)
      check_references(it.value(), member(path, it.key()), deps);
  }

  void check_sub(const json& arg, const std::string& path, std::vector<std::string>& deps) {
    const json* templ = &arg;
    std::set<std::string> locals;
    if (arg.is_array()) {
      if (arg.size() != 2 || !arg[0].is_string() || !arg[1].is_object()) {
        error(path, "Fn::Sub takes a string or [string, {Name: value}]");
        return;
      }
      templ = &arg[0];
      for (auto it = arg[1].begin(); it != arg[1].end(); ++it) {
        locals.insert(it.key());
        check_references(it.value(), fmt::format("{}[1].{}", path, it.key()), deps);
      }
    } else if (!arg.is_string()) {
      error(path, "Fn::Sub takes a string or [string, {Name: value}]");
      return;
    }
    std::vector<detail::SubPart> parts;
    std::string problem;
    if (!detail::parse_sub(templ->get<std::string>(), parts, problem)) {
      error(path, fmt::format("Fn::Sub: {}", problem));
      return;
    }
    for (const auto& part : parts) {
      if (!part.variable || locals.contains(part.text)) continue;
      std::size_t dot = part.text.find('.');
      if (dot == std::string::npos) {
        check_ref(part.text, path, deps, "Fn::Sub references");
      } else {
        json attr = part.text.substr(dot + 1);
        check_getatt(part.text.substr(0, dot), &attr, path, deps);
      }
    }
  }

  // ---- ordering ------------------------------------------------------------------------------

  // Orders resources after their dependencies (file order among the free ones) or reports cycles.
  void order(std::vector<Resource>& declared, Stack& stack) {
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < declared.size(); ++i) index.emplace(declared[i].logical_id, i);
    std::vector<std::vector<std::size_t>> deps(declared.size());
    for (std::size_t i = 0; i < declared.size(); ++i) {
      for (const auto& d : declared[i].depends_on) deps[i].push_back(index.at(d));
    }

    std::vector<bool> placed(declared.size(), false);
    std::vector<std::size_t> sorted;
    for (bool progress = true; progress;) {
      progress = false;
      for (std::size_t i = 0; i < declared.size(); ++i) {
        if (placed[i]) continue;
        if (std::all_of(deps[i].begin(), deps[i].end(), [&](std::size_t d) { return placed[d]; })) {
          placed[i] = true;
          sorted.push_back(i);
          progress = true;
          break;  // restart, so the earliest free resource in file order always goes next
        }
      }
    }
    if (sorted.size() == declared.size()) {
      for (std::size_t i : sorted) stack.resources.push_back(std::move(declared[i]));
      return;
    }

    // Report each cycle among the resources left, once.
    enum class Color { white, gray, black };
    std::vector<Color> color(declared.size(), Color::white);
    std::vector<bool> reported(declared.size(), false);
    std::vector<std::size_t> trail;
    std::function<void(std::size_t)> visit = [&](std::size_t n) {
      color[n] = Color::gray;
      trail.push_back(n);
      for (std::size_t d : deps[n]) {
        if (placed[d]) continue;
        if (color[d] == Color::gray) {
          auto start = std::find(trail.begin(), trail.end(), d);
          std::vector<std::size_t> cycle(start, trail.end());
          if (std::none_of(cycle.begin(), cycle.end(), [&](std::size_t c) { return reported[c]; })) {
            std::string text;
            for (std::size_t c : cycle) {
              text += declared[c].logical_id + " -> ";
              reported[c] = true;
            }
            text += declared[d].logical_id;
            error(member("Resources", declared[d].logical_id), fmt::format("circular dependency: {}", text));
          }
        } else if (color[d] == Color::white) {
          visit(d);
        }
      }
      trail.pop_back();
      color[n] = Color::black;
    };
    for (std::size_t i = 0; i < declared.size(); ++i) {
      if (!placed[i] && color[i] == Color::white) visit(i);
    }
  }

  static constexpr std::size_t kMaxNodes = 100'000;  // far more than any stack file needs

  std::string file_;
  std::vector<StackError>& errors_;
  std::size_t converted_ = 0;
  std::vector<StackError> found_;
  std::unordered_map<std::string, Pos> pos_;                 // path -> where errors about it point
  std::unordered_map<std::string, std::string> plain_text_;  // path -> text of a plain YAML number
  std::set<std::string> parameters_;
  std::unordered_map<std::string, std::string> resource_types_;  // logical id -> type ("" if unknown)
  std::vector<std::string> resource_order_;  // logical ids in file order (filled while converting)
};

}  // namespace

bool load_stack_text(std::string_view text, const std::string& name, Stack& out,
                     std::vector<StackError>& errors) {
  return Loader(name, errors).load(text, out);
}

bool load_stack_file(const std::string& path, Stack& out, std::vector<StackError>& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    errors.push_back(
        StackError{path, "", 0, 0, fmt::format("cannot open stack file: {}", std::strerror(err))});
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    errors.push_back(StackError{path, "", 0, 0, "cannot read stack file"});
    return false;
  }
  return load_stack_text(buffer.str(), path, out, errors);
}

}  // namespace stratus::stack
