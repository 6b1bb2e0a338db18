#include "services/lambda/names.hpp"

#include <vector>

namespace stratus::services::lambda {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::vector<std::string_view> split_colons(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(':', start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

bool valid_function_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!name_char(c)) return false;
  return true;
}

bool valid_qualifier(std::string_view qualifier) {
  if (qualifier == "$LATEST") return true;
  if (qualifier.empty() || qualifier.size() > 128) return false;
  for (char c : qualifier)
    if (!name_char(c)) return false;
  return true;
}

bool is_version_number(std::string_view qualifier) { return all_digits(qualifier) && qualifier.size() < 19; }

std::optional<FunctionRef> parse_function_name(std::string_view text) {
  auto parts = split_colons(text);
  FunctionRef ref;
  std::size_t name_at = 0;
  if (parts.size() >= 7 && parts[0] == "arn") {
    // arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    if (!parts[1].starts_with("aws") || parts[2] != "lambda" || parts[5] != "function" || parts.size() > 8)
      return std::nullopt;
    if (!all_digits(parts[4]) || parts[4].size() != 12 || parts[3].empty()) return std::nullopt;
    ref.region = std::string(parts[3]);
    ref.account = std::string(parts[4]);
    name_at = 6;
  } else if (parts.size() >= 3 && parts[1] == "function") {
    // ACCOUNT:function:NAME[:QUALIFIER]
    if (!all_digits(parts[0]) || parts[0].size() != 12 || parts.size() > 4) return std::nullopt;
    ref.account = std::string(parts[0]);
    name_at = 2;
  } else if (parts.size() > 2) {
    return std::nullopt;
  }
  ref.name = std::string(parts[name_at]);
  if (!valid_function_name(ref.name)) return std::nullopt;
  if (parts.size() > name_at + 1) {
    ref.qualifier = std::string(parts[name_at + 1]);
    if (!valid_qualifier(ref.qualifier)) return std::nullopt;
  }
  return ref;
}

std::string function_arn(std::string_view region, std::string_view account, std::string_view name) {
  std::string arn = "arn:aws:lambda:";
  arn.append(region).append(":").append(account).append(":function:").append(name);
  return arn;
}

std::string qualified_arn(std::string_view region, std::string_view account, std::string_view name,
                          std::string_view qualifier) {
  return function_arn(region, account, name).append(":").append(qualifier);
}

}  // namespace stratus::services::lambda
