#include <limits>

#include <gtest/gtest.h>

#include "protocol/codec_internal.hpp"
#include "protocol/protocol.hpp"
#include "protocol/xml.hpp"
#include "test_util.hpp"

namespace stratus::protocol {
namespace {

using nlohmann::json;
using testing::make_request;
using testing::sigv4;

struct Decoded {
  Identified id;
  json input;
  std::optional<AwsError> error;
};

Decoded decode(const http::Request& r) {
  Decoded d;
  d.id = identify(r);
  const ServiceModel* m = find_model(d.id.service);
  EXPECT_NE(m, nullptr);
  const OperationModel* op = m->operation(d.id.operation);
  EXPECT_NE(op, nullptr) << d.id.operation;
  if (m != nullptr && op != nullptr) d.error = decode_input(*m, *op, r, d.id, d.input);
  return d;
}

http::Request form(std::string target, std::string body) {
  auto r = make_request("POST", std::move(target), std::move(body));
  r.headers.add("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  r.headers.add("Authorization", sigv4("sqs"));
  return r;
}

TEST(ProtocolDecode, JsonBody) {
  auto r = make_request("POST", "/", R"({"TableName":"t","Item":{"pk":{"S":"a"}}})");
  r.headers.add("X-Amz-Target", "DynamoDB_20120810.PutItem");
  auto d = decode(r);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.input["TableName"], "t");
  EXPECT_EQ(d.input["Item"]["pk"]["S"], "a");

  r.body = "";
  d = decode(r);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.input, json::object());

  r.body = "{not json";
  d = decode(r);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->code, "SerializationException");
  EXPECT_EQ(d.error->http_status, 400);
}

TEST(ProtocolDecode, SqsQuerySendMessage) {
  auto d = decode(form(
      "/",
      "Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Flocalhost%3A4566%2F000000000000%2Fq"
      "&MessageBody=hello+world&DelaySeconds=5"
      "&MessageAttribute.1.Name=attr1&MessageAttribute.1.Value.StringValue=v1"
      "&MessageAttribute.1.Value.DataType=String"
      "&MessageAttribute.2.Name=bin&MessageAttribute.2.Value.BinaryValue=AAE%3D"
      "&MessageAttribute.2.Value.DataType=Binary"
      "&MessageSystemAttribute.1.Name=AWSTraceHeader"
      "&MessageSystemAttribute.1.Value.StringValue=Root%3D1&MessageSystemAttribute.1.Value.DataType=String"));
  ASSERT_FALSE(d.error) << d.error->message;
  EXPECT_EQ(d.id.protocol, Protocol::query);
  EXPECT_EQ(d.input["QueueUrl"], "http://localhost:4566/000000000000/q");
  EXPECT_EQ(d.input["MessageBody"], "hello world");
  EXPECT_EQ(d.input["DelaySeconds"], 5);
  EXPECT_EQ(d.input["MessageAttributes"]["attr1"], (json{{"StringValue", "v1"}, {"DataType", "String"}}));
  EXPECT_EQ(d.input["MessageAttributes"]["bin"]["BinaryValue"], "AAE=");
  EXPECT_EQ(d.input["MessageSystemAttributes"]["AWSTraceHeader"]["StringValue"], "Root=1");
}

TEST(ProtocolDecode, SqsQueryListsBatchesAndQueuePath) {
  auto d = decode(form("/000000000000/q",
                       "Action=ReceiveMessage&AttributeName.1=All&AttributeName.2=SentTimestamp"
                       "&MessageAttributeName.1=.*&MaxNumberOfMessages=10&WaitTimeSeconds=0"));
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.input["AttributeNames"], (json{"All", "SentTimestamp"}));
  EXPECT_EQ(d.input["MessageAttributeNames"], (json{".*"}));
  EXPECT_EQ(d.input["MaxNumberOfMessages"], 10);
  EXPECT_EQ(d.input["QueueUrl"], "http://localhost:4566/000000000000/q");

  d = decode(form("/",
                  "Action=SendMessageBatch&QueueUrl=u"
                  "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=one"
                  "&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=two"
                  "&SendMessageBatchRequestEntry.2.DelaySeconds=3"
                  "&SendMessageBatchRequestEntry.2.MessageAttribute.1.Name=n"
                  "&SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType=String"
                  "&SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue=x"));
  ASSERT_FALSE(d.error);
  ASSERT_EQ(d.input["Entries"].size(), 2u);
  EXPECT_EQ(d.input["Entries"][0], (json{{"Id", "a"}, {"MessageBody", "one"}}));
  EXPECT_EQ(d.input["Entries"][1]["DelaySeconds"], 3);
  EXPECT_EQ(d.input["Entries"][1]["MessageAttributes"]["n"]["StringValue"], "x");

  d = decode(form("/",
                  "Action=CreateQueue&QueueName=q&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=40"
                  "&Tag.1.Key=env&Tag.1.Value=dev"));
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.input["Attributes"], (json{{"VisibilityTimeout", "40"}}));
  EXPECT_EQ(d.input["tags"], (json{{"env", "dev"}}));

  d = decode(form("/", "Action=SendMessage&QueueUrl=u&MessageBody=x&DelaySeconds=soon"));
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->code, "InvalidParameterValue");
}

TEST(ProtocolDecode, LambdaInvokeHeadersAndCreateFunctionBody) {
  auto r = make_request("POST", "/2015-03-31/functions/my-fn/invocations?Qualifier=live", R"({"k":1})");
  r.headers.add("X-Amz-Invocation-Type", "Event");
  r.headers.add("X-Amz-Log-Type", "Tail");
  r.headers.add("X-Amz-Client-Context", "e30=");
  auto d = decode(r);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.input, (json{{"FunctionName", "my-fn"},
                           {"Qualifier", "live"},
                           {"InvocationType", "Event"},
                           {"LogType", "Tail"},
                           {"ClientContext", "e30="}}));  // Payload stays raw

  auto c = make_request(
      "POST", "/2015-03-31/functions",
      R"({"FunctionName":"f","Runtime":"provided.al2","Role":"arn:aws:iam::000000000000:role/r",)"
      R"("Handler":"h","Code":{"ZipFile":"UEsDBA=="},"MemorySize":256,)"
      R"("Environment":{"Variables":{"A":"1"}}})");
  c.headers.add("Authorization", sigv4("lambda"));
  d = decode(c);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.input["Code"]["ZipFile"], "UEsDBA==");
  EXPECT_EQ(d.input["MemorySize"], 256);
  EXPECT_EQ(d.input["Environment"]["Variables"]["A"], "1");

  auto l = make_request("GET", "/2015-03-31/functions/?MaxItems=5&Marker=abc");
  d = decode(l);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.input, (json{{"MaxItems", 5}, {"Marker", "abc"}}));
}

TEST(ProtocolDecode, S3PutObjectHeadersAndMetadata) {
  auto r = make_request("PUT", "/bucket/dir/a%20b.txt", "hello");
  r.headers.add("Authorization", sigv4("s3"));
  r.headers.add("Content-Type", "text/plain");
  r.headers.add("Content-Length", "5");
  r.headers.add("x-amz-meta-Color", "blue");
  r.headers.add("X-Amz-Meta-size", "big");
  r.headers.add("x-amz-server-side-encryption-bucket-key-enabled", "true");
  r.headers.add("Expires", "Tue, 01 Dec 2026 07:46:50 GMT");
  r.headers.add("x-amz-checksum-crc32", "NhCmhg==");
  auto d = decode(r);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.input["Bucket"], "bucket");
  EXPECT_EQ(d.input["Key"], "dir/a b.txt");
  EXPECT_EQ(d.input["ContentType"], "text/plain");
  EXPECT_EQ(d.input["ContentLength"], 5);
  EXPECT_EQ(d.input["Metadata"], (json{{"color", "blue"}, {"size", "big"}}));
  EXPECT_EQ(d.input["BucketKeyEnabled"], true);
  EXPECT_EQ(d.input["Expires"], "Tue, 01 Dec 2026 07:46:50 GMT");  // a string shape in botocore 1.43
  EXPECT_EQ(d.input["ChecksumCRC32"], "NhCmhg==");
  EXPECT_FALSE(d.input.contains("Body"));
}

TEST(ProtocolDecode, S3XmlPayloads) {
  auto r =
      make_request("POST", "/bucket/key?uploadId=u1",
                   "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                   "<Part><ETag>&quot;a&quot;</ETag><PartNumber>1</PartNumber></Part>"
                   "<Part><ETag>\"b\"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>");
  auto d = decode(r);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.id.operation, "CompleteMultipartUpload");
  EXPECT_EQ(d.input["UploadId"], "u1");
  EXPECT_EQ(d.input["MultipartUpload"]["Parts"],
            (json{{{"ETag", "\"a\""}, {"PartNumber", 1}}, {{"ETag", "\"b\""}, {"PartNumber", 2}}}));

  auto t = make_request("PUT", "/bucket?tagging",
                        "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>");
  d = decode(t);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.input["Tagging"]["TagSet"], (json{{{"Key", "k"}, {"Value", "v"}}}));

  auto del = make_request(
      "POST", "/bucket?delete",
      "<Delete><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>1</VersionId></Object>"
      "<Quiet>true</Quiet></Delete>");
  d = decode(del);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.input["Delete"]["Objects"].size(), 2u);
  EXPECT_EQ(d.input["Delete"]["Quiet"], true);

  auto bad = make_request("PUT", "/bucket?tagging", "<Tagging><TagSet>");
  d = decode(bad);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->code, "MalformedXML");
}

TEST(ProtocolEncode, JsonOutput) {
  const ServiceModel* m = find_model("dynamodb");
  auto r = encode_output(*m, *m->operation("ListTables"), json{{"TableNames", {"a"}}}, "rid");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(r.headers.get("x-amzn-RequestId"), "rid");
  EXPECT_EQ(json::parse(r.body), (json{{"TableNames", {"a"}}}));
  const ServiceModel* e = find_model("events");
  r = encode_output(*e, *e->operation("PutEvents"), json::object(), "rid");
  EXPECT_EQ(r.headers.get("Content-Type"), "application/x-amz-json-1.1");
}

TEST(ProtocolEncode, SqsQueryReceiveMessage) {
  const ServiceModel* m = find_model("sqs");
  json out = {{"Messages",
               {{{"MessageId", "m1"},
                 {"ReceiptHandle", "rh"},
                 {"MD5OfBody", "5d41402abc4b2a76b9719d911017c592"},
                 {"Body", "a<b & \"c\""},
                 {"Attributes", {{"SentTimestamp", "1"}, {"ApproximateReceiveCount", "2"}}},
                 {"MessageAttributes", {{"attr", {{"DataType", "String"}, {"StringValue", "v"}}}}}}}}};
  auto r = encode_output(Protocol::query, *m, *m->operation("ReceiveMessage"), out, "rid");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("Content-Type"), "text/xml");
  auto doc = parse_xml(r.body);
  ASSERT_TRUE(doc) << r.body;
  EXPECT_EQ(doc->name, "ReceiveMessageResponse");
  EXPECT_EQ(*doc->attribute("xmlns"), "http://queue.amazonaws.com/doc/2012-11-05/");
  const XmlNode* result = doc->child("ReceiveMessageResult");
  ASSERT_NE(result, nullptr);
  const XmlNode* msg = result->child("Message");
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(msg->child("Body")->text, "a<b & \"c\"");
  int attributes = 0;
  for (const auto& c : msg->children)
    if (c.name == "Attribute") {
      ++attributes;
      EXPECT_NE(c.child("Name"), nullptr);
      EXPECT_NE(c.child("Value"), nullptr);
    }
  EXPECT_EQ(attributes, 2);
  const XmlNode* ma = msg->child("MessageAttribute");
  ASSERT_NE(ma, nullptr);
  EXPECT_EQ(ma->child("Name")->text, "attr");
  EXPECT_EQ(ma->child("Value")->child("StringValue")->text, "v");
  EXPECT_EQ(doc->child("ResponseMetadata")->child("RequestId")->text, "rid");

  r = encode_output(Protocol::query, *m, *m->operation("DeleteMessage"), json::object(), "rid");
  EXPECT_NE(
      r.body.find("<DeleteMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"
                  "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteMessageResponse>"),
      std::string::npos)
      << r.body;
  r = encode_output(Protocol::query, *m, *m->operation("ListQueues"), json{{"QueueUrls", {"u1", "u2"}}},
                    "rid");
  EXPECT_NE(
      r.body.find("<ListQueuesResult><QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl></ListQueuesResult>"),
      std::string::npos)
      << r.body;
}

TEST(ProtocolEncode, S3ListBucketsAndHeaders) {
  const ServiceModel* m = find_model("s3");
  json out = {{"Buckets", {{{"Name", "b1"}, {"CreationDate", 1700000000}}}},
              {"Owner", {{"ID", "owner"}, {"DisplayName", "me"}}}};
  auto r = encode_output(*m, *m->operation("ListBuckets"), out, "rid");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("x-amz-request-id"), "rid");
  EXPECT_FALSE(r.headers.get("x-amz-id-2").empty());
  EXPECT_NE(r.body.find("<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"),
            std::string::npos);
  EXPECT_NE(
      r.body.find("<Buckets><Bucket><CreationDate>2023-11-14T22:13:20.000Z</CreationDate><Name>b1</Name>"
                  "</Bucket></Buckets>"),
      std::string::npos)
      << r.body;

  json head = {{"ContentLength", 5},
               {"ETag", "\"abc\""},
               {"LastModified", 1700000000},
               {"Metadata", {{"color", "blue"}}},
               {"ContentType", "text/plain"}};
  r = encode_output(*m, *m->operation("HeadObject"), head, "rid");
  EXPECT_EQ(r.headers.get("Content-Length"), "5");
  EXPECT_EQ(r.headers.get("ETag"), "\"abc\"");
  EXPECT_EQ(r.headers.get("Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(r.headers.get("x-amz-meta-color"), "blue");
  EXPECT_TRUE(r.body.empty());

  std::string body = "raw bytes";
  r = encode_output(*m, *m->operation("GetObject"), json{{"ContentType", "text/plain"}}, "rid", &body);
  EXPECT_EQ(r.body, "raw bytes");
  EXPECT_EQ(r.headers.get("Content-Type"), "text/plain");

  r = encode_output(*m, *m->operation("GetBucketTagging"), json{{"TagSet", {{{"Key", "k"}, {"Value", "v"}}}}},
                    "rid");
  EXPECT_NE(r.body.find("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet><Tag><Key>k</Key>"
                        "<Value>v</Value></Tag></TagSet></Tagging>"),
            std::string::npos)
      << r.body;
}

TEST(ProtocolEncode, LambdaJsonAndHeaders) {
  const ServiceModel* m = find_model("lambda");
  json out = {{"Configuration", {{"FunctionName", "f"}, {"MemorySize", 128}}}, {"Code", {{"Location", "x"}}}};
  auto r = encode_output(*m, *m->operation("GetFunction"), out, "rid");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("x-amzn-RequestId"), "rid");
  EXPECT_EQ(json::parse(r.body), out);

  r = encode_output(*m, *m->operation("CreateFunction"), json{{"FunctionName", "f"}}, "rid");
  EXPECT_EQ(r.status, 201);

  std::string payload = R"({"errorMessage":"boom"})";
  r = encode_output(*m, *m->operation("Invoke"),
                    json{{"StatusCode", 200},
                         {"FunctionError", "Unhandled"},
                         {"LogResult", "bG9n"},
                         {"ExecutedVersion", "$LATEST"}},
                    "rid", &payload);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(r.headers.get("X-Amz-Log-Result"), "bG9n");
  EXPECT_EQ(r.headers.get("X-Amz-Executed-Version"), "$LATEST");
  EXPECT_EQ(r.body, payload);
  r = encode_output(*m, *m->operation("Invoke"), json{{"StatusCode", 202}}, "rid");
  EXPECT_EQ(r.status, 202);
  EXPECT_TRUE(r.body.empty());
}

TEST(ProtocolErrors, PerProtocol) {
  auto e = AwsError::sender(400, "QueueDoesNotExist", "The specified queue does not exist.");
  const ServiceModel* sqs = find_model("sqs");
  auto r = encode_error(sqs, Protocol::json, e, "rid", false);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers.get("x-amzn-RequestId"), "rid");
  EXPECT_EQ(r.headers.get("x-amzn-query-error"), "AWS.SimpleQueueService.NonExistentQueue;Sender");
  auto body = json::parse(r.body);
  EXPECT_EQ(body["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
  EXPECT_EQ(body["message"], "The specified queue does not exist.");

  r = encode_error(sqs, Protocol::query, e, "rid", false);
  auto doc = parse_xml(r.body);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->name, "ErrorResponse");
  EXPECT_EQ(doc->child("Error")->child("Type")->text, "Sender");
  EXPECT_EQ(doc->child("Error")->child("Code")->text, "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_EQ(doc->child("RequestId")->text, "rid");

  auto ddb = AwsError::sender(400, "ValidationException", "bad");
  body = json::parse(encode_error(find_model("dynamodb"), Protocol::json, ddb, "rid", false).body);
  EXPECT_EQ(body["__type"], "com.amazon.coral.validate#ValidationException");
  auto nf = AwsError::sender(400, "ResourceNotFoundException", "Requested resource not found");
  auto rr = encode_error(find_model("dynamodb"), Protocol::json, nf, "rid", false);
  EXPECT_EQ(json::parse(rr.body)["__type"], "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException");
  EXPECT_FALSE(rr.headers.contains("x-amzn-query-error"));

  auto throttled = AwsError::sender(429, "TooManyRequestsException", "Rate exceeded");
  throttled.extra = {{"Reason", "ReservedFunctionConcurrentInvocationLimitExceeded"}};
  r = encode_error(find_model("lambda"), Protocol::rest_json, throttled, "rid", false);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.get("x-amzn-ErrorType"), "TooManyRequestsException");
  body = json::parse(r.body);
  EXPECT_EQ(body["Type"], "User");
  EXPECT_EQ(body["Message"], "Rate exceeded");
  EXPECT_EQ(body["Reason"], "ReservedFunctionConcurrentInvocationLimitExceeded");

  auto nsk = AwsError::sender(404, "NoSuchKey", "The specified key does not exist.");
  nsk.extra = {{"Key", "a&b"}};
  r = encode_error(find_model("s3"), Protocol::rest_xml, nsk, "rid", false);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.get("x-amz-request-id"), "rid");
  doc = parse_xml(r.body);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->name, "Error");
  EXPECT_EQ(doc->child("Code")->text, "NoSuchKey");
  EXPECT_EQ(doc->child("Key")->text, "a&b");
  r = encode_error(find_model("s3"), Protocol::rest_xml, nsk, "rid", true);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.status, 404);

  auto internal = AwsError::receiver(500, "InternalFailure", "oops");
  r = encode_error(nullptr, Protocol::json, internal, "rid", false);
  EXPECT_FALSE(r.body.empty());
  EXPECT_EQ(json::parse(r.body)["__type"], "InternalFailure");
}

TEST(ProtocolValidate, CoralMessages) {
  const ServiceModel* m = find_model("dynamodb");
  const OperationModel* op = m->operation("CreateTable");
  json table = {{"AttributeDefinitions", {{{"AttributeName", "pk"}, {"AttributeType", "S"}}}},
                {"KeySchema", {{{"AttributeName", "pk"}, {"KeyType", "HASH"}}}},
                {"BillingMode", "PAY_PER_REQUEST"}};
  auto e = validate_input(*m, *op, table);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "ValidationException");
  EXPECT_EQ(e->message,
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member "
            "must not be "
            "null");
  table["TableName"] = "";  // TableArn in botocore 1.43: min 1
  table["KeySchema"][0]["KeyType"] = "SIDEWAYS";
  e = validate_input(*m, *op, table);
  ASSERT_TRUE(e);
  EXPECT_EQ(
      e->message,
      "2 validation errors detected: Value 'SIDEWAYS' at 'keySchema.1.member.keyType' failed to satisfy "
      "constraint: Member must satisfy enum value set: [HASH, RANGE]; Value '' at 'tableName' failed to "
      "satisfy constraint: Member must have length greater than or equal to 1");
  table["TableName"] = "abc";
  table["KeySchema"][0]["KeyType"] = "HASH";
  EXPECT_FALSE(validate_input(*m, *op, table));

  const ServiceModel* sqs = find_model("sqs");
  e = validate_input(*sqs, *sqs->operation("ReceiveMessage"),
                     json{{"QueueUrl", "u"}, {"MaxNumberOfMessages", 11}});
  EXPECT_FALSE(e);  // SQS leaves ranges to the service: its model has none
  const ServiceModel* ev = find_model("events");
  e = validate_input(*ev, *ev->operation("PutEvents"), json{{"Entries", json::array()}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message,
            "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member "
            "must have length greater than or equal to 1");
  e = validate_input(*m, *m->operation("Scan"), json{{"TableName", "a b"}, {"Limit", 0}, {"Select", "NOPE"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message.rfind("2 validation errors detected: ", 0), 0u) << e->message;
  EXPECT_NE(
      e->message.find("Value '0' at 'limit' failed to satisfy constraint: Member must have value greater "
                      "than or equal to 1"),
      std::string::npos)
      << e->message;
  EXPECT_NE(
      e->message.find("Value 'NOPE' at 'select' failed to satisfy constraint: Member must satisfy enum value "
                      "set: [ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES, SPECIFIC_ATTRIBUTES, COUNT]"),
      std::string::npos)
      << e->message;
}

// dump_json writes plain documents itself and leaves the rest to nlohmann: either way the bytes must be
// nlohmann's dump(-1) with invalid UTF-8 replaced.
TEST(DumpJson, SameBytesAsNlohmann) {
  auto expect_same = [](const json& doc) {
    EXPECT_EQ(detail::dump_json(doc), doc.dump(-1, ' ', false, json::error_handler_t::replace)) << doc.dump();
  };
  expect_same(json::object());
  expect_same(json::array());
  expect_same(nullptr);
  expect_same({{"MD5OfMessageBody", "d41d8cd98f00b204e9800998ecf8427e"}, {"MessageId", "x-1"}});
  expect_same({{"a", {1, -2, 3u, true, false, nullptr, json::array(), json::object()}},
               {"b", {{"nested", {{"deep", "text"}}}}},
               {"n", std::numeric_limits<std::int64_t>::min()},
               {"u", std::numeric_limits<std::uint64_t>::max()}});
  expect_same({{"f", 1.5}, {"g", 1e300}, {"h", -0.0}});                           // floats: nlohmann's path
  expect_same({{"utf8", "caf\xc3\xa9"}, {"bad", std::string("\xff\xfe", 2)}});  // non-ASCII, invalid UTF-8
  // Every byte value at every offset of a 20-byte string (the fast check reads 8 bytes at a time), in a
  // value and in a key.
  for (int c = 0; c < 256; ++c) {
    for (std::size_t at = 0; at < 20; ++at) {
      std::string text(20, 'a');
      text[at] = static_cast<char>(c);
      expect_same({{"k", text}});
      expect_same({{text, 1}});
    }
  }
}

}  // namespace
}  // namespace stratus::protocol
