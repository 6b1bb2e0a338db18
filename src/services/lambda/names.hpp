#pragma once
// Function names as the Lambda API accepts them, and the ARNs it builds.
// https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html ("Name formats"):
//   MyFunction, MyFunction:v1, 123456789012:function:MyFunction[:v1],
//   arn:aws:lambda:us-west-2:123456789012:function:MyFunction[:v1]
#include <optional>
#include <string>
#include <string_view>

namespace stratus::services::lambda {

struct FunctionRef {
  std::string name;
  std::string qualifier;  // "" when none was given in the name
  std::string account;    // from a (partial) ARN, "" otherwise
  std::string region;     // from a full ARN, "" otherwise
};

// nullopt when `text` is none of the accepted forms or the name/qualifier has characters Lambda
// rejects (names: [a-zA-Z0-9-_]{1,64}; qualifiers: $LATEST or [a-zA-Z0-9-_]{1,128}).
std::optional<FunctionRef> parse_function_name(std::string_view text);

bool valid_function_name(std::string_view name);
bool valid_qualifier(std::string_view qualifier);
// A published version number ("1", "42"), not "$LATEST" and not an alias.
bool is_version_number(std::string_view qualifier);

// arn:aws:lambda:REGION:ACCOUNT:function:NAME
std::string function_arn(std::string_view region, std::string_view account, std::string_view name);
// function_arn(...) + ":" + qualifier
std::string qualified_arn(std::string_view region, std::string_view account, std::string_view name,
                          std::string_view qualifier);

}  // namespace stratus::services::lambda
