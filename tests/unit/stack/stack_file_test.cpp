#include "stack/stack_file.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "stack/resource_types.hpp"

namespace stratus::stack {
namespace {

using nlohmann::json;

// Loads `text`, expecting success; fails the test with every error otherwise.
Stack load_ok(const std::string& text) {
  Stack stack;
  std::vector<StackError> errors;
  bool ok = load_stack_text(text, "test.yaml", stack, errors);
  EXPECT_TRUE(ok) << format_errors(errors);
  EXPECT_TRUE(errors.empty());
  return stack;
}

// Loads `text`, expecting failure; returns the errors.
std::vector<StackError> load_errors(const std::string& text) {
  Stack stack;
  stack.description = "untouched";
  std::vector<StackError> errors;
  EXPECT_FALSE(load_stack_text(text, "test.yaml", stack, errors));
  EXPECT_EQ(stack.description, "untouched") << "out is only assigned on success";
  EXPECT_FALSE(errors.empty());
  return errors;
}

std::vector<std::string> ids(const Stack& stack) {
  std::vector<std::string> out;
  for (const auto& r : stack.resources) out.push_back(r.logical_id);
  return out;
}

// Whether some error is exactly at path:line:column and contains `text`; prints all errors if not.
::testing::AssertionResult has_error(const std::vector<StackError>& errors, const std::string& path, int line,
                                     int column, const std::string& text) {
  for (const auto& e : errors) {
    if (e.path == path && e.line == line && e.column == column && e.message.find(text) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure()
         << "no error " << line << ":" << column << " " << path << ": ..." << text << "... among:\n"
         << format_errors(errors);
}

const char* kOrdersStack = R"(StratusVersion: "1"
Description: Orders demo
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Consumer:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt OrdersQueue.Arn
      BatchSize: 5
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: functions/worker
      Timeout: 30
      Environment:
        Variables:
          QUEUE_URL: !Ref OrdersQueue
          LABEL: !Sub "orders-${Stage}-${AWS::Region}"
  OrdersQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "orders-${Stage}"
      VisibilityTimeout: 60
      RedrivePolicy: {deadLetterTargetArn: !GetAtt [OrdersDLQ, Arn], maxReceiveCount: 3}
  OrdersDLQ:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: orders-dlq
  Audit:
    Type: AWS::S3::Bucket
    DependsOn: OrdersDLQ
Outputs:
  QueueUrl: {Value: !Ref OrdersQueue}
  DlqArn: {Value: !GetAtt OrdersDLQ.Arn, Description: where failures go}
)";

// ------------------------------------------------------------------------------------------------
// Loading

TEST(stack_file, ValidFileLoadsInDependencyOrder) {
  Stack stack = load_ok(kOrdersStack);
  EXPECT_EQ(stack.file, "test.yaml");
  EXPECT_EQ(stack.description, "Orders demo");
  EXPECT_EQ(ids(stack),
            (std::vector<std::string>{"OrdersDLQ", "OrdersQueue", "Worker", "Consumer", "Audit"}));

  const Resource* consumer = stack.find("Consumer");
  ASSERT_NE(consumer, nullptr);
  EXPECT_EQ(consumer->type, "AWS::Lambda::EventSourceMapping");
  EXPECT_EQ(consumer->line, 6);
  EXPECT_EQ(consumer->depends_on, (std::vector<std::string>{"OrdersQueue", "Worker"}));
  EXPECT_EQ(consumer->properties["FunctionName"], json({{"Ref", "Worker"}}));
  EXPECT_EQ(consumer->properties["EventSourceArn"], json({{"Fn::GetAtt", {"OrdersQueue", "Arn"}}}));
  EXPECT_EQ(consumer->properties["BatchSize"], 5);

  EXPECT_EQ(stack.find("OrdersQueue")->depends_on, (std::vector<std::string>{"OrdersDLQ"}));
  EXPECT_EQ(stack.find("Worker")->depends_on, (std::vector<std::string>{"OrdersQueue"}));
  EXPECT_EQ(stack.find("Audit")->depends_on, (std::vector<std::string>{"OrdersDLQ"}));
  EXPECT_EQ(stack.find("Audit")->properties, json::object());
  EXPECT_EQ(stack.find("Nope"), nullptr);

  EXPECT_EQ(stack.parameters["Stage"]["Default"], "dev");
  EXPECT_EQ(stack.outputs["QueueUrl"]["Value"], json({{"Ref", "OrdersQueue"}}));
  EXPECT_EQ(stack.outputs["DlqArn"]["Value"], json({{"Fn::GetAtt", {"OrdersDLQ", "Arn"}}}));
}

TEST(stack_file, FileOrderIsKeptAmongIndependentResources) {
  Stack stack = load_ok(R"(Resources:
  C: {Type: AWS::SQS::Queue}
  A: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt C.QueueName}}
  B: {Type: AWS::SQS::Queue}
  D: {Type: AWS::SQS::Queue, DependsOn: [B]}
)");
  EXPECT_EQ(ids(stack), (std::vector<std::string>{"C", "A", "B", "D"}));
}

TEST(stack_file, EmptyResourcesAndJsonAreAccepted) {
  EXPECT_TRUE(load_ok("Resources: {}\n").resources.empty());
  EXPECT_TRUE(load_ok("Resources:\n").resources.empty());
  Stack stack = load_ok(R"({
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "photos"}},
    "Table": {
      "Type": "AWS::DynamoDB::Table",
      "Properties": {
        "TableName": {"Fn::Sub": "${Bucket}-index"},
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]
      }
    }
  }
})");
  EXPECT_EQ(ids(stack), (std::vector<std::string>{"Bucket", "Table"}));
  EXPECT_EQ(stack.find("Table")->depends_on, (std::vector<std::string>{"Bucket"}));
}

TEST(stack_file, ShortFormTagsBecomeLongForm) {
  Stack stack = load_ok(R"(Parameters:
  Env: {Type: String, Default: dev}
Resources:
  Q: {Type: AWS::SQS::Queue}
Outputs:
  Ref: {Value: !Ref Q}
  GetAttDotted: {Value: !GetAtt Q.Arn}
  GetAttList: {Value: !GetAtt [Q, QueueUrl]}
  Sub: {Value: !Sub "${Q}-${Env}"}
  SubList: {Value: !Sub ["${X}-${Q.Arn}", {X: !Ref Env}]}
  Join: {Value: !Join [",", [a, !Ref Env]]}
  Select: {Value: !Select [1, !GetAZs ""]}
  Split: {Value: !Split ["|", "a|b"]}
  If: {Value: !If [IsProd, 1, 2]}
  Equals: {Value: !Equals [!Ref Env, prod]}
  ImportValue: {Value: !ImportValue shared-vpc}
  FindInMap: {Value: !FindInMap [M, K1, K2]}
  Base64: {Value: !Base64 hello}
  Logic: {Value: !And [!Not [!Condition IsProd], !Or [true, false]]}
  Length: {Value: !Length [1, 2]}
)");
  const json& o = stack.outputs;
  EXPECT_EQ(o["Ref"]["Value"], json::parse(R"({"Ref": "Q"})"));
  EXPECT_EQ(o["GetAttDotted"]["Value"], json::parse(R"({"Fn::GetAtt": ["Q", "Arn"]})"));
  EXPECT_EQ(o["GetAttList"]["Value"], json::parse(R"({"Fn::GetAtt": ["Q", "QueueUrl"]})"));
  EXPECT_EQ(o["Sub"]["Value"], json::parse(R"({"Fn::Sub": "${Q}-${Env}"})"));
  EXPECT_EQ(o["SubList"]["Value"], json::parse(R"({"Fn::Sub": ["${X}-${Q.Arn}", {"X": {"Ref": "Env"}}]})"));
  EXPECT_EQ(o["Join"]["Value"], json::parse(R"({"Fn::Join": [",", ["a", {"Ref": "Env"}]]})"));
  EXPECT_EQ(o["Select"]["Value"], json::parse(R"({"Fn::Select": [1, {"Fn::GetAZs": ""}]})"));
  EXPECT_EQ(o["Split"]["Value"], json::parse(R"({"Fn::Split": ["|", "a|b"]})"));
  EXPECT_EQ(o["If"]["Value"], json::parse(R"({"Fn::If": ["IsProd", 1, 2]})"));
  EXPECT_EQ(o["Equals"]["Value"], json::parse(R"({"Fn::Equals": [{"Ref": "Env"}, "prod"]})"));
  EXPECT_EQ(o["ImportValue"]["Value"], json::parse(R"({"Fn::ImportValue": "shared-vpc"})"));
  EXPECT_EQ(o["FindInMap"]["Value"], json::parse(R"({"Fn::FindInMap": ["M", "K1", "K2"]})"));
  EXPECT_EQ(o["Base64"]["Value"], json::parse(R"({"Fn::Base64": "hello"})"));
  EXPECT_EQ(
      o["Logic"]["Value"],
      json::parse(R"({"Fn::And": [{"Fn::Not": [{"Condition": "IsProd"}]}, {"Fn::Or": [true, false]}]})"));
  EXPECT_EQ(o["Length"]["Value"], json::parse(R"({"Fn::Length": [1, 2]})"));
}

TEST(stack_file, PlainScalarsAreTypedAndQuotedOnesStayStrings) {
  Stack stack = load_ok(R"(Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy:
        int: 123
        quoted_int: "123"
        single_quoted: '123'
        negative: -7
        float: 1.5
        exp: 1e3
        bool: true
        quoted_bool: "true"
        False: False
        yes: yes
        tilde: ~
        null_word: null
        empty:
        quoted_empty: ""
        leading_zero: 0123
        account: 012345678901
        hex: 0x1F
        octal: 0o17
        inf: .inf
        huge: 123456789012345678901234567890
        str_tag: !!str 42
        int_tag: !!int "42"
        block: |
          7
        list: [1, "1", one]
)");
  const json& p = stack.find("Q")->properties["RedrivePolicy"];
  EXPECT_EQ(p["int"], json(123));
  EXPECT_TRUE(p["int"].is_number_integer());
  EXPECT_EQ(p["quoted_int"], json("123"));
  EXPECT_EQ(p["single_quoted"], json("123"));
  EXPECT_EQ(p["negative"], json(-7));
  EXPECT_EQ(p["float"], json(1.5));
  EXPECT_EQ(p["exp"], json(1000.0));
  EXPECT_EQ(p["bool"], json(true));
  EXPECT_EQ(p["quoted_bool"], json("true"));
  EXPECT_EQ(p["False"], json(false));
  EXPECT_EQ(p["yes"], json("yes")) << "YAML 1.2: yes is a string";
  EXPECT_TRUE(p["tilde"].is_null());
  EXPECT_TRUE(p["null_word"].is_null());
  EXPECT_TRUE(p["empty"].is_null());
  EXPECT_EQ(p["quoted_empty"], json(""));
  EXPECT_EQ(p["leading_zero"], json("0123"));
  EXPECT_EQ(p["account"], json("012345678901"));
  EXPECT_EQ(p["hex"], json(31));
  EXPECT_EQ(p["octal"], json(15));
  EXPECT_EQ(p["inf"], json(".inf"));
  EXPECT_EQ(p["huge"], json("123456789012345678901234567890"));
  EXPECT_EQ(p["str_tag"], json("42"));
  EXPECT_EQ(p["int_tag"], json(42));
  EXPECT_EQ(p["block"], json("7\n"));
  EXPECT_EQ(p["list"], json::parse(R"([1, "1", "one"])"));
}

TEST(stack_file, ScalarsAreNormalisedToDeclaredTypes) {
  Stack stack = load_ok(R"(Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: 123
      VisibilityTimeout: "30"
      FifoQueue: "true"
      ContentBasedDeduplication: False
      Tags: [{Key: version, Value: 1.10}]
  I:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: abc, IntegrationType: AWS_PROXY, PayloadFormatVersion: 2.0}
  F:
    Type: AWS::Lambda::Function
    Properties:
      Code: {ZipFile: "exports.handler = async () => 1"}
      Environment: {Variables: {PORT: 8080, DEBUG: true}}
)");
  const json& q = stack.find("Q")->properties;
  EXPECT_EQ(q["QueueName"], json("123"));
  EXPECT_EQ(q["VisibilityTimeout"], json(30));
  EXPECT_EQ(q["FifoQueue"], json(true));
  EXPECT_EQ(q["ContentBasedDeduplication"], json(false));
  EXPECT_EQ(q["Tags"][0]["Value"], json("1.10")) << "the original text, not 1.1";
  EXPECT_EQ(stack.find("I")->properties["PayloadFormatVersion"], json("2.0"));
  EXPECT_EQ(stack.find("F")->properties["Environment"]["Variables"],
            json::parse(R"({"PORT": "8080", "DEBUG": "true"})"));
}

TEST(stack_file, RefsToParametersAndPseudoParametersAreAllowed) {
  Stack stack = load_ok(R"(Parameters:
  Size: {Type: Number, Default: 256}
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: !Ref Size
      FunctionName: !Sub "${AWS::StackName}-${AWS::AccountId}-${AWS::Region}"
      Role: !Sub "arn:${AWS::Partition}:iam::${AWS::URLSuffix}:role/${AWS::StackId}"
      Description: !Ref AWS::NoValue
      Handler: !Sub "${!NotAVariable}.handler"
)");
  EXPECT_TRUE(stack.find("F")->depends_on.empty());
}

// ------------------------------------------------------------------------------------------------
// Errors

TEST(stack_file, ErrorToStringFormat) {
  StackError e{"config/x.yaml", "Resources.OrdersQueue.Properties.QueueName", 12, 7, "must be a string"};
  EXPECT_EQ(e.to_string(),
            "config/x.yaml:12:7: Resources.OrdersQueue.Properties.QueueName: must be a string");
  EXPECT_EQ((StackError{"x.yaml", "", 0, 0, "cannot open"}).to_string(), "x.yaml: cannot open");
  EXPECT_EQ((StackError{"x.yaml", "", 3, 0, "bad"}).to_string(), "x.yaml:3: bad");
}

TEST(stack_file, WrongPropertyTypeHasExactPathLineAndColumn) {
  auto errors = load_errors(R"(Resources:
  OrdersQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: [not, a, string]
)");
  ASSERT_EQ(errors.size(), 1u) << format_errors(errors);
  EXPECT_EQ(errors[0].to_string(),
            "test.yaml:5:7: Resources.OrdersQueue.Properties.QueueName: must be a string");
}

TEST(stack_file, PropertyErrors) {
  auto errors = load_errors(R"(Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 50000
      DelaySeconds: soon
      QueueNme: orders
      FifoQueue: maybe
      DeduplicationScope: everything
      QueueName: ""
      Tags: [{Key: team}]
  F:
    Type: AWS::Lambda::Function
    Properties:
      Timeout: 0
      MemorySize: 64
      Environment: {Variables: {A: [1]}}
      Architectures: [sparc]
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: PRIMARY}]
)");
  EXPECT_TRUE(has_error(errors, "Resources.Q.Properties.VisibilityTimeout", 5, 7,
                        "must be between 0 and 43200 (is 50000)"));
  EXPECT_TRUE(has_error(errors, "Resources.Q.Properties.DelaySeconds", 6, 7, "must be an integer"));
  EXPECT_TRUE(has_error(errors, "Resources.Q.Properties.QueueNme", 7, 7,
                        "unknown property \"QueueNme\" for AWS::SQS::Queue (did you mean \"QueueName\"?)"));
  EXPECT_TRUE(has_error(errors, "Resources.Q.Properties.FifoQueue", 8, 7, "must be a boolean"));
  EXPECT_TRUE(has_error(errors, "Resources.Q.Properties.DeduplicationScope", 9, 7,
                        "\"everything\" is not one of: messageGroup, queue"));
  EXPECT_TRUE(
      has_error(errors, "Resources.Q.Properties.QueueName", 10, 7, "length must be between 1 and 80"));
  EXPECT_TRUE(
      has_error(errors, "Resources.Q.Properties.Tags[0]", 11, 14, "missing required property \"Value\""));
  EXPECT_TRUE(has_error(errors, "Resources.F.Properties", 14, 5,
                        "missing required property \"Code\" for AWS::Lambda::Function"));
  EXPECT_TRUE(has_error(errors, "Resources.F.Properties.Timeout", 15, 7, "must be between 1 and 900 (is 0)"));
  EXPECT_TRUE(has_error(errors, "Resources.F.Properties.MemorySize", 16, 7, "must be between 128 and 10240"));
  EXPECT_TRUE(
      has_error(errors, "Resources.F.Properties.Environment.Variables.A", 17, 33, "must be a string"));
  EXPECT_TRUE(
      has_error(errors, "Resources.F.Properties.Architectures[0]", 18, 23, "is not one of: x86_64, arm64"));
  EXPECT_TRUE(
      has_error(errors, "Resources.T.Properties.KeySchema[0].KeyType", 22, 39, "is not one of: HASH, RANGE"));
  EXPECT_EQ(errors.size(), 13u) << format_errors(errors);
  // Reported in file order.
  for (std::size_t i = 1; i < errors.size(); ++i) EXPECT_LE(errors[i - 1].line, errors[i].line);
}

TEST(stack_file, MissingRequiredPropertyWithoutPropertiesPointsAtTheResource) {
  auto errors = load_errors("Resources:\n  F: {Type: AWS::Lambda::Function}\n");
  ASSERT_EQ(errors.size(), 1u) << format_errors(errors);
  EXPECT_EQ(errors[0].to_string(),
            "test.yaml:2:3: Resources.F: missing required property \"Code\" for AWS::Lambda::Function");
}

TEST(stack_file, IntrinsicsPassTypeChecks) {
  load_ok(R"(Parameters:
  T: {Type: Number, Default: 30}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !Ref T
      FifoQueue: {"Fn::Equals": [a, b]}
      Tags: !Split [",", "a,b"]
)");
}

TEST(stack_file, ResourceStructureErrors) {
  auto errors = load_errors(R"(Resources:
  Orders-Queue:
    Type: AWS::SQS::Queue
  NoType:
    Properties: {}
  BadType:
    Type: AWS::SQS::Queu
  Weird:
    Type: AWS::Nothing::Here
  Listy: [1, 2]
  Extra:
    Type: AWS::SQS::Queue
    Propertys: {}
  BadProps:
    Type: AWS::SQS::Queue
    Properties: [a]
  Extra:
    Type: AWS::S3::Bucket
)");
  EXPECT_TRUE(has_error(errors, "Resources.Orders-Queue", 2, 3, "logical ids must be alphanumeric"));
  EXPECT_TRUE(has_error(errors, "Resources.NoType", 4, 3, "missing Type"));
  EXPECT_TRUE(has_error(errors, "Resources.BadType.Type", 7, 5,
                        "unknown resource type \"AWS::SQS::Queu\" (did you mean \"AWS::SQS::Queue\"?)"));
  EXPECT_TRUE(has_error(errors, "Resources.Weird.Type", 9, 5,
                        "unknown resource type \"AWS::Nothing::Here\" (supported: "));
  EXPECT_TRUE(has_error(errors, "Resources.Listy", 10, 3, "must be a mapping with Type and Properties"));
  EXPECT_TRUE(has_error(errors, "Resources.Extra.Propertys", 13, 5,
                        "unknown resource attribute \"Propertys\" (did you mean \"Properties\"?)"));
  EXPECT_TRUE(has_error(errors, "Resources.BadProps.Properties", 16, 5, "must be a mapping"));
  EXPECT_TRUE(has_error(errors, "Resources.Extra", 17, 3,
                        "duplicate logical id \"Extra\" (first defined on line 11)"));
  EXPECT_EQ(errors.size(), 8u) << format_errors(errors);
}

TEST(stack_file, TopLevelErrors) {
  auto errors = load_errors(R"(StratusVersion: "2"
AWSTemplateFormatVersion: "2020-01-01"
Description: [x]
Resource: {}
Outputs:
  Url: {Description: no value}
)");
  EXPECT_TRUE(has_error(errors, "StratusVersion", 1, 1, "must be \"1\""));
  EXPECT_TRUE(has_error(errors, "AWSTemplateFormatVersion", 2, 1, "must be \"2010-09-09\""));
  EXPECT_TRUE(has_error(errors, "Description", 3, 1, "must be a string"));
  EXPECT_TRUE(has_error(errors, "Resource", 4, 1,
                        "unknown top-level key \"Resource\" (did you mean \"Resources\"?)"));
  EXPECT_TRUE(has_error(errors, "", 1, 1, "missing Resources"));
  EXPECT_TRUE(has_error(errors, "Outputs.Url", 6, 3, "missing Value"));
  EXPECT_EQ(errors.size(), 6u) << format_errors(errors);

  auto list = load_errors("- a\n- b\n");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].to_string(), "test.yaml:1:1: the top level must be a mapping with Resources");

  auto empty = load_errors("");
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_NE(empty[0].message.find("empty"), std::string::npos);

  auto two = load_errors("Resources: {}\n---\nResources: {}\n");
  ASSERT_EQ(two.size(), 1u);
  EXPECT_NE(two[0].message.find("one YAML document"), std::string::npos);

  EXPECT_EQ(load_ok("StratusVersion: 1\nResources: {}\n").resources.size(), 0u) << "plain 1 is accepted too";
}

TEST(stack_file, ReferenceErrors) {
  auto errors = load_errors(R"(Parameters:
  Stage: {Type: String}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    DependsOn: [Missing, Bucket]
    Properties:
      QueueName: !Ref Queu
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Nowhere.Arn
        other: !GetAtt Bucket.Nope
        fine: !GetAtt Bucket.Arn
        stage: !GetAtt Stage.Arn
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${Stage}-${Unknown}-${Queue.QueueName}"
Outputs:
  Out: {Value: !Ref Ghost}
)");
  EXPECT_TRUE(has_error(errors, "Resources.Queue.DependsOn[0]", 6, 17,
                        "DependsOn \"Missing\", which is not a resource"));
  EXPECT_TRUE(
      has_error(errors, "Resources.Queue.Properties.QueueName.Ref", 8, 18,
                "Ref to \"Queu\", which is not a resource, parameter or pseudo parameter (did you mean "
                "\"Queue\"?)"));
  EXPECT_TRUE(has_error(errors, "Resources.Queue.Properties.RedrivePolicy.deadLetterTargetArn.Fn::GetAtt", 10,
                        30, "Fn::GetAtt on \"Nowhere\", which is not a resource"));
  EXPECT_TRUE(has_error(errors, "Resources.Queue.Properties.RedrivePolicy.other.Fn::GetAtt", 11, 16,
                        "AWS::S3::Bucket has no attribute \"Nope\" (it has: Arn, DomainName"));
  EXPECT_TRUE(has_error(errors, "Resources.Queue.Properties.RedrivePolicy.stage.Fn::GetAtt", 13, 16,
                        "Fn::GetAtt on \"Stage\", which is not a resource"));
  EXPECT_TRUE(
      has_error(errors, "Resources.Bucket.Properties.BucketName.Fn::Sub", 17, 19,
                "Fn::Sub references \"Unknown\", which is not a resource, parameter or pseudo parameter"));
  EXPECT_TRUE(has_error(errors, "Outputs.Out.Value.Ref", 19, 16, "Ref to \"Ghost\""));
  EXPECT_EQ(errors.size(), 7u) << format_errors(errors);
}

TEST(stack_file, CyclesAreNamed) {
  auto errors = load_errors(R"(Resources:
  A: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt B.QueueName}}
  B: {Type: AWS::SQS::Queue, DependsOn: C}
  C: {Type: AWS::SQS::Queue, Properties: {QueueName: !Sub "${A}"}}
  D: {Type: AWS::SQS::Queue, DependsOn: A}
  Self: {Type: AWS::SQS::Queue, Properties: {QueueName: !Ref Self}}
)");
  EXPECT_TRUE(has_error(errors, "Resources.A", 2, 3, "circular dependency: A -> B -> C -> A"));
  EXPECT_TRUE(has_error(errors, "Resources.Self", 6, 3, "circular dependency: Self -> Self"));
  EXPECT_EQ(errors.size(), 2u) << format_errors(errors);
}

TEST(stack_file, UnknownTagAndSyntaxErrors) {
  auto tag = load_errors(R"(Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Reff Other
)");
  ASSERT_EQ(tag.size(), 1u) << format_errors(tag);
  EXPECT_EQ(tag[0].to_string(), "test.yaml:5:7: Resources.Q.Properties.QueueName: unknown tag \"!Reff\"");

  auto getatt = load_errors("Resources:\n  Q: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt Q}}\n");
  EXPECT_TRUE(
      has_error(getatt, "Resources.Q.Properties.QueueName.Fn::GetAtt", 2, 54, "must be LogicalId.Attribute"));

  auto syntax = load_errors(R"(Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties: {QueueName: [unclosed
  R: {Type: AWS::SQS::Queue}
)");
  ASSERT_EQ(syntax.size(), 1u) << format_errors(syntax);
  EXPECT_EQ(syntax[0].path, "");
  EXPECT_EQ(syntax[0].line, 5);
  EXPECT_GT(syntax[0].column, 0);
  EXPECT_FALSE(syntax[0].message.empty());

  auto indent = load_errors("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n   Properties: {}\n");
  ASSERT_EQ(indent.size(), 1u) << format_errors(indent);
  EXPECT_EQ(indent[0].line, 4);
}

TEST(stack_file, DuplicateKeysAndParameterErrors) {
  auto errors = load_errors(R"(Parameters:
  Stage: {Type: String, Default: dev, Defualt: x}
  NoType: {Default: 1}
  Q: {Type: String}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: a
      QueueName: b
)");
  EXPECT_TRUE(has_error(errors, "Parameters.Stage.Defualt", 2, 39,
                        "unknown parameter attribute \"Defualt\" (did you mean \"Default\"?)"));
  EXPECT_TRUE(has_error(errors, "Parameters.NoType", 3, 3, "missing Type"));
  EXPECT_TRUE(
      has_error(errors, "Resources.Q", 6, 3, "\"Q\" is declared both as a parameter and as a resource"));
  EXPECT_TRUE(has_error(errors, "Resources.Q.Properties.QueueName", 10, 7,
                        "duplicate key \"QueueName\" (first defined on line 9)"));
  EXPECT_EQ(errors.size(), 4u) << format_errors(errors);
}

TEST(stack_file, AliasExpansionIsBounded) {
  // Ten levels of ten aliases each: 10^10 values once expanded ("billion laughs").
  std::string text = "Metadata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    text += fmt::format(
        "  a{0}: &a{0} [*a{1}, *a{1}, *a{1}, *a{1}, *a{1}, *a{1}, *a{1}, *a{1}, *a{1}, *a{1}]\n", i, i - 1);
  }
  text += "Resources: {}\n";
  auto errors = load_errors(text);
  ASSERT_EQ(errors.size(), 1u) << format_errors(errors);
  EXPECT_NE(errors[0].message.find("expands to more than 100000 values"), std::string::npos)
      << errors[0].message;
}

TEST(stack_file, LoadFromFileAndMissingFile) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("stratus_stack_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "stack.yaml").string();
  {
    std::ofstream out(path);
    out << kOrdersStack;
  }
  Stack stack;
  std::vector<StackError> errors;
  EXPECT_TRUE(load_stack_file(path, stack, errors)) << format_errors(errors);
  EXPECT_EQ(stack.file, path);
  EXPECT_EQ(stack.resources.size(), 5u);

  std::string missing = (dir / "nope.yaml").string();
  EXPECT_FALSE(load_stack_file(missing, stack, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, missing);
  EXPECT_EQ(errors[0].to_string(), missing + ": cannot open stack file: No such file or directory");
  std::filesystem::remove_all(dir);
}

TEST(stack_file, EveryDeclaredTypeIsWellFormed) {
  std::set<std::string> types;
  for (const auto& t : resource_types()) {
    EXPECT_TRUE(types.insert(t.type).second) << "duplicate " << t.type;
    std::set<std::string> names;
    for (const auto& p : t.properties) EXPECT_TRUE(names.insert(p.name).second) << t.type << "." << p.name;
    EXPECT_EQ(find_resource_type(t.type), &t);
  }
  for (const char* needed :
       {"AWS::Serverless::Function", "AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Permission", "AWS::SQS::Queue", "AWS::Events::EventBus", "AWS::Events::Rule",
        "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Stage", "AWS::ApiGateway::RestApi"}) {
    EXPECT_TRUE(types.contains(needed)) << needed;
  }
}

// ------------------------------------------------------------------------------------------------
// Applying

struct FakeQueue {
  json properties;
  int applies = 0;
};

// A queue service in miniature: create-or-update by QueueName.
class FakeQueueProvider : public ResourceProvider {
 public:
  std::string type() const override { return "AWS::SQS::Queue"; }
  bool apply(const Resource& resource, const ResolvedProperties& properties, const ApplyContext& context,
             AppliedResource& out, std::string& error) override {
    std::string name = properties.value("QueueName", resource.logical_id);
    if (name == fail_on) {
      error = "QueueAlreadyExists: a queue named " + name + " exists with different attributes";
      return false;
    }
    FakeQueue& q = queues[name];
    q.properties = properties;
    ++q.applies;
    order.push_back(resource.logical_id);
    std::string url = "http://localhost:4566/" + context.account + "/" + name;
    out.physical_id = url;
    out.attributes = {{"Arn", "arn:aws:sqs:" + context.region + ":" + context.account + ":" + name},
                      {"QueueName", name},
                      {"QueueUrl", url}};
    return true;
  }
  std::map<std::string, FakeQueue> queues;
  std::vector<std::string> order;
  std::string fail_on;
};

class FakeFunctionProvider : public ResourceProvider {
 public:
  explicit FakeFunctionProvider(std::string t) : type_(std::move(t)) {}
  std::string type() const override { return type_; }
  bool apply(const Resource& resource, const ResolvedProperties& properties, const ApplyContext& context,
             AppliedResource& out, std::string&) override {
    std::string name = properties.value("FunctionName", resource.logical_id);
    functions[name] = properties;
    out.physical_id = name;
    out.attributes = {
        {"Arn", "arn:aws:lambda:" + context.region + ":" + context.account + ":function:" + name}};
    return true;
  }
  std::string type_;
  std::map<std::string, json> functions;
};

class FakeMappingProvider : public ResourceProvider {
 public:
  std::string type() const override { return "AWS::Lambda::EventSourceMapping"; }
  bool apply(const Resource&, const ResolvedProperties& properties, const ApplyContext&, AppliedResource& out,
             std::string&) override {
    last = properties;
    out.physical_id = "esm-1";
    out.attributes = {{"Id", "esm-1"}};
    return true;
  }
  json last;
};

class FakeBucketProvider : public ResourceProvider {
 public:
  std::string type() const override { return "AWS::S3::Bucket"; }
  bool apply(const Resource& r, const ResolvedProperties& properties, const ApplyContext&,
             AppliedResource& out, std::string&) override {
    last = properties;
    out.physical_id = properties.value("BucketName", "bucket-" + r.logical_id);
    out.attributes = {{"Arn", "arn:aws:s3:::" + out.physical_id}};
    return true;
  }
  json last;
};

struct Fakes {
  std::shared_ptr<FakeQueueProvider> queues = std::make_shared<FakeQueueProvider>();
  std::shared_ptr<FakeFunctionProvider> functions =
      std::make_shared<FakeFunctionProvider>("AWS::Serverless::Function");
  std::shared_ptr<FakeMappingProvider> mappings = std::make_shared<FakeMappingProvider>();
  std::shared_ptr<FakeBucketProvider> buckets = std::make_shared<FakeBucketProvider>();
  StackApplier applier;
  Fakes() {
    applier.register_provider(queues);
    applier.register_provider(functions);
    applier.register_provider(mappings);
    applier.register_provider(buckets);
  }
};

TEST(stack_applier, ResolvesRefGetAttAndSubInDependencyOrder) {
  Stack stack = load_ok(kOrdersStack);
  Fakes f;
  ApplyContext ctx;
  ctx.region = "eu-west-1";
  std::vector<StackError> errors;
  ASSERT_TRUE(f.applier.apply(stack, ctx, errors)) << format_errors(errors);
  EXPECT_TRUE(errors.empty());

  EXPECT_EQ(f.queues->order, (std::vector<std::string>{"OrdersDLQ", "OrdersQueue"}));
  const json& orders = f.queues->queues.at("orders-dev").properties;
  EXPECT_EQ(orders["RedrivePolicy"]["deadLetterTargetArn"], "arn:aws:sqs:eu-west-1:000000000000:orders-dlq");
  EXPECT_EQ(orders["RedrivePolicy"]["maxReceiveCount"], 3);
  EXPECT_EQ(orders["VisibilityTimeout"], 60);

  const json& worker = f.functions->functions.at("Worker");
  EXPECT_EQ(worker["Environment"]["Variables"]["QUEUE_URL"], "http://localhost:4566/000000000000/orders-dev");
  EXPECT_EQ(worker["Environment"]["Variables"]["LABEL"], "orders-dev-eu-west-1");

  EXPECT_EQ(f.mappings->last["FunctionName"], "Worker");
  EXPECT_EQ(f.mappings->last["EventSourceArn"], "arn:aws:sqs:eu-west-1:000000000000:orders-dev");

  EXPECT_EQ(f.applier.applied().at("OrdersQueue").physical_id,
            "http://localhost:4566/000000000000/orders-dev");
  EXPECT_EQ(f.applier.applied().size(), 5u);
  EXPECT_EQ(f.applier.outputs()["QueueUrl"], "http://localhost:4566/000000000000/orders-dev");
  EXPECT_EQ(f.applier.outputs()["DlqArn"], "arn:aws:sqs:eu-west-1:000000000000:orders-dlq");
}

TEST(stack_applier, ReApplyIsIdempotent) {
  Stack stack = load_ok(kOrdersStack);
  Fakes f;
  std::vector<StackError> errors;
  ASSERT_TRUE(f.applier.apply(stack, ApplyContext{}, errors)) << format_errors(errors);
  auto first = f.queues->queues;
  auto first_applied = f.applier.applied();
  ASSERT_TRUE(f.applier.apply(stack, ApplyContext{}, errors)) << format_errors(errors);
  EXPECT_EQ(f.queues->queues.size(), 2u) << "no duplicates after a second start";
  for (const auto& [name, q] : f.queues->queues) {
    EXPECT_EQ(q.applies, 2) << name;
    EXPECT_EQ(q.properties, first.at(name).properties) << name;
  }
  ASSERT_EQ(f.applier.applied().size(), first_applied.size());
  for (const auto& [id, a] : f.applier.applied()) {
    EXPECT_EQ(a.physical_id, first_applied.at(id).physical_id);
    EXPECT_EQ(a.attributes, first_applied.at(id).attributes);
  }
}

TEST(stack_applier, ProviderErrorStopsAndNamesTheResource) {
  Stack stack = load_ok(kOrdersStack);
  Fakes f;
  f.queues->fail_on = "orders-dev";
  std::vector<StackError> errors;
  EXPECT_FALSE(f.applier.apply(stack, ApplyContext{}, errors));
  ASSERT_EQ(errors.size(), 1u) << format_errors(errors);
  EXPECT_EQ(errors[0].to_string(),
            "test.yaml:23: Resources.OrdersQueue: AWS::SQS::Queue OrdersQueue could not be applied: "
            "QueueAlreadyExists: a queue named orders-dev exists with different attributes");
  EXPECT_EQ(f.queues->order, (std::vector<std::string>{"OrdersDLQ"}));
  EXPECT_TRUE(f.functions->functions.empty()) << "nothing after the failure is applied";
  EXPECT_EQ(f.applier.applied().size(), 1u);
}

TEST(stack_applier, MissingProvidersAreReportedBeforeApplyingAnything) {
  Stack stack = load_ok(R"(Resources:
  Q: {Type: AWS::SQS::Queue}
  T:
    Type: AWS::DynamoDB::Table
    Properties: {KeySchema: [{AttributeName: pk, KeyType: HASH}]}
  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: api, ProtocolType: HTTP}}
)");
  StackApplier applier;
  auto queues = std::make_shared<FakeQueueProvider>();
  applier.register_provider(queues);
  EXPECT_TRUE(applier.has_provider("AWS::SQS::Queue"));
  EXPECT_FALSE(applier.has_provider("AWS::DynamoDB::Table"));
  std::vector<StackError> errors;
  EXPECT_FALSE(applier.apply(stack, ApplyContext{}, errors));
  ASSERT_EQ(errors.size(), 2u) << format_errors(errors);
  EXPECT_EQ(errors[0].to_string(),
            "test.yaml:3: Resources.T: AWS::DynamoDB::Table is valid but not supported by this build yet");
  EXPECT_EQ(errors[1].path, "Resources.Api");
  EXPECT_TRUE(queues->queues.empty());
}

TEST(stack_applier, OtherFunctionsNoValueAndParameters) {
  Stack stack = load_ok(R"(Parameters:
  Names: {Type: CommaDelimitedList, Default: "alpha, beta,gamma"}
  Timeout: {Type: Number, Default: "30"}
  Suffix: {Type: String}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ["-", [!Select [1, !Ref Names], !Ref Suffix, !Select [0, !GetAZs ""]]]
      VisibilityTimeout: !Ref Timeout
      KmsMasterKeyId: !Ref AWS::NoValue
      RedrivePolicy:
        parts: !Split [",", "a,b,,c"]
        encoded: !Base64 "hi!"
        count: !Length [1, 2, 3]
        json: !ToJsonString {a: 1}
        literal: !Sub ["${!Literal}-${AWS::Partition}-${AWS::URLSuffix}-${Name}", {Name: x}]
        vars: !Sub ["${Name}", {Name: !GetAtt B.Arn}]
        list: [keep, !Ref AWS::NoValue]
        stack: !Ref AWS::StackName
        id: !Ref AWS::StackId
  B: {Type: AWS::S3::Bucket, Properties: {BucketName: photos}}
Outputs:
  Q: {Value: !GetAtt Q.QueueName}
)");
  Fakes f;
  ApplyContext ctx;
  ctx.stack_name = "demo";
  ctx.parameters = {{"Suffix", "v2"}};
  std::vector<StackError> errors;
  ASSERT_TRUE(f.applier.apply(stack, ctx, errors)) << format_errors(errors);
  ASSERT_EQ(f.queues->queues.size(), 1u);
  const auto& [name, q] = *f.queues->queues.begin();
  EXPECT_EQ(name, "beta-v2-us-east-1a");
  EXPECT_EQ(q.properties["VisibilityTimeout"], json(30)) << "a string parameter is normalised to the integer";
  EXPECT_FALSE(q.properties.contains("KmsMasterKeyId")) << "AWS::NoValue removes the property";
  const json& p = q.properties["RedrivePolicy"];
  EXPECT_EQ(p["parts"], json::parse(R"(["a", "b", "", "c"])"));
  EXPECT_EQ(p["encoded"], "aGkh");
  EXPECT_EQ(p["count"], 3);
  EXPECT_EQ(p["json"], R"({"a":1})");
  EXPECT_EQ(p["literal"], "${Literal}-aws-amazonaws.com-x");
  EXPECT_EQ(p["vars"], "arn:aws:s3:::photos");
  EXPECT_EQ(p["list"], json::array({"keep"}));
  EXPECT_EQ(p["stack"], "demo");
  EXPECT_EQ(p["id"],
            "arn:aws:cloudformation:us-east-1:000000000000:stack/demo/00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(f.applier.outputs()["Q"], "beta-v2-us-east-1a");
}

TEST(stack_applier, ResolutionErrors) {
  const char* text = R"(Parameters:
  Timeout: {Type: String, Default: soon}
  Missing: {Type: String}
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: !Ref Timeout
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !GetAtt F.Arn
      RedrivePolicy: {x: !If [C, a, b]}
)";
  Stack stack = load_ok(text);
  {
    Fakes f;
    std::vector<StackError> errors;
    EXPECT_FALSE(f.applier.apply(stack, ApplyContext{}, errors));
    ASSERT_EQ(errors.size(), 1u) << format_errors(errors);
    EXPECT_EQ(errors[0].to_string(),
              "test.yaml: Parameters.Missing: has no Default and no value was given for it");
  }
  ApplyContext ctx;
  ctx.parameters = {{"Missing", "given"}};
  {
    Fakes f;
    std::vector<StackError> errors;
    EXPECT_FALSE(f.applier.apply(stack, ctx, errors));
    ASSERT_EQ(errors.size(), 1u) << format_errors(errors);
    EXPECT_EQ(errors[0].to_string(),
              "test.yaml:5: Resources.F.Properties.Timeout: once resolved, must be an integer");
  }
  ctx.parameters["Timeout"] = 10;
  {
    Fakes f;
    std::vector<StackError> errors;
    EXPECT_FALSE(f.applier.apply(stack, ctx, errors));
    ASSERT_EQ(errors.size(), 1u) << format_errors(errors);
    EXPECT_EQ(errors[0].to_string(),
              "test.yaml:9: Resources.Q.Properties.RedrivePolicy.x.Fn::If: Fn::If is not supported by this "
              "build yet");
    EXPECT_EQ(f.functions->functions.at("F")["Timeout"], 10);
  }
}

}  // namespace
}  // namespace stratus::stack
