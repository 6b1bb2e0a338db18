#include "runtime/pool.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "common/ids.hpp"
#include "common/log.hpp"
#include "stratus/function.h"

namespace stratus::runtime {

namespace fs = std::filesystem;

namespace {

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

long to_mb(long kb) { return (kb + 1023) / 1024; }

std::string sanitize(std::string_view s) {
  std::string out;
  for (char c : s)
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
  return out;
}

std::atomic<std::uint64_t> g_pool_counter{0};

}  // namespace

bool spare_can_run(const FunctionConfig& config) {
  for (const auto& [key, value] : config.environment) {
    if (key.starts_with("LD_") || key.starts_with("MALLOC_") || key == "GLIBC_TUNABLES") return false;
  }
  fs::path lib(config.library_path);
  std::error_code ec;
  int entries = 0;
  for (fs::directory_iterator it(lib.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
    if (++entries > 1000) return false;  // not worth a longer look
    std::string name = it->path().filename().string();
    if (name != lib.filename().string() && name.find(".so") != std::string::npos) return false;
  }
  return !ec;
}

std::string error_document(std::string_view type, std::string_view message) {
  nlohmann::json doc = {
      {"errorMessage", message}, {"errorType", type}, {"stackTrace", nlohmann::json::array()}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Pool::Series::add(double v) {
  ++count;
  total += v;
  max = std::max(max, v);
  last = v;
}

nlohmann::json Pool::Series::json() const {
  return {{"count", count},
          {"mean", count ? total / static_cast<double>(count) : 0.0},
          {"max", max},
          {"last", last}};
}

Pool::Pool(asio::io_context& io, const Clock& clock, FunctionConfig config, RuntimeOptions runtime,
           PoolOptions options, std::shared_ptr<AccountConcurrency> account)
    : io_(io),
      clock_(clock),
      config_(std::move(config)),
      runtime_(std::move(runtime)),
      options_(options),
      account_(account ? std::move(account) : std::make_shared<AccountConcurrency>()),
      logs_(runtime_.log_buffer_bytes, runtime_.log_sequence),
      eviction_timer_(io) {}

std::shared_ptr<Pool> Pool::create(asio::io_context& io, const Clock& clock, FunctionConfig config,
                                   RuntimeOptions runtime, PoolOptions options,
                                   std::shared_ptr<AccountConcurrency> account) {
  std::shared_ptr<Pool> pool(
      new Pool(io, clock, std::move(config), std::move(runtime), options, std::move(account)));
  if (pool->runtime_.worker_path.empty()) pool->runtime_.worker_path = default_worker_path();
  pool->snapshot_library();
  pool->spare_ok_ = pool->runtime_.spares && spare_can_run(pool->config_);
  pool->ensure_provisioned();
  pool->schedule_eviction();
  return pool;
}

Pool::~Pool() {
  for (auto& s : slots_) s->instance->terminate();
  std::error_code ec;
  for (auto& [gen, path] : snapshots_) {
    if (path != config_.library_path) fs::remove(path, ec);
  }
  if (owns_work_dir_) fs::remove_all(runtime_.work_dir, ec);
}

// Hot reload: workers load a private copy of the library, so rebuilding (even by overwriting the file in
// place) never changes code under a running instance. A deployment package is loaded in place.
void Pool::snapshot_library() {
  if (!config_.hot_reload) {  // a deployment package: immutable, nothing to snapshot or watch
    snapshots_[generation_] = config_.library_path;
    return;
  }
  if (!work_dir_ready_) {
    work_dir_ready_ = true;
    if (runtime_.work_dir.empty()) {
      char tmpl[] = "/tmp/stratus-fn-XXXXXX";
      if (::mkdtemp(tmpl) != nullptr) {
        runtime_.work_dir = tmpl;
        owns_work_dir_ = true;
      }
    } else {
      std::error_code ec;
      fs::create_directories(runtime_.work_dir, ec);
    }
  }
  struct stat st {};
  if (::stat(config_.library_path.c_str(), &st) != 0) {
    file_id_ = FileId{};
    snapshots_[generation_] = config_.library_path;  // the worker reports the dlopen error
    return;
  }
  file_id_ = FileId{st.st_dev, st.st_ino, st.st_size,
                    static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  std::string path =
      runtime_.work_dir.empty()
          ? std::string()
          : fmt::format("{}/{}-{}-{}-{}-g{}.so", runtime_.work_dir, sanitize(config_.function_name),
                        sanitize(config_.version), ::getpid(), g_pool_counter++, generation_);
  std::error_code ec;
  if (path.empty() || !fs::copy_file(config_.library_path, path, fs::copy_options::overwrite_existing, ec)) {
    log::warn("runtime", "cannot snapshot {} ({}); loading it in place", config_.library_path, ec.message());
    path = config_.library_path;
  }
  snapshots_[generation_] = path;
}

bool Pool::check_reload() {
  if (!config_.hot_reload) return false;
  struct stat st {};
  if (::stat(config_.library_path.c_str(), &st) != 0) return false;  // being replaced: keep what runs
  FileId id{st.st_dev, st.st_ino, st.st_size,
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  if (id == file_id_) return false;
  ++generation_;
  ++reloads_;
  snapshot_library();
  log::info("runtime", "{}:{} library changed; generation {}", config_.function_name, config_.version,
            generation_);
  // Idle instances of older builds stop now; busy ones stop when their invocation ends (release()).
  std::vector<std::shared_ptr<Slot>> old;
  for (auto& s : slots_) {
    if (s->generation != generation_ && !s->busy) old.push_back(s);
  }
  for (auto& s : old) remove(s);
  ensure_provisioned();
  return true;
}

std::shared_ptr<Pool::Slot> Pool::spawn(bool provisioned, Instance::StartHandler on_start) {
  auto slot = std::make_shared<Slot>();
  slot->generation = generation_;
  slot->provisioned = provisioned;
  slot->last_used_ms = clock_.now_ms();
  slot->log_stream = new_log_stream_name(clock_.now_ms(), config_.version);
  WorkerSpec spec;
  spec.worker_path = runtime_.worker_path;
  spec.library_path = snapshots_[generation_];
  spec.function_name = config_.function_name;
  spec.version = config_.version;
  spec.memory_mb = config_.memory_mb;
  spec.env = worker_environment(config_, slot->log_stream, provisioned);
  spec.init_timeout_ms = runtime_.init_timeout_ms;
  spec.cwd = fs::path(config_.library_path).parent_path().string();  // LAMBDA_TASK_ROOT
  WorkerProcess spare;
  if (spare_ok_) spare = runtime_.spares->take();
  slot->took_spare = spare.valid();
  slot->instance = Instance::start(io_, clock_, spec, std::move(on_start), spare);
  slots_.push_back(slot);
  return slot;
}

void Pool::ensure_provisioned() {
  if (shut_down_) return;
  int have = 0;
  for (auto& s : slots_) {
    if (s->provisioned && s->generation == generation_ && s->instance->state() != Instance::State::dead)
      ++have;
  }
  for (; have < options_.provisioned; ++have) {
    auto holder = std::make_shared<std::shared_ptr<Slot>>();
    *holder = spawn(true, [self = shared_from_this(), holder](StartResult s) {
      auto slot = *holder;
      holder->reset();
      std::string log = fmt::format("INIT_START Runtime Version: stratus:{}\n", STRATUS_ABI_VERSION) + s.log;
      self->init_durations_.add(s.init_ms);
      self->cold_start_times_.add(s.spawn_to_ready_ms);
      if (s.kind == EndKind::ok) {
        slot->max_rss_kb = s.max_rss_kb;
        slot->last_used_ms = self->clock_.now_ms();
      } else {
        ++self->init_failures_;
        log +=
            fmt::format("INIT_REPORT Init Duration: {:.2f} ms\tPhase: init\tStatus: error\tError Type: {}\n",
                        s.init_ms, s.kind == EndKind::function_error ? s.error_type : "Runtime.ExitError");
        self->remove(slot);
      }
      self->logs_.append(self->clock_.now_ms(), log);
      self->spare_used(slot);
    });
  }
}

void Pool::set_provisioned(int n) {
  options_.provisioned = std::max(0, n);
  ensure_provisioned();
  int have = 0;
  std::vector<std::shared_ptr<Slot>> extra;
  for (auto& s : slots_) {
    if (!s->provisioned || s->generation != generation_ || s->instance->state() == Instance::State::dead)
      continue;
    if (++have > options_.provisioned && !s->busy) extra.push_back(s);
  }
  for (auto& s : extra) remove(s);
}

void Pool::invoke(InvokeRequest req, Callback done) {
  InvokeResult r;
  r.request_id = req.request_id.empty() ? new_request_id() : req.request_id;
  r.executed_version = config_.version;
  req.request_id = r.request_id;
  if (req.invoked_arn.empty()) req.invoked_arn = config_.qualified_arn();
  if (shut_down_) {
    r.status = InvokeResult::Status::function_error;
    r.function_error = "Unhandled";
    r.error_type = "Runtime.Unknown";
    r.payload = error_document(r.error_type, "the function is being deleted");
    asio::post(io_, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    return;
  }
  check_reload();
  prune();
  ensure_provisioned();

  // Concurrency: reserved concurrency caps this function; the account limit caps all of them.
  // https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
  // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
  // (TooManyRequestsException)
  std::string throttle;
  if (options_.reserved_concurrency && active_ >= *options_.reserved_concurrency) {
    throttle = "ReservedFunctionConcurrentInvocationLimitExceeded";
  } else if (account_->in_use >= account_->limit) {
    throttle = "ConcurrentInvocationLimitExceeded";
  }
  if (!throttle.empty()) {
    ++throttles_;
    r.status = InvokeResult::Status::throttled;
    r.throttle_reason = throttle;
    asio::post(io_, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    return;
  }
  ++active_;
  ++account_->in_use;
  ++invocations_;

  // Warm: an idle instance of the current build, provisioned ones first.
  std::shared_ptr<Slot> pick;
  for (auto& s : slots_) {
    if (s->busy || s->generation != generation_ || s->instance->state() != Instance::State::idle) continue;
    if (!pick || (s->provisioned && !pick->provisioned)) pick = s;
  }
  if (pick) {
    ++warm_starts_;
    pick->busy = true;
    run(pick, std::move(req), std::move(done), false, 0, 0, {});
    return;
  }

  // Cold: a new instance, just for this invocation.
  ++cold_starts_;
  auto holder = std::make_shared<std::shared_ptr<Slot>>();
  *holder = spawn(false, [self = shared_from_this(), holder, req, done](StartResult s) mutable {
    auto slot = *holder;
    holder->reset();
    std::string prelude =
        fmt::format("INIT_START Runtime Version: stratus:{}\n", STRATUS_ABI_VERSION) + s.log;
    self->init_durations_.add(s.init_ms);
    self->cold_start_times_.add(s.spawn_to_ready_ms);
    if (s.kind == EndKind::ok) {
      slot->max_rss_kb = s.max_rss_kb;
      self->run(slot, std::move(req), std::move(done), true, s.init_ms, s.spawn_to_ready_ms,
                std::move(prelude));
      return;
    }
    // Init failed: Lambda answers the invoke with the init error (X-Amz-Function-Error: Unhandled).
    // https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-init-errors
    ++self->init_failures_;
    ++self->errors_;
    InvokeResult f;
    f.request_id = req.request_id;
    f.executed_version = self->config_.version;
    f.status = InvokeResult::Status::function_error;
    f.function_error = "Unhandled";
    f.cold_start = true;
    f.init_duration_ms = s.init_ms;
    f.cold_start_ms = s.spawn_to_ready_ms;
    std::string message;
    switch (s.kind) {
      case EndKind::function_error:
      case EndKind::spawn_failed:
        f.error_type = s.error_type;
        message = s.error_message;
        break;
      case EndKind::timeout:
        f.error_type = "Sandbox.Timedout";
        message = fmt::format("RequestId: {} Error: Task timed out after {:.2f} seconds", f.request_id,
                              static_cast<double>(self->runtime_.init_timeout_ms) / 1000.0);
        break;
      case EndKind::out_of_memory:
        f.error_type = "Runtime.OutOfMemory";
        message = fmt::format("RequestId: {} Error: Runtime exited with error: signal: killed", f.request_id);
        break;
      default:
        f.error_type = "Runtime.ExitError";
        message =
            fmt::format("RequestId: {} Error: Runtime exited with error: {}", f.request_id, s.exit_reason);
        break;
    }
    f.payload = error_document(f.error_type, message);
    f.max_memory_used_mb = std::min<long>(to_mb(s.max_rss_kb), self->config_.memory_mb);
    std::string log = prelude;
    log += fmt::format("INIT_REPORT Init Duration: {:.2f} ms\tPhase: init\tStatus: error\tError Type: {}\n",
                       s.init_ms, f.error_type);
    log += fmt::format("START RequestId: {} Version: {}\n", f.request_id, self->config_.version);
    if (s.kind != EndKind::function_error) log += message + "\n" + f.error_type + "\n";
    log += fmt::format("END RequestId: {}\n", f.request_id);
    log += fmt::format(
        "REPORT RequestId: {}\tDuration: {:.2f} ms\tBilled Duration: {} ms\tMemory Size: {} MB\t"
        "Max Memory Used: {} MB\tStatus: error\tError Type: {}\n",
        f.request_id, s.init_ms, static_cast<long>(std::ceil(s.init_ms)), self->config_.memory_mb,
        f.max_memory_used_mb, f.error_type);
    --self->active_;
    --self->account_->in_use;
    self->remove(slot);
    self->finish(f, std::move(log));
    done(std::move(f));
    self->spare_used(slot);
  });
  (*holder)->busy = true;
}

void Pool::run(const std::shared_ptr<Slot>& slot, InvokeRequest req, Callback done, bool cold, double init_ms,
               double cold_ms, std::string prelude) {
  const std::int64_t timeout_ms = config_.timeout_ms;
  std::string log = std::move(prelude);
  log += fmt::format("START RequestId: {} Version: {}\n", req.request_id, config_.version);
  std::string id = req.request_id;
  slot->instance->invoke(
      id, req.invoked_arn, system_now_ms() + timeout_ms, timeout_ms, std::move(req.payload),
      [self = shared_from_this(), slot, id, cold, init_ms, cold_ms, timeout_ms, log = std::move(log),
       done = std::move(done)](InvokeOutcome o) mutable {
        InvokeResult r;
        r.request_id = id;
        r.executed_version = self->config_.version;
        r.cold_start = cold;
        r.init_duration_ms = init_ms;
        r.cold_start_ms = cold_ms;
        r.duration_ms = o.duration_ms;
        if (o.max_rss_kb > 0) slot->max_rss_kb = o.max_rss_kb;
        // The worker's RSS includes the runtime's own few MB, which Lambda does not count against you.
        r.max_memory_used_mb = std::min<long>(to_mb(slot->max_rss_kb), self->config_.memory_mb);
        log += o.log;
        std::string status;  // REPORT suffix
        // Error documents and log lines as Lambda writes them:
        // https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html
        // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-view.html (REPORT fields)
        switch (o.kind) {
          case EndKind::ok:
            r.payload = std::move(o.payload);
            break;
          case EndKind::function_error:
            ++self->errors_;
            r.status = InvokeResult::Status::function_error;
            r.function_error = "Unhandled";
            r.error_type = o.error_type;
            r.payload = error_document(o.error_type, o.error_message);
            break;
          case EndKind::timeout: {
            ++self->errors_;
            ++self->timeouts_;
            r.status = InvokeResult::Status::function_error;
            r.function_error = "Unhandled";
            r.error_type = "Sandbox.Timedout";
            r.duration_ms = static_cast<double>(timeout_ms);
            std::string what =
                fmt::format("Task timed out after {:.2f} seconds", static_cast<double>(timeout_ms) / 1000.0);
            r.payload = error_document(r.error_type, fmt::format("RequestId: {} Error: {}", id, what));
            log += fmt::format("{}\t{}\t{}\n", iso8601_ms(self->clock_.now_ms()), id, what);
            status = "\tStatus: timeout";
            break;
          }
          case EndKind::out_of_memory:
          case EndKind::exited:
          case EndKind::spawn_failed: {
            ++self->errors_;
            bool oom = o.kind == EndKind::out_of_memory;
            ++(oom ? self->ooms_ : self->crashes_);
            r.status = InvokeResult::Status::function_error;
            r.function_error = "Unhandled";
            r.error_type = oom ? "Runtime.OutOfMemory" : "Runtime.ExitError";
            std::string message =
                o.exit_reason == "exit status 0"
                    ? fmt::format("RequestId: {} Error: Runtime exited without providing a reason", id)
                    : fmt::format("RequestId: {} Error: Runtime exited with error: {}", id,
                                  oom ? std::string("signal: killed") : o.exit_reason);
            if (oom) r.max_memory_used_mb = self->config_.memory_mb;
            r.payload = error_document(r.error_type, message);
            log += message + "\n" + r.error_type + "\n";
            status = "\tStatus: error\tError Type: " + r.error_type;
            break;
          }
        }
        self->durations_.add(r.duration_ms);
        log += fmt::format("END RequestId: {}\n", id);
        log += fmt::format(
            "REPORT RequestId: {}\tDuration: {:.2f} ms\tBilled Duration: {} ms\tMemory Size: {} MB\t"
            "Max Memory Used: {} MB",
            id, r.duration_ms, static_cast<long>(std::ceil(r.duration_ms)), self->config_.memory_mb,
            r.max_memory_used_mb);
        if (cold) log += fmt::format("\tInit Duration: {:.2f} ms", init_ms);
        log += status + "\n";
        --self->active_;
        --self->account_->in_use;
        self->release(slot);
        self->finish(r, std::move(log));
        done(std::move(r));
        self->spare_used(slot);
      });
}

// The replacement starts after the answer went out: on a small machine a spawn competing with the cold
// start it replaces would slow that down.
void Pool::spare_used(const std::shared_ptr<Slot>& slot) {
  if (!slot->took_spare) return;
  slot->took_spare = false;
  asio::post(io_, [spares = runtime_.spares] { spares->refill(); });
}

void Pool::finish(InvokeResult& r, std::string log) {
  logs_.append(clock_.now_ms(), log);
  r.log_tail = log_tail(log, 4096);
  r.log = std::move(log);
}

void Pool::release(const std::shared_ptr<Slot>& slot) {
  slot->busy = false;
  slot->last_used_ms = clock_.now_ms();
  if (slot->instance->state() != Instance::State::idle || slot->generation != generation_ || shut_down_) {
    remove(slot);  // dead, or an old build finishing its last invocation (hot reload)
    return;
  }
  if (slot->provisioned) {
    int have = 0;
    for (auto& s : slots_) {
      if (s->provisioned && s->generation == generation_ && s->instance->state() != Instance::State::dead)
        ++have;
    }
    if (have > options_.provisioned) remove(slot);
  }
}

void Pool::remove(const std::shared_ptr<Slot>& slot) {
  slot->instance->terminate();
  slots_.erase(std::remove(slots_.begin(), slots_.end(), slot), slots_.end());
  gc_snapshots();
}

void Pool::prune() {
  std::vector<std::shared_ptr<Slot>> dead;
  for (auto& s : slots_) {
    if (!s->busy && s->instance->state() == Instance::State::dead) dead.push_back(s);
  }
  for (auto& s : dead) remove(s);
}

void Pool::gc_snapshots() {
  for (auto it = snapshots_.begin(); it != snapshots_.end();) {
    std::uint64_t gen = it->first;
    bool used = gen == generation_ ||
                std::any_of(slots_.begin(), slots_.end(), [&](auto& s) { return s->generation == gen; });
    if (!used) {
      std::error_code ec;
      if (it->second != config_.library_path) fs::remove(it->second, ec);
      it = snapshots_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t Pool::evict_idle() {
  prune();
  const std::int64_t now = clock_.now_ms();
  std::vector<std::shared_ptr<Slot>> old;
  for (auto& s : slots_) {
    if (s->busy || s->provisioned || s->instance->state() != Instance::State::idle) continue;
    if (now - s->last_used_ms >= options_.keep_warm_ms) old.push_back(s);
  }
  for (auto& s : old) remove(s);
  evictions_ += old.size();
  ensure_provisioned();
  return old.size();
}

void Pool::schedule_eviction() {
  if (options_.eviction_interval_ms <= 0 || shut_down_) return;
  eviction_timer_.expires_after(std::chrono::milliseconds(options_.eviction_interval_ms));
  eviction_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    auto self = w.lock();
    if (!self || ec) return;
    self->evict_idle();
    self->schedule_eviction();
  });
}

void Pool::shutdown() {
  shut_down_ = true;
  eviction_timer_.cancel();
  std::vector<std::shared_ptr<Slot>> idle;
  for (auto& s : slots_) {
    s->instance->terminate();
    if (!s->busy) idle.push_back(s);
  }
  for (auto& s : idle) remove(s);
}

std::vector<pid_t> Pool::pids() const {
  std::vector<pid_t> out;
  for (auto& s : slots_) {
    if (s->instance->state() != Instance::State::dead) out.push_back(s->instance->pid());
  }
  return out;
}

nlohmann::json Pool::stats() const {
  int cold = 0, warm = 0, busy = 0, provisioned = 0;
  for (auto& s : slots_) {
    switch (s->instance->state()) {
      case Instance::State::starting:
        ++cold;
        break;
      case Instance::State::idle:
        ++warm;
        break;
      case Instance::State::busy:
        ++busy;
        break;
      case Instance::State::dead:
        continue;
    }
    if (s->provisioned) ++provisioned;
  }
  return {{"function", config_.function_name},
          {"version", config_.version},
          {"library", config_.library_path},
          {"generation", generation_},
          {"instances",
           {{"cold", cold},
            {"warm", warm},
            {"busy", busy},
            {"provisioned", provisioned},
            {"total", cold + warm + busy},
            {"spares", runtime_.spares ? runtime_.spares->ready() : 0}}},
          {"concurrency",
           {{"active", active_},
            {"reserved", options_.reserved_concurrency ? nlohmann::json(*options_.reserved_concurrency)
                                                       : nlohmann::json(nullptr)},
            {"provisioned", options_.provisioned},
            {"account_limit", account_->limit},
            {"account_in_use", account_->in_use}}},
          {"keep_warm_ms", options_.keep_warm_ms},
          {"invocations", invocations_},
          {"cold_starts", cold_starts_},
          {"warm_starts", warm_starts_},
          {"throttles", throttles_},
          {"errors", errors_},
          {"timeouts", timeouts_},
          {"crashes", crashes_},
          {"out_of_memory", ooms_},
          {"init_failures", init_failures_},
          {"evictions", evictions_},
          {"reloads", reloads_},
          {"duration_ms", durations_.json()},
          {"init_duration_ms", init_durations_.json()},
          {"cold_start_ms", cold_start_times_.json()}};
}

}  // namespace stratus::runtime
