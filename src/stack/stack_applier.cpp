#include <fmt/format.h>

#include <algorithm>

#include "common/base64.hpp"
#include "stack/intrinsics.hpp"
#include "stack/resource_types.hpp"
#include "stack/stack_file.hpp"

namespace stratus::stack {
namespace {

using nlohmann::json;

// AWS::NoValue resolves to this marker; the member or element holding it is removed.
json no_value() { return json(json::value_t::discarded); }


std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Resolves intrinsic functions against the context, the parameters and the resources applied so far.
class Resolver {
 public:
  Resolver(const ApplyContext& context, const json& parameters,
           const std::map<std::string, AppliedResource>& applied)
      : context_(context), parameters_(parameters), applied_(applied) {}

  // Resolves `value` (at relative `path`) in place. On failure sets error_/error_path_.
  bool resolve(json& value, const std::string& path) {
    if (value.is_array()) {
      json out = json::array();
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (!resolve(value[i], fmt::format("{}[{}]", path, i))) return false;
        if (!value[i].is_discarded()) out.push_back(std::move(value[i]));
      }
      value = std::move(out);
      return true;
    }
    if (!value.is_object()) return true;
    if (is_intrinsic(value) || (value.size() == 1 && value.contains("Condition"))) {
      std::string fn = value.begin().key();
      json arg = value.begin().value();
      json out;
      if (!evaluate(fn, arg, path + "." + fn, out)) return false;
      value = std::move(out);
      return true;
    }
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!resolve(it.value(), path + "." + it.key())) return false;
      if (!it.value().is_discarded()) out[it.key()] = std::move(it.value());
    }
    value = std::move(out);
    return true;
  }

  const std::string& error() const { return error_; }
  const std::string& error_path() const { return error_path_; }

 private:
  bool fail(const std::string& path, std::string message) {
    error_path_ = path;
    error_ = std::move(message);
    return false;
  }

  bool to_text(const json& v, const std::string& path, std::string_view what, std::string& out) {
    if (v.is_string()) {
      out = v.get<std::string>();
    } else if (v.is_boolean()) {
      out = v.get<bool>() ? "true" : "false";
    } else if (v.is_number()) {
      out = v.dump();
    } else {
      return fail(path, fmt::format("{} resolved to {}, not a string", what, v.dump()));
    }
    return true;
  }

  bool ref(const std::string& name, const std::string& path, json& out) {
    if (name == "AWS::AccountId") {
      out = context_.account;
    } else if (name == "AWS::Region") {
      out = context_.region;
    } else if (name == "AWS::StackName") {
      out = context_.stack_name;
    } else if (name == "AWS::StackId") {
      out = fmt::format("arn:aws:cloudformation:{}:{}:stack/{}/00000000-0000-0000-0000-000000000000",
                        context_.region, context_.account, context_.stack_name);
    } else if (name == "AWS::Partition") {
      out = "aws";
    } else if (name == "AWS::URLSuffix") {
      out = "amazonaws.com";
    } else if (name == "AWS::NotificationARNs") {
      out = json::array();
    } else if (name == "AWS::NoValue") {
      out = no_value();
    } else if (parameters_.contains(name)) {
      out = parameters_[name];
    } else if (auto it = applied_.find(name); it != applied_.end()) {
      out = it->second.physical_id;
    } else {
      return fail(path, fmt::format("Ref to \"{}\", which is neither applied nor a parameter", name));
    }
    return true;
  }

  bool getatt(const std::string& id, const std::string& attribute, const std::string& path, json& out) {
    auto it = applied_.find(id);
    if (it == applied_.end())
      return fail(path, fmt::format("Fn::GetAtt on \"{}\", which is not applied", id));
    const json& attrs = it->second.attributes;
    if (!attrs.is_object() || !attrs.contains(attribute)) {
      return fail(path, fmt::format("the provider of \"{}\" reported no attribute \"{}\"", id, attribute));
    }
    out = attrs[attribute];
    return true;
  }

  bool evaluate(const std::string& fn, json& arg, const std::string& path, json& out) {
    if (fn == "Ref") {
      if (!arg.is_string()) return fail(path, "Ref takes a name");
      return ref(arg.get<std::string>(), path, out);
    }
    if (fn == "Fn::GetAtt") {
      std::string id, attribute;
      if (arg.is_string()) {
        const std::string s = arg.get<std::string>();
        std::size_t dot = s.find('.');
        if (dot == std::string::npos) return fail(path, "Fn::GetAtt takes [LogicalId, Attribute]");
        id = s.substr(0, dot);
        attribute = s.substr(dot + 1);
      } else if (arg.is_array() && arg.size() == 2 && arg[0].is_string()) {
        if (!resolve(arg[1], path + "[1]")) return false;
        if (!arg[1].is_string()) return fail(path + "[1]", "the attribute name must resolve to a string");
        id = arg[0].get<std::string>();
        attribute = arg[1].get<std::string>();
      } else {
        return fail(path, "Fn::GetAtt takes [LogicalId, Attribute]");
      }
      return getatt(id, attribute, path, out);
    }
    if (fn == "Fn::Sub") return sub(arg, path, out);
    if (fn == "Fn::Join") {
      if (!arg.is_array() || arg.size() != 2) return fail(path, "Fn::Join takes [delimiter, [values]]");
      if (!resolve(arg, path)) return false;
      if (!arg[0].is_string()) return fail(path + "[0]", "the delimiter must be a string");
      if (!arg[1].is_array()) return fail(path + "[1]", "Fn::Join needs a list of values");
      std::string joined;
      for (std::size_t i = 0; i < arg[1].size(); ++i) {
        std::string piece;
        if (!to_text(arg[1][i], fmt::format("{}[1][{}]", path, i), "a Fn::Join value", piece)) return false;
        if (i > 0) joined += arg[0].get<std::string>();
        joined += piece;
      }
      out = joined;
      return true;
    }
    if (fn == "Fn::Select") {
      if (!arg.is_array() || arg.size() != 2) return fail(path, "Fn::Select takes [index, [values]]");
      if (!resolve(arg, path)) return false;
      std::int64_t index = -1;
      if (arg[0].is_number_integer()) {
        index = arg[0].get<std::int64_t>();
      } else if (arg[0].is_string()) {
        try {
          std::size_t used = 0;
          index = std::stoll(arg[0].get<std::string>(), &used);
          if (used != arg[0].get_ref<const std::string&>().size()) index = -1;
        } catch (const std::exception&) {
          index = -1;
        }
      }
      if (!arg[1].is_array()) return fail(path + "[1]", "Fn::Select needs a list of values");
      if (index < 0 || static_cast<std::size_t>(index) >= arg[1].size()) {
        return fail(path + "[0]",
                    fmt::format("index {} is outside the list of {}", arg[0].dump(), arg[1].size()));
      }
      out = arg[1][static_cast<std::size_t>(index)];
      return true;
    }
    if (fn == "Fn::Split") {
      if (!arg.is_array() || arg.size() != 2) return fail(path, "Fn::Split takes [delimiter, string]");
      if (!resolve(arg, path)) return false;
      if (!arg[0].is_string() || arg[0].get_ref<const std::string&>().empty()) {
        return fail(path + "[0]", "the delimiter must be a non-empty string");
      }
      std::string text;
      if (!to_text(arg[1], path + "[1]", "the Fn::Split source", text)) return false;
      const std::string& delim = arg[0].get_ref<const std::string&>();
      out = json::array();
      std::size_t start = 0;
      for (std::size_t at; (at = text.find(delim, start)) != std::string::npos; start = at + delim.size()) {
        out.push_back(text.substr(start, at - start));
      }
      out.push_back(text.substr(start));
      return true;
    }
    if (fn == "Fn::Base64") {
      if (!resolve(arg, path)) return false;
      std::string text;
      if (!to_text(arg, path, "the Fn::Base64 value", text)) return false;
      out = base64_encode(text);
      return true;
    }
    if (fn == "Fn::GetAZs") {
      if (!resolve(arg, path)) return false;
      std::string region;
      if (!arg.is_null() && !to_text(arg, path, "the Fn::GetAZs region", region)) return false;
      if (region.empty()) region = context_.region;
      out = json::array({region + "a", region + "b", region + "c"});
      return true;
    }
    if (fn == "Fn::Length") {
      if (!resolve(arg, path)) return false;
      if (!arg.is_array()) return fail(path, "Fn::Length needs a list");
      out = arg.size();
      return true;
    }
    if (fn == "Fn::ToJsonString") {
      if (!resolve(arg, path)) return false;
      if (!arg.is_object() && !arg.is_array())
        return fail(path, "Fn::ToJsonString needs a mapping or a list");
      out = arg.dump();
      return true;
    }
    return fail(path, fmt::format("{} is not supported by this build yet", fn));
  }

  bool sub(json& arg, const std::string& path, json& out) {
    json locals = json::object();
    std::string templ;
    if (arg.is_string()) {
      templ = arg.get<std::string>();
    } else if (arg.is_array() && arg.size() == 2 && arg[0].is_string() && arg[1].is_object()) {
      templ = arg[0].get<std::string>();
      locals = arg[1];
      if (!resolve(locals, path + "[1]")) return false;
    } else {
      return fail(path, "Fn::Sub takes a string or [string, {Name: value}]");
    }
    std::vector<detail::SubPart> parts;
    std::string problem;
    if (!detail::parse_sub(templ, parts, problem)) return fail(path, "Fn::Sub: " + problem);
    std::string result;
    for (const auto& part : parts) {
      if (!part.variable) {
        result += part.text;
        continue;
      }
      json v;
      if (locals.contains(part.text)) {
        v = locals[part.text];
      } else if (std::size_t dot = part.text.find('.'); dot != std::string::npos) {
        if (!getatt(part.text.substr(0, dot), part.text.substr(dot + 1), path, v)) return false;
      } else if (!ref(part.text, path, v)) {
        return false;
      }
      std::string text;
      if (!to_text(v, path, fmt::format("${{{}}}", part.text), text)) return false;
      result += text;
    }
    out = result;
    return true;
  }

  const ApplyContext& context_;
  const json& parameters_;
  const std::map<std::string, AppliedResource>& applied_;
  std::string error_;
  std::string error_path_;
};

}  // namespace

void StackApplier::register_provider(std::shared_ptr<ResourceProvider> provider) {
  std::string type = provider->type();
  providers_[std::move(type)] = std::move(provider);
}

bool StackApplier::has_provider(std::string_view type) const {
  return providers_.find(type) != providers_.end();
}

bool StackApplier::apply(const Stack& stack, const ApplyContext& context, std::vector<StackError>& errors) {
  applied_.clear();
  outputs_ = json::object();

  bool missing = false;
  for (const Resource& r : stack.resources) {
    if (!has_provider(r.type)) {
      errors.push_back({stack.file, "Resources." + r.logical_id, r.line, 0,
                        fmt::format("{} is valid but not supported by this build yet", r.type)});
      missing = true;
    }
  }
  if (missing) return false;

  // Parameter values: the context's, else the declared Default; list types split "a,b" into lists.
  json parameters = json::object();
  for (auto it = stack.parameters.begin(); it != stack.parameters.end(); ++it) {
    const json& decl = it.value();
    json value;
    if (context.parameters.is_object() && context.parameters.contains(it.key())) {
      value = context.parameters[it.key()];
    } else if (decl.is_object() && decl.contains("Default")) {
      value = decl["Default"];
    } else {
      errors.push_back(
          {stack.file, "Parameters." + it.key(), 0, 0, "has no Default and no value was given for it"});
      return false;
    }
    std::string type = decl.is_object() ? decl.value("Type", "") : "";
    if ((type == "CommaDelimitedList" || type.starts_with("List<")) && value.is_string()) {
      json list = json::array();
      std::string s = value.get<std::string>();
      std::size_t start = 0;
      for (std::size_t at; (at = s.find(',', start)) != std::string::npos; start = at + 1) {
        list.push_back(trim(std::string_view(s).substr(start, at - start)));
      }
      list.push_back(trim(std::string_view(s).substr(start)));
      value = std::move(list);
    }
    parameters[it.key()] = std::move(value);
  }

  Resolver resolver(context, parameters, applied_);
  for (const Resource& r : stack.resources) {
    const std::string where = "Resources." + r.logical_id;
    json properties = r.properties;
    if (!resolver.resolve(properties, "")) {
      errors.push_back(
          {stack.file, where + ".Properties" + resolver.error_path(), r.line, 0, resolver.error()});
      return false;
    }
    if (const ResourceTypeSpec* spec = find_resource_type(r.type)) {
      std::vector<PropertyIssue> issues;
      check_properties(*spec, properties, issues);
      for (auto& issue : issues) {
        errors.push_back({stack.file, where + ".Properties" + issue.path, r.line, 0,
                          fmt::format("once resolved, {}", issue.message)});
      }
      if (!issues.empty()) return false;
    }
    AppliedResource out;
    std::string problem;
    bool ok = false;
    try {
      ok = providers_.find(r.type)->second->apply(r, properties, context, out, problem);
    } catch (const std::exception& e) {
      problem = e.what();
    }
    if (ok && out.physical_id.empty()) {
      ok = false;
      problem = "the provider reported no physical id";
    }
    if (!ok) {
      errors.push_back({stack.file, where, r.line, 0,
                        fmt::format("{} {} could not be applied: {}", r.type, r.logical_id,
                                    problem.empty() ? "unknown error" : problem)});
      return false;
    }
    applied_[r.logical_id] = std::move(out);
  }

  for (auto it = stack.outputs.begin(); it != stack.outputs.end(); ++it) {
    if (!it.value().is_object() || !it.value().contains("Value")) continue;
    json value = it.value()["Value"];
    if (!resolver.resolve(value, "")) {
      errors.push_back(
          {stack.file, "Outputs." + it.key() + ".Value" + resolver.error_path(), 0, 0, resolver.error()});
      return false;
    }
    outputs_[it.key()] = std::move(value);
  }
  return true;
}

}  // namespace stratus::stack
