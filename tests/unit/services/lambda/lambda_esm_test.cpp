// Event source mappings for SQS (esm.hpp, esm_api.cpp): the API's validation and answers, the event the
// function receives (field by field against the documented example), the partial batch failure rules, and
// the pollers' life cycle against an in-memory QueueSource (fake_queue.hpp) on a ManualClock with a
// scripted executor. The integration test test_sqs_esm.py runs the same flows against the real SQS.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "fake_queue.hpp"
#include "services/lambda/async.hpp"
#include "services/lambda/esm.hpp"
#include "services/lambda/lambda_service.hpp"

namespace stratus::services::lambda {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;
using testing::FakeQueue;
namespace fs = std::filesystem;

// Answers synchronous invocations with the next scripted result of the function (default: ok, null
// payload), or holds them when `hold` is set until release() is called.
class BatchExecutor : public FunctionExecutor {
 public:
  void invoke(const FunctionConfig& config, std::string payload, InvocationType type,
              std::function<void(InvokeResult)> done) override {
    EXPECT_EQ(type, InvocationType::request_response);
    InvokeResult r;
    r.payload = "null";
    {
      std::lock_guard lock(mutex);
      calls.push_back({config.function_name, json::parse(payload)});
      auto& queue = script[config.function_name];
      if (!queue.empty()) {
        r = queue.front();
        queue.pop_front();
      }
      if (hold) {
        held.emplace_back(std::move(done), r);
        return;
      }
    }
    done(r);
  }
  void release() {
    std::vector<std::pair<std::function<void(InvokeResult)>, InvokeResult>> now;
    {
      std::lock_guard lock(mutex);
      now.swap(held);
      hold = false;
    }
    for (auto& [done, r] : now) done(r);
  }
  static InvokeResult ok(const std::string& payload) {
    InvokeResult r;
    r.payload = payload;
    return r;
  }
  static InvokeResult error() {
    InvokeResult r;
    r.status = InvokeResult::Status::function_error;
    r.payload = R"({"errorMessage":"boom","errorType":"std::runtime_error"})";
    return r;
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return calls.size();
  }
  struct Call {
    std::string function;
    json event;
  };
  std::mutex mutex;
  std::vector<Call> calls;
  std::map<std::string, std::deque<InvokeResult>> script;
  bool hold = false;
  std::vector<std::pair<std::function<void(InvokeResult)>, InvokeResult>> held;
};

class LambdaEsmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    persistent_dir = fs::temp_directory_path() / ("stratus-esm-test-" + std::to_string(::getpid()) + "-" +
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(persistent_dir);
    open();
    queues->create("orders", 30, "orders-dlq", 2);
    queues->create("orders-dlq");
  }
  void TearDown() override {
    close();
    fs::remove_all(persistent_dir);
  }
  void open() {
    Status st;
    store = Store::open(StoreOptions{persistent_dir.string(), false, false}, st);
    ASSERT_TRUE(store) << st.message;
    LambdaDeps deps;
    deps.store = store.get();
    deps.clock = &clock;
    deps.data_dir = store->data_dir();
    deps.executor = executor;
    deps.queues = queues;
    deps.async_background = false;
    service = make_lambda_service(deps);
    lambda = dynamic_cast<LambdaService*>(service.get());
  }
  void close() {
    if (service) service->shutdown();
    service.reset();
    if (store) store->close();
    store.reset();
  }

  Outcome call(const std::string& op, json in) { return lambda->call(op, p, std::move(in)); }

  void create_function(const std::string& name) {
    fs::path dir = persistent_dir / "src";
    fs::create_directories(dir);
    std::ofstream(dir / "libfn.so") << std::string("\x7f" "ELF", 4) << "fake";
    Outcome o = call("CreateFunction", {{"FunctionName", name},
                                        {"Runtime", "provided.al2023"},
                                        {"Role", "arn:aws:iam::000000000000:role/r"},
                                        {"Handler", "libfn.so"},
                                        {"Code", {{"S3Bucket", "hot-reload"}, {"S3Key", dir.string()}}}});
    ASSERT_FALSE(o.error) << o.error->message;
  }

  // A mapping of `queue` to `function`; returns its UUID.
  std::string map(const std::string& function, const std::string& queue, json extra = json::object()) {
    extra["FunctionName"] = function;
    extra["EventSourceArn"] = FakeQueue::arn(queue);
    Outcome o = call("CreateEventSourceMapping", extra);
    EXPECT_FALSE(o.error) << o.error->message;
    return o.error ? "" : o.output["UUID"].get<std::string>();
  }

  void expect_error(const Outcome& o, const std::string& code, const std::string& message, int status = 400) {
    ASSERT_TRUE(o.error) << o.output.dump();
    EXPECT_EQ(o.error->code, code);
    EXPECT_EQ(o.error->message, message);
    EXPECT_EQ(o.error->http_status, status);
  }

  std::size_t run() { return lambda->process_due_polls(); }

  ManualClock clock;
  std::shared_ptr<FakeQueue> queues = std::make_shared<FakeQueue>(clock);
  std::shared_ptr<BatchExecutor> executor = std::make_shared<BatchExecutor>();
  std::unique_ptr<Store> store;
  std::shared_ptr<Service> service;
  LambdaService* lambda = nullptr;
  Partition p{"000000000000", "us-east-1"};
  fs::path persistent_dir;
};

// ---------------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------------

TEST_F(LambdaEsmTest, CreateAnswersCreatingWithLambdasDefaultsThenGetShowsEnabled) {
  create_function("worker");
  Outcome o = call("CreateEventSourceMapping", {{"FunctionName", "worker"}, {"EventSourceArn", FakeQueue::arn("orders")}});
  ASSERT_FALSE(o.error) << o.error->message;
  const json& m = o.output;
  EXPECT_EQ(m["State"], "Creating");
  EXPECT_EQ(m["BatchSize"], 10);
  EXPECT_EQ(m["MaximumBatchingWindowInSeconds"], 0);
  EXPECT_EQ(m["FunctionResponseTypes"], json::array());
  EXPECT_EQ(m["StateTransitionReason"], "USER_INITIATED");
  EXPECT_EQ(m["EventSourceArn"], FakeQueue::arn("orders"));
  EXPECT_EQ(m["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:worker");
  std::string uuid = m["UUID"];
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_EQ(m["EventSourceMappingArn"], "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:" + uuid);
  EXPECT_DOUBLE_EQ(m["LastModified"].get<double>(), clock.now_ms() / 1000.0);
  for (auto it = m.begin(); it != m.end(); ++it) EXPECT_FALSE(it.key().starts_with("_")) << it.key();
  EXPECT_FALSE(m.contains("ScalingConfig"));

  Outcome got = call("GetEventSourceMapping", {{"UUID", uuid}});
  ASSERT_FALSE(got.error);
  EXPECT_EQ(got.output["State"], "Enabled");
  EXPECT_EQ(got.output["UUID"], uuid);
}

TEST_F(LambdaEsmTest, CreateRefusesWhatLambdaRefuses) {
  create_function("worker");
  expect_error(call("CreateEventSourceMapping", {{"FunctionName", "worker"}}), "InvalidParameterValueException",
               "Unrecognized event source.");
  expect_error(call("CreateEventSourceMapping",
                    {{"FunctionName", "worker"},
                     {"EventSourceArn", "arn:aws:kinesis:us-east-1:000000000000:stream/s"},
                     {"StartingPosition", "LATEST"}}),
               "InvalidParameterValueException", "Unrecognized event source.");
  expect_error(call("CreateEventSourceMapping", {{"FunctionName", "nope"}, {"EventSourceArn", FakeQueue::arn("orders")}}),
               "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope",
               404);
  expect_error(call("CreateEventSourceMapping",
                    {{"FunctionName", "worker:live"}, {"EventSourceArn", FakeQueue::arn("orders")}}),
               "ResourceNotFoundException",
               "Function not found: arn:aws:lambda:us-east-1:000000000000:function:worker:live", 404);
  expect_error(call("CreateEventSourceMapping", {{"FunctionName", "worker"}, {"EventSourceArn", FakeQueue::arn("ghost")}}),
               "InvalidParameterValueException",
               "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS "
               "Error Message: The specified queue does not exist.");
  expect_error(call("CreateEventSourceMapping",
                    {{"FunctionName", "worker"}, {"EventSourceArn", FakeQueue::arn("orders")}, {"BatchSize", 11}}),
               "InvalidParameterValueException",
               "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10");
  queues->create("short", 2);
  expect_error(call("CreateEventSourceMapping", {{"FunctionName", "worker"}, {"EventSourceArn", FakeQueue::arn("short")}}),
               "InvalidParameterValueException",
               "Queue visibility timeout: 2 seconds is less than Function timeout: 3 seconds");
  queues->create("jobs.fifo");
  expect_error(call("CreateEventSourceMapping", {{"FunctionName", "worker"},
                                                 {"EventSourceArn", FakeQueue::arn("jobs.fifo")},
                                                 {"BatchSize", 20},
                                                 {"MaximumBatchingWindowInSeconds", 1}}),
               "InvalidParameterValueException", "Batch size cannot be greater than 10 for an SQS FIFO queue.");
  // The model's ranges, in the coral form.
  Outcome o = call("CreateEventSourceMapping",
                   {{"FunctionName", "worker"}, {"EventSourceArn", FakeQueue::arn("orders")}, {"BatchSize", 10001}});
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "ValidationException");
  o = call("CreateEventSourceMapping", {{"FunctionName", "worker"},
                                        {"EventSourceArn", FakeQueue::arn("orders")},
                                        {"ScalingConfig", {{"MaximumConcurrency", 1}}}});
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "ValidationException");
  expect_error(call("CreateEventSourceMapping", {{"FunctionName", "worker"},
                                                 {"EventSourceArn", FakeQueue::arn("orders")},
                                                 {"FilterCriteria", {{"Filters", {{{"Pattern", "not json"}}}}}}}),
               "InvalidParameterValueException", "Invalid filter pattern definition.");
  expect_error(call("CreateEventSourceMapping", {{"FunctionName", "worker"},
                                                 {"EventSourceArn", FakeQueue::arn("orders")},
                                                 {"FilterCriteria", {{"Filters", {{{"Pattern", R"({"body": "x"})"}}}}}}}),
               "InvalidParameterValueException", "Invalid filter pattern definition.");
  // Nothing invalid was stored.
  Outcome list = call("ListEventSourceMappings", json::object());
  ASSERT_FALSE(list.error);
  EXPECT_TRUE(list.output["EventSourceMappings"].empty());

  // A batch over 10 with a window is fine.
  o = call("CreateEventSourceMapping", {{"FunctionName", "worker"},
                                        {"EventSourceArn", FakeQueue::arn("orders")},
                                        {"BatchSize", 100},
                                        {"MaximumBatchingWindowInSeconds", 1}});
  ASSERT_FALSE(o.error) << o.error->message;
  std::string uuid = o.output["UUID"];
  expect_error(call("CreateEventSourceMapping", {{"FunctionName", "worker"}, {"EventSourceArn", FakeQueue::arn("orders")}}),
               "ResourceConflictException",
               "An event source mapping with SQS arn (\" " + FakeQueue::arn("orders") +
                   " \") and function (\" worker \") already exists. Please update or delete the existing mapping "
                   "with UUID " +
                   uuid,
               409);
}

TEST_F(LambdaEsmTest, ListFiltersAndPages) {
  create_function("a");
  create_function("b");
  queues->create("other");
  std::string m1 = map("a", "orders");
  std::string m2 = map("b", "orders");
  std::string m3 = map("a", "other");
  auto uuids = [](const json& list) {
    std::set<std::string> out;
    for (const auto& m : list["EventSourceMappings"]) out.insert(m["UUID"].get<std::string>());
    return out;
  };
  EXPECT_EQ(uuids(call("ListEventSourceMappings", json::object()).output), (std::set<std::string>{m1, m2, m3}));
  EXPECT_EQ(uuids(call("ListEventSourceMappings", {{"FunctionName", "a"}}).output), (std::set<std::string>{m1, m3}));
  EXPECT_EQ(uuids(call("ListEventSourceMappings",
                       {{"FunctionName", "arn:aws:lambda:us-east-1:000000000000:function:b"}})
                      .output),
            (std::set<std::string>{m2}));
  EXPECT_EQ(uuids(call("ListEventSourceMappings", {{"EventSourceArn", FakeQueue::arn("orders")}}).output),
            (std::set<std::string>{m1, m2}));
  EXPECT_EQ(uuids(call("ListEventSourceMappings",
                       {{"EventSourceArn", FakeQueue::arn("orders")}, {"FunctionName", "a"}})
                      .output),
            (std::set<std::string>{m1}));
  // Pages of two, then one.
  Outcome page = call("ListEventSourceMappings", {{"MaxItems", 2}});
  ASSERT_FALSE(page.error);
  ASSERT_EQ(page.output["EventSourceMappings"].size(), 2u);
  ASSERT_TRUE(page.output.contains("NextMarker"));
  Outcome rest = call("ListEventSourceMappings", {{"MaxItems", 2}, {"Marker", page.output["NextMarker"]}});
  ASSERT_FALSE(rest.error);
  ASSERT_EQ(rest.output["EventSourceMappings"].size(), 1u);
  EXPECT_FALSE(rest.output.contains("NextMarker"));
  std::set<std::string> all = uuids(page.output);
  all.insert(rest.output["EventSourceMappings"][0]["UUID"].get<std::string>());
  EXPECT_EQ(all, (std::set<std::string>{m1, m2, m3}));
}

TEST_F(LambdaEsmTest, UpdateAndDeleteAnswerTheTransitionalStates) {
  create_function("worker");
  create_function("other");
  std::string uuid = map("worker", "orders");
  Outcome o = call("UpdateEventSourceMapping", {{"UUID", uuid}, {"Enabled", false}});
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.output["State"], "Disabling");
  EXPECT_EQ(call("GetEventSourceMapping", {{"UUID", uuid}}).output["State"], "Disabled");
  o = call("UpdateEventSourceMapping", {{"UUID", uuid}, {"Enabled", true}});
  EXPECT_EQ(o.output["State"], "Enabling");
  o = call("UpdateEventSourceMapping", {{"UUID", uuid},
                                        {"BatchSize", 50},
                                        {"MaximumBatchingWindowInSeconds", 5},
                                        {"FunctionResponseTypes", {"ReportBatchItemFailures"}},
                                        {"ScalingConfig", {{"MaximumConcurrency", 3}}},
                                        {"FunctionName", "other"}});
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.output["State"], "Updating");
  json m = call("GetEventSourceMapping", {{"UUID", uuid}}).output;
  EXPECT_EQ(m["State"], "Enabled");
  EXPECT_EQ(m["BatchSize"], 50);
  EXPECT_EQ(m["MaximumBatchingWindowInSeconds"], 5);
  EXPECT_EQ(m["FunctionResponseTypes"], json::array({"ReportBatchItemFailures"}));
  EXPECT_EQ(m["ScalingConfig"], json({{"MaximumConcurrency", 3}}));
  EXPECT_EQ(m["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:other");
  // The window cannot go back to 0 while the batch is over 10; nothing changes.
  expect_error(call("UpdateEventSourceMapping", {{"UUID", uuid}, {"MaximumBatchingWindowInSeconds", 0}}),
               "InvalidParameterValueException",
               "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10");
  EXPECT_EQ(call("GetEventSourceMapping", {{"UUID", uuid}}).output["MaximumBatchingWindowInSeconds"], 5);
  // An empty ScalingConfig removes the limit.
  o = call("UpdateEventSourceMapping", {{"UUID", uuid}, {"ScalingConfig", json::object()}});
  ASSERT_FALSE(o.error);
  EXPECT_FALSE(o.output.contains("ScalingConfig"));

  o = call("DeleteEventSourceMapping", {{"UUID", uuid}});
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.output["State"], "Deleting");
  expect_error(call("GetEventSourceMapping", {{"UUID", uuid}}), "ResourceNotFoundException",
               "The resource you requested does not exist.", 404);
  expect_error(call("DeleteEventSourceMapping", {{"UUID", uuid}}), "ResourceNotFoundException",
               "The resource you requested does not exist.", 404);
  expect_error(call("UpdateEventSourceMapping", {{"UUID", uuid}, {"Enabled", true}}), "ResourceNotFoundException",
               "The resource you requested does not exist.", 404);
}

// ---------------------------------------------------------------------------------------------
// The event and the batch response
// ---------------------------------------------------------------------------------------------

// https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, "Example standard queue message event" and
// "Example FIFO queue message event".
TEST(SqsEvent, MatchesTheDocumentedExampleFieldByField) {
  QueueMessage m;
  m.message_id = "059f36b4-87a3-44ab-83d2-661975830a7d";
  m.receipt_handle = "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...";
  m.body = "Test message.";
  m.md5_of_body = "e4e68fb7bd0e697a0ae8f1bb342846b3";
  m.attributes = {{"ApproximateReceiveCount", "1"},
                  {"SentTimestamp", "1545082649183"},
                  {"SenderId", "AIDAIENQZJOLO23YVJ4VO"},
                  {"ApproximateFirstReceiveTimestamp", "1545082649185"}};
  m.message_attributes = {{"myAttribute", {{"DataType", "String"}, {"StringValue", "myValue"}}}};
  ordered_json event = sqs_event({m}, "arn:aws:sqs:us-east-2:123456789012:my-queue", "us-east-2");
  // The documented example, verbatim (key order included).
  ordered_json expected = ordered_json::parse(R"({
    "Records": [
        {
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": "Test message.",
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185"
            },
            "messageAttributes": {
                "myAttribute": {
                    "stringValue": "myValue",
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": "String"
                }
            },
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
            "awsRegion": "us-east-2"
        }
    ]
  })");
  EXPECT_EQ(event.dump(), expected.dump());
}

TEST(SqsEvent, FifoAttributesBinaryAttributesAndSeveralRecords) {
  QueueMessage a;
  a.message_id = "11d6ee51-4cc7-4302-9e22-7cd8afdaadf5";
  a.receipt_handle = "AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw...";
  a.body = "Test message.";
  a.md5_of_body = "e4e68fb7bd0e697a0ae8f1bb342846b3";
  a.attributes = {{"ApproximateReceiveCount", "1"},         {"SentTimestamp", "1573251510774"},
                  {"SequenceNumber", "18849496460467696128"}, {"MessageGroupId", "1"},
                  {"SenderId", "AIDAIO23YVJENQZJOL4VO"},    {"MessageDeduplicationId", "1"},
                  {"ApproximateFirstReceiveTimestamp", "1573251510774"}};
  QueueMessage b = a;
  b.message_id = "second";
  b.message_attributes = {{"bin", {{"DataType", "Binary"}, {"BinaryValue", "AAEC"}}},
                          {"n", {{"DataType", "Number.int"}, {"StringValue", "42"}}}};
  ordered_json event = sqs_event({a, b}, "arn:aws:sqs:us-east-2:123456789012:fifo.fifo", "us-east-2");
  ASSERT_EQ(event["Records"].size(), 2u);
  // The FIFO example's attributes, in its order.
  std::vector<std::string> order;
  for (auto it = event["Records"][0]["attributes"].begin(); it != event["Records"][0]["attributes"].end(); ++it)
    order.push_back(it.key());
  EXPECT_EQ(order, (std::vector<std::string>{"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                             "ApproximateFirstReceiveTimestamp", "SequenceNumber",
                                             "MessageGroupId", "MessageDeduplicationId"}));
  EXPECT_EQ(event["Records"][0]["attributes"]["SequenceNumber"], "18849496460467696128");
  EXPECT_EQ(event["Records"][0]["messageAttributes"], ordered_json::object());
  EXPECT_EQ(event["Records"][1]["messageId"], "second");
  const auto& bin = event["Records"][1]["messageAttributes"]["bin"];
  EXPECT_EQ(bin.dump(), R"({"binaryValue":"AAEC","stringListValues":[],"binaryListValues":[],"dataType":"Binary"})");
  EXPECT_EQ(event["Records"][1]["messageAttributes"]["n"].dump(),
            R"({"stringValue":"42","stringListValues":[],"binaryListValues":[],"dataType":"Number.int"})");
}

// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html (success and failure
// conditions of a batch item failure response).
TEST(BatchResponse, FollowsLambdasRules) {
  std::vector<QueueMessage> batch(3);
  batch[0].message_id = "m1";
  batch[1].message_id = "m2";
  batch[2].message_id = "m3";
  auto all_ok = [&](const std::string& payload) {
    BatchOutcome o = parse_batch_response(payload, batch);
    EXPECT_FALSE(o.whole_batch_failed) << payload << ": " << o.reason;
    EXPECT_TRUE(o.failed_ids.empty()) << payload;
  };
  auto whole = [&](const std::string& payload) {
    BatchOutcome o = parse_batch_response(payload, batch);
    EXPECT_TRUE(o.whole_batch_failed) << payload;
    EXPECT_FALSE(o.reason.empty());
  };
  // Complete success: an empty or null list, an empty or null response.
  all_ok(R"({"batchItemFailures": []})");
  all_ok(R"({"batchItemFailures": null})");
  all_ok("{}");
  all_ok("null");
  all_ok("");
  all_ok(R"({"other": 1})");
  // Complete failure: invalid JSON, an empty or null itemIdentifier, a bad key name, an unknown message id.
  whole("{not json");
  whole(R"({"batchItemFailures": [{"itemIdentifier": ""}]})");
  whole(R"({"batchItemFailures": [{"itemIdentifier": null}]})");
  whole(R"({"batchItemFailures": [{"itemIdentifer": "m1"}]})");
  whole(R"({"batchItemFailures": [{"itemIdentifier": "m9"}]})");
  whole(R"({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "nope"}]})");
  whole(R"({"batchItemFailures": "m1"})");
  whole(R"({"batchItemFailures": ["m1"]})");
  whole(R"({"batchItemFailures": [{"itemIdentifier": 7}]})");
  // Partial failure.
  BatchOutcome o = parse_batch_response(R"({"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]})", batch);
  EXPECT_FALSE(o.whole_batch_failed);
  EXPECT_EQ(o.failed_ids, (std::set<std::string>{"m2", "m3"}));
}

// https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html (filter rule syntax)
TEST(EventFilter, MatchesLambdasFilterRules) {
  json record = {{"messageId", "m1"},
                 {"body", {{"type", "order"}, {"total", 42}, {"tags", {"a", "b"}}, {"customer", {{"tier", "Gold"}}}}},
                 {"attributes", {{"ApproximateReceiveCount", "1"}}},
                 {"messageAttributes", json::object()}};
  auto m = [&](const std::string& pattern) { return filter_matches(json::parse(pattern), record); };
  EXPECT_TRUE(m(R"({"body": {"type": ["order"]}})"));
  EXPECT_FALSE(m(R"({"body": {"type": ["refund"]}})"));
  EXPECT_TRUE(m(R"({"body": {"type": ["refund", "order"]}})"));
  EXPECT_TRUE(m(R"({"body": {"type": [{"prefix": "ord"}]}})"));
  EXPECT_TRUE(m(R"({"body": {"type": [{"suffix": "der"}]}})"));
  EXPECT_TRUE(m(R"({"body": {"customer": {"tier": [{"equals-ignore-case": "gold"}]}}})"));
  EXPECT_TRUE(m(R"({"body": {"total": [{"numeric": [">", 10, "<=", 42]}]}})"));
  EXPECT_FALSE(m(R"({"body": {"total": [{"numeric": [">", 42]}]}})"));
  EXPECT_TRUE(m(R"({"body": {"total": [42]}})"));
  EXPECT_TRUE(m(R"({"body": {"type": [{"anything-but": ["refund"]}]}})"));
  EXPECT_FALSE(m(R"({"body": {"type": [{"anything-but": "order"}]}})"));
  EXPECT_TRUE(m(R"({"body": {"coupon": [{"exists": false}]}})"));
  EXPECT_FALSE(m(R"({"body": {"type": [{"exists": false}]}})"));
  EXPECT_TRUE(m(R"({"body": {"tags": ["b"]}})"));  // any element of an array
  EXPECT_TRUE(m(R"({"body": {"type": ["order"]}, "attributes": {"ApproximateReceiveCount": ["1"]}})"));
  EXPECT_FALSE(m(R"({"body": {"type": ["order"]}, "attributes": {"ApproximateReceiveCount": ["2"]}})"));
  EXPECT_FALSE(m(R"({"body": {"missing": {"deeper": ["x"]}}})"));
  json plain = {{"body", "plain text"}};
  EXPECT_TRUE(filter_matches(json::parse(R"({"body": ["plain text"]})"), plain));
  EXPECT_FALSE(filter_matches(json::parse(R"({"body": {"type": ["order"]}})"), plain));
  EXPECT_TRUE(valid_filter_pattern(json::parse(R"({"body": {"type": ["order"]}})")));
  EXPECT_FALSE(valid_filter_pattern(json::parse(R"({"body": {"type": "order"}})")));
  EXPECT_FALSE(valid_filter_pattern(json::parse(R"({"body": {"type": []}})")));
  EXPECT_FALSE(valid_filter_pattern(json::parse(R"(["x"])")));
  EXPECT_FALSE(valid_filter_pattern(json::parse(R"({"$or": [{"body": ["a"]}, {"body": ["b"]}]})")));
  EXPECT_FALSE(valid_filter_pattern(json::parse(R"({"body": [{"wildcard": "a*"}]})")));
}

// ---------------------------------------------------------------------------------------------
// The pollers
// ---------------------------------------------------------------------------------------------

TEST_F(LambdaEsmTest, ASuccessfulBatchIsDeletedAndTheFunctionGetsTheSqsEvent) {
  create_function("worker");
  map("worker", "orders");
  run();
  EXPECT_EQ(queues->waiting(), 5u);  // AWS's five pollers, each in a long poll
  std::string id = queues->send("orders", R"({"orderId":"o-1"})",
                                {{"channel", {{"DataType", "String"}, {"StringValue", "web"}}}});
  run();
  ASSERT_EQ(executor->count(), 1u);
  const json& event = executor->calls[0].event;
  ASSERT_EQ(event["Records"].size(), 1u);
  const json& r = event["Records"][0];
  EXPECT_EQ(r["messageId"], id);
  EXPECT_EQ(r["body"], R"({"orderId":"o-1"})");
  EXPECT_EQ(r["eventSource"], "aws:sqs");
  EXPECT_EQ(r["eventSourceARN"], FakeQueue::arn("orders"));
  EXPECT_EQ(r["awsRegion"], "us-east-1");
  EXPECT_EQ(r["attributes"]["ApproximateReceiveCount"], "1");
  EXPECT_EQ(r["messageAttributes"]["channel"]["stringValue"], "web");
  EXPECT_TRUE(queues->remaining("orders").empty());
  json stats = esm_stats(*service);
  ASSERT_EQ(stats.size(), 1u);
  const json& s = stats.begin().value();
  EXPECT_EQ(s["batches"], 1);
  EXPECT_EQ(s["messages"], 1);
  EXPECT_EQ(s["deleted"], 1);
  EXPECT_EQ(s["failed"], 0);
  EXPECT_EQ(s["last_processing_result"], "OK");
  EXPECT_EQ(queues->waiting(), 5u);  // back to polling
}

TEST_F(LambdaEsmTest, AFailingMessageComesBackAfterTheVisibilityTimeoutThenMovesToTheDlq) {
  create_function("worker");
  map("worker", "orders");
  executor->script["worker"] = {BatchExecutor::error(), BatchExecutor::error(), BatchExecutor::error()};
  run();
  queues->send("orders", "poison");
  run();
  EXPECT_EQ(executor->count(), 1u);
  ASSERT_EQ(queues->remaining("orders").size(), 1u);  // not deleted, in flight
  clock.advance_ms(29'999);
  queues->wake();
  run();
  EXPECT_EQ(executor->count(), 1u);
  clock.advance_ms(1);
  queues->wake();
  run();
  ASSERT_EQ(executor->count(), 2u);
  EXPECT_EQ(executor->calls[1].event["Records"][0]["attributes"]["ApproximateReceiveCount"], "2");
  // maxReceiveCount 2: the third receive moves it to the DLQ instead of invoking.
  clock.advance_ms(30'000);
  queues->wake();
  run();
  EXPECT_EQ(executor->count(), 2u);
  EXPECT_TRUE(queues->remaining("orders").empty());
  ASSERT_EQ(queues->remaining("orders-dlq").size(), 1u);
  EXPECT_EQ(queues->remaining("orders-dlq")[0].body, "poison");
  const json s = esm_stats(*service).begin().value();
  EXPECT_EQ(s["function_errors"], 2);
  EXPECT_EQ(s["failed"], 2);
  EXPECT_EQ(s["deleted"], 0);
}

TEST_F(LambdaEsmTest, ReportBatchItemFailuresKeepsOnlyTheReportedMessages) {
  create_function("worker");
  map("worker", "orders", {{"FunctionResponseTypes", {"ReportBatchItemFailures"}}, {"BatchSize", 3}});
  // Sent before the pollers start, so the first receive takes all three into one batch.
  std::string a = queues->send("orders", "a");
  std::string b = queues->send("orders", "b");
  std::string c = queues->send("orders", "c");
  executor->script["worker"] = {BatchExecutor::ok(json{{"batchItemFailures", {{{"itemIdentifier", b}}}}}.dump())};
  run();
  ASSERT_EQ(executor->count(), 1u);
  ASSERT_EQ(executor->calls[0].event["Records"].size(), 3u);
  auto left = queues->remaining("orders");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, b);
  const json s = esm_stats(*service).begin().value();
  EXPECT_EQ(s["deleted"], 2);
  EXPECT_EQ(s["failed"], 1);
  // b comes back after the visibility timeout and succeeds (an empty list is a complete success).
  executor->script["worker"] = {BatchExecutor::ok(R"({"batchItemFailures":[]})")};
  clock.advance_ms(30'000);
  queues->wake();
  run();
  ASSERT_EQ(executor->count(), 2u);
  EXPECT_EQ(executor->calls[1].event["Records"][0]["messageId"], b);
  EXPECT_EQ(executor->calls[1].event["Records"][0]["attributes"]["ApproximateReceiveCount"], "2");
  EXPECT_TRUE(queues->remaining("orders").empty());
  (void)a;
  (void)c;
}

TEST_F(LambdaEsmTest, AMalformedBatchResponseFailsTheWholeBatch) {
  create_function("worker");
  map("worker", "orders", {{"FunctionResponseTypes", {"ReportBatchItemFailures"}}});
  run();
  executor->script["worker"] = {BatchExecutor::ok(R"({"batchItemFailures":[{"itemIdentifier":"unknown"}]})")};
  queues->send("orders", "x");
  run();
  ASSERT_EQ(executor->count(), 1u);
  EXPECT_EQ(queues->remaining("orders").size(), 1u);
}

TEST_F(LambdaEsmTest, TheBatchingWindowWaitsForBatchSizeOrTheWindow) {
  create_function("worker");
  map("worker", "orders", {{"BatchSize", 5}, {"MaximumBatchingWindowInSeconds", 10},
                           {"ScalingConfig", {{"MaximumConcurrency", 2}}}});
  run();
  EXPECT_EQ(queues->waiting(), 2u);
  queues->send("orders", "1");
  run();
  EXPECT_EQ(executor->count(), 0u);
  clock.advance_ms(9'999);
  run();
  EXPECT_EQ(executor->count(), 0u);
  clock.advance_ms(1);
  run();
  ASSERT_EQ(executor->count(), 1u);
  EXPECT_EQ(executor->calls[0].event["Records"].size(), 1u);
  EXPECT_TRUE(queues->remaining("orders").empty());
  // Five messages at once fill a batch before the window ends.
  // Five more, spread over the two pollers by the fake: every one runs by the end of the window.
  for (int i = 0; i < 5; ++i) queues->send("orders", std::to_string(i));
  run();
  clock.advance_ms(10'000);
  run();
  std::size_t records = 0;
  for (std::size_t i = 1; i < executor->calls.size(); ++i) records += executor->calls[i].event["Records"].size();
  EXPECT_EQ(records, 5u);
  EXPECT_TRUE(queues->remaining("orders").empty());
}

TEST_F(LambdaEsmTest, AFullBatchRunsAtOnceWithAWindow) {
  create_function("worker");
  map("worker", "orders", {{"BatchSize", 3}, {"MaximumBatchingWindowInSeconds", 60},
                           {"ScalingConfig", {{"MaximumConcurrency", 2}}}});
  run();
  // Two pollers wait; the fake gives every message of a send to the first waiting poll, one at a time.
  queues->send("orders", "1");
  queues->send("orders", "2");
  queues->send("orders", "3");
  queues->send("orders", "4");
  queues->send("orders", "5");
  queues->send("orders", "6");
  run();
  // Six messages over two pollers of batch size 3: two full batches without waiting for the window.
  std::size_t records = 0;
  for (const auto& c : executor->calls) {
    EXPECT_EQ(c.event["Records"].size(), 3u);
    records += c.event["Records"].size();
  }
  EXPECT_EQ(records, 6u);
}

TEST_F(LambdaEsmTest, MessagesMatchingNoFilterAreDeletedWithoutInvoking) {
  create_function("worker");
  map("worker", "orders",
      {{"FilterCriteria", {{"Filters", {{{"Pattern", R"({"body": {"type": ["order"]}})"}},
                                        {{"Pattern", R"({"body": ["urgent"]})"}}}}}}});
  std::string order = queues->send("orders", R"({"type": "order", "id": 1})");
  queues->send("orders", R"({"type": "refund"})");
  std::string urgent = queues->send("orders", "urgent");
  queues->send("orders", "chatter");
  run();
  std::set<std::string> invoked;
  for (const auto& c : executor->calls)
    for (const auto& r : c.event["Records"]) invoked.insert(r["messageId"].get<std::string>());
  EXPECT_EQ(invoked, (std::set<std::string>{order, urgent}));
  EXPECT_TRUE(queues->remaining("orders").empty());  // the others were deleted
  EXPECT_EQ(esm_stats(*service).begin().value()["filtered_out"], 2);
}

TEST_F(LambdaEsmTest, DisablingCancelsWaitingPollsAndStopsProcessing) {
  create_function("worker");
  std::string uuid = map("worker", "orders");
  run();
  EXPECT_EQ(queues->waiting(), 5u);
  ASSERT_FALSE(call("UpdateEventSourceMapping", {{"UUID", uuid}, {"Enabled", false}}).error);
  run();
  EXPECT_EQ(queues->waiting(), 0u);
  EXPECT_EQ(queues->cancelled(), 5u);
  queues->send("orders", "later");
  run();
  EXPECT_EQ(executor->count(), 0u);
  EXPECT_EQ(queues->remaining("orders").size(), 1u);
  // Enabling again picks it up.
  ASSERT_FALSE(call("UpdateEventSourceMapping", {{"UUID", uuid}, {"Enabled", true}}).error);
  run();
  EXPECT_EQ(executor->count(), 1u);
  EXPECT_TRUE(queues->remaining("orders").empty());
}

TEST_F(LambdaEsmTest, AnInFlightBatchFinishesAfterTheMappingIsDeleted) {
  create_function("worker");
  std::string uuid = map("worker", "orders");
  run();
  executor->hold = true;
  queues->send("orders", "slow");
  run();
  ASSERT_EQ(executor->held.size(), 1u);
  ASSERT_FALSE(call("DeleteEventSourceMapping", {{"UUID", uuid}}).error);
  run();
  EXPECT_EQ(queues->waiting(), 0u);
  executor->release();
  run();
  EXPECT_TRUE(queues->remaining("orders").empty());  // its delete still happened
  EXPECT_EQ(queues->waiting(), 0u);                  // and nothing polls again
}

TEST_F(LambdaEsmTest, ADeletedQueueIsReportedAndRetriedWithBackoff) {
  create_function("worker");
  std::string uuid = map("worker", "orders", {{"ScalingConfig", {{"MaximumConcurrency", 2}}}});
  run();
  std::size_t before = queues->receives();
  queues->drop("orders");
  run();
  json m = call("GetEventSourceMapping", {{"UUID", uuid}}).output;
  EXPECT_EQ(m["LastProcessingResult"],
            "PROBLEM: Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
            "SQS Error Message: The specified queue does not exist.");
  EXPECT_EQ(m["State"], "Enabled");
  EXPECT_EQ(queues->receives(), before);  // nothing retried yet
  clock.advance_ms(1'000);
  run();
  EXPECT_EQ(queues->receives(), before + 2);  // one retry per poller after 1 s
  clock.advance_ms(1'999);
  run();
  EXPECT_EQ(queues->receives(), before + 2);  // then 2 s
  clock.advance_ms(1);
  run();
  EXPECT_EQ(queues->receives(), before + 4);
  // The queue comes back: polling resumes and the problem clears.
  queues->create("orders");
  clock.advance_ms(4'000);
  run();
  EXPECT_EQ(queues->waiting(), 2u);
  // The problem clears with the first receive that completes (SQS ends an empty long poll after 20 s).
  queues->send("orders", "again");
  run();
  EXPECT_EQ(executor->count(), 1u);
  EXPECT_EQ(call("GetEventSourceMapping", {{"UUID", uuid}}).output["LastProcessingResult"], "OK");
}

TEST_F(LambdaEsmTest, ReservedConcurrencyCapsThePollers) {
  create_function("worker");
  ASSERT_FALSE(call("PutFunctionConcurrency", {{"FunctionName", "worker"}, {"ReservedConcurrentExecutions", 1}}).error);
  map("worker", "orders");
  run();
  EXPECT_EQ(queues->waiting(), 1u);
  ASSERT_FALSE(call("PutFunctionConcurrency", {{"FunctionName", "worker"}, {"ReservedConcurrentExecutions", 0}}).error);
  queues->send("orders", "x");  // the one waiting poll takes it
  run();
  // The batch ran (it was already received), then nothing polls any more.
  clock.advance_ms(5'000);
  run();
  EXPECT_EQ(queues->waiting(), 0u);
}

TEST(EsmScaling, ScalePollersFollowsTheQueueDepth) {
  // Messages waiting: up by the batches they make, at most 5 a step, at most the maximum.
  EXPECT_EQ(scale_pollers(5, 5, 20, 100, 10, false), 10);
  EXPECT_EQ(scale_pollers(5, 5, 20, 20, 10, false), 7);
  EXPECT_EQ(scale_pollers(5, 5, 20, 1, 10, false), 6);
  EXPECT_EQ(scale_pollers(18, 5, 20, 1000, 1, false), 20);
  EXPECT_EQ(scale_pollers(20, 5, 20, 1000, 1, false), 20);
  // Nothing waiting, or the function throttles: down by one, not below the minimum.
  EXPECT_EQ(scale_pollers(20, 5, 20, 0, 10, false), 19);
  EXPECT_EQ(scale_pollers(20, 5, 20, 1000, 10, true), 19);
  EXPECT_EQ(scale_pollers(5, 5, 20, 0, 10, false), 5);
  // A maximum under five: that many from the start, never more; an unknown depth changes nothing.
  EXPECT_EQ(scale_pollers(2, 2, 2, 1000, 1, false), 2);
  EXPECT_EQ(scale_pollers(12, 5, 20, -1, 10, false), 12);
}

// A backlog behind a slow function: five concurrent batches at first, then more every second while
// messages wait, up to MaximumConcurrency; back to five once the queue is empty.
TEST_F(LambdaEsmTest, PollersScaleWithTheBacklogUpToMaximumConcurrency) {
  create_function("worker");
  std::string uuid = map("worker", "orders", {{"BatchSize", 1}, {"ScalingConfig", {{"MaximumConcurrency", 14}}}});
  executor->hold = true;
  for (int i = 0; i < 100; ++i) queues->send("orders", "m" + std::to_string(i));
  run();
  auto pollers = [&] { return lambda->esm_stats()[uuid]["pollers"].get<int>(); };
  EXPECT_EQ(executor->held.size(), 5u);
  EXPECT_EQ(pollers(), 5);
  EXPECT_EQ(lambda->esm_stats()[uuid]["max_pollers"], 14);
  clock.advance_ms(999);
  run();
  EXPECT_EQ(executor->held.size(), 5u);
  clock.advance_ms(1);
  run();
  EXPECT_EQ(pollers(), 10);
  EXPECT_EQ(executor->held.size(), 10u);
  clock.advance_ms(1'000);
  run();
  EXPECT_EQ(pollers(), 14);
  EXPECT_EQ(executor->held.size(), 14u);
  clock.advance_ms(1'000);
  run();
  EXPECT_EQ(pollers(), 14);
  EXPECT_EQ(executor->held.size(), 14u);
  // The function catches up: the queue drains, then one poller fewer a second down to five.
  executor->release();
  run();
  EXPECT_TRUE(queues->remaining("orders").empty());
  EXPECT_EQ(executor->count(), 100u);
  EXPECT_EQ(queues->waiting(), 14u);
  for (int expect = 13; expect >= 5; --expect) {
    clock.advance_ms(1'000);
    run();
    EXPECT_EQ(pollers(), expect);
  }
  clock.advance_ms(1'000);
  run();
  EXPECT_EQ(pollers(), 5);
  EXPECT_EQ(queues->waiting(), 5u);  // the idle long polls of the parked pollers ended
  // New work is still taken, and a new backlog scales up again.
  executor->hold = true;
  for (int i = 0; i < 30; ++i) queues->send("orders", "n" + std::to_string(i));
  run();
  EXPECT_EQ(executor->held.size(), 5u);
  clock.advance_ms(1'000);
  run();
  EXPECT_EQ(pollers(), 10);
  EXPECT_EQ(executor->held.size(), 10u);
  executor->release();
  run();
  EXPECT_TRUE(queues->remaining("orders").empty());
}

// Without MaximumConcurrency the bound is kMaxPollers.
TEST_F(LambdaEsmTest, PollersWithoutMaximumConcurrencyStopAtTheLaptopBound) {
  create_function("worker");
  std::string uuid = map("worker", "orders", {{"BatchSize", 1}});
  executor->hold = true;
  for (int i = 0; i < 200; ++i) queues->send("orders", "m" + std::to_string(i));
  run();
  for (int step = 0; step < 10; ++step) {
    clock.advance_ms(1'000);
    run();
  }
  EXPECT_EQ(lambda->esm_stats()[uuid]["pollers"], kMaxPollers);
  EXPECT_EQ(executor->held.size(), static_cast<std::size_t>(kMaxPollers));
  executor->release();
  run();
}

TEST_F(LambdaEsmTest, MappingsSurviveARestart) {
  create_function("worker");
  std::string enabled = map("worker", "orders");
  queues->create("paused");
  std::string disabled = map("worker", "paused", {{"Enabled", false}});
  run();
  close();
  queues = std::make_shared<FakeQueue>(clock);
  queues->create("orders");
  queues->create("paused");
  open();
  run();
  EXPECT_EQ(queues->waiting(), 5u);  // only the enabled mapping polls
  EXPECT_EQ(call("GetEventSourceMapping", {{"UUID", enabled}}).output["State"], "Enabled");
  EXPECT_EQ(call("GetEventSourceMapping", {{"UUID", disabled}}).output["State"], "Disabled");
  queues->send("orders", "after restart");
  run();
  EXPECT_EQ(executor->count(), 1u);
  EXPECT_TRUE(queues->remaining("orders").empty());
}

}  // namespace
}  // namespace stratus::services::lambda

namespace stratus::services::lambda {
namespace {

// ---------------------------------------------------------------------------------------------
// Stack providers: AWS::Lambda::EventSourceMapping and SAM's Events {Type: SQS}
// ---------------------------------------------------------------------------------------------

class EsmStackTest : public LambdaEsmTest {
 protected:
  bool apply(const std::string& type, const std::string& logical_id, const json& props,
             stack::AppliedResource& out, std::string& error) {
    auto provider = make_function_provider(service, type);
    EXPECT_TRUE(provider) << type;
    stack::Resource r;
    r.logical_id = logical_id;
    r.type = type;
    r.properties = props;
    stack::ApplyContext context;
    return provider->apply(r, props, context, out, error);
  }
  json mappings() { return call("ListEventSourceMappings", json::object()).output["EventSourceMappings"]; }
};

TEST_F(EsmStackTest, EventSourceMappingResourceIsCreatedThenUpdatedInPlace) {
  create_function("worker");
  json props = {{"EventSourceArn", FakeQueue::arn("orders")},
                {"FunctionName", "worker"},
                {"BatchSize", 5},
                {"FunctionResponseTypes", {"ReportBatchItemFailures"}},
                {"ScalingConfig", {{"MaximumConcurrency", 2}}}};
  stack::AppliedResource first;
  std::string error;
  ASSERT_TRUE(apply("AWS::Lambda::EventSourceMapping", "M", props, first, error)) << error;
  EXPECT_EQ(first.attributes["Id"], first.physical_id);
  EXPECT_EQ(first.attributes["EventSourceMappingArn"],
            "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:" + first.physical_id);
  // Applied again at the next start, with a change: the same mapping, updated; removed members reset.
  props["BatchSize"] = 7;
  props.erase("ScalingConfig");
  props["Enabled"] = false;
  stack::AppliedResource second;
  ASSERT_TRUE(apply("AWS::Lambda::EventSourceMapping", "M", props, second, error)) << error;
  EXPECT_EQ(second.physical_id, first.physical_id);
  json all = mappings();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["BatchSize"], 7);
  EXPECT_EQ(all[0]["State"], "Disabled");
  EXPECT_FALSE(all[0].contains("ScalingConfig"));
  EXPECT_EQ(all[0]["FunctionResponseTypes"], json::array({"ReportBatchItemFailures"}));
  // A function given by ARN (Fn::GetAtt Function.Arn) names the same mapping.
  props["FunctionName"] = "arn:aws:lambda:us-east-1:000000000000:function:worker";
  stack::AppliedResource third;
  ASSERT_TRUE(apply("AWS::Lambda::EventSourceMapping", "M", props, third, error)) << error;
  EXPECT_EQ(third.physical_id, first.physical_id);
  // Errors are Lambda's.
  stack::AppliedResource bad;
  EXPECT_FALSE(apply("AWS::Lambda::EventSourceMapping", "B",
                     {{"EventSourceArn", FakeQueue::arn("ghost")}, {"FunctionName", "worker"}}, bad, error));
  EXPECT_NE(error.find("InvalidParameterValueException"), std::string::npos) << error;
}

TEST_F(EsmStackTest, SamSqsEventsBecomeMappingsAndDeadLetterQueueIsSet) {
  fs::path dir = persistent_dir / "src";
  fs::create_directories(dir);
  std::ofstream(dir / "libfn.so") << std::string("\x7f" "ELF", 4) << "fake";
  json props = {{"FunctionName", "sam-worker"},
                {"CodeUri", (dir / "libfn.so").string()},
                {"Handler", "libfn.so"},
                {"DeadLetterQueue", {{"Type", "SQS"}, {"TargetArn", FakeQueue::arn("orders-dlq")}}},
                {"Events",
                 {{"Orders",
                   {{"Type", "SQS"},
                    {"Properties",
                     {{"Queue", FakeQueue::arn("orders")},
                      {"BatchSize", 3},
                      {"FunctionResponseTypes", {"ReportBatchItemFailures"}}}}}},
                  {"Ignored", {{"Type", "Schedule"}, {"Properties", {{"Schedule", "rate(1 minute)"}}}}}}}};
  stack::AppliedResource out;
  std::string error;
  ASSERT_TRUE(apply("AWS::Serverless::Function", "Fn", props, out, error)) << error;
  ASSERT_TRUE(apply("AWS::Serverless::Function", "Fn", props, out, error)) << error;  // idempotent
  json all = mappings();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["EventSourceArn"], FakeQueue::arn("orders"));
  EXPECT_EQ(all[0]["BatchSize"], 3);
  EXPECT_EQ(all[0]["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:sam-worker");
  json cfg = call("GetFunctionConfiguration", {{"FunctionName", "sam-worker"}}).output;
  EXPECT_EQ(cfg["DeadLetterConfig"]["TargetArn"], FakeQueue::arn("orders-dlq"));
  // Removing DeadLetterQueue from the stack removes it from the function.
  props.erase("DeadLetterQueue");
  ASSERT_TRUE(apply("AWS::Serverless::Function", "Fn", props, out, error)) << error;
  EXPECT_FALSE(call("GetFunctionConfiguration", {{"FunctionName", "sam-worker"}}).output.contains("DeadLetterConfig"));
  // An SQS event without Queue is an error that names the event.
  props["Events"]["Orders"]["Properties"].erase("Queue");
  EXPECT_FALSE(apply("AWS::Serverless::Function", "Fn", props, out, error));
  EXPECT_NE(error.find("Events.Orders"), std::string::npos) << error;
}

}  // namespace
}  // namespace stratus::services::lambda
