// The runtime against real worker processes and the real example functions (functions/*.so).
#include "runtime/pool.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>

#include "common/clock.hpp"

namespace stratus::runtime {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Status = InvokeResult::Status;

std::string fn_path(const std::string& name) {
  return std::string(STRATUS_TEST_FUNCTIONS_DIR) + "/" + name + ".so";
}

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stratus-rt-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    runtime_.worker_path = STRATUS_TEST_WORKER;
    runtime_.work_dir = dir_ + "/snapshots";
    // Started on demand by the tests that use them (refill()); cold starts of libraries in a directory of
    // their own adopt them (spare_can_run), the others spawn.
    runtime_.spares = std::make_shared<SpareWorkers>(STRATUS_TEST_WORKER, 1);
  }
  void TearDown() override {
    for (auto& p : pools_) p->shutdown();
    pools_.clear();
    // Let the killed workers be reaped.
    run_for(std::chrono::milliseconds(50));
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // `fn` copied alone into a directory of its own, as an unpacked deployment package is: spare-eligible.
  std::string packaged(const std::string& fn) {
    std::string dir = dir_ + "/pkg-" + fn;
    fs::create_directories(dir);
    fs::copy_file(fn_path(fn), dir + "/" + fn + ".so", fs::copy_options::overwrite_existing);
    return dir + "/" + fn + ".so";
  }

  // Makes one spare ready and returns its pid.
  pid_t ready_spare() {
    runtime_.spares->refill();
    auto pids = runtime_.spares->pids();
    EXPECT_EQ(pids.size(), 1u);
    return pids.empty() ? -1 : pids.front();
  }

  FunctionConfig config(const std::string& fn) {
    FunctionConfig c;
    c.function_name = fn;
    c.library_path = fn_path(fn);
    c.timeout_ms = 5000;
    return c;
  }

  std::shared_ptr<Pool> make_pool(FunctionConfig c, PoolOptions o = {}) {
    auto p = Pool::create(io_, clock_, std::move(c), runtime_, o, account_);
    pools_.push_back(p);
    return p;
  }

  void run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out waiting";
      if (io_.stopped()) io_.restart();
      io_.run_one_for(std::chrono::milliseconds(20));
    }
  }
  void run_for(std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(std::chrono::milliseconds(5));
    }
  }

  // Starts an invocation; the result lands in the returned optional.
  std::shared_ptr<std::optional<InvokeResult>> start(Pool& pool, const json& event) {
    auto out = std::make_shared<std::optional<InvokeResult>>();
    pool.invoke(InvokeRequest{event.dump(), {}, {}}, [out](InvokeResult r) { *out = std::move(r); });
    return out;
  }
  InvokeResult invoke(Pool& pool, const json& event = json::object()) {
    auto out = start(pool, event);
    run_until([&] { return out->has_value(); });
    return out->value_or(InvokeResult{});
  }
  static json body(const InvokeResult& r) { return json::parse(r.payload); }

  asio::io_context io_;
  ManualClock clock_;
  RuntimeOptions runtime_;
  std::shared_ptr<AccountConcurrency> account_ = std::make_shared<AccountConcurrency>();
  std::vector<std::shared_ptr<Pool>> pools_;
  std::string dir_;
};

TEST_F(RuntimeTest, ColdThenWarmKeepsGlobals) {
  auto pool = make_pool(config("counter"));
  auto first = invoke(*pool);
  ASSERT_EQ(first.status, Status::ok) << first.payload;
  EXPECT_TRUE(first.cold_start);
  EXPECT_GT(first.init_duration_ms, 0.0);
  EXPECT_EQ(body(first)["count"], 1);
  auto second = invoke(*pool);
  ASSERT_EQ(second.status, Status::ok);
  EXPECT_FALSE(second.cold_start);
  EXPECT_EQ(body(second)["count"], 2);
  EXPECT_EQ(body(second)["pid"], body(first)["pid"]);
  EXPECT_EQ(body(second)["init_ms"], body(first)["init_ms"]);
  auto stats = pool->stats();
  EXPECT_EQ(stats["cold_starts"], 1);
  EXPECT_EQ(stats["warm_starts"], 1);
  EXPECT_EQ(stats["instances"]["warm"], 1);
  EXPECT_EQ(stats["instances"]["busy"], 0);
}

TEST_F(RuntimeTest, EchoSeesEventAndContext) {
  auto c = config("echo");
  c.memory_mb = 256;
  c.version = "7";
  auto pool = make_pool(c);
  auto r = invoke(*pool, {{"hello", "world"}});
  ASSERT_EQ(r.status, Status::ok) << r.payload;
  auto b = body(r);
  EXPECT_EQ(b["event"]["hello"], "world");
  EXPECT_EQ(b["request_id"], r.request_id);
  EXPECT_EQ(b["function_name"], "echo");
  EXPECT_EQ(b["function_version"], "7");
  EXPECT_EQ(b["invoked_function_arn"], "arn:aws:lambda:us-east-1:000000000000:function:echo:7");
  EXPECT_EQ(b["memory_limit_in_mb"], 256);
  EXPECT_GT(b["remaining_time_in_millis"].get<long>(), 0);
  EXPECT_LE(b["remaining_time_in_millis"].get<long>(), 5000);
  EXPECT_EQ(r.executed_version, "7");
}

TEST_F(RuntimeTest, ReservedConcurrencyThrottles) {
  PoolOptions o;
  o.reserved_concurrency = 2;
  auto pool = make_pool(config("sleep"), o);
  auto a = start(*pool, {{"ms", 400}});
  auto b = start(*pool, {{"ms", 400}});
  auto c = invoke(*pool, {{"ms", 1}});
  EXPECT_EQ(c.status, Status::throttled);
  EXPECT_EQ(c.throttle_reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
  run_until([&] { return a->has_value() && b->has_value(); });
  EXPECT_EQ((*a)->status, Status::ok);
  EXPECT_EQ((*b)->status, Status::ok);
  EXPECT_NE(body(**a)["remaining_time_in_millis"], json());
  auto stats = pool->stats();
  EXPECT_EQ(stats["throttles"], 1);
  EXPECT_EQ(stats["cold_starts"], 2);  // two at once: two instances
  EXPECT_EQ(stats["instances"]["warm"], 2);
  // Once they are done, invokes go through again (warm).
  auto d = invoke(*pool, {{"ms", 1}});
  EXPECT_EQ(d.status, Status::ok);
  EXPECT_FALSE(d.cold_start);
}

TEST_F(RuntimeTest, ReservedZeroAndAccountLimit) {
  PoolOptions zero;
  zero.reserved_concurrency = 0;
  auto off = make_pool(config("echo"), zero);
  EXPECT_EQ(invoke(*off).status, Status::throttled);

  account_->limit = 1;
  auto pool = make_pool(config("sleep"));
  auto a = start(*pool, {{"ms", 300}});
  auto b = invoke(*pool, {{"ms", 1}});
  EXPECT_EQ(b.status, Status::throttled);
  EXPECT_EQ(b.throttle_reason, "ConcurrentInvocationLimitExceeded");
  run_until([&] { return a->has_value(); });
  EXPECT_EQ((*a)->status, Status::ok);
  EXPECT_EQ(account_->in_use, 0);
  EXPECT_EQ(invoke(*pool, {{"ms", 1}}).status, Status::ok);
}

TEST_F(RuntimeTest, ProvisionedInstancesStartBeforeAnyInvoke) {
  PoolOptions o;
  o.provisioned = 2;
  auto pool = make_pool(config("counter"), o);
  run_until([&] { return pool->stats()["instances"]["warm"] == 2; });
  EXPECT_EQ(pool->stats()["instances"]["provisioned"], 2);
  auto r = invoke(*pool);
  ASSERT_EQ(r.status, Status::ok);
  EXPECT_FALSE(r.cold_start);
  EXPECT_EQ(r.log.find("Init Duration"), std::string::npos);
  // Provisioned instances are never evicted.
  clock_.advance_ms(24 * 3600 * 1000);
  EXPECT_EQ(pool->evict_idle(), 0u);
  EXPECT_EQ(pool->stats()["instances"]["warm"], 2);
}

TEST_F(RuntimeTest, IdleInstancesAreEvictedAfterKeepWarm) {
  PoolOptions o;
  o.keep_warm_ms = 60'000;
  auto pool = make_pool(config("counter"), o);
  auto first = invoke(*pool);
  ASSERT_EQ(first.status, Status::ok);
  clock_.advance_ms(59'999);
  EXPECT_EQ(pool->evict_idle(), 0u);
  EXPECT_EQ(body(invoke(*pool))["count"], 2);  // still warm; resets its idle time
  clock_.advance_ms(60'000);
  EXPECT_EQ(pool->evict_idle(), 1u);
  EXPECT_EQ(pool->stats()["instances"]["total"], 0);
  EXPECT_EQ(pool->stats()["evictions"], 1);
  auto again = invoke(*pool);
  EXPECT_TRUE(again.cold_start);
  EXPECT_EQ(body(again)["count"], 1);
}

TEST_F(RuntimeTest, HotReloadPicksUpNewLibraryWhileBusyOldOneFinishes) {
  auto c = config("reloadable");
  c.library_path = dir_ + "/reloadable.so";
  c.hot_reload = true;
  fs::copy_file(fn_path("sleep"), c.library_path);
  auto pool = make_pool(c);
  ASSERT_EQ(invoke(*pool, {{"ms", 1}}).status, Status::ok);
  auto busy = start(*pool, {{"ms", 400}});  // the old build, held busy
  run_for(std::chrono::milliseconds(50));
  // Rebuild in place (cp over the file, as a build might): the running worker uses its own snapshot.
  fs::copy_file(fn_path("echo"), c.library_path, fs::copy_options::overwrite_existing);
  auto fresh = invoke(*pool, {{"v", 2}});
  ASSERT_EQ(fresh.status, Status::ok) << fresh.payload;
  EXPECT_TRUE(fresh.cold_start);
  EXPECT_EQ(body(fresh)["event"]["v"], 2);  // echo answered
  run_until([&] { return busy->has_value(); });
  ASSERT_EQ((*busy)->status, Status::ok) << (*busy)->payload;
  EXPECT_EQ(body(**busy)["slept_ms"], 400);  // the old build finished its invocation
  auto stats = pool->stats();
  EXPECT_EQ(stats["reloads"], 1);
  EXPECT_EQ(stats["instances"]["total"], 1);  // old instances retired
  auto warm = invoke(*pool, {{"v", 3}});
  EXPECT_FALSE(warm.cold_start);
  EXPECT_EQ(body(warm)["event"]["v"], 3);
}

TEST_F(RuntimeTest, HandlerErrorIsAFunctionErrorAndTheInstanceLives) {
  auto pool = make_pool(config("fail"));
  auto r = invoke(*pool, {{"message", "bad input"}});
  ASSERT_EQ(r.status, Status::function_error);
  EXPECT_EQ(r.function_error, "Unhandled");
  EXPECT_EQ(r.error_type, "std::runtime_error");
  EXPECT_EQ(body(r), (json{{"errorMessage", "bad input"},
                           {"errorType", "std::runtime_error"},
                           {"stackTrace", json::array()}}));
  auto ok = invoke(*pool, {{"ok", true}});
  EXPECT_EQ(ok.status, Status::ok);
  EXPECT_FALSE(ok.cold_start);  // a handler error does not cost the instance
  EXPECT_EQ(pool->stats()["errors"], 1);
}

TEST_F(RuntimeTest, TimeoutKillsTheInstance) {
  auto c = config("sleep");
  c.timeout_ms = 300;
  auto pool = make_pool(c);
  ASSERT_EQ(invoke(*pool, {{"ms", 1}}).status, Status::ok);
  auto pids = pool->pids();
  auto r = invoke(*pool, {{"ms", 10'000}});
  ASSERT_EQ(r.status, Status::function_error);
  EXPECT_EQ(r.error_type, "Sandbox.Timedout");
  EXPECT_EQ(body(r)["errorMessage"],
            "RequestId: " + r.request_id + " Error: Task timed out after 0.30 seconds");
  EXPECT_NE(r.log.find(r.request_id + "\tTask timed out after 0.30 seconds"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("Duration: 300.00 ms\tBilled Duration: 300 ms"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("Status: timeout"), std::string::npos);
  auto next = invoke(*pool, {{"ms", 1}});
  EXPECT_EQ(next.status, Status::ok);
  EXPECT_TRUE(next.cold_start);
  EXPECT_NE(pool->pids(), pids);
  EXPECT_EQ(pool->stats()["timeouts"], 1);
}

TEST_F(RuntimeTest, CrashIsRuntimeExitError) {
  auto pool = make_pool(config("crash"));
  auto r = invoke(*pool, {{"how", "abort"}});
  ASSERT_EQ(r.status, Status::function_error);
  EXPECT_EQ(r.function_error, "Unhandled");
  EXPECT_EQ(r.error_type, "Runtime.ExitError");
  EXPECT_EQ(body(r)["errorMessage"],
            "RequestId: " + r.request_id + " Error: Runtime exited with error: signal: aborted");
  // What it printed before dying is in its log, tagged with the request id.
  EXPECT_NE(r.log.find("\t" + r.request_id + "\tcrash: about to abort\n"), std::string::npos) << r.log;
  auto ok = invoke(*pool, {{"how", "none"}});
  EXPECT_EQ(ok.status, Status::ok);
  EXPECT_TRUE(ok.cold_start);

  auto segv = invoke(*pool, {{"how", "segv"}});
  EXPECT_EQ(body(segv)["errorMessage"], "RequestId: " + segv.request_id +
                                            " Error: Runtime exited with error: signal: segmentation fault");
  auto exited = invoke(*pool, {{"how", "exit"}});
  EXPECT_EQ(body(exited)["errorMessage"],
            "RequestId: " + exited.request_id + " Error: Runtime exited with error: exit status 3");
  EXPECT_EQ(invoke(*pool, {{"how", "none"}}).status, Status::ok);
  EXPECT_EQ(pool->stats()["crashes"], 3);
}

TEST_F(RuntimeTest, OutOfMemoryIsRuntimeOutOfMemory) {
  // Spawned, and in a spare (which gets MemorySize in its 'L' frame and sets RLIMIT_AS the same way).
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "spawned worker" : "spare worker");
    auto c = config("oom");
    c.memory_mb = 128;
    pid_t spare = -1;
    if (round == 1) {
      c.library_path = packaged("oom");
      spare = ready_spare();
    }
    auto pool = make_pool(c);
    auto r = invoke(*pool);
    if (round == 1) {  // the spare ran it (it is gone from the spares), and was replaced after the answer
      run_until([&] { return runtime_.spares->ready() == 1; });
      EXPECT_NE(runtime_.spares->pids().front(), spare);
    }
    ASSERT_EQ(r.status, Status::function_error) << r.payload;
    EXPECT_EQ(r.error_type, "Runtime.OutOfMemory");
    EXPECT_EQ(body(r)["errorMessage"],
              "RequestId: " + r.request_id + " Error: Runtime exited with error: signal: killed");
    EXPECT_NE(r.log.find("Max Memory Used: 128 MB"), std::string::npos) << r.log;
    auto ok = invoke(*pool, {{"mb", 16}});
    EXPECT_EQ(ok.status, Status::ok) << ok.payload;
    EXPECT_TRUE(ok.cold_start);
    EXPECT_GE(ok.max_memory_used_mb, 16);
    EXPECT_LE(ok.max_memory_used_mb, 128);
    EXPECT_EQ(pool->stats()["out_of_memory"], 1);
  }
}

TEST_F(RuntimeTest, InitFailureIsReportedAndRetriedOnTheNextInvoke) {
  auto c = config("deployed");
  c.library_path = dir_ + "/deployed.so";
  fs::copy_file(fn_path("init_fail"), c.library_path);
  auto pool = make_pool(c);
  auto r = invoke(*pool);
  ASSERT_EQ(r.status, Status::function_error);
  EXPECT_EQ(r.function_error, "Unhandled");
  EXPECT_EQ(body(r), (json{{"errorMessage", "init failed on purpose"},
                           {"errorType", "std::runtime_error"},
                           {"stackTrace", json::array()}}));
  EXPECT_NE(r.log.find("init_fail: connecting to nowhere"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("INIT_REPORT Init Duration: "), std::string::npos);
  EXPECT_NE(r.log.find("Phase: init\tStatus: error\tError Type: std::runtime_error"), std::string::npos);
  EXPECT_EQ(pool->stats()["instances"]["total"], 0);
  // Every invoke retries init (a fresh cold start), and fixing the library fixes the function.
  auto again = invoke(*pool);
  EXPECT_EQ(again.status, Status::function_error);
  EXPECT_TRUE(again.cold_start);
  fs::copy_file(fn_path("echo"), c.library_path, fs::copy_options::overwrite_existing);
  auto fixed = invoke(*pool, {{"x", 1}});
  EXPECT_EQ(fixed.status, Status::ok) << fixed.payload;
  EXPECT_EQ(pool->stats()["init_failures"], 2);
}

TEST_F(RuntimeTest, NotAFunctionLibraryIsInvalidEntrypoint) {
  auto c = config("bogus");
  c.library_path = dir_ + "/bogus.so";
  { std::ofstream(c.library_path) << "not an ELF file"; }
  auto pool = make_pool(c);
  auto r = invoke(*pool);
  ASSERT_EQ(r.status, Status::function_error);
  EXPECT_EQ(r.error_type, "Runtime.InvalidEntrypoint");
  auto missing = config("missing");
  missing.library_path = dir_ + "/nope.so";
  auto pool2 = make_pool(missing);
  EXPECT_EQ(invoke(*pool2).error_type, "Runtime.InvalidEntrypoint");
  // And the worker binary itself missing is an error, not a hang.
  runtime_.worker_path = dir_ + "/no-such-worker";
  auto pool3 = make_pool(config("echo"));
  auto w = invoke(*pool3);
  EXPECT_EQ(w.status, Status::function_error);
  EXPECT_EQ(w.error_type, "Runtime.Unknown");
}

TEST_F(RuntimeTest, EnvironmentIsCleanAndComplete) {
  ::setenv("STRATUS_TEST_DAEMON_MARKER", "leaked", 1);
  auto c = config("env");
  c.memory_mb = 256;
  c.environment = {{"MY_SETTING", "42"}, {"AWS_REGION", "user-cannot-override"}};
  c.endpoint_url = "http://127.0.0.1:4566";
  c.library_path = packaged("env");
  auto pool = make_pool(c);
  // First cold start: a freshly spawned worker (no spare is ready). Second: a `--standby` spare that
  // received its environment and working directory over the control socket. Both must see exactly the
  // same clean environment, and the package directory as their working directory.
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "spawned worker" : "spare worker");
    pid_t spare = -1;
    if (round == 1) {
      spare = ready_spare();
      clock_.advance_ms(3'600'000);
      ASSERT_EQ(pool->evict_idle(), 1u);
    }
    auto r = invoke(*pool);
    ASSERT_EQ(r.status, Status::ok) << r.payload;
    EXPECT_TRUE(r.cold_start);
    auto pids = pool->pids();
    ASSERT_EQ(pids.size(), 1u);
    if (round == 1) {
      EXPECT_EQ(pids.front(), spare) << "the cold start did not adopt the spare";
    }
    auto cwd = invoke(*pool, {{"cwd", true}});
    EXPECT_FALSE(cwd.cold_start);
    EXPECT_EQ(body(cwd)["cwd"], fs::path(c.library_path).parent_path().string());
    auto env = body(r);
    EXPECT_FALSE(env.contains("STRATUS_TEST_DAEMON_MARKER"));
    EXPECT_FALSE(env.contains("HOME"));
    EXPECT_FALSE(env.contains("ASAN_OPTIONS"));
    EXPECT_EQ(env["MY_SETTING"], "42");
    EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_NAME"], "env");
    EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    EXPECT_EQ(env["AWS_REGION"], "us-east-1");
    EXPECT_EQ(env["AWS_DEFAULT_REGION"], "us-east-1");
    EXPECT_EQ(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/env");
    EXPECT_TRUE(std::regex_match(env["AWS_LAMBDA_LOG_STREAM_NAME"].get<std::string>(),
                                 std::regex(R"(\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32})")));
    EXPECT_EQ(env["_HANDLER"], "function.handler");
    EXPECT_EQ(env["AWS_EXECUTION_ENV"], "AWS_Lambda_stratus1");
    EXPECT_EQ(env["AWS_ACCESS_KEY_ID"], "test");
    EXPECT_EQ(env["AWS_SECRET_ACCESS_KEY"], "test");
    EXPECT_EQ(env["AWS_SESSION_TOKEN"], "test");
    EXPECT_EQ(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:4566");
  }
  ::unsetenv("STRATUS_TEST_DAEMON_MARKER");
}

TEST(SpareCanRun, OnlyWhatAFreshExecWouldRunTheSame) {
  char tmpl[] = "/tmp/stratus-spare-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  FunctionConfig c;
  c.library_path = dir + "/fn.so";
  fs::copy_file(fn_path("noop"), c.library_path);
  std::ofstream(dir + "/data.json") << "{}";
  EXPECT_TRUE(spare_can_run(c));
  c.environment = {{"MY_SETTING", "1"}};
  EXPECT_TRUE(spare_can_run(c));
  for (const char* key : {"LD_PRELOAD", "LD_LIBRARY_PATH", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES"}) {
    c.environment = {{key, "x"}};
    EXPECT_FALSE(spare_can_run(c)) << key;
  }
  c.environment.clear();
  std::ofstream(dir + "/libdep.so.1") << "";  // a library the function may link against (LD_LIBRARY_PATH)
  EXPECT_FALSE(spare_can_run(c));
  c.library_path = dir + "/missing/fn.so";
  EXPECT_FALSE(spare_can_run(c));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_F(RuntimeTest, LogLinesHaveLambdasFormat) {
  auto pool = make_pool(config("echo"));
  auto r = invoke(*pool, {{"print", "to stdout"}, {"log", "through ctx"}});
  ASSERT_EQ(r.status, Status::ok);
  const std::string& id = r.request_id;
  std::string iso = R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)";
  std::regex shape(
      "INIT_START Runtime Version: stratus:1\n"
      "START RequestId: " +
      id +
      R"( Version: \$LATEST)"
      "\n" +
      iso + "\t" + id + "\t\"to stdout\"\n" + iso + "\t" + id +
      "\t\"through ctx\"\n"
      "END RequestId: " +
      id +
      "\n"
      "REPORT RequestId: " +
      id +
      R"(\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t)"
      R"(Max Memory Used: \d+ MB\tInit Duration: \d+\.\d{2} ms)"
      "\n");
  EXPECT_TRUE(std::regex_match(r.log, shape)) << r.log;
  EXPECT_EQ(r.log_tail, r.log);

  // Warm: no INIT_START, no Init Duration. A big invocation's tail is its last 4 KB.
  auto big = invoke(*pool, {{"print", std::string(10'000, 'z')}});
  EXPECT_EQ(big.log.find("INIT_START"), std::string::npos);
  EXPECT_EQ(big.log.find("Init Duration"), std::string::npos);
  EXPECT_EQ(big.log_tail.size(), 4096u);
  EXPECT_EQ(big.log.substr(big.log.size() - 4096), big.log_tail);
  EXPECT_NE(big.log_tail.find("REPORT RequestId: " + big.request_id), std::string::npos);
  // The function's ring has both invocations.
  auto lines = pool->logs().since(0);
  ASSERT_GE(lines.size(), 10u);
  EXPECT_EQ(lines.front().text, "INIT_START Runtime Version: stratus:1");
  EXPECT_EQ(lines.back().text.rfind("REPORT RequestId: " + big.request_id, 0), 0u);
}

}  // namespace
}  // namespace stratus::runtime
