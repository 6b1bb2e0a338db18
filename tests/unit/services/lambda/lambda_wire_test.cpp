// The Lambda service behind the real dispatcher and REST-JSON codecs: status codes and headers as
// boto3 / the AWS CLI see them (what the daemon will serve once the service is registered).
#include <gtest/gtest.h>
#include <zip.h>

#include <future>
#include <list>

#include "emulator/dispatcher.hpp"
#include "protocol/protocol.hpp"
#include "services/lambda/lambda.hpp"

namespace stratus::services::lambda {
namespace {

using nlohmann::json;

std::string make_zip(const std::string& name, const std::string& data) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_t* z = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  zip_source_keep(src);
  zip_file_add(z, name.c_str(), zip_source_buffer(z, data.data(), data.size(), 0), ZIP_FL_OVERWRITE);
  zip_close(z);
  zip_source_open(src);
  zip_source_seek(src, 0, SEEK_END);
  zip_int64_t size = zip_source_tell(src);
  zip_source_seek(src, 0, SEEK_SET);
  std::string out(static_cast<std::size_t>(size), '\0');
  zip_source_read(src, out.data(), static_cast<zip_uint64_t>(size));
  zip_source_close(src);
  zip_source_free(src);
  zip_error_fini(&err);
  return out;
}

class ScriptedExecutor : public FunctionExecutor {
 public:
  void invoke(const FunctionConfig&, std::string payload, InvocationType,
              std::function<void(InvokeResult)> done) override {
    InvokeResult r = next;
    if (r.payload.empty()) r.payload = payload;
    done(r);
  }
  InvokeResult next;
};

class LambdaWireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st;
    store = Store::open(StoreOptions{"", true, false}, st);
    ASSERT_TRUE(store);
    LambdaDeps deps;
    deps.store = store.get();
    deps.clock = &clock;
    deps.executor = executor;
    deps.async_background = false;  // Event invokes are only queued here
    registry.add(make_lambda_service(deps));
    emulator::DispatcherConfig config;
    config.version = "test";
    dispatcher = std::make_unique<emulator::Dispatcher>(config, registry, clock);
  }

  http::Response call(std::string method, std::string target, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request r;
    r.method = std::move(method);
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    r.headers.add("Host", "localhost:4566");
    r.headers.add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=test/20261201/us-east-1/lambda/aws4_request, "
                  "SignedHeaders=host, Signature=00");
    for (auto& [k, v] : headers) r.headers.add(k, v);
    r.body = std::move(body);
    std::promise<http::Response> promise;
    auto future = promise.get_future();
    dispatcher->handle(std::move(r), [&promise](http::Response resp) { promise.set_value(std::move(resp)); });
    EXPECT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return future.get();
  }

  void create(const std::string& name) {
    std::string zip = make_zip("libecho.so", std::string("\x7f"
                                                         "ELF",
                                                         4) +
                                                 "x");
    json body = {{"FunctionName", name},
                 {"Runtime", "provided.al2023"},
                 {"Role", "arn:aws:iam::000000000000:role/r"},
                 {"Handler", "libecho.so"},
                 {"Code", {{"ZipFile", protocol::base64_encode(zip)}}}};
    auto r = call("POST", "/2015-03-31/functions", body.dump(), {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 201) << r.body;
  }

  ManualClock clock;
  std::unique_ptr<Store> store;
  std::shared_ptr<ScriptedExecutor> executor = std::make_shared<ScriptedExecutor>();
  Registry registry;
  std::unique_ptr<emulator::Dispatcher> dispatcher;
};

TEST_F(LambdaWireTest, StatusCodesOfTheControlPlane) {
  create("echo");
  auto got = call("GET", "/2015-03-31/functions/echo");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body)["Configuration"]["FunctionName"], "echo");
  auto missing = call("GET", "/2015-03-31/functions/nope/configuration");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers.get("x-amzn-ErrorType"), "ResourceNotFoundException");
  EXPECT_EQ(json::parse(missing.body)["Message"],
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope");
  auto version = call("POST", "/2015-03-31/functions/echo/versions", "{}");
  EXPECT_EQ(version.status, 201) << version.body;
  auto alias = call("POST", "/2015-03-31/functions/echo/aliases", R"({"Name":"live","FunctionVersion":"1"})");
  EXPECT_EQ(alias.status, 201) << alias.body;
  EXPECT_EQ(call("DELETE", "/2015-03-31/functions/echo/aliases/live").status, 204);
  auto list = call("GET", "/2015-03-31/functions?MaxItems=1&FunctionVersion=ALL");
  EXPECT_EQ(list.status, 200);
  EXPECT_TRUE(json::parse(list.body).contains("NextMarker"));
  auto pc = call("PUT", "/2019-09-30/functions/echo/provisioned-concurrency?Qualifier=1",
                 R"({"ProvisionedConcurrentExecutions":1})");
  EXPECT_EQ(pc.status, 202) << pc.body;
  auto bad = call("PUT", "/2015-03-31/functions/echo/configuration", R"({"MemorySize":20000})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.headers.get("x-amzn-ErrorType"), "ValidationException");
  EXPECT_EQ(call("DELETE", "/2015-03-31/functions/echo").status, 204);
}

TEST_F(LambdaWireTest, InvokeHeaders) {
  create("echo");
  executor->next.log_tail = "START RequestId: 1\nhello\nEND RequestId: 1\n";
  auto ok =
      call("POST", "/2015-03-31/functions/echo/invocations", R"({"a":1})", {{"X-Amz-Log-Type", "Tail"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"a":1})");
  EXPECT_EQ(ok.headers.get("X-Amz-Executed-Version"), "$LATEST");
  EXPECT_EQ(protocol::base64_decode(ok.headers.get("X-Amz-Log-Result")).value_or(""),
            executor->next.log_tail);
  EXPECT_FALSE(ok.headers.contains("X-Amz-Function-Error"));

  executor->next.status = InvokeResult::Status::function_error;
  executor->next.payload = R"({"errorMessage":"boom","errorType":"Error"})";
  auto fe = call("POST", "/2015-03-31/functions/echo/invocations", "{}");
  EXPECT_EQ(fe.status, 200);
  EXPECT_EQ(fe.headers.get("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(fe.body, executor->next.payload);

  auto ev =
      call("POST", "/2015-03-31/functions/echo/invocations", "{}", {{"X-Amz-Invocation-Type", "Event"}});
  EXPECT_EQ(ev.status, 202);
  auto dry =
      call("POST", "/2015-03-31/functions/echo/invocations", "{}", {{"X-Amz-Invocation-Type", "DryRun"}});
  EXPECT_EQ(dry.status, 204);

  executor->next = InvokeResult{};
  executor->next.status = InvokeResult::Status::throttled;
  executor->next.throttle_reason = "ReservedFunctionConcurrentInvocationLimitExceeded";
  auto th = call("POST", "/2015-03-31/functions/echo/invocations", "{}");
  EXPECT_EQ(th.status, 429);
  EXPECT_EQ(th.headers.get("x-amzn-ErrorType"), "TooManyRequestsException");
  EXPECT_EQ(json::parse(th.body)["Reason"], "ReservedFunctionConcurrentInvocationLimitExceeded");

  auto bad = call("POST", "/2015-03-31/functions/echo/invocations", "{oops");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.headers.get("x-amzn-ErrorType"), "InvalidRequestContentException");
}

}  // namespace
}  // namespace stratus::services::lambda
