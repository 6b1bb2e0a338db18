// The dispatcher's path from request to operation table and back, with a test service registered in
// place of a real one (no service is implemented yet), on real protocol codecs.
#include "emulator/dispatcher.hpp"

#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace stratus::emulator {
namespace {

using nlohmann::json;

class TestSqs : public services::Service {
 public:
  TestSqs() {
    ops_.push_back({"ListQueues",
                    [this](const services::CallContext& ctx, json& input, services::Reply reply) {
                      last_ctx = ctx;
                      last_input = input;
                      reply(services::Outcome::ok({{"QueueUrls", {"http://" + ctx.host + "/000000000000/q1"}}}));
                    },
                    services::InputRules::model, "test"});
    ops_.push_back({"GetQueueUrl",
                    [](const services::CallContext&, json& input, services::Reply reply) {
                      // Answers later, from another thread, as long-running operations do.
                      std::thread([reply, name = input.value("QueueName", "")] {
                        auto e = AwsError::sender(400, "QueueDoesNotExist", "The specified queue does not exist.");
                        e.query_code = "AWS.SimpleQueueService.NonExistentQueue";
                        reply(name == "missing" ? services::Outcome::fail(e)
                                                : services::Outcome::ok({{"QueueUrl", "u/" + name}}));
                      }).detach();
                    },
                    services::InputRules::model, ""});
    ops_.push_back({"PurgeQueue",
                    [](const services::CallContext&, json&, services::Reply) -> void {
                      throw std::runtime_error("boom");
                    },
                    services::InputRules::none, ""});
  }
  std::string_view name() const override { return "sqs"; }
  const std::vector<services::OperationSpec>& operations() const override { return ops_; }
  services::CallContext last_ctx;
  json last_input;

 private:
  std::vector<services::OperationSpec> ops_;
};

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() {
    sqs = std::make_shared<TestSqs>();
    registry.add(sqs);
    DispatcherConfig config;
    config.version = "test";
    dispatcher = std::make_unique<Dispatcher>(config, registry, clock);
  }
  http::Response call(http::Request request) {
    std::promise<http::Response> promise;
    auto future = promise.get_future();
    dispatcher->handle(std::move(request), [&promise](http::Response r) { promise.set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return future.get();
  }
  static http::Request sqs_json(std::string op, std::string body, std::string region = "eu-west-1") {
    http::Request r;
    r.method = "POST";
    r.target = r.path = "/";
    r.headers.add("Host", "localhost:4566");
    r.headers.add("Content-Type", "application/x-amz-json-1.0");
    r.headers.add("X-Amz-Target", "AmazonSQS." + op);
    r.headers.add("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261201/" + region +
                                       "/sqs/aws4_request, SignedHeaders=host, Signature=00");
    r.body = std::move(body);
    return r;
  }

  ManualClock clock;
  services::Registry registry;
  std::shared_ptr<TestSqs> sqs;
  std::unique_ptr<Dispatcher> dispatcher;
};

TEST_F(DispatcherTest, CallsTheOperationWithContextAndEncodesTheOutput) {
  auto r = call(sqs_json("ListQueues", R"({"QueueNamePrefix":"q"})"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["QueueUrls"][0], "http://localhost:4566/000000000000/q1");
  EXPECT_FALSE(r.headers.get("x-amzn-RequestId").empty());
  EXPECT_EQ(sqs->last_ctx.region, "eu-west-1");
  EXPECT_EQ(sqs->last_ctx.account, "000000000000");
  EXPECT_EQ(sqs->last_ctx.operation, "ListQueues");
  EXPECT_EQ(sqs->last_ctx.now_ms, clock.now_ms());
  EXPECT_EQ(sqs->last_input["QueueNamePrefix"], "q");
}

TEST_F(DispatcherTest, ModelRulesRejectBadInputBeforeTheHandler) {
  auto r = call(sqs_json("GetQueueUrl", "{}"));  // QueueName is required
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("ValidationException"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("ueueName' failed to satisfy constraint: Member must not be null"), std::string::npos)
      << r.body;
}

TEST_F(DispatcherTest, AsynchronousRepliesAndErrorsFromAnotherThread) {
  auto ok = call(sqs_json("GetQueueUrl", R"({"QueueName":"a"})"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body)["QueueUrl"], "u/a");
  auto missing = call(sqs_json("GetQueueUrl", R"({"QueueName":"missing"})"));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.headers.get("x-amzn-query-error"), "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_NE(missing.body.find("QueueDoesNotExist"), std::string::npos) << missing.body;
}

TEST_F(DispatcherTest, AHandlerThatThrowsCostsOneRequest) {
  auto r = call(sqs_json("PurgeQueue", R"({"QueueUrl":"x"})"));
  EXPECT_EQ(r.status, 500);
  auto after = call(sqs_json("ListQueues", "{}"));
  EXPECT_EQ(after.status, 200);
}

TEST_F(DispatcherTest, UnimplementedAndUnknownOperations) {
  auto r = call(sqs_json("SendMessage", R"({"QueueUrl":"x","MessageBody":"b"})"));
  EXPECT_EQ(r.status, 501);
  EXPECT_NE(r.body.find("NotImplemented"), std::string::npos);
  auto unknown = call(sqs_json("Bogus", "{}"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.headers.get("x-amzn-query-error").substr(0, 13), "InvalidAction");
}

TEST_F(DispatcherTest, IdentifiesOnceWhenTheBodyCannotChangeTheAnswer) {
  // As the server does: plan_body() on the head, its context carried to handle() with the body.
  auto head = sqs_json("ListQueues", "");
  auto plan = dispatcher->plan_body(head);
  ASSERT_NE(plan.context, nullptr);  // a JSON request: the head says it all
  auto request = sqs_json("ListQueues", R"({"QueueNamePrefix":"p"})");
  request.context = plan.context;
  auto r = call(std::move(request));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(sqs->last_ctx.operation, "ListQueues");
  EXPECT_EQ(sqs->last_ctx.region, "eu-west-1");
  EXPECT_EQ(sqs->last_input["QueueNamePrefix"], "p");

  // A form body names the query-protocol Action: identified again once the body is there.
  http::Request form;
  form.method = "POST";
  form.target = form.path = "/";
  form.headers.add("Host", "localhost:4566");
  form.headers.add("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  form.headers.add("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261201/eu-west-2/sqs/aws4_request, "
                                    "SignedHeaders=host, Signature=00");
  EXPECT_EQ(dispatcher->plan_body(form).context, nullptr);
  form.body = "Action=ListQueues&Version=2012-11-05&QueueNamePrefix=f";
  sqs->last_input = json();
  auto q = call(std::move(form));
  EXPECT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(sqs->last_ctx.region, "eu-west-2");
  EXPECT_EQ(sqs->last_input["QueueNamePrefix"], "f");
}

TEST_F(DispatcherTest, HealthListsEveryServiceWithItsState) {
  http::Request r;
  r.method = "GET";
  r.target = r.path = "/_stratus/health";
  auto response = call(r);
  ASSERT_EQ(response.status, 200);
  auto doc = json::parse(response.body);
  EXPECT_EQ(doc["status"], "running");
  EXPECT_EQ(doc["services"]["sqs"]["state"], "running");
  EXPECT_EQ(doc["services"]["sqs"]["operations"]["implemented"], 3);
  EXPECT_EQ(doc["services"]["lambda"]["state"], "not_implemented");
  for (auto name : {"lambda", "sqs", "s3", "dynamodb", "events", "apigateway", "apigatewayv2"}) {
    EXPECT_TRUE(doc["services"].contains(name)) << name;
  }
}

}  // namespace
}  // namespace stratus::emulator
