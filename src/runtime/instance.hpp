#pragma once
// One execution environment: a stratus-worker process that loaded one library and ran its init.
// All I/O with the worker is asynchronous on the caller's io_context (posix::stream_descriptor for
// the control socket, the output pipe and a pidfd that becomes readable when the worker exits), so no
// thread ever blocks on a worker. Not thread-safe: call everything from the io_context's thread.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "runtime/wire.hpp"

namespace stratus::runtime {

namespace asio = boost::asio;

// Everything needed to start one worker.
struct WorkerSpec {
  std::string worker_path;
  std::string library_path;  // what the worker dlopen()s (the pool's snapshot of the function's library)
  std::string function_name;
  std::string version;
  int memory_mb = 128;
  std::vector<std::string> env;  // the whole environment, "K=V"
  std::string cwd;               // working directory (LAMBDA_TASK_ROOT, as on Lambda); empty: inherited
  std::int64_t init_timeout_ms = 10'000;
};

// How a start or an invocation ended, before the pool turns it into Lambda's documents.
enum class EndKind {
  ok,
  function_error,  // handler / init reported an error (errorType, errorMessage)
  timeout,         // killed after the deadline
  exited,          // the worker died (signal, abort, exit): exit_reason says how
  out_of_memory,   // the worker hit MemorySize
  spawn_failed,    // the worker could not be started at all
};

struct StartResult {
  EndKind kind = EndKind::ok;
  std::string error_type;  // for function_error (init error) and spawn_failed
  std::string error_message;
  std::string exit_reason;       // "signal: aborted", "exit status 1" (exited / out_of_memory)
  double init_ms = 0;            // worker-measured: dlopen + ABI checks + init
  double spawn_to_ready_ms = 0;  // daemon-measured: posix_spawn -> 'R' (the cold start)
  long max_rss_kb = 0;
  std::string log;  // init output, one tagged line each
};

struct InvokeOutcome {
  EndKind kind = EndKind::ok;
  std::string payload;     // response bytes (ok)
  std::string error_type;  // function_error
  std::string error_message;
  std::string exit_reason;  // exited / out_of_memory
  double duration_ms = 0;   // handler time as the worker measured it (or elapsed, when it died)
  long max_rss_kb = 0;
  std::string log;  // the function's output during this invocation, tagged lines
};

// A started worker process not (yet) owned by an Instance: a `--standby` spare. The holder owns the fds.
struct WorkerProcess {
  pid_t pid = -1;
  int control = -1;
  int output = -1;
  int pidfd = -1;
  bool valid() const { return pid > 0; }
};

// posix_spawn()s `worker_path args...` with exactly `env`, in `cwd` (empty: the daemon's), fds 0=/dev/null,
// 1+2=output pipe (O_NONBLOCK on our side), 3=control socket, everything else closed. On failure: !valid()
// and `error` says why. Blocks only for the spawn itself (vfork + exec, no waiting on the worker's startup).
WorkerProcess spawn_worker(const std::string& worker_path, const std::vector<std::string>& args,
                           const std::vector<std::string>& env, std::string& error,
                           const std::string& cwd = {});
// Still running (its pidfd is not readable)?
bool worker_alive(const WorkerProcess& p);
// SIGKILL, reap, close the fds.
void discard_worker(WorkerProcess& p);

// Empty workers started ahead of need, shared by every pool on one io_context: `stratus-worker --standby`,
// exec'd and dynamically linked but holding no library, no user code and an empty environment. A cold
// start adopts one (Instance::start's `spare`) and sends it, in one 'L' frame and before it loads anything,
// the function's library, environment, working directory and MemorySize (whose RLIMIT_AS is set after the
// dlopen exactly as in a freshly spawned worker). So a cold start skips fork/exec and dynamic linking.
// Unused, it costs `target` idle processes. Not thread-safe: call it from the pools' io_context thread.
class SpareWorkers {
 public:
  // worker_path empty: default_worker_path(). target 0: never starts any (take() always fails).
  SpareWorkers(std::string worker_path, int target);
  ~SpareWorkers();
  SpareWorkers(const SpareWorkers&) = delete;
  SpareWorkers& operator=(const SpareWorkers&) = delete;

  // A live spare (the caller owns it now), or !valid() when none is ready.
  WorkerProcess take();
  // Starts spares until `target` are ready (each a posix_spawn, not waiting for the worker).
  void refill();
  // Kills every spare; later refill()s start none.
  void shutdown();
  std::size_t ready() const { return ready_.size(); }
  std::vector<pid_t> pids() const;
  const std::string& worker_path() const { return worker_path_; }

 private:
  std::string worker_path_;
  int target_;
  bool shut_down_ = false;
  std::vector<WorkerProcess> ready_;
};

class Instance : public std::enable_shared_from_this<Instance> {
 public:
  enum class State { starting, idle, busy, dead };
  using StartHandler = std::function<void(StartResult)>;
  using InvokeHandler = std::function<void(InvokeOutcome)>;

  // Spawns a worker (spawn_worker) or, given a live `spare`, adopts it and sends it an 'L' frame.
  // `on_start` runs exactly once, from the io_context, when the worker is ready or has failed.
  static std::shared_ptr<Instance> start(asio::io_context& io, const Clock& clock, const WorkerSpec& spec,
                                         StartHandler on_start, WorkerProcess spare = {});

  // Sends one invocation. Precondition: state() == idle. `done` runs exactly once, from the io_context.
  // After a timeout, a crash or OOM the instance is dead; after ok / function_error it is idle again.
  void invoke(const std::string& request_id, const std::string& invoked_arn, std::int64_t deadline_epoch_ms,
              std::int64_t timeout_ms, std::string payload, InvokeHandler done);

  // SIGKILLs the worker (idempotent). A pending start/invoke completes as `exited`.
  void terminate();

  State state() const { return state_; }
  pid_t pid() const { return pid_; }
  ~Instance();

  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

 private:
  Instance(asio::io_context& io, const Clock& clock);
  void read_control();
  void read_output();
  void wait_exit();
  void on_frame(wire::Frame& frame);
  void on_exit();
  void on_timer();
  void take_output(const char* data, std::size_t len);
  // Reads what the pipe holds now, without blocking. False once it reached EOF or failed: stop waiting on it.
  bool drain_output();
  std::string finish_phase_log();
  void finish_start(StartResult r);
  void finish_invoke(InvokeOutcome r);
  void close_all();

  asio::io_context& io_;
  const Clock& clock_;
  asio::posix::stream_descriptor control_;
  asio::posix::stream_descriptor output_;
  asio::posix::stream_descriptor pidfd_;
  asio::steady_timer timer_;
  pid_t pid_ = -1;
  State state_ = State::starting;
  bool reaped_ = false;
  bool out_of_memory_ = false;
  bool killed_ = false;  // we sent the SIGKILL (timeout, retire), so it is not an OOM kill
  int wait_status_ = 0;
  long exit_max_rss_kb_ = 0;
  std::int64_t started_us_ = 0;  // spawn time, steady clock
  std::int64_t invoke_us_ = 0;   // invoke sent, steady clock
  std::string tag_;              // request id of the current invocation ("" during init)
  std::string partial_line_;
  std::string phase_log_;
  std::string control_buf_;
  std::vector<char> control_chunk_;
  StartHandler on_start_;
  InvokeHandler on_invoke_;
};

// "signal: aborted", "signal: segmentation fault", "exit status 1": Go's os.ProcessState wording, which
// Lambda's "Runtime exited with error: ..." messages use.
std::string describe_wait_status(int status);

}  // namespace stratus::runtime
