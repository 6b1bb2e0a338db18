// Asynchronous invocation (async_queue.hpp): the durable queue, retries and their delays, maximum event
// age, destinations and their records. A ManualClock drives time and process_due_events() runs what is
// due; a scripted in-test executor stands in for the runtime (the integration test uses real functions).
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>

#include "services/lambda/async.hpp"
#include "services/lambda/lambda_service.hpp"

namespace stratus::services::lambda {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kArn = "arn:aws:lambda:us-east-1:000000000000:function:";

// Answers each invocation with the next scripted result of that function (default: ok, echoing the
// payload) and records when it was called.
class ScriptedExecutor : public FunctionExecutor {
 public:
  struct Call {
    std::string function;
    std::string version;
    std::string payload;
    std::int64_t at_ms;
  };
  explicit ScriptedExecutor(const Clock& clock) : clock_(clock) {}
  void invoke(const FunctionConfig& config, std::string payload, InvocationType type,
              std::function<void(InvokeResult)> done) override {
    EXPECT_EQ(type, InvocationType::event);
    InvokeResult r;
    {
      std::lock_guard lock(mutex);
      calls.push_back({config.function_name, config.version, payload, clock_.now_ms()});
      auto& queue = script[config.function_name];
      if (!queue.empty()) {
        r = queue.front();
        queue.pop_front();
      } else {
        r.payload = payload;
      }
    }
    done(r);
  }
  static InvokeResult error(const std::string& message = "boom") {
    InvokeResult r;
    r.status = InvokeResult::Status::function_error;
    r.payload = json{{"errorMessage", message}, {"errorType", "std::runtime_error"}}.dump();
    return r;
  }
  static InvokeResult throttle() {
    InvokeResult r;
    r.status = InvokeResult::Status::throttled;
    r.throttle_reason = "ReservedFunctionConcurrentInvocationLimitExceeded";
    return r;
  }
  std::vector<Call> calls_of(const std::string& function) {
    std::lock_guard lock(mutex);
    std::vector<Call> out;
    for (const auto& c : calls)
      if (c.function == function) out.push_back(c);
    return out;
  }

  std::mutex mutex;
  std::map<std::string, std::deque<InvokeResult>> script;
  std::vector<Call> calls;

 private:
  const Clock& clock_;
};

// Captures what the router delivers to "queue" targets.
class CapturingKind : public events::TargetKind {
 public:
  void deliver(const events::Event& event, const events::Target& target,
               std::function<void(events::DeliveryResult)> done) override {
    std::lock_guard lock(mutex);
    delivered.emplace_back(event, target);
    done(events::DeliveryResult::success());
  }
  std::mutex mutex;
  std::vector<std::pair<events::Event, events::Target>> delivered;
};

class LambdaAsyncTest : public ::testing::Test {
 protected:
  void SetUp() override { open_store(StoreOptions{"", true, false}); }
  void TearDown() override {
    service.reset();
    if (store) store->close();
    if (!persistent_dir.empty()) fs::remove_all(persistent_dir);
  }

  void open_store(const StoreOptions& options) {
    Status st;
    store = Store::open(options, st);
    ASSERT_TRUE(store) << st.message;
    LambdaDeps deps;
    deps.store = store.get();
    deps.clock = &clock;
    deps.data_dir = store->data_dir();
    deps.executor = executor;
    deps.router = &router;
    deps.async_background = false;
    service = make_lambda_service(deps);
    lambda = dynamic_cast<LambdaService*>(service.get());
  }

  Outcome call(const std::string& op, json in) { return lambda->call(op, p, std::move(in)); }

  void create(const std::string& name) {
    fs::path dir = fs::path(store->data_dir()) / "src";
    fs::create_directories(dir);
    std::ofstream(dir / "libfn.so") << std::string("\x7f" "ELF", 4) << "fake";
    Outcome o = call("CreateFunction", {{"FunctionName", name},
                                        {"Runtime", "provided.al2023"},
                                        {"Role", "arn:aws:iam::000000000000:role/r"},
                                        {"Handler", "libfn.so"},
                                        {"Code", {{"S3Bucket", "hot-reload"}, {"S3Key", dir.string()}}}});
    ASSERT_FALSE(o.error) << o.error->message;
  }

  void configure(const std::string& name, json config) {
    config["FunctionName"] = name;
    Outcome o = call("PutFunctionEventInvokeConfig", config);
    ASSERT_FALSE(o.error) << o.error->message;
  }

  void invoke_event(const std::string& name, const std::string& payload) {
    http::Request request;
    request.body = payload;
    Outcome o = lambda->call("Invoke", p, {{"FunctionName", name}, {"InvocationType", "Event"}}, &request);
    ASSERT_FALSE(o.error) << o.error->message;
    ASSERT_EQ(o.output["StatusCode"], 202);
  }

  // Runs what is due until nothing is (destination events are due at once).
  std::size_t run_due() {
    std::size_t total = 0;
    while (std::size_t n = lambda->process_due_events()) total += n;
    return total;
  }

  json stats() { return async_stats(*service); }

  ManualClock clock;
  std::shared_ptr<ScriptedExecutor> executor = std::make_shared<ScriptedExecutor>(clock);
  events::Router router{[](std::function<void()> task) { task(); }};
  std::unique_ptr<Store> store;
  std::shared_ptr<Service> service;
  LambdaService* lambda = nullptr;
  Partition p{"000000000000", "us-east-1"};
  fs::path persistent_dir;
};

// Keys of a JSON object, sorted.
std::vector<std::string> keys(const json& j) {
  std::vector<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
  return out;
}

TEST_F(LambdaAsyncTest, FunctionErrorsAreRetriedTwiceAfterOneThenTwoMinutes) {
  create("f");
  executor->script["f"] = {ScriptedExecutor::error(), ScriptedExecutor::error(), ScriptedExecutor::error()};
  std::int64_t t0 = clock.now_ms();
  invoke_event("f", R"({"k":1})");
  EXPECT_EQ(stats()["queued"], 1);
  EXPECT_EQ(run_due(), 1u);
  clock.advance_ms(59'999);
  EXPECT_EQ(run_due(), 0u);
  clock.advance_ms(1);
  EXPECT_EQ(run_due(), 1u);
  clock.advance_ms(119'999);
  EXPECT_EQ(run_due(), 0u);
  clock.advance_ms(1);
  EXPECT_EQ(run_due(), 1u);
  clock.advance_ms(10 * 60'000);
  EXPECT_EQ(run_due(), 0u);
  auto calls = executor->calls_of("f");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].at_ms, t0);
  EXPECT_EQ(calls[1].at_ms, t0 + 60'000);
  EXPECT_EQ(calls[2].at_ms, t0 + 180'000);
  for (const auto& c : calls) EXPECT_EQ(c.payload, R"({"k":1})");
  json s = stats();
  EXPECT_EQ(s["accepted"], 1);
  EXPECT_EQ(s["queued"], 0);
  EXPECT_EQ(s["invocations"], 3);
  EXPECT_EQ(s["function_errors"], 3);
  EXPECT_EQ(s["retries"], 2);
  EXPECT_EQ(s["retries_exhausted"], 1);
}

TEST_F(LambdaAsyncTest, SuccessAfterARetryGoesToOnSuccessWithTheExactRecord) {
  create("f");
  create("dest");
  configure("f", {{"MaximumRetryAttempts", 1},
                  {"DestinationConfig", {{"OnSuccess", {{"Destination", kArn + "dest"}}}}}});
  InvokeResult ok;
  ok.payload = R"({"result":42})";
  executor->script["f"] = {ScriptedExecutor::error(), ok};
  invoke_event("f", R"({"order":7})");
  run_due();
  clock.advance_ms(60'000);
  run_due();
  auto dest = executor->calls_of("dest");
  ASSERT_EQ(dest.size(), 1u);
  json record = json::parse(dest[0].payload);
  EXPECT_EQ(keys(record), (std::vector<std::string>{"requestContext", "requestPayload", "responseContext",
                                                    "responsePayload", "timestamp", "version"}));
  EXPECT_EQ(record["version"], "1.0");
  EXPECT_TRUE(std::regex_match(record["timestamp"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << record["timestamp"];
  EXPECT_EQ(keys(record["requestContext"]),
            (std::vector<std::string>{"approximateInvokeCount", "condition", "functionArn", "requestId"}));
  EXPECT_FALSE(record["requestContext"]["requestId"].get<std::string>().empty());
  EXPECT_EQ(record["requestContext"]["functionArn"], kArn + "f:$LATEST");
  EXPECT_EQ(record["requestContext"]["condition"], "Success");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"], 2);
  EXPECT_EQ(record["requestPayload"], json({{"order", 7}}));
  EXPECT_EQ(record["responseContext"], json({{"statusCode", 200}, {"executedVersion", "$LATEST"}}));
  EXPECT_EQ(record["responsePayload"], json({{"result", 42}}));
  EXPECT_EQ(stats()["destinations"]["function"], 1);
}

TEST_F(LambdaAsyncTest, MaximumRetryAttemptsZeroSendsTheFirstFailureToOnFailure) {
  create("f");
  create("dlq");
  configure("f", {{"MaximumRetryAttempts", 0},
                  {"DestinationConfig", {{"OnFailure", {{"Destination", kArn + "dlq"}}}}}});
  executor->script["f"] = {ScriptedExecutor::error("nope")};
  invoke_event("f", R"({"a":"b"})");
  EXPECT_EQ(run_due(), 2u);  // f once, then the destination
  EXPECT_EQ(executor->calls_of("f").size(), 1u);
  auto dlq = executor->calls_of("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  json record = json::parse(dlq[0].payload);
  EXPECT_EQ(record["requestContext"]["condition"], "RetriesExhausted");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"], 1);
  EXPECT_EQ(record["requestPayload"], json({{"a", "b"}}));
  EXPECT_EQ(record["responseContext"],
            json({{"statusCode", 200}, {"executedVersion", "$LATEST"}, {"functionError", "Unhandled"}}));
  EXPECT_EQ(record["responsePayload"], json({{"errorMessage", "nope"}, {"errorType", "std::runtime_error"}}));
  clock.advance_ms(3'600'000);
  EXPECT_EQ(run_due(), 0u);
}

TEST_F(LambdaAsyncTest, OldEventsExpireWithEventAgeExceeded) {
  create("f");
  create("dlq");
  configure("f", {{"MaximumEventAgeInSeconds", 60},
                  {"DestinationConfig", {{"OnFailure", {{"Destination", kArn + "dlq"}}}}}});
  // Fails at t0 and at t0+60 s (age 60 s: not older than the maximum); the second retry would run at
  // t0+180 s, when the event is too old.
  executor->script["f"] = {ScriptedExecutor::error(), ScriptedExecutor::error()};
  invoke_event("f", "{}");
  run_due();
  clock.advance_ms(60'000);
  run_due();
  clock.advance_ms(120'000);
  run_due();
  EXPECT_EQ(executor->calls_of("f").size(), 2u);
  auto dlq = executor->calls_of("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  json record = json::parse(dlq[0].payload);
  EXPECT_EQ(record["requestContext"]["condition"], "EventAgeExceeded");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"], 2);
  EXPECT_EQ(record["responseContext"]["functionError"], "Unhandled");
  EXPECT_EQ(stats()["expired"], 1);
}

TEST_F(LambdaAsyncTest, ThrottlesBackOffWithoutCountingAttemptsUntilTheEventIsTooOld) {
  create("f");
  create("dlq");
  configure("f", {{"MaximumEventAgeInSeconds", 60},
                  {"DestinationConfig", {{"OnFailure", {{"Destination", kArn + "dlq"}}}}}});
  for (int i = 0; i < 20; ++i) executor->script["f"].push_back(ScriptedExecutor::throttle());
  std::int64_t t0 = clock.now_ms();
  invoke_event("f", "{}");
  for (int second = 0; second <= 64; ++second) {
    run_due();
    clock.advance_ms(1000);
  }
  run_due();
  auto calls = executor->calls_of("f");
  // Backoff 1, 2, 4, 8, 16, 32 s: runs at 0, 1, 3, 7, 15, 31 s; the next (63 s) is past the age.
  ASSERT_EQ(calls.size(), 6u);
  std::vector<std::int64_t> at;
  for (const auto& c : calls) at.push_back((c.at_ms - t0) / 1000);
  EXPECT_EQ(at, (std::vector<std::int64_t>{0, 1, 3, 7, 15, 31}));
  auto dlq = executor->calls_of("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  json record = json::parse(dlq[0].payload);
  EXPECT_EQ(record["requestContext"]["condition"], "EventAgeExceeded");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"], 0);
  EXPECT_FALSE(record.contains("responseContext"));
  EXPECT_FALSE(record.contains("responsePayload"));
  EXPECT_EQ(stats()["throttled"], 6);
}

TEST_F(LambdaAsyncTest, ReservedConcurrencyZeroSendsEventsToOnFailureWithoutRunning) {
  create("f");
  create("dlq");
  configure("f", {{"DestinationConfig", {{"OnFailure", {{"Destination", kArn + "dlq"}}}}}});
  ASSERT_FALSE(call("PutFunctionConcurrency", {{"FunctionName", "f"}, {"ReservedConcurrentExecutions", 0}}).error);
  invoke_event("f", "{}");  // accepted: 202
  run_due();
  EXPECT_TRUE(executor->calls_of("f").empty());
  auto dlq = executor->calls_of("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(json::parse(dlq[0].payload)["requestContext"]["approximateInvokeCount"], 0);
}

TEST_F(LambdaAsyncTest, QualifiedInvokesUseTheQualifiersConfig) {
  create("f");
  create("dest");
  ASSERT_FALSE(call("PublishVersion", {{"FunctionName", "f"}}).error);
  ASSERT_FALSE(call("CreateAlias", {{"FunctionName", "f"}, {"Name", "live"}, {"FunctionVersion", "1"}}).error);
  configure("f:live", {{"DestinationConfig", {{"OnSuccess", {{"Destination", kArn + "dest"}}}}}});
  invoke_event("f", "{}");  // $LATEST: no config, no destination
  invoke_event("f:live", "{}");
  run_due();
  auto f = executor->calls_of("f");
  ASSERT_EQ(f.size(), 2u);
  auto dest = executor->calls_of("dest");
  ASSERT_EQ(dest.size(), 1u);
  json record = json::parse(dest[0].payload);
  EXPECT_EQ(record["requestContext"]["functionArn"], kArn + "f:live");
  EXPECT_EQ(record["responseContext"]["executedVersion"], "1");
}

TEST_F(LambdaAsyncTest, SqsDestinationsAreSentToTheQueueTargetKind) {
  auto kind = std::make_shared<CapturingKind>();
  router.register_target_kind("queue", kind);
  std::string queue_arn = "arn:aws:sqs:us-east-1:000000000000:failures";
  create("f");
  configure("f", {{"MaximumRetryAttempts", 0},
                  {"DestinationConfig", {{"OnFailure", {{"Destination", queue_arn}}}}}});
  executor->script["f"] = {ScriptedExecutor::error()};
  invoke_event("f", R"({"x":1})");
  run_due();
  std::lock_guard lock(kind->mutex);
  ASSERT_EQ(kind->delivered.size(), 1u);  // point to point: no subscription needed
  const auto& [e, target] = kind->delivered[0];
  EXPECT_EQ(target.kind, "queue");
  EXPECT_EQ(target.arn, queue_arn);
  EXPECT_EQ(e.type, "lambda:DestinationRecord");
  EXPECT_EQ(e.source_arn, kArn + "f");
  // The detail is the record itself: the "queue" kind makes it the message body.
  EXPECT_EQ(e.detail["version"], "1.0");
  EXPECT_EQ(e.detail["requestContext"]["condition"], "RetriesExhausted");
  EXPECT_EQ(e.detail["requestContext"]["approximateInvokeCount"], 1);
  EXPECT_EQ(e.detail["requestPayload"], json({{"x", 1}}));
  EXPECT_EQ(e.detail["responseContext"]["functionError"], "Unhandled");
  EXPECT_EQ(stats()["destinations"]["router"], 1);
}

TEST_F(LambdaAsyncTest, TopicAndBusDestinationsAreUndeliverableForNow) {
  create("f");
  configure("f", {{"DestinationConfig",
                   {{"OnSuccess", {{"Destination", "arn:aws:sns:us-east-1:000000000000:topic"}}}}}});
  invoke_event("f", "{}");
  run_due();
  EXPECT_EQ(stats()["destinations"]["undeliverable"], 1);
  EXPECT_EQ(stats()["destinations"]["router"], 0);
}

// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq
TEST_F(LambdaAsyncTest, ExhaustedEventsGoToTheDeadLetterQueueAndTheOnFailureDestination) {
  auto kind = std::make_shared<CapturingKind>();
  router.register_target_kind("queue", kind);
  std::string dlq = "arn:aws:sqs:us-east-1:000000000000:dlq";
  std::string failures = "arn:aws:sqs:us-east-1:000000000000:failures";
  create("f");
  Outcome o = call("UpdateFunctionConfiguration", {{"FunctionName", "f"}, {"DeadLetterConfig", {{"TargetArn", dlq}}}});
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.output["DeadLetterConfig"], json({{"TargetArn", dlq}}));
  configure("f", {{"MaximumRetryAttempts", 1}, {"DestinationConfig", {{"OnFailure", {{"Destination", failures}}}}}});
  executor->script["f"] = {ScriptedExecutor::error("first"), ScriptedExecutor::error(std::string(2000, 'e'))};
  invoke_event("f", R"({"order":7})");
  run_due();
  clock.advance_ms(60'000);
  run_due();
  std::lock_guard lock(kind->mutex);
  ASSERT_EQ(kind->delivered.size(), 2u);
  std::map<std::string, std::pair<events::Event, events::Target>> by_arn;
  for (const auto& d : kind->delivered) by_arn.emplace(d.second.arn, d);
  ASSERT_TRUE(by_arn.count(dlq));
  ASSERT_TRUE(by_arn.count(failures));
  const auto& [e, target] = by_arn.at(dlq);
  // The body is the event as it was invoked, verbatim.
  EXPECT_EQ(e.detail, json(R"({"order":7})"));
  const json& attrs = target.options["MessageAttributes"];
  EXPECT_EQ(attrs["RequestID"]["DataType"], "String");
  EXPECT_EQ(attrs["RequestID"]["StringValue"].get<std::string>().size(), 36u);
  EXPECT_EQ(attrs["ErrorCode"], json({{"DataType", "Number"}, {"StringValue", "200"}}));
  EXPECT_EQ(attrs["ErrorMessage"]["DataType"], "String");
  EXPECT_EQ(attrs["ErrorMessage"]["StringValue"], std::string(1024, 'e'));  // the first 1 KB
  EXPECT_EQ(by_arn.at(failures).first.detail["requestContext"]["approximateInvokeCount"], 2);
  EXPECT_EQ(stats()["destinations"]["dead_letter"], 1);
}

TEST_F(LambdaAsyncTest, ASuccessDoesNotGoToTheDeadLetterQueue) {
  auto kind = std::make_shared<CapturingKind>();
  router.register_target_kind("queue", kind);
  create("f");
  ASSERT_FALSE(call("UpdateFunctionConfiguration",
                    {{"FunctionName", "f"}, {"DeadLetterConfig", {{"TargetArn", "arn:aws:sqs:us-east-1:000000000000:dlq"}}}})
                   .error);
  invoke_event("f", "{}");
  run_due();
  std::lock_guard lock(kind->mutex);
  EXPECT_TRUE(kind->delivered.empty());
  EXPECT_EQ(stats()["destinations"]["dead_letter"], 0);
}

TEST_F(LambdaAsyncTest, DeadLetterConfigTakesSqsOrSnsArnsAndAnEmptyTargetRemovesIt) {
  create("f");
  Outcome o = call("UpdateFunctionConfiguration",
                   {{"FunctionName", "f"}, {"DeadLetterConfig", {{"TargetArn", "arn:aws:s3:::bucket"}}}});
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "InvalidParameterValueException");
  EXPECT_FALSE(call("GetFunctionConfiguration", {{"FunctionName", "f"}}).output.contains("DeadLetterConfig"));
  ASSERT_FALSE(call("UpdateFunctionConfiguration",
                    {{"FunctionName", "f"}, {"DeadLetterConfig", {{"TargetArn", "arn:aws:sns:us-east-1:000000000000:t"}}}})
                   .error);
  EXPECT_EQ(call("GetFunctionConfiguration", {{"FunctionName", "f"}}).output["DeadLetterConfig"]["TargetArn"],
            "arn:aws:sns:us-east-1:000000000000:t");
  ASSERT_FALSE(call("UpdateFunctionConfiguration", {{"FunctionName", "f"}, {"DeadLetterConfig", {{"TargetArn", ""}}}})
                   .error);
  EXPECT_FALSE(call("GetFunctionConfiguration", {{"FunctionName", "f"}}).output.contains("DeadLetterConfig"));
}

TEST_F(LambdaAsyncTest, QueuedEventsSurviveARestart) {
  persistent_dir = fs::temp_directory_path() / ("stratus-lambda-async-" + std::to_string(::getpid()));
  fs::remove_all(persistent_dir);
  StoreOptions options;
  options.data_dir = persistent_dir.string();
  service.reset();
  store->close();
  open_store(options);
  create("f");
  executor->script["f"] = {ScriptedExecutor::error()};
  invoke_event("f", R"({"durable":true})");  // queued, never run
  run_due();                                  // fails once: a retry is queued for t0 + 1 min
  invoke_event("f", R"({"second":true})");
  service->shutdown();
  service.reset();
  store->close();

  open_store(options);
  EXPECT_EQ(stats()["queued"], 2);
  EXPECT_EQ(run_due(), 1u);  // the second event, due now
  clock.advance_ms(60'000);
  EXPECT_EQ(run_due(), 1u);  // the retry, with its attempt count kept
  auto calls = executor->calls_of("f");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].payload, R"({"durable":true})");
  EXPECT_EQ(calls[1].payload, R"({"second":true})");
  EXPECT_EQ(calls[2].payload, R"({"durable":true})");
  EXPECT_EQ(stats()["queued"], 0);
}

TEST_F(LambdaAsyncTest, EventsOfADeletedFunctionAreDropped) {
  create("f");
  invoke_event("f", "{}");
  ASSERT_FALSE(call("DeleteFunction", {{"FunctionName", "f"}}).error);
  run_due();
  EXPECT_TRUE(executor->calls_of("f").empty());
  EXPECT_EQ(stats()["dropped"], 1);
  EXPECT_EQ(stats()["queued"], 0);
}

}  // namespace
}  // namespace stratus::services::lambda
