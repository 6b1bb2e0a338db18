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
  if (!service || (type != "AWS::Lambda::Function" && type != "AWS::Serverless::Function")) return nullptr;
  return std::make_shared<FunctionProvider>(std::move(service), std::string(type));
}

}  // namespace stratus::services::lambda
