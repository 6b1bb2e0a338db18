#include <gtest/gtest.h>

#include "protocol/protocol.hpp"
#include "test_util.hpp"

namespace stratus::protocol {
namespace {

using testing::make_request;
using testing::sigv4;

TEST(ProtocolModel, FindsEveryModelAndOperations) {
  auto names = model_names();
  EXPECT_EQ(names, (std::vector<std::string>{"apigateway", "apigatewayv2", "dynamodb", "dynamodbstreams",
                                             "events", "lambda", "s3", "sqs"}));
  EXPECT_EQ(find_model("nope"), nullptr);
  const ServiceModel* sqs = find_model("sqs");
  ASSERT_NE(sqs, nullptr);
  EXPECT_EQ(sqs, find_model("sqs"));  // parsed once
  EXPECT_EQ(sqs->protocol(), Protocol::json);
  EXPECT_TRUE(sqs->query_compatible());
  EXPECT_EQ(sqs->target_prefix(), "AmazonSQS");
  EXPECT_EQ(sqs->api_version(), "2012-11-05");
  EXPECT_NE(sqs->operation("SendMessage"), nullptr);
  EXPECT_EQ(sqs->operation("SendMessages"), nullptr);
  EXPECT_TRUE(std::is_sorted(sqs->operation_names().begin(), sqs->operation_names().end()));
  const ServiceModel* lambda = find_model("lambda");
  ASSERT_NE(lambda, nullptr);
  EXPECT_EQ(lambda->protocol(), Protocol::rest_json);
  const OperationModel* create = lambda->operation("CreateFunction");
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(create->http_method, "POST");
  EXPECT_EQ(create->success_code, 201);
  EXPECT_EQ(find_model("s3")->protocol(), Protocol::rest_xml);
  EXPECT_EQ(find_model("dynamodbstreams")->signing_name(), "dynamodb");
  EXPECT_EQ(find_model("apigatewayv2")->signing_name(), "apigateway");
  EXPECT_EQ(find_model("events")->json_version(), "1.1");
  EXPECT_STREQ(protocol_name(Protocol::rest_xml), "rest-xml");
}

TEST(ProtocolIdentify, JsonTargetSignedAndUnsigned) {
  auto r = make_request("POST", "/", "{}");
  r.headers.add("X-Amz-Target", "DynamoDB_20120810.PutItem");
  r.headers.add("Authorization", sigv4("dynamodb", "ap-south-1"));
  auto id = identify(r);
  EXPECT_EQ(id.service, "dynamodb");
  EXPECT_EQ(id.protocol, Protocol::json);
  EXPECT_EQ(id.operation, "PutItem");
  EXPECT_EQ(id.region, "ap-south-1");
  EXPECT_EQ(id.access_key, "AKIDEXAMPLE");
  EXPECT_FALSE(id.error);

  auto u = make_request("POST", "/", "{}");
  u.headers.add("X-Amz-Target", "AWSEvents.PutEvents");
  id = identify(u);
  EXPECT_EQ(id.service, "events");
  EXPECT_EQ(id.operation, "PutEvents");
  EXPECT_EQ(id.region, "us-east-1");
  EXPECT_EQ(id.access_key, "");
}

TEST(ProtocolIdentify, UnknownJsonOperation) {
  auto r = make_request("POST", "/", "{}");
  r.headers.add("X-Amz-Target", "DynamoDB_20120810.Frobnicate");
  r.headers.add("Authorization", sigv4("dynamodb"));
  auto id = identify(r);
  EXPECT_EQ(id.service, "dynamodb");
  EXPECT_TRUE(id.unknown_operation);
  EXPECT_EQ(id.operation, "");
  EXPECT_EQ(unknown_operation_error(id).code, "UnknownOperationException");
}

TEST(ProtocolIdentify, DynamoDbStreamsSignedAsDynamoDb) {
  auto r = make_request("POST", "/", "{}");
  r.headers.add("X-Amz-Target", "DynamoDBStreams_20120810.GetRecords");
  r.headers.add("Authorization", sigv4("dynamodb"));
  auto id = identify(r);
  EXPECT_EQ(id.service, "dynamodbstreams");
  EXPECT_EQ(id.operation, "GetRecords");
}

TEST(ProtocolIdentify, SqsJsonQueryAndQueuePath) {
  auto j = make_request("POST", "/", R"({"QueueName":"q"})");
  j.headers.add("X-Amz-Target", "AmazonSQS.CreateQueue");
  j.headers.add("x-amzn-query-mode", "true");
  j.headers.add("Authorization", sigv4("sqs"));
  auto id = identify(j);
  EXPECT_EQ(id.service, "sqs");
  EXPECT_EQ(id.protocol, Protocol::json);
  EXPECT_EQ(id.operation, "CreateQueue");

  auto q = make_request("POST", "/", "Action=SendMessage&Version=2012-11-05&MessageBody=hi");
  q.headers.add("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  q.headers.add("Authorization", sigv4("sqs"));
  id = identify(q);
  EXPECT_EQ(id.service, "sqs");
  EXPECT_EQ(id.protocol, Protocol::query);
  EXPECT_EQ(id.operation, "SendMessage");

  auto unsigned_q = make_request("POST", "/", "Action=ListQueues&Version=2012-11-05");
  unsigned_q.headers.add("Content-Type", "application/x-www-form-urlencoded");
  id = identify(unsigned_q);
  EXPECT_EQ(id.service, "sqs");
  EXPECT_EQ(id.operation, "ListQueues");

  auto get = make_request("GET", "/?Action=ListQueues&Version=2012-11-05");
  id = identify(get);
  EXPECT_EQ(id.service, "sqs");
  EXPECT_EQ(id.protocol, Protocol::query);
  EXPECT_EQ(id.operation, "ListQueues");

  auto path = make_request("POST", "/000000000000/my-queue", "Action=ReceiveMessage");
  path.headers.add("Content-Type", "application/x-www-form-urlencoded");
  id = identify(path);
  EXPECT_EQ(id.service, "sqs");
  EXPECT_EQ(id.operation, "ReceiveMessage");

  auto missing = make_request("POST", "/000000000000/my-queue", "MessageBody=x");
  missing.headers.add("Content-Type", "application/x-www-form-urlencoded");
  id = identify(missing);
  EXPECT_EQ(id.service, "sqs");
  ASSERT_TRUE(id.error);
  EXPECT_EQ(id.error->code, "MissingAction");

  auto bad = make_request("POST", "/", "Action=Explode&Version=2012-11-05");
  bad.headers.add("Content-Type", "application/x-www-form-urlencoded");
  id = identify(bad);
  EXPECT_TRUE(id.unknown_operation);
  EXPECT_EQ(unknown_operation_error(id).code, "InvalidAction");
}

TEST(ProtocolIdentify, BucketNamedLikeLambdaVersionSignedForS3) {
  auto r = make_request("GET", "/2015-03-31/functions");
  r.headers.add("Authorization", sigv4("s3"));
  auto id = identify(r);
  EXPECT_EQ(id.service, "s3");
  EXPECT_EQ(id.operation, "GetObject");
  EXPECT_EQ(id.labels["Bucket"], "2015-03-31");
  EXPECT_EQ(id.labels["Key"], "functions");

  auto u = make_request("GET", "/2015-03-31/functions/");
  id = identify(u);
  EXPECT_EQ(id.service, "lambda");
  EXPECT_EQ(id.operation, "ListFunctions");
}

TEST(ProtocolIdentify, PresignedUrls) {
  auto v2 = make_request("GET", "/2015-03-31/key?AWSAccessKeyId=AKID&Signature=abc%3D&Expires=1700000000");
  auto id = identify(v2);
  EXPECT_EQ(id.service, "s3");
  EXPECT_EQ(id.operation, "GetObject");
  EXPECT_EQ(id.access_key, "AKID");

  auto v4 = make_request("PUT",
                         "/bucket/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID2%2F20240101%2Feu-"
                         "central-1%2Fs3%2Faws4_request&X-Amz-Signature=ff");
  id = identify(v4);
  EXPECT_EQ(id.service, "s3");
  EXPECT_EQ(id.operation, "PutObject");
  EXPECT_EQ(id.region, "eu-central-1");
  EXPECT_EQ(id.access_key, "AKID2");
}

TEST(ProtocolIdentify, VirtualHostedS3) {
  for (const char* host : {"my-bucket.localhost:4566", "my-bucket.s3.localhost.localstack.cloud:4566",
                           "my-bucket.s3.eu-west-1.amazonaws.com", "my-bucket.s3-eu-west-1.amazonaws.com"}) {
    auto r = make_request("GET", "/dir/file.txt?x-id=GetObject");
    r.headers.set("Host", host);
    r.headers.add("Authorization", sigv4("s3"));
    auto id = identify(r);
    EXPECT_EQ(id.service, "s3") << host;
    EXPECT_EQ(id.operation, "GetObject") << host;
    EXPECT_EQ(id.labels["Bucket"], "my-bucket") << host;
    EXPECT_EQ(id.labels["Key"], "dir/file.txt") << host;
    EXPECT_TRUE(id.virtual_hosted);
  }
  auto list = make_request("GET", "/?list-type=2&prefix=a");
  list.headers.set("Host", "my-bucket.localhost:4566");
  auto id = identify(list);
  EXPECT_EQ(id.operation, "ListObjectsV2");
  EXPECT_EQ(id.labels["Bucket"], "my-bucket");
  auto buckets = make_request("GET", "/");
  buckets.headers.set("Host", "s3.localhost:4566");
  EXPECT_EQ(identify(buckets).operation, "ListBuckets");
}

TEST(ProtocolIdentify, GarbledAuthorization) {
  auto r = make_request("GET", "/bucket/key");
  r.headers.add("Authorization", "AWS4-HMAC-SHA256 Credential=garbage, SignedHeaders=host, Signature=x");
  auto id = identify(r);
  EXPECT_EQ(id.service, "s3");
  ASSERT_TRUE(id.error);
  EXPECT_EQ(id.error->code, "AuthorizationHeaderMalformed");

  auto j = make_request("POST", "/", "{}");
  j.headers.add("X-Amz-Target", "DynamoDB_20120810.ListTables");
  j.headers.add("Authorization", "Bearer nonsense");
  id = identify(j);
  EXPECT_EQ(id.service, "dynamodb");
  ASSERT_TRUE(id.error);
  EXPECT_EQ(id.error->code, "IncompleteSignatureException");
}

TEST(ProtocolIdentify, NoAuthorizationIsAccepted) {
  auto r = make_request("PUT", "/bucket");
  auto id = identify(r);
  EXPECT_EQ(id.service, "s3");
  EXPECT_EQ(id.operation, "CreateBucket");
  EXPECT_EQ(id.region, "us-east-1");
  EXPECT_FALSE(id.error);
}

TEST(ProtocolIdentify, ApiGatewayV1AndV2) {
  auto v1 = make_request("GET", "/restapis/abc123/resources");
  v1.headers.add("Authorization", sigv4("apigateway"));
  auto id = identify(v1);
  EXPECT_EQ(id.service, "apigateway");
  EXPECT_EQ(id.protocol, Protocol::rest_json);
  EXPECT_EQ(id.operation, "GetResources");
  EXPECT_EQ(id.labels["restapi_id"], "abc123");

  auto v2 = make_request("POST", "/v2/apis", R"({"Name":"a","ProtocolType":"HTTP"})");
  v2.headers.add("Authorization", sigv4("apigateway"));
  id = identify(v2);
  EXPECT_EQ(id.service, "apigatewayv2");
  EXPECT_EQ(id.operation, "CreateApi");

  auto routes = make_request("GET", "/v2/apis/a1/routes/r1");
  routes.headers.add("Authorization", sigv4("apigateway"));
  id = identify(routes);
  EXPECT_EQ(id.operation, "GetRoute");
  EXPECT_EQ(id.labels["apiId"], "a1");
  EXPECT_EQ(id.labels["routeId"], "r1");

  // Unsigned management-looking paths are S3.
  auto u = make_request("GET", "/restapis/abc123");
  id = identify(u);
  EXPECT_EQ(id.service, "s3");

  auto invoke = make_request("GET", "/prod/hello");
  invoke.headers.set("Host", "abc123.execute-api.localhost:4566");
  id = identify(invoke);
  EXPECT_EQ(id.service, "execute-api");
  EXPECT_EQ(id.labels["apiId"], "abc123");
}

struct RouteCase {
  const char* method;
  const char* target;
  const char* header;  // extra header name or nullptr
  const char* operation;
};

TEST(ProtocolIdentify, S3Routes) {
  const RouteCase cases[] = {
      {"GET", "/b/k", nullptr, "GetObject"},
      {"GET", "/b/dir/sub/k.txt", nullptr, "GetObject"},
      {"GET", "/b?list-type=2", nullptr, "ListObjectsV2"},
      {"GET", "/b", nullptr, "ListObjects"},
      {"GET", "/b/", nullptr, "ListObjects"},
      {"GET", "/b?tagging", nullptr, "GetBucketTagging"},
      {"GET", "/b?tagging=", nullptr, "GetBucketTagging"},
      {"PUT", "/b?tagging", nullptr, "PutBucketTagging"},
      {"GET", "/b/k?tagging", nullptr, "GetObjectTagging"},
      {"POST", "/b/k?uploads", nullptr, "CreateMultipartUpload"},
      {"PUT", "/b/k?partNumber=1&uploadId=u", nullptr, "UploadPart"},
      {"PUT", "/b/k?partNumber=1&uploadId=u", "x-amz-copy-source", "UploadPartCopy"},
      {"POST", "/b/k?uploadId=u", nullptr, "CompleteMultipartUpload"},
      {"DELETE", "/b/k?uploadId=u", nullptr, "AbortMultipartUpload"},
      {"PUT", "/b/k", nullptr, "PutObject"},
      {"PUT", "/b/k?x-id=PutObject", nullptr, "PutObject"},
      {"PUT", "/b/k", "x-amz-copy-source", "CopyObject"},
      {"HEAD", "/b/k", nullptr, "HeadObject"},
      {"HEAD", "/b", nullptr, "HeadBucket"},
      {"DELETE", "/b/k", nullptr, "DeleteObject"},
      {"POST", "/b?delete", nullptr, "DeleteObjects"},
      {"GET", "/", nullptr, "ListBuckets"},
      {"GET", "/b?location", nullptr, "GetBucketLocation"},
      {"GET", "/b?uploads", nullptr, "ListMultipartUploads"},
      {"GET", "/b/k?uploadId=u", nullptr, "ListParts"},
  };
  for (const auto& c : cases) {
    auto r = make_request(c.method, c.target);
    r.headers.add("Authorization", sigv4("s3"));
    if (c.header != nullptr) r.headers.add(c.header, "/src/key");
    auto id = identify(r);
    EXPECT_EQ(id.service, "s3") << c.method << " " << c.target;
    EXPECT_EQ(id.operation, c.operation) << c.method << " " << c.target;
    EXPECT_EQ(id.labels["Bucket"], c.target[1] == 'b' ? "b" : "") << c.target;
  }
  auto r = make_request("GET", "/b/a%20b/c%2Bd");
  auto id = identify(r);
  EXPECT_EQ(id.labels["Key"], "a b/c+d");
}

TEST(ProtocolIdentify, LambdaRoutes) {
  const RouteCase cases[] = {
      {"POST", "/2015-03-31/functions/my-fn/invocations", nullptr, "Invoke"},
      {"GET", "/2015-03-31/functions/my-fn", nullptr, "GetFunction"},
      {"GET", "/2015-03-31/functions/", nullptr, "ListFunctions"},
      {"GET", "/2015-03-31/functions", nullptr, "ListFunctions"},
      {"POST", "/2015-03-31/functions", nullptr, "CreateFunction"},
      {"DELETE", "/2015-03-31/functions/my-fn", nullptr, "DeleteFunction"},
      {"PUT", "/2015-03-31/functions/my-fn/code", nullptr, "UpdateFunctionCode"},
      {"GET", "/2015-03-31/functions/my-fn/configuration", nullptr, "GetFunctionConfiguration"},
      {"POST", "/2015-03-31/event-source-mappings/", nullptr, "CreateEventSourceMapping"},
      {"GET", "/2015-03-31/event-source-mappings/?FunctionName=f", nullptr, "ListEventSourceMappings"},
      {"GET", "/2015-03-31/event-source-mappings/uuid-1", nullptr, "GetEventSourceMapping"},
      {"PUT", "/2017-10-31/functions/my-fn/concurrency", nullptr, "PutFunctionConcurrency"},
      {"POST", "/2015-03-31/functions/my-fn/versions", nullptr, "PublishVersion"},
      {"POST", "/2015-03-31/functions/my-fn/aliases", nullptr, "CreateAlias"},
      {"PUT", "/2019-09-25/functions/my-fn/event-invoke-config", nullptr, "PutFunctionEventInvokeConfig"},
  };
  for (const auto& c : cases) {
    auto r = make_request(c.method, c.target);
    r.headers.add("Authorization", sigv4("lambda"));
    auto id = identify(r);
    EXPECT_EQ(id.service, "lambda") << c.target;
    EXPECT_EQ(id.protocol, Protocol::rest_json);
    EXPECT_EQ(id.operation, c.operation) << c.method << " " << c.target;
  }
  auto r = make_request(
      "POST",
      "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations");
  auto id = identify(r);
  EXPECT_EQ(id.labels["FunctionName"], "arn:aws:lambda:us-east-1:000000000000:function:f");
  auto bad = make_request("PATCH", "/2015-03-31/functions/f");
  bad.headers.add("Authorization", sigv4("lambda"));
  id = identify(bad);
  EXPECT_TRUE(id.unknown_operation);
}

TEST(ProtocolIdentify, TargetPrefixTableMatchesModels) {
  for (const auto& name : model_names()) {
    const ServiceModel* m = find_model(name);
    if (m->protocol() != Protocol::json) continue;
    auto r = make_request("POST", "/", "{}");
    r.headers.add("X-Amz-Target", std::string(m->target_prefix()) + "." + m->operation_names().front());
    auto id = identify(r);
    EXPECT_EQ(id.service, name);
    EXPECT_EQ(id.operation, m->operation_names().front());
  }
}

}  // namespace
}  // namespace stratus::protocol
