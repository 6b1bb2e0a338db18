#pragma once
// The stack file: a declarative YAML (or JSON) file listing the resources to create when the daemon
// starts, in CloudFormation's model so that SAM templates can be loaded later:
//
//   StratusVersion: "1"            # optional; if present must be "1"
//   Description: orders demo      # optional
//   Parameters: {Stage: {Type: String, Default: dev}}
//   Resources:
//     OrdersQueue:
//       Type: AWS::SQS::Queue
//       Properties:
//         QueueName: !Sub "orders-${Stage}"
//         RedrivePolicy: {deadLetterTargetArn: !GetAtt OrdersDLQ.Arn, maxReceiveCount: 3}
//     OrdersDLQ: {Type: AWS::SQS::Queue}
//   Outputs: {QueueUrl: {Value: !Ref OrdersQueue}}
//
// Loading parses and validates the whole file and reports every problem it finds at once, each with
// file, path, line and column. Applying hands each resource, in dependency order and with its
// intrinsic functions resolved, to the ResourceProvider registered for its type by the owning service.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::stack {

struct StackError {
  std::string file;
  std::string path;  // dotted, with [i] for list elements: "Resources.OrdersQueue.Properties.QueueName"
  int line = 0;      // 1-based; 0 when unknown (missing file, apply-time problems without a position)
  int column = 0;    // 1-based; 0 when unknown
  std::string message;

  // "config/x.yaml:12:7: Resources.OrdersQueue.Properties.QueueName: must be a string"; the parts
  // that are unknown are left out ("config/x.yaml: cannot open file: No such file or directory").
  std::string to_string() const;
};

// One line per error, each as StackError::to_string().
std::string format_errors(const std::vector<StackError>& errors);

struct Resource {
  std::string logical_id;
  std::string type;  // "AWS::SQS::Queue"
  // Intrinsic functions are in long form ({"Ref": "X"}, {"Fn::GetAtt": ["A", "Arn"]}); scalars of
  // declared properties are normalised to their declared type (Timeout: "30" -> 30).
  nlohmann::json properties = nlohmann::json::object();
  // Every logical id this resource depends on, each once: its DependsOn entries, then those it
  // references through Ref, Fn::GetAtt and Fn::Sub in its Properties (in property-name order).
  std::vector<std::string> depends_on;
  int line = 0;  // of the logical id
};

struct Stack {
  std::string file;
  std::string description;
  nlohmann::json parameters = nlohmann::json::object();  // name -> declaration {Type, Default, ...}
  // In dependency order: a resource comes after everything it references by Ref/GetAtt/Sub or
  // DependsOn; otherwise in file order.
  std::vector<Resource> resources;
  nlohmann::json outputs = nlohmann::json::object();  // name -> declaration {Value, Description, Export}

  const Resource* find(std::string_view logical_id) const;
};

// Loads and validates `path`. Returns true when no error was found, and only then assigns `out`;
// every error found is appended to `errors`.
bool load_stack_file(const std::string& path, Stack& out, std::vector<StackError>& errors);
// The same for text in memory; `name` stands for the file name in Stack::file and in errors.
bool load_stack_text(std::string_view text, const std::string& name, Stack& out,
                     std::vector<StackError>& errors);

// What applying runs in. Pseudo parameters resolve from it: AWS::AccountId, AWS::Region,
// AWS::StackName, AWS::StackId, AWS::Partition ("aws"), AWS::URLSuffix ("amazonaws.com").
struct ApplyContext {
  std::string account = "000000000000";
  std::string region = "us-east-1";
  std::string stack_name = "stratus";
  // Values for declared Parameters by name, overriding their Default (strings, numbers or lists).
  nlohmann::json parameters = nlohmann::json::object();
};

// A resource's properties with every intrinsic function resolved to a plain value, AWS::NoValue
// members removed, and scalars normalised to their declared types.
using ResolvedProperties = nlohmann::json;

// What a provider reports about a resource it applied.
struct AppliedResource {
  std::string physical_id;                               // what Ref returns: queue URL, function name...
  nlohmann::json attributes = nlohmann::json::object();  // what Fn::GetAtt returns, by name: {"Arn": ...}
};

// Implemented by the service owning a resource type, to create its resources from the stack.
class ResourceProvider {
 public:
  virtual ~ResourceProvider() = default;
  virtual std::string type() const = 0;  // "AWS::SQS::Queue"
  // Creates the resource or, when it already exists, updates it to match: the stack is applied at
  // every start, so this must be idempotent. On success fills `out` and returns true; on failure
  // sets `error` (a sentence for the user) and returns false.
  virtual bool apply(const Resource& resource, const ResolvedProperties& properties,
                     const ApplyContext& context, AppliedResource& out, std::string& error) = 0;
};

// Applies a loaded stack through the registered providers. Not thread-safe; used at startup.
class StackApplier {
 public:
  // Registers (or replaces) the provider for provider->type().
  void register_provider(std::shared_ptr<ResourceProvider> provider);
  bool has_provider(std::string_view type) const;

  // First checks that every resource's type has a provider (reporting every one that has not:
  // "<type> is valid but not supported by this build yet") and applies nothing if any is missing.
  // Then applies the resources in order, resolving Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select,
  // Fn::Split, Fn::Base64, Fn::GetAZs, Fn::Length and Fn::ToJsonString against the context and the
  // resources already applied, and stops at the first resolution or provider error, appending a
  // StackError naming the resource. Finally resolves Outputs. Returns true when everything applied.
  bool apply(const Stack& stack, const ApplyContext& context, std::vector<StackError>& errors);

  // By logical id, the resources the last apply() applied (before a failure, if any).
  const std::map<std::string, AppliedResource>& applied() const { return applied_; }
  // By name, the resolved Value of each Output after a successful apply().
  const nlohmann::json& outputs() const { return outputs_; }

 private:
  std::map<std::string, std::shared_ptr<ResourceProvider>, std::less<>> providers_;
  std::map<std::string, AppliedResource> applied_;
  nlohmann::json outputs_ = nlohmann::json::object();
};

}  // namespace stratus::stack
