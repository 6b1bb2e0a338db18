// Generic model validation with AWS's coral-style messages, e.g.
// "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be
// null".
#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <regex>

#include <fmt/format.h>

#include "protocol/codec_internal.hpp"
#include "protocol/protocol.hpp"

namespace stratus::protocol {

using nlohmann::json;

namespace {

std::string lower_camel(std::string_view name) {
  std::string out(name);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

std::string value_text(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_string()) return "'" + v.get<std::string>() + "'";
  return "'" + detail::dump_json(v) + "'";
}

struct Validator {
  std::vector<std::string> errors;

  void fail(const json& value, const std::string& path, const std::string& constraint) {
    errors.push_back(fmt::format("Value {} at '{}' failed to satisfy constraint: {}", value_text(value), path,
                                 constraint));
  }

  void check(const Shape& shape, const json& value, const std::string& path) {
    switch (shape.type) {
      case ShapeType::structure:
        if (!value.is_object()) return;
        for (const auto& m : shape.members) {
          std::string p = path.empty() ? lower_camel(m.name) : path + "." + lower_camel(m.name);
          auto it = value.find(m.name);
          if (it == value.end() || it->is_null()) {
            if (shape.is_required(m.name)) fail(json(), p, "Member must not be null");
            continue;
          }
          if (m.shape != nullptr) check(*m.shape, *it, p);
        }
        return;
      case ShapeType::list:
        if (!value.is_array()) return;
        length(shape, value, value.size(), path);
        for (std::size_t i = 0; i < value.size(); ++i)
          if (shape.member.shape != nullptr)
            check(*shape.member.shape, value[i], fmt::format("{}.{}.member", path, i + 1));
        return;
      case ShapeType::map:
        if (!value.is_object()) return;
        length(shape, value, value.size(), path);
        for (auto it = value.begin(); it != value.end(); ++it) {
          if (shape.key.shape != nullptr)
            check(*shape.key.shape, json(it.key()), fmt::format("{}.key", path));
          if (shape.value.shape != nullptr)
            check(*shape.value.shape, it.value(), fmt::format("{}.{}.member", path, it.key()));
        }
        return;
      case ShapeType::string: {
        if (!value.is_string()) return;
        const auto& s = value.get_ref<const std::string&>();
        length(shape, value, utf8_length(s), path);
        if (!shape.enum_values.empty() &&
            std::find(shape.enum_values.begin(), shape.enum_values.end(), s) == shape.enum_values.end()) {
          std::string set;
          for (const auto& e : shape.enum_values) set += (set.empty() ? "" : ", ") + e;
          fail(value, path, fmt::format("Member must satisfy enum value set: [{}]", set));
        }
        if (!shape.pattern.empty() && !matches(shape.pattern, s))
          fail(value, path, fmt::format("Member must satisfy regular expression pattern: {}", shape.pattern));
        return;
      }
      case ShapeType::blob:
        if (value.is_string()) {
          auto raw = base64_decode(value.get<std::string>());
          length(shape, value, raw ? raw->size() : value.get<std::string>().size(), path);
        }
        return;
      case ShapeType::integer:
      case ShapeType::long_:
      case ShapeType::float_:
      case ShapeType::double_:
        if (!value.is_number()) return;
        if (shape.min && value.get<double>() < *shape.min)
          fail(value, path,
               fmt::format("Member must have value greater than or equal to {}", number(*shape.min)));
        if (shape.max && value.get<double>() > *shape.max)
          fail(value, path,
               fmt::format("Member must have value less than or equal to {}", number(*shape.max)));
        return;
      default:
        return;
    }
  }

  static std::string number(double d) {
    if (d == static_cast<double>(static_cast<long long>(d)))
      return fmt::format("{}", static_cast<long long>(d));
    return fmt::format("{}", d);
  }

  static std::size_t utf8_length(const std::string& s) {
    std::size_t n = 0;
    for (char c : s)
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
  }

  void length(const Shape& shape, const json& value, std::size_t size, const std::string& path) {
    if (shape.min && static_cast<double>(size) < *shape.min)
      fail(value, path,
           fmt::format("Member must have length greater than or equal to {}", number(*shape.min)));
    if (shape.max && static_cast<double>(size) > *shape.max)
      fail(value, path, fmt::format("Member must have length less than or equal to {}", number(*shape.max)));
  }

  // Model patterns are Java regexes; those std::regex cannot compile (\p{...} classes) are skipped.
  static bool matches(const std::string& pattern, const std::string& s) {
    thread_local std::map<std::string, std::optional<std::regex>> cache;
    auto it = cache.find(pattern);
    if (it == cache.end()) {
      std::optional<std::regex> re;
      try {
        re.emplace(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
      }
      it = cache.emplace(pattern, std::move(re)).first;
    }
    return !it->second || std::regex_match(s, *it->second);
  }
};

}  // namespace

std::optional<AwsError> validate_input(const ServiceModel&, const OperationModel& op, const json& input) {
  if (op.input == nullptr) return std::nullopt;
  Validator v;
  v.check(*op.input, input.is_object() ? input : json::object(), "");
  if (v.errors.empty()) return std::nullopt;
  std::string message =
      fmt::format("{} validation error{} detected: ", v.errors.size(), v.errors.size() == 1 ? "" : "s");
  for (std::size_t i = 0; i < v.errors.size(); ++i) {
    if (i > 0) message += "; ";
    message += v.errors[i];
  }
  return AwsError::sender(400, "ValidationException", message);
}

}  // namespace stratus::protocol
