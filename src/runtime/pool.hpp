#pragma once
// The instances of one function version: warm reuse, cold starts up to a concurrency limit, throttling
// past it, provisioned instances, idle eviction, hot reload, Lambda's error documents and log lines.
//
// Threading: a Pool lives on one io_context; call every method from that io_context's thread (post to
// it). Callbacks run on that thread too. Nothing here blocks on a worker.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "runtime/config.hpp"
#include "runtime/instance.hpp"
#include "runtime/log_buffer.hpp"

namespace stratus::runtime {

// The account-wide concurrency limit, shared by every pool on the same io_context.
// https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html (default 1,000 per Region)
struct AccountConcurrency {
  int limit = 1000;
  int in_use = 0;  // invocations in flight, all pools
};

struct PoolOptions {
  std::optional<int> reserved_concurrency;    // PutFunctionConcurrency; 0 throttles every invoke
  int provisioned = 0;                        // provisioned-concurrency instances kept started
  std::int64_t keep_warm_ms = 5 * 60 * 1000;  // idle on-demand instances older than this are evicted
  std::int64_t eviction_interval_ms = 0;      // >0: a timer calls evict_idle() this often
};

struct InvokeRequest {
  std::string payload;      // the event (JSON bytes)
  std::string request_id;   // empty: a new one is generated
  std::string invoked_arn;  // empty: the qualified ARN of this version
};

struct InvokeResult {
  enum class Status {
    ok,              // payload is the function's response
    function_error,  // payload is the error document; X-Amz-Function-Error: function_error
    throttled,       // nothing ran: 429 TooManyRequestsException, Reason: throttle_reason
  };
  Status status = Status::ok;
  std::string request_id;
  std::string executed_version;
  std::string payload;
  std::string function_error;   // "Unhandled" when status == function_error
  std::string error_type;       // errorType of the error document
  std::string throttle_reason;  // ReservedFunctionConcurrentInvocationLimitExceeded |
                                // ConcurrentInvocationLimitExceeded
  std::string log;              // this invocation's full log (START .. REPORT)
  std::string log_tail;         // its last 4 KB (LogType=Tail, before base64)
  bool cold_start = false;
  double duration_ms = 0;
  double init_duration_ms = 0;  // cold starts only
  double cold_start_ms = 0;     // spawn -> ready, cold starts only
  long max_memory_used_mb = 0;
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  using Callback = std::function<void(InvokeResult)>;

  // Snapshots the library (hot reload), starts the provisioned instances and (if configured) the eviction timer.
  static std::shared_ptr<Pool> create(asio::io_context& io, const Clock& clock, FunctionConfig config,
                                      RuntimeOptions runtime, PoolOptions options,
                                      std::shared_ptr<AccountConcurrency> account);
  ~Pool();

  // Runs one synchronous invocation; `done` runs exactly once (possibly before invoke returns, for a
  // throttle). Checks the library for a rebuild first (check_reload).
  void invoke(InvokeRequest request, Callback done);

  // Stops idle on-demand instances unused for keep_warm_ms (by the injected clock). Returns how many.
  std::size_t evict_idle();
  // Hot reload only (FunctionConfig::hot_reload; false otherwise, without looking at the file).
  // Compares the library file (inode, size, mtime) with the loaded one; when it changed, new invocations
  // get instances of the new build, idle old ones stop, busy old ones stop when they finish.
  // Returns true when a new generation started.
  bool check_reload();

  void set_reserved_concurrency(std::optional<int> reserved) { options_.reserved_concurrency = reserved; }
  void set_provisioned(int n);
  void set_keep_warm_ms(std::int64_t ms) { options_.keep_warm_ms = ms; }
  // Kills every instance; in-flight invocations end as Runtime.ExitError.
  void shutdown();

  // {"function","version","generation","instances":{"cold","warm","busy","provisioned","total","spares"},
  //  "cold_starts","warm_starts","invocations","throttles","errors","timeouts","crashes",
  //  "out_of_memory","init_failures","evictions","reloads","duration_ms":{...},"init_duration_ms":{...},
  //  "cold_start_ms":{...}}
  nlohmann::json stats() const;
  const LogBuffer& logs() const { return logs_; }
  const FunctionConfig& config() const { return config_; }
  // Worker pids by state, for tests and /_stratus/ introspection.
  std::vector<pid_t> pids() const;

 private:
  struct Slot {
    std::shared_ptr<Instance> instance;
    std::uint64_t generation = 0;
    bool provisioned = false;
    bool busy = false;  // an invocation is running or waiting for this instance's init
    std::int64_t last_used_ms = 0;
    long max_rss_kb = 0;
    std::string log_stream;
    bool took_spare = false;  // started in a SpareWorkers spare: refill once its first work is done
  };
  struct Series {
    std::uint64_t count = 0;
    double total = 0, max = 0, last = 0;
    void add(double v);
    nlohmann::json json() const;
  };

  Pool(asio::io_context& io, const Clock& clock, FunctionConfig config, RuntimeOptions runtime,
       PoolOptions options, std::shared_ptr<AccountConcurrency> account);
  void snapshot_library();
  std::shared_ptr<Slot> spawn(bool provisioned, Instance::StartHandler on_start);
  void ensure_provisioned();
  void run(const std::shared_ptr<Slot>& slot, InvokeRequest req, Callback done, bool cold, double init_ms,
           double cold_ms, std::string prelude);
  void release(const std::shared_ptr<Slot>& slot);
  void remove(const std::shared_ptr<Slot>& slot);
  void prune();
  void gc_snapshots();
  void schedule_eviction();
  void spare_used(const std::shared_ptr<Slot>& slot);
  void finish(InvokeResult& r, std::string log);

  asio::io_context& io_;
  const Clock& clock_;
  FunctionConfig config_;
  RuntimeOptions runtime_;
  PoolOptions options_;
  std::shared_ptr<AccountConcurrency> account_;
  LogBuffer logs_;
  asio::steady_timer eviction_timer_;
  std::vector<std::shared_ptr<Slot>> slots_;
  bool spare_ok_ = false;  // spare_can_run(config_): may cold starts adopt a RuntimeOptions::spares spare?
  int active_ = 0;                     // invocations in flight
  bool owns_work_dir_ = false;
  bool work_dir_ready_ = false;  // made (or found) by the first snapshot
  bool shut_down_ = false;

  // Hot reload: the library's identity when generation_ was snapshotted.
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    std::int64_t mtime_ns = 0;
    bool operator==(const FileId&) const = default;
  };
  FileId file_id_;
  std::uint64_t generation_ = 0;
  std::map<std::uint64_t, std::string> snapshots_;  // generation -> snapshot path

  std::uint64_t cold_starts_ = 0, warm_starts_ = 0, invocations_ = 0, throttles_ = 0, errors_ = 0,
                timeouts_ = 0, crashes_ = 0, ooms_ = 0, init_failures_ = 0, evictions_ = 0, reloads_ = 0;
  Series durations_, init_durations_, cold_start_times_;
};

// Whether a SpareWorkers spare runs this function exactly as a freshly spawned worker would. A spare's
// dynamic loader and malloc started before the function's environment existed, so it cannot when that
// environment sets what they read at start-up (LD_*, GLIBC_TUNABLES, MALLOC_*), or when the library's
// directory (LAMBDA_TASK_ROOT, which is on LD_LIBRARY_PATH) holds other shared libraries it may link
// against. Those cold starts spawn a worker.
bool spare_can_run(const FunctionConfig& config);

// {"errorMessage": message, "errorType": type, "stackTrace": []}: the document Lambda returns for an
// unhandled function error.
// https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html and
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-invokeerror
std::string error_document(std::string_view type, std::string_view message);

}  // namespace stratus::runtime
