// Stack providers: AWS::Lambda::Function and AWS::Serverless::Function, applied through the same
// operations as the API (so the same checks and messages), idempotently at every start.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-function.html
// https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html
#include <filesystem>

#include "protocol/protocol.hpp"
#include "services/lambda/code.hpp"
#include "services/lambda/lambda_service.hpp"

namespace stratus::services::lambda {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Creates the mapping of `queue_arn` to `function` or, when one exists (the stack is applied at every
// start), updates it to `props` (members left out return to their defaults). Returns the mapping's
// output or sets `error`.
std::optional<json> ensure_sqs_mapping(LambdaService& service, const Partition& p, const std::string& function,
                                       const std::string& queue_arn, const json& props, std::string& error) {
  json settings = json::object();
  settings["BatchSize"] = props.value("BatchSize", 10);
  settings["MaximumBatchingWindowInSeconds"] = props.value("MaximumBatchingWindowInSeconds", 0);
  settings["FunctionResponseTypes"] = props.value("FunctionResponseTypes", json::array());
  settings["ScalingConfig"] = props.value("ScalingConfig", json::object());
  settings["FilterCriteria"] = props.value("FilterCriteria", json::object());
  settings["Enabled"] = props.value("Enabled", true);
  settings["FunctionName"] = function;

  Outcome o = service.call("ListEventSourceMappings", p,
                           {{"EventSourceArn", queue_arn}, {"FunctionName", function}});
  if (!o.error) {
    const json& found = o.output["EventSourceMappings"];
    if (!found.empty()) {
      settings["UUID"] = found[0]["UUID"];
      o = service.call("UpdateEventSourceMapping", p, settings);
    } else {
      settings["EventSourceArn"] = queue_arn;
      if (settings["ScalingConfig"].empty()) settings.erase("ScalingConfig");
      if (settings["FilterCriteria"].empty()) settings.erase("FilterCriteria");
      o = service.call("CreateEventSourceMapping", p, settings);
    }
  }
  if (o.error) {
    error = o.error->code + ": " + o.error->message;
    return std::nullopt;
  }
  return o.output;
}

// AWS::Lambda::EventSourceMapping (SQS sources).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html
class MappingProvider final : public stack::ResourceProvider {
 public:
  explicit MappingProvider(std::shared_ptr<LambdaService> service) : service_(std::move(service)) {}
  std::string type() const override { return "AWS::Lambda::EventSourceMapping"; }

  bool apply(const stack::Resource&, const stack::ResolvedProperties& props, const stack::ApplyContext& context,
             stack::AppliedResource& out, std::string& error) override {
    Partition p{context.account, context.region};
    auto mapping = ensure_sqs_mapping(*service_, p, props.value("FunctionName", ""),
                                      props.value("EventSourceArn", ""), props, error);
    if (!mapping) return false;
    out.physical_id = (*mapping)["UUID"].get<std::string>();
    out.attributes["Id"] = out.physical_id;
    out.attributes["EventSourceMappingArn"] = (*mapping)["EventSourceMappingArn"];
    return true;
  }

 private:
  std::shared_ptr<LambdaService> service_;
};

class FunctionProvider final : public stack::ResourceProvider {
 public:
  FunctionProvider(std::shared_ptr<LambdaService> service, std::string type)
      : service_(std::move(service)), type_(std::move(type)) {}

  std::string type() const override { return type_; }

  bool apply(const stack::Resource& resource, const stack::ResolvedProperties& props,
             const stack::ApplyContext& context, stack::AppliedResource& out, std::string& error) override {
    Partition p{context.account, context.region};
    std::string name = props.value("FunctionName", "");
    if (name.empty()) {
      // CloudFormation generates STACK-LOGICALID-RANDOM; Stratus drops the random part so that applying
      // the stack again finds the same function.
      name = context.stack_name + "-" + resource.logical_id;
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
      if (name.size() > 64) name.resize(64);
    }
    json code;
    if (!code_source(props, code, error)) return false;

    json config = json::object();
    config["Handler"] = props.value("Handler", "");
    config["Runtime"] = props.value("Runtime", "provided.al2023");
    config["Role"] = props.value("Role", "arn:aws:iam::" + context.account + ":role/stratus-lambda");
    for (const char* key :
         {"MemorySize", "Timeout", "Description", "Environment", "TracingConfig", "EphemeralStorage"})
      if (props.contains(key)) config[key] = props[key];
    if (props.contains("Tracing")) config["TracingConfig"] = {{"Mode", props["Tracing"]}};  // SAM's form
    // DeadLetterConfig {TargetArn} (CloudFormation) or SAM's DeadLetterQueue {Type, TargetArn}; sent even
    // when absent so that removing it from the stack removes it from the function.
    std::string dlq;
    if (auto d = props.find("DeadLetterConfig"); d != props.end() && d->is_object()) dlq = d->value("TargetArn", "");
    if (auto d = props.find("DeadLetterQueue"); d != props.end() && d->is_object()) dlq = d->value("TargetArn", "");
    config["DeadLetterConfig"] = {{"TargetArn", dlq}};

    json tags = json::object();
    if (auto t = props.find("Tags"); t != props.end()) {
      if (t->is_array()) {  // CloudFormation: [{Key, Value}]
        for (const auto& kv : *t)
          if (kv.contains("Key")) tags[kv["Key"].get<std::string>()] = kv.value("Value", "");
      } else if (t->is_object()) {  // SAM: a map
        tags = *t;
      }
    }

    Outcome o;
    if (!service_->load(p, name)) {
      json in = config;
      in["FunctionName"] = name;
      in["Code"] = code;
      if (!tags.empty()) in["Tags"] = tags;
      o = service_->call("CreateFunction", p, in);
    } else {
      json in = code;
      in["FunctionName"] = name;
      // The handler may have changed with the code: set the configuration first when the new handler is in
      // the new package (hot reload), else after.
      o = service_->call("UpdateFunctionConfiguration", p, with_name(config, name));
      if (!o.error) o = service_->call("UpdateFunctionCode", p, in);
      if (o.error && o.error->code == "InvalidParameterValueException") {
        o = service_->call("UpdateFunctionCode", p, in);
        if (!o.error) o = service_->call("UpdateFunctionConfiguration", p, with_name(config, name));
      }
      if (!o.error && !tags.empty())
        o = service_->call(
            "TagResource", p,
            {{"Resource", "arn:aws:lambda:" + p.region + ":" + p.account + ":function:" + name},
             {"Tags", tags}});
    }
    if (!o.error) {
      if (props.contains("ReservedConcurrentExecutions"))
        o = service_->call("PutFunctionConcurrency", p,
                           {{"FunctionName", name},
                            {"ReservedConcurrentExecutions", props["ReservedConcurrentExecutions"]}});
      else
        o = service_->call("DeleteFunctionConcurrency", p, {{"FunctionName", name}});
    }
    if (o.error) {
      error = o.error->code + ": " + o.error->message;
      return false;
    }
    // SAM: Events of Type SQS become event source mappings of this function.
    // https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-sqs.html
    if (auto events = props.find("Events"); events != props.end() && events->is_object()) {
      for (auto it = events->begin(); it != events->end(); ++it) {
        if (!it->is_object() || it->value("Type", "") != "SQS") continue;
        json ep = it->value("Properties", json::object());
        if (!ep.is_object() || !ep.contains("Queue") || !ep["Queue"].is_string()) {
          error = "Events." + it.key() + ": an SQS event needs Properties.Queue (the queue's ARN)";
          return false;
        }
        std::string mapping_error;
        if (!ensure_sqs_mapping(*service_, p, name, ep["Queue"].get<std::string>(), ep, mapping_error)) {
          error = "Events." + it.key() + ": " + mapping_error;
          return false;
        }
      }
    }
    out.physical_id = name;
    out.attributes["Arn"] = "arn:aws:lambda:" + p.region + ":" + p.account + ":function:" + name;
    return true;
  }

 private:
  static json with_name(json config, const std::string& name) {
    config["FunctionName"] = name;
    return config;
  }

  // Code {S3Bucket: hot-reload, S3Key: path} (both types), or SAM's CodeUri: a .zip (uploaded like
  // ZipFile), a .so or a directory (used in place, hot reload), or {Bucket, Key}.
  bool code_source(const json& props, json& code, std::string& error) const {
    if (auto c = props.find("Code"); c != props.end() && c->is_object()) {
      if (c->contains("ZipFile")) {
        error =
            "Code.ZipFile is inline source code in CloudFormation; Stratus functions are shared libraries: "
            "use "
            "Code {S3Bucket: hot-reload, S3Key: /path/to/lib.so} or AWS::Serverless::Function CodeUri";
        return false;
      }
      code = {{"S3Bucket", c->value("S3Bucket", "")}, {"S3Key", c->value("S3Key", "")}};
      return true;
    }
    auto uri = props.find("CodeUri");
    if (uri != props.end() && uri->is_object()) {
      code = {{"S3Bucket", uri->value("Bucket", "")}, {"S3Key", uri->value("Key", "")}};
      return true;
    }
    if (uri != props.end() && uri->is_string()) {
      std::error_code ec;
      fs::path path = fs::absolute(uri->get<std::string>(), ec);
      if (path.extension() == ".zip") {
        std::string bytes;
        if (!read_file(path.string(), bytes)) {
          error = "CodeUri " + path.string() + " cannot be read";
          return false;
        }
        code = {{"ZipFile", protocol::base64_encode(bytes)}};
        return true;
      }
      code = {{"S3Bucket", "hot-reload"}, {"S3Key", path.lexically_normal().string()}};
      return true;
    }
    error = "a function needs Code {S3Bucket: hot-reload, S3Key: path} or CodeUri";
    return false;
  }

  std::shared_ptr<LambdaService> service_;
  std::string type_;
};

}  // namespace

std::shared_ptr<stack::ResourceProvider> make_function_provider(
    const std::shared_ptr<Service>& lambda_service, std::string_view type) {
  auto service = std::dynamic_pointer_cast<LambdaService>(lambda_service);
  if (service && type == "AWS::Lambda::EventSourceMapping") return std::make_shared<MappingProvider>(service);
  if (!service || (type != "AWS::Lambda::Function" && type != "AWS::Serverless::Function")) return nullptr;
  return std::make_shared<FunctionProvider>(std::move(service), std::string(type));
}

}  // namespace stratus::services::lambda
