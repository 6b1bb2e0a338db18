#pragma once
// What the runtime needs to know about a function version, and the worker environment built from it.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/log_buffer.hpp"

namespace stratus::runtime {

class SpareWorkers;

// One function version as the runtime sees it (the Lambda API layer fills it from its state).
struct FunctionConfig {
  std::string function_name;
  std::string version = "$LATEST";
  std::string library_path;                  // the .so
  // The library is the user's own file (LocalStack-style hot reload): watch it, and give workers a private
  // snapshot so a rebuild never changes code under a running instance. False: an unpacked deployment
  // package, immutable while the version exists, loaded in place (no copy, no stat per invoke).
  bool hot_reload = false;
  std::string handler = "function.handler";  // _HANDLER (informational for shared libraries)
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  int memory_mb = 128;                                 // MemorySize, 128..10240 on Lambda
  std::int64_t timeout_ms = 3000;                      // Timeout (seconds on the API, default 3 s)
  std::map<std::string, std::string> environment;      // Environment.Variables
  std::string endpoint_url = "http://127.0.0.1:4566";  // AWS_ENDPOINT_URL: back to the daemon

  // arn:aws:lambda:us-east-1:000000000000:function:NAME
  std::string function_arn() const;
  // function_arn() + ":" + version
  std::string qualified_arn() const;
  // /aws/lambda/NAME
  std::string log_group() const;
};

// Process-wide settings of the runtime.
struct RuntimeOptions {
  std::string worker_path;  // stratus-worker; empty: default_worker_path()
  std::string work_dir;     // library snapshots (hot reload); empty: a fresh /tmp/stratus-fn-XXXXXX, made
                            // by the first hot-reload pool that needs one
  std::int64_t init_timeout_ms = 10'000;    // Lambda's Init phase limit is 10 s
  std::size_t log_buffer_bytes = 1u << 20;  // per-function log ring
  // Numbers the log lines of every pool given these options (null: each pool numbers its own), so one
  // cursor (GET /_stratus/logs/NAME?since=SEQ) covers all versions of a function.
  std::shared_ptr<LogSequence> log_sequence;
  // Empty `stratus-worker --standby` processes shared by all pools (SpareWorkers, instance.hpp): a cold
  // start adopts one when the function can run in it (Pool::spare_eligible) and the pool starts the
  // replacement once that invocation is answered. Null: every cold start spawns its worker.
  std::shared_ptr<SpareWorkers> spares;
};

// stratus-worker next to the running executable (build/bin/stratus -> build/bin/stratus-worker).
std::string default_worker_path();

// The worker's whole environment ("K=V"): Environment.Variables first, then Lambda's reserved
// variables, which win (the Lambda API rejects reserved keys in Environment.Variables anyway).
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
// Nothing is inherited from the daemon's environment.
std::vector<std::string> worker_environment(const FunctionConfig& config, std::string_view log_stream,
                                            bool provisioned);

// A log stream name as Lambda makes them: 2024/01/31/[$LATEST]0123456789abcdef0123456789abcdef
std::string new_log_stream_name(std::int64_t now_ms, std::string_view version);

}  // namespace stratus::runtime
