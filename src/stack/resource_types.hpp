#pragma once
// The resource types a stack file may declare, and the properties each accepts: a hand-written
// subset of the CloudFormation resource specification covering what Stratus emulates. A type listed
// here is valid in a stack file even when no service of this build applies it yet.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::stack {

enum class PropertyType {
  string,
  integer,
  number,
  boolean,
  object,      // a mapping; its fields are checked when `fields` is non-empty
  array,       // a sequence; its elements are checked against `items` when present
  string_map,  // a mapping whose values are all strings (Environment Variables, SAM Tags)
  any,         // anything (CloudFormation "Json": a mapping or a JSON string, policies, patterns)
};

std::string_view to_string(PropertyType type);

struct PropertySpec {
  std::string name;
  PropertyType type = PropertyType::any;
  bool required = false;
  // integer/number: value range; string: length range; array: element count. Inclusive.
  std::optional<std::int64_t> min;
  std::optional<std::int64_t> max;
  std::vector<std::string> allowed;  // string: the only accepted values (case-sensitive) when non-empty
  std::vector<PropertySpec> fields;  // object: its fields when non-empty (unknown fields are errors)
  std::vector<PropertySpec> items;   // array: zero or one spec, for every element
};

struct ResourceTypeSpec {
  std::string type;  // "AWS::SQS::Queue"
  std::vector<PropertySpec> properties;
  std::vector<std::string> attributes;  // accepted by Fn::GetAtt ("Arn", "QueueUrl")
};

// Every supported type, in a stable order.
const std::vector<ResourceTypeSpec>& resource_types();
// Null when `type` is not supported.
const ResourceTypeSpec* find_resource_type(std::string_view type);
// Null when `spec` has no property (or field) of that name.
const PropertySpec* find_property(const std::vector<PropertySpec>& specs, std::string_view name);

// True for a CloudFormation intrinsic function in long form: an object with exactly one member
// named "Ref" or "Fn::..." ({"Ref": "X"}, {"Fn::GetAtt": ["A", "Arn"]}).
bool is_intrinsic(const nlohmann::json& value);

// One thing wrong with a value: where (relative path appended to the caller's, such as
// ".Variables.PORT" or "[2].Key"; empty for the value itself) and what.
struct PropertyIssue {
  std::string path;
  std::string message;
};

// Checks `value` against `spec` and normalises the scalar spellings CloudFormation accepts into the
// declared type: "30" -> 30 for integer, "true" -> true for boolean, 30 -> "30" for string. An
// intrinsic function anywhere passes (it is checked again once resolved). `plain_text` gives, for a
// relative path, the original text of a plain YAML number so that 1.10 becomes "1.10" and not "1.1";
// it may be null. Appends what is wrong to `issues`.
void check_property(const PropertySpec& spec, nlohmann::json& value, std::vector<PropertyIssue>& issues,
                    const std::function<const std::string*(const std::string&)>& plain_text = nullptr);

// Checks and normalises a resource's whole Properties mapping: unknown names, missing required
// properties, then each property as check_property does. Paths start with "." + property name.
void check_properties(const ResourceTypeSpec& spec, nlohmann::json& properties,
                      std::vector<PropertyIssue>& issues,
                      const std::function<const std::string*(const std::string&)>& plain_text = nullptr);

// The known name closest to `name` (small edit distance), or "" when none is close: "did you mean".
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace stratus::stack
