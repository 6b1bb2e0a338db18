#include "stack/resource_types.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace stratus::stack {
namespace {

using P = PropertySpec;
using T = PropertyType;

// Builders that keep the table below one line per property.
P str(std::string name) { return P{std::move(name), T::string, false, {}, {}, {}, {}, {}}; }
P integer(std::string name, std::optional<std::int64_t> min = {}, std::optional<std::int64_t> max = {}) {
  return P{std::move(name), T::integer, false, min, max, {}, {}, {}};
}
P number(std::string name) { return P{std::move(name), T::number, false, {}, {}, {}, {}, {}}; }
P boolean(std::string name) { return P{std::move(name), T::boolean, false, {}, {}, {}, {}, {}}; }
P object(std::string name, std::vector<P> fields = {}) {
  return P{std::move(name), T::object, false, {}, {}, {}, std::move(fields), {}};
}
P array(std::string name, std::optional<P> item = {}) {
  P p{std::move(name), T::array, false, {}, {}, {}, {}, {}};
  if (item) p.items.push_back(std::move(*item));
  return p;
}
P string_map(std::string name) { return P{std::move(name), T::string_map, false, {}, {}, {}, {}, {}}; }
P any(std::string name) { return P{std::move(name), T::any, false, {}, {}, {}, {}, {}}; }

P req(P p) {
  p.required = true;
  return p;
}
P len(P p, std::int64_t min, std::int64_t max) {
  p.min = min;
  p.max = max;
  return p;
}
P one_of(P p, std::vector<std::string> values) {
  p.allowed = std::move(values);
  return p;
}

// CloudFormation's resource tag list: [{Key, Value}].
P tag_list(std::string name = "Tags") {
  return array(std::move(name), object("", {req(len(str("Key"), 1, 128)), req(len(str("Value"), 0, 256))}));
}
P strings(std::string name) { return array(std::move(name), str("")); }
P environment() { return object("Environment", {string_map("Variables")}); }
P ephemeral_storage() { return object("EphemeralStorage", {req(integer("Size", 512, 10240))}); }
P architectures() { return len(array("Architectures", one_of(str(""), {"x86_64", "arm64"})), 1, 1); }

std::vector<ResourceTypeSpec> build_types() {
  std::vector<ResourceTypeSpec> t;

  // Properties shared by AWS::Lambda::Function and AWS::Serverless::Function.
  const std::vector<P> function_common = {
      architectures(),
      str("CodeSigningConfigArn"),
      len(str("Description"), 0, 256),
      environment(),
      ephemeral_storage(),
      array("FileSystemConfigs"),
      len(str("FunctionName"), 1, 64),
      len(str("Handler"), 0, 128),
      object("ImageConfig"),
      str("KmsKeyArn"),
      strings("Layers"),
      object("LoggingConfig"),
      integer("MemorySize", 128, 10240),
      one_of(str("PackageType"), {"Image", "Zip"}),
      one_of(str("RecursiveLoop"), {"Allow", "Terminate"}),
      integer("ReservedConcurrentExecutions", 0),
      str("Role"),  // required by CloudFormation; optional here because Stratus does not enforce IAM
      str("Runtime"),
      object("RuntimeManagementConfig"),
      object("SnapStart"),
      integer("Timeout", 1, 900),
      object("VpcConfig"),
  };

  {
    std::vector<P> props = function_common;
    for (P p : {req(object("Code")), object("DeadLetterConfig", {str("TargetArn")}), tag_list(),
                object("TracingConfig", {one_of(str("Mode"), {"Active", "PassThrough"})})}) {
      props.push_back(std::move(p));
    }
    t.push_back(
        {"AWS::Lambda::Function",
         std::move(props),
         {"Arn", "SnapStartResponse", "SnapStartResponse.ApplyOn", "SnapStartResponse.OptimizationStatus"}});
  }
  {
    // SAM: no property is required on its own (Globals, CodeUri/InlineCode/ImageUri alternatives).
    std::vector<P> props = function_common;
    for (P p : {any("AssumeRolePolicyDocument"),
                str("AutoPublishAlias"),
                boolean("AutoPublishAliasAllProperties"),
                str("AutoPublishCodeSha256"),
                any("CodeUri"),
                object("DeadLetterQueue"),
                any("DeploymentPreference"),
                object("EventInvokeConfig"),
                object("Events"),
                object("FunctionUrlConfig"),
                str("ImageUri"),
                str("InlineCode"),
                str("PermissionsBoundary"),
                any("Policies"),
                boolean("PropagateTags"),
                object("ProvisionedConcurrencyConfig"),
                str("RolePath"),
                str("SourceKMSKeyArn"),
                string_map("Tags"),
                one_of(str("Tracing"), {"Active", "PassThrough", "Disabled"}),
                str("VersionDescription"),
                one_of(str("VersionDeletionPolicy"), {"Delete", "Retain"})}) {
      props.push_back(std::move(p));
    }
    t.push_back({"AWS::Serverless::Function", std::move(props), {"Arn"}});
  }
  t.push_back({"AWS::Lambda::EventSourceMapping",
               {
                   object("AmazonManagedKafkaEventSourceConfig"),
                   integer("BatchSize", 1, 10000),
                   boolean("BisectBatchOnFunctionError"),
                   object("DestinationConfig"),
                   object("DocumentDBEventSourceConfig"),
                   boolean("Enabled"),
                   str("EventSourceArn"),
                   object("FilterCriteria"),
                   req(len(str("FunctionName"), 1, 140)),
                   array("FunctionResponseTypes", one_of(str(""), {"ReportBatchItemFailures"})),
                   str("KmsKeyArn"),
                   integer("MaximumBatchingWindowInSeconds", 0, 300),
                   integer("MaximumRecordAgeInSeconds", -1, 604800),
                   integer("MaximumRetryAttempts", -1, 10000),
                   object("MetricsConfig"),
                   integer("ParallelizationFactor", 1, 10),
                   object("ProvisionedPollerConfig"),
                   strings("Queues"),
                   object("ScalingConfig", {integer("MaximumConcurrency", 2, 1000)}),
                   object("SelfManagedEventSource"),
                   object("SelfManagedKafkaEventSourceConfig"),
                   array("SourceAccessConfigurations"),
                   one_of(str("StartingPosition"), {"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"}),
                   number("StartingPositionTimestamp"),
                   tag_list(),
                   strings("Topics"),
                   integer("TumblingWindowInSeconds", 0, 900),
               },
               {"EventSourceMappingArn", "Id"}});
  t.push_back({"AWS::Lambda::Permission",
               {
                   req(str("Action")),
                   str("EventSourceToken"),
                   req(len(str("FunctionName"), 1, 140)),
                   one_of(str("FunctionUrlAuthType"), {"AWS_IAM", "NONE"}),
                   boolean("InvokedViaFunctionUrl"),
                   req(str("Principal")),
                   str("PrincipalOrgID"),
                   str("SourceAccount"),
                   str("SourceArn"),
               },
               {"Id"}});
  t.push_back({"AWS::SQS::Queue",
               {
                   boolean("ContentBasedDeduplication"),
                   one_of(str("DeduplicationScope"), {"messageGroup", "queue"}),
                   integer("DelaySeconds", 0, 900),
                   boolean("FifoQueue"),
                   one_of(str("FifoThroughputLimit"), {"perQueue", "perMessageGroupId"}),
                   integer("KmsDataKeyReusePeriodSeconds", 60, 86400),
                   str("KmsMasterKeyId"),
                   integer("MaximumMessageSize", 1024, 262144),
                   integer("MessageRetentionPeriod", 60, 1209600),
                   len(str("QueueName"), 1, 80),
                   integer("ReceiveMessageWaitTimeSeconds", 0, 20),
                   any("RedriveAllowPolicy"),  // a mapping or its JSON text
                   any("RedrivePolicy"),
                   boolean("SqsManagedSseEnabled"),
                   tag_list(),
                   integer("VisibilityTimeout", 0, 43200),
               },
               {"Arn", "QueueName", "QueueUrl"}});
  t.push_back({"AWS::Events::EventBus",
               {
                   object("DeadLetterConfig", {str("Arn")}),
                   len(str("Description"), 0, 512),
                   str("EventSourceName"),
                   str("KmsKeyIdentifier"),
                   object("LogConfig"),
                   req(len(str("Name"), 1, 256)),
                   any("Policy"),
                   tag_list(),
               },
               {"Arn", "Name", "Policy"}});
  t.push_back(
      {"AWS::Events::Rule",
       {
           len(str("Description"), 0, 512),
           str("EventBusName"),
           any("EventPattern"),  // a mapping or its JSON text
           len(str("Name"), 1, 64),
           str("RoleArn"),
           len(str("ScheduleExpression"), 0, 256),
           one_of(str("State"), {"DISABLED", "ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"}),
           tag_list(),
           array("Targets", object("")),
       },
       {"Arn"}});
  t.push_back({"AWS::S3::Bucket",
               {
                   object("AccelerateConfiguration"),
                   one_of(str("AccessControl"),
                          {"AuthenticatedRead", "AwsExecRead", "BucketOwnerFullControl", "BucketOwnerRead",
                           "LogDeliveryWrite", "Private", "PublicRead", "PublicReadWrite"}),
                   array("AnalyticsConfigurations"),
                   object("BucketEncryption"),
                   len(str("BucketName"), 3, 63),
                   object("CorsConfiguration"),
                   array("IntelligentTieringConfigurations"),
                   array("InventoryConfigurations"),
                   object("LifecycleConfiguration"),
                   object("LoggingConfiguration"),
                   object("MetadataConfiguration"),
                   object("MetadataTableConfiguration"),
                   array("MetricsConfigurations"),
                   object("NotificationConfiguration"),
                   object("ObjectLockConfiguration"),
                   boolean("ObjectLockEnabled"),
                   object("OwnershipControls"),
                   object("PublicAccessBlockConfiguration"),
                   object("ReplicationConfiguration"),
                   tag_list(),
                   object("VersioningConfiguration", {req(one_of(str("Status"), {"Enabled", "Suspended"}))}),
                   object("WebsiteConfiguration"),
               },
               {"Arn", "DomainName", "DualStackDomainName", "RegionalDomainName", "WebsiteURL",
                "MetadataTableConfiguration.S3TablesDestination.TableArn",
                "MetadataTableConfiguration.S3TablesDestination.TableNamespace"}});
  {
    P key_schema = array("KeySchema", object("", {req(len(str("AttributeName"), 1, 255)),
                                                  req(one_of(str("KeyType"), {"HASH", "RANGE"}))}));
    t.push_back(
        {"AWS::DynamoDB::Table",
         {
             array("AttributeDefinitions", object("", {req(len(str("AttributeName"), 1, 255)),
                                                       req(one_of(str("AttributeType"), {"S", "N", "B"}))})),
             one_of(str("BillingMode"), {"PROVISIONED", "PAY_PER_REQUEST"}),
             object("ContributorInsightsSpecification"),
             boolean("DeletionProtectionEnabled"),
             array("GlobalSecondaryIndexes"),
             object("ImportSourceSpecification"),
             req(key_schema),
             object("KinesisStreamSpecification"),
             array("LocalSecondaryIndexes"),
             object("OnDemandThroughput"),
             object("PointInTimeRecoverySpecification"),
             object("ProvisionedThroughput",
                    {req(integer("ReadCapacityUnits", 0)), req(integer("WriteCapacityUnits", 0))}),
             object("ResourcePolicy"),
             object("SSESpecification"),
             object("StreamSpecification",
                    {req(one_of(str("StreamViewType"),
                                {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"})),
                     object("ResourcePolicy")}),
             one_of(str("TableClass"), {"STANDARD", "STANDARD_INFREQUENT_ACCESS"}),
             len(str("TableName"), 3, 255),
             tag_list(),
             object("TimeToLiveSpecification", {str("AttributeName"), req(boolean("Enabled"))}),
             object("WarmThroughput"),
         },
         {"Arn", "StreamArn"}});
  }
  t.push_back({"AWS::ApiGatewayV2::Api",
               {
                   str("ApiKeySelectionExpression"),
                   str("BasePath"),
                   any("Body"),
                   object("BodyS3Location"),
                   object("CorsConfiguration"),
                   str("CredentialsArn"),
                   str("Description"),
                   boolean("DisableExecuteApiEndpoint"),
                   boolean("DisableSchemaValidation"),
                   boolean("FailOnWarnings"),
                   one_of(str("IpAddressType"), {"ipv4", "dualstack"}),
                   str("Name"),
                   integer("Port", 1, 65535),  // Stratus: serve this API on 127.0.0.1:Port too
                   one_of(str("ProtocolType"), {"HTTP", "WEBSOCKET"}),
                   str("RouteKey"),
                   str("RouteSelectionExpression"),
                   string_map("Tags"),
                   str("Target"),
                   str("Version"),
               },
               {"ApiEndpoint", "ApiId"}});
  t.push_back({"AWS::ApiGatewayV2::Route",
               {
                   req(str("ApiId")),
                   boolean("ApiKeyRequired"),
                   strings("AuthorizationScopes"),
                   one_of(str("AuthorizationType"), {"NONE", "AWS_IAM", "CUSTOM", "JWT"}),
                   str("AuthorizerId"),
                   str("ModelSelectionExpression"),
                   str("OperationName"),
                   any("RequestModels"),
                   any("RequestParameters"),
                   req(str("RouteKey")),
                   str("RouteResponseSelectionExpression"),
                   str("Target"),
               },
               {"RouteId"}});
  t.push_back({"AWS::ApiGatewayV2::Authorizer",
               {
                   req(str("ApiId")),
                   str("AuthorizerCredentialsArn"),
                   one_of(str("AuthorizerPayloadFormatVersion"), {"1.0", "2.0"}),
                   integer("AuthorizerResultTtlInSeconds", 0, 3600),
                   req(one_of(str("AuthorizerType"), {"REQUEST", "JWT"})),
                   str("AuthorizerUri"),
                   boolean("EnableSimpleResponses"),
                   strings("IdentitySource"),
                   str("IdentityValidationExpression"),
                   object("JwtConfiguration"),
                   req(str("Name")),
               },
               {"AuthorizerId"}});
  t.push_back({"AWS::ApiGatewayV2::Integration",
               {
                   req(str("ApiId")),
                   str("ConnectionId"),
                   one_of(str("ConnectionType"), {"INTERNET", "VPC_LINK"}),
                   one_of(str("ContentHandlingStrategy"), {"CONVERT_TO_BINARY", "CONVERT_TO_TEXT"}),
                   str("CredentialsArn"),
                   str("Description"),
                   str("IntegrationMethod"),
                   str("IntegrationSubtype"),
                   req(one_of(str("IntegrationType"), {"AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"})),
                   str("IntegrationUri"),
                   one_of(str("PassthroughBehavior"), {"WHEN_NO_MATCH", "NEVER", "WHEN_NO_TEMPLATES"}),
                   one_of(str("PayloadFormatVersion"), {"1.0", "2.0"}),
                   any("RequestParameters"),
                   any("RequestTemplates"),
                   any("ResponseParameters"),
                   str("TemplateSelectionExpression"),
                   integer("TimeoutInMillis", 50, 30000),
                   object("TlsConfig"),
               },
               {"IntegrationId"}});
  t.push_back({"AWS::ApiGatewayV2::Stage",
               {
                   object("AccessLogSettings"),
                   str("AccessPolicyId"),
                   req(str("ApiId")),
                   boolean("AutoDeploy"),
                   str("ClientCertificateId"),
                   object("DefaultRouteSettings"),
                   str("DeploymentId"),
                   str("Description"),
                   any("RouteSettings"),
                   req(str("StageName")),
                   any("StageVariables"),
                   any("Tags"),
               },
               {}});
  // SAM APIs. Ref gives the API id.
  t.push_back({"AWS::Serverless::HttpApi",
               {
                   object("AccessLogSettings"),
                   any("Auth"),
                   any("CorsConfiguration"),
                   object("DefaultRouteSettings"),
                   any("DefinitionBody"),
                   any("DefinitionUri"),
                   str("Description"),
                   boolean("DisableExecuteApiEndpoint"),
                   object("Domain"),
                   boolean("FailOnWarnings"),
                   str("Name"),
                   integer("Port", 1, 65535),  // Stratus: serve this API on 127.0.0.1:Port too
                   boolean("PropagateTags"),
                   any("RouteSettings"),
                   str("StageName"),
                   string_map("StageVariables"),
                   string_map("Tags"),
               },
               {"ApiId", "ApiEndpoint"}});
  t.push_back({"AWS::Serverless::Api",
               {
                   object("AccessLogSetting"),
                   one_of(str("ApiKeySourceType"), {"HEADER", "AUTHORIZER"}),
                   any("Auth"),
                   strings("BinaryMediaTypes"),
                   boolean("CacheClusterEnabled"),
                   str("CacheClusterSize"),
                   object("CanarySetting"),
                   any("Cors"),
                   any("DefinitionBody"),
                   any("DefinitionUri"),
                   str("Description"),
                   boolean("DisableExecuteApiEndpoint"),
                   object("Domain"),
                   any("EndpointConfiguration"),
                   object("GatewayResponses"),
                   any("MethodSettings"),
                   integer("MinimumCompressionSize", 0, 10485760),
                   str("Mode"),
                   object("Models"),
                   str("Name"),
                   str("OpenApiVersion"),
                   integer("Port", 1, 65535),  // Stratus: serve this API on 127.0.0.1:Port too
                   boolean("PropagateTags"),
                   req(str("StageName")),
                   string_map("Tags"),
                   boolean("TracingEnabled"),
                   string_map("Variables"),
               },
               {"RestApiId", "RootResourceId"}});
  // One HttpApi or Api event of an AWS::Serverless::Function: made by the stack loader (SAM's transform
  // makes a route, an integration and a permission from each), not written by users.
  t.push_back({"Stratus::Serverless::ApiEvent",
               {
                   req(one_of(str("EventType"), {"HttpApi", "Api"})),
                   str("ApiId"),
                   str("RestApiId"),
                   req(str("FunctionArn")),
                   str("Path"),
                   str("Method"),
                   one_of(str("PayloadFormatVersion"), {"1.0", "2.0"}),
                   integer("TimeoutInMillis", 50, 30000),
                   any("Auth"),
                   any("RouteSettings"),
                   any("RequestModel"),
                   any("RequestParameters"),
               },
               {}});
  t.push_back({"AWS::ApiGateway::RestApi",
               {
                   one_of(str("ApiKeySourceType"), {"HEADER", "AUTHORIZER"}),
                   strings("BinaryMediaTypes"),
                   any("Body"),
                   object("BodyS3Location"),
                   str("CloneFrom"),
                   str("Description"),
                   boolean("DisableExecuteApiEndpoint"),
                   object("EndpointConfiguration"),
                   boolean("FailOnWarnings"),
                   integer("MinimumCompressionSize", 0, 10485760),
                   one_of(str("Mode"), {"overwrite", "merge"}),
                   str("Name"),
                   string_map("Parameters"),
                   any("Policy"),
                   tag_list(),
               },
               {"RestApiId", "RootResourceId"}});
  return t;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string range_text(const std::optional<std::int64_t>& min, const std::optional<std::int64_t>& max) {
  if (min && max) return fmt::format("between {} and {}", *min, *max);
  if (min) return fmt::format("at least {}", *min);
  return fmt::format("at most {}", *max);
}

bool parse_int64(std::string_view text, std::int64_t& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_double(const std::string& text, double& out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return false;
  try {
    std::size_t used = 0;
    out = std::stod(text, &used);
    return used == text.size() && std::isfinite(out);
  } catch (const std::exception&) {
    return false;
  }
}

std::string type_phrase(PropertyType type) {
  switch (type) {
    case T::string: return "a string";
    case T::integer: return "an integer";
    case T::number: return "a number";
    case T::boolean: return "a boolean";
    case T::object: return "a mapping";
    case T::array: return "a list";
    case T::string_map: return "a mapping of strings";
    case T::any: return "anything";
  }
  return "?";
}

using PlainText = std::function<const std::string*(const std::string&)>;

void check_value(const P& spec, nlohmann::json& value, const std::string& path,
                 std::vector<PropertyIssue>& issues, const PlainText& plain_text);

void check_members(const std::vector<P>& specs, nlohmann::json& object_value, const std::string& path,
                   std::string_view owner, std::vector<PropertyIssue>& issues, const PlainText& plain_text) {
  std::vector<std::string> names;
  for (const P& s : specs) names.push_back(s.name);
  for (auto it = object_value.begin(); it != object_value.end(); ++it) {
    const P* spec = find_property(specs, it.key());
    std::string member_path = path + "." + it.key();
    if (!spec) {
      std::string message = fmt::format("unknown property \"{}\"", it.key());
      if (!owner.empty()) message += fmt::format(" for {}", owner);
      std::string near = closest_name(it.key(), names);
      if (!near.empty()) message += fmt::format(" (did you mean \"{}\"?)", near);
      issues.push_back({member_path, std::move(message)});
      continue;
    }
    check_value(*spec, it.value(), member_path, issues, plain_text);
  }
  for (const P& s : specs) {
    if (s.required && !object_value.contains(s.name)) {
      std::string message = fmt::format("missing required property \"{}\"", s.name);
      if (!owner.empty()) message += fmt::format(" for {}", owner);
      issues.push_back({path, std::move(message)});
    }
  }
}

void check_string(const P& spec, nlohmann::json& value, const std::string& path,
                  std::vector<PropertyIssue>& issues, const PlainText& plain_text) {
  if (value.is_number()) {
    const std::string* text = plain_text ? plain_text(path) : nullptr;
    value = text ? *text : value.dump();
  } else if (value.is_boolean()) {
    value = value.get<bool>() ? "true" : "false";
  } else if (!value.is_string()) {
    issues.push_back({path, "must be a string"});
    return;
  }
  const auto& s = value.get_ref<const std::string&>();
  if (!spec.allowed.empty()) {
    if (std::find(spec.allowed.begin(), spec.allowed.end(), s) == spec.allowed.end()) {
      issues.push_back({path, fmt::format("\"{}\" is not one of: {}", s, join(spec.allowed, ", "))});
    }
    return;
  }
  auto length = static_cast<std::int64_t>(s.size());
  if ((spec.min && length < *spec.min) || (spec.max && length > *spec.max)) {
    issues.push_back(
        {path, fmt::format("length must be {} characters (is {})", range_text(spec.min, spec.max), length)});
  }
}

void check_value(const P& spec, nlohmann::json& value, const std::string& path,
                 std::vector<PropertyIssue>& issues, const PlainText& plain_text) {
  if (is_intrinsic(value)) return;
  switch (spec.type) {
    case T::any: return;
    case T::string: check_string(spec, value, path, issues, plain_text); return;
    case T::integer:
    case T::number: {
      if (value.is_string()) {
        const auto& s = value.get_ref<const std::string&>();
        std::int64_t i = 0;
        double d = 0;
        if (parse_int64(s, i)) {
          value = i;
        } else if (spec.type == T::number && parse_double(s, d)) {
          value = d;
        }
      }
      if (spec.type == T::integer ? !value.is_number_integer() : !value.is_number()) {
        issues.push_back({path, fmt::format("must be {}", type_phrase(spec.type))});
        return;
      }
      bool in_range = true;
      if (value.is_number_unsigned()) {
        auto u = value.get<std::uint64_t>();
        if (spec.max && (*spec.max < 0 || u > static_cast<std::uint64_t>(*spec.max))) in_range = false;
        if (spec.min && *spec.min > 0 && u < static_cast<std::uint64_t>(*spec.min)) in_range = false;
      } else if (value.is_number_integer()) {
        auto i = value.get<std::int64_t>();
        if ((spec.min && i < *spec.min) || (spec.max && i > *spec.max)) in_range = false;
      } else {
        double d = value.get<double>();
        if ((spec.min && d < static_cast<double>(*spec.min)) ||
            (spec.max && d > static_cast<double>(*spec.max))) {
          in_range = false;
        }
      }
      if (!in_range) {
        issues.push_back(
            {path, fmt::format("must be {} (is {})", range_text(spec.min, spec.max), value.dump())});
      }
      return;
    }
    case T::boolean: {
      if (value.is_string()) {
        std::string s = value.get<std::string>();
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
        if (s == "true") value = true;
        if (s == "false") value = false;
      }
      if (!value.is_boolean()) issues.push_back({path, "must be a boolean"});
      return;
    }
    case T::object: {
      if (!value.is_object()) {
        issues.push_back({path, "must be a mapping"});
        return;
      }
      if (!spec.fields.empty()) check_members(spec.fields, value, path, spec.name, issues, plain_text);
      return;
    }
    case T::string_map: {
      if (!value.is_object()) {
        issues.push_back({path, "must be a mapping of strings"});
        return;
      }
      P element = str("");
      for (auto it = value.begin(); it != value.end(); ++it) {
        check_value(element, it.value(), path + "." + it.key(), issues, plain_text);
      }
      return;
    }
    case T::array: {
      if (!value.is_array()) {
        issues.push_back({path, "must be a list"});
        return;
      }
      auto count = static_cast<std::int64_t>(value.size());
      if ((spec.min && count < *spec.min) || (spec.max && count > *spec.max)) {
        issues.push_back(
            {path, fmt::format("must have {} elements (has {})", range_text(spec.min, spec.max), count)});
      }
      if (!spec.items.empty()) {
        for (std::size_t i = 0; i < value.size(); ++i) {
          check_value(spec.items.front(), value[i], fmt::format("{}[{}]", path, i), issues, plain_text);
        }
      }
      return;
    }
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string_view to_string(PropertyType type) {
  switch (type) {
    case T::string: return "string";
    case T::integer: return "integer";
    case T::number: return "number";
    case T::boolean: return "boolean";
    case T::object: return "object";
    case T::array: return "array";
    case T::string_map: return "string_map";
    case T::any: return "any";
  }
  return "?";
}

const std::vector<ResourceTypeSpec>& resource_types() {
  static const std::vector<ResourceTypeSpec> types = build_types();
  return types;
}

const ResourceTypeSpec* find_resource_type(std::string_view type) {
  for (const auto& t : resource_types()) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

const PropertySpec* find_property(const std::vector<PropertySpec>& specs, std::string_view name) {
  for (const auto& p : specs) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool is_intrinsic(const nlohmann::json& value) {
  if (!value.is_object() || value.size() != 1) return false;
  const std::string& key = value.begin().key();
  return key == "Ref" || key.starts_with("Fn::");
}

void check_property(const PropertySpec& spec, nlohmann::json& value, std::vector<PropertyIssue>& issues,
                    const std::function<const std::string*(const std::string&)>& plain_text) {
  check_value(spec, value, "", issues, plain_text);
}

void check_properties(const ResourceTypeSpec& spec, nlohmann::json& properties,
                      std::vector<PropertyIssue>& issues,
                      const std::function<const std::string*(const std::string&)>& plain_text) {
  check_members(spec.properties, properties, "", spec.type, issues, plain_text);
}

std::string closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  std::size_t limit = std::clamp<std::size_t>(name.size() / 3, 1, 3);
  return best_distance <= limit ? best : std::string();
}

}  // namespace stratus::stack
