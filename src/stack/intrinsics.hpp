#pragma once
// Internal to src/stack: pieces of CloudFormation's intrinsic-function grammar shared by the loader
// (which validates references) and the applier (which resolves them).
#include <string>
#include <string_view>
#include <vector>

namespace stratus::stack::detail {

// AWS::Region, AWS::AccountId, AWS::StackName, AWS::StackId, AWS::Partition, AWS::URLSuffix,
// AWS::NoValue, AWS::NotificationARNs.
bool is_pseudo_parameter(std::string_view name);

// A piece of an Fn::Sub template: literal text, or a ${name} / ${Resource.Attribute} variable.
struct SubPart {
  bool variable = false;
  std::string text;  // the literal text, or the variable name without ${ }
};

// Splits an Fn::Sub template. "${!Literal}" is the literal text "${Literal}". Returns false (with
// `error` set) on an unterminated or empty "${".
bool parse_sub(std::string_view text, std::vector<SubPart>& parts, std::string& error);

// True for a CloudFormation logical id or parameter name: 1..255 characters of [A-Za-z0-9].
bool is_logical_id(std::string_view name);

}  // namespace stratus::stack::detail
