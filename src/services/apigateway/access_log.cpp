// Access logs: one line per request, in the stage's format, with $context variables substituted.
// HTTP APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html and
//   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
// REST APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
// A variable without a value is written as "-", as API Gateway writes it.
#include <cctype>

#include "services/apigateway/edge.hpp"

namespace stratus::services::apigateway {

std::string log_group_of_arn(std::string_view arn) {
  // arn:aws:logs:REGION:ACCOUNT:log-group:NAME, optionally followed by ":*".
  constexpr std::string_view kPrefix = "arn:aws:logs:";
  if (!arn.starts_with(kPrefix)) return {};
  std::string_view rest = arn.substr(kPrefix.size());
  for (int i = 0; i < 2; ++i) {  // region, account
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) return {};
    rest.remove_prefix(colon + 1);
  }
  constexpr std::string_view kGroup = "log-group:";
  if (!rest.starts_with(kGroup)) return {};
  rest.remove_prefix(kGroup.size());
  if (rest.ends_with(":*")) rest.remove_suffix(2);
  if (rest.empty() || rest.size() > 512) return {};
  // CloudWatch Logs group names: [\.\-_/#A-Za-z0-9]+
  for (char c : rest)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' && c != '/' && c != '#')
      return {};
  return std::string(rest);
}

std::optional<AwsError> check_access_log_settings(std::string_view destination_arn, std::string_view format) {
  auto bad = [](std::string message) { return AwsError::sender(400, "BadRequestException", std::move(message)); };
  if (log_group_of_arn(destination_arn).empty())
    return bad("Invalid ARN specified for the access log destination: " + std::string(destination_arn) +
               ". A CloudWatch Logs log group ARN has the form arn:aws:logs:{region}:{account}:log-group:{name}");
  // "Access log template size: 3 KB" (HTTP API quotas).
  if (format.empty() || format.size() > 3072) return bad("Access log format must be between 1 and 3072 characters");
  if (format.find("$context.requestId") == std::string_view::npos &&
      format.find("$context.extendedRequestId") == std::string_view::npos)
    return bad("Access log format must contain at least $context.requestId or $context.extendedRequestId");
  return std::nullopt;
}

std::string render_access_log(std::string_view format, const LogVariables& vars) {
  std::string out;
  out.reserve(format.size() + 64);
  constexpr std::string_view kContext = "$context.";
  std::size_t i = 0;
  while (i < format.size()) {
    if (format.compare(i, kContext.size(), kContext) != 0) {
      out += format[i++];
      continue;
    }
    // The longest name of letters, digits and dots; a trailing dot ends a sentence, not the name.
    std::size_t end = i + kContext.size();
    while (end < format.size() && (std::isalnum(static_cast<unsigned char>(format[end])) || format[end] == '.' ||
                                   format[end] == '_'))
      ++end;
    while (end > i + kContext.size() && format[end - 1] == '.') --end;
    std::string_view name = format.substr(i + kContext.size(), end - i - kContext.size());
    if (name.empty()) {
      out += format[i++];
      continue;
    }
    auto it = vars.find(name);
    out += it == vars.end() || it->second.empty() ? std::string("-") : it->second;
    i = end;
  }
  return out;
}

}  // namespace stratus::services::apigateway
