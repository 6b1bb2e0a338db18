#include "emulator/function_executor.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.hpp"
#include "runtime/pool.hpp"

namespace stratus::emulator {

namespace asio = boost::asio;
namespace lambda = services::lambda;

namespace {

runtime::FunctionConfig to_runtime(const lambda::FunctionConfig& c, const std::string& endpoint_url) {
  runtime::FunctionConfig r;
  r.function_name = c.function_name;
  r.version = c.version;
  r.library_path = c.library_path;
  r.hot_reload = c.hot_reload;
  r.handler = c.handler;
  r.region = c.region;
  r.account_id = c.account_id;
  r.memory_mb = c.memory_mb;
  r.timeout_ms = c.timeout_ms;
  r.environment = c.environment;
  r.endpoint_url = endpoint_url;
  return r;
}

// What makes two configurations run differently: a change means a new pool (new instances).
std::string fingerprint(const lambda::FunctionConfig& c) {
  nlohmann::json env(c.environment);
  return c.library_path + '\n' + c.code_sha256 + '\n' + c.handler + '\n' + std::to_string(c.memory_mb) + '\n' +
         std::to_string(c.timeout_ms) + '\n' + env.dump();
}

lambda::InvokeResult to_lambda(runtime::InvokeResult&& r) {
  lambda::InvokeResult out;
  switch (r.status) {
    case runtime::InvokeResult::Status::ok: out.status = lambda::InvokeResult::Status::ok; break;
    case runtime::InvokeResult::Status::function_error:
      out.status = lambda::InvokeResult::Status::function_error;
      out.function_error = r.function_error.empty() ? "Unhandled" : r.function_error;
      break;
    case runtime::InvokeResult::Status::throttled:
      out.status = lambda::InvokeResult::Status::throttled;
      out.throttle_reason = r.throttle_reason;
      break;
  }
  out.payload = std::move(r.payload);
  out.executed_version = std::move(r.executed_version);
  out.log_tail = std::move(r.log_tail);
  return out;
}

}  // namespace

struct RuntimeExecutor::Impl : std::enable_shared_from_this<Impl> {
  struct Entry {
    std::string fingerprint;
    std::shared_ptr<runtime::Pool> pool;
    std::int64_t timeout_ms = 0;
  };

  Impl(const Clock& c, RuntimeExecutorOptions o)
      : clock(c), options(std::move(o)), work(io.get_executor()),
        account(std::make_shared<runtime::AccountConcurrency>()) {
    account->limit = options.account_concurrency;
    runtime_options.work_dir = options.work_dir;
    runtime_options.log_sequence = std::make_shared<runtime::LogSequence>();
    if (options.spare_workers > 0) {
      runtime_options.spares = std::make_shared<runtime::SpareWorkers>("", options.spare_workers);
      // From the runtime thread, which lives as long as the daemon (the workers' PR_SET_PDEATHSIG).
      asio::post(io, [spares = runtime_options.spares] { spares->refill(); });
    }
    thread = std::thread([this] { io.run(); });
  }

  // Runs on the io thread. The pool for this exact configuration, created on first use; a pool of an
  // older configuration of the same version is retired.
  std::shared_ptr<runtime::Pool> pool_for(const lambda::FunctionConfig& config) {
    std::string key = config.qualified_arn.empty() ? config.function_arn + ":" + config.version
                                                   : config.qualified_arn;
    std::string print = fingerprint(config);
    auto it = pools.find(key);
    if (it != pools.end() && it->second.fingerprint == print) {
      it->second.pool->set_reserved_concurrency(config.reserved_concurrency);
      return it->second.pool;
    }
    if (it != pools.end()) retire(std::move(it->second));
    runtime::PoolOptions pool_options;
    pool_options.reserved_concurrency = config.reserved_concurrency;
    pool_options.provisioned = config.provisioned_concurrency;
    pool_options.keep_warm_ms = options.keep_warm_ms;
    // Look for idle instances often enough that none outlives keep-warm by more than half of it.
    pool_options.eviction_interval_ms = std::clamp<std::int64_t>(options.keep_warm_ms / 2, 100, 30'000);
    auto pool = runtime::Pool::create(io, clock, to_runtime(config, options.endpoint_url), runtime_options,
                                      pool_options, account);
    pools[key] = Entry{print, pool, config.timeout_ms};
    return pool;
  }

  // Shuts a replaced pool down once whatever it is running must have finished (its timeout, plus a second).
  void retire(Entry entry) {
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(entry.timeout_ms + 1000));
    retire_timers.push_back(timer);
    timer->async_wait([this, timer, pool = entry.pool](const boost::system::error_code&) {
      pool->shutdown();
      std::erase(retire_timers, timer);
    });
  }

  void remove(const std::string& function_arn, const std::string& version) {
    for (auto it = pools.begin(); it != pools.end();) {
      bool match = it->first.starts_with(function_arn + ":") &&
                   (version.empty() || it->first == function_arn + ":" + version);
      if (match) {
        retire(std::move(it->second));
        it = pools.erase(it);
      } else {
        ++it;
      }
    }
  }

  const Clock& clock;
  RuntimeExecutorOptions options;
  runtime::RuntimeOptions runtime_options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::shared_ptr<runtime::AccountConcurrency> account;
  std::map<std::string, Entry> pools;  // io thread only
  std::map<std::string, std::unique_ptr<runtime::LogBuffer>> log_sources;  // io thread only (append_log)
  std::vector<std::shared_ptr<asio::steady_timer>> retire_timers;  // io thread only
  std::thread thread;
  std::atomic<bool> stopped{false};
};

RuntimeExecutor::RuntimeExecutor(const Clock& clock, RuntimeExecutorOptions options)
    : impl_(std::make_shared<Impl>(clock, std::move(options))) {}

RuntimeExecutor::~RuntimeExecutor() { shutdown(); }

void RuntimeExecutor::invoke(const lambda::FunctionConfig& config, std::string payload, lambda::InvocationType,
                             std::function<void(lambda::InvokeResult)> done) {
  asio::post(impl_->io, [impl = impl_, config, payload = std::move(payload), done = std::move(done)]() mutable {
    if (impl->stopped) {
      lambda::InvokeResult r;
      r.status = lambda::InvokeResult::Status::service_error;
      r.http_status = 503;
      r.error_code = "ServiceException";
      r.error_message = "Stratus is shutting down";
      done(std::move(r));
      return;
    }
    auto pool = impl->pool_for(config);
    runtime::InvokeRequest request;
    request.payload = std::move(payload);
    pool->invoke(std::move(request), [done = std::move(done)](runtime::InvokeResult result) {
      done(to_lambda(std::move(result)));
    });
  });
}

void RuntimeExecutor::provisioned_concurrency_changed(const lambda::FunctionConfig& config) {
  asio::post(impl_->io, [impl = impl_, config] {
    if (!impl->stopped) impl->pool_for(config)->set_provisioned(config.provisioned_concurrency);
  });
}

void RuntimeExecutor::function_removed(const std::string& function_arn, const std::string& version) {
  asio::post(impl_->io, [impl = impl_, function_arn, version] { impl->remove(function_arn, version); });
}

void RuntimeExecutor::function_updated(const lambda::FunctionConfig& config) {
  // The next invoke sees a new fingerprint and starts a new pool; drop idle instances of the old one now.
  asio::post(impl_->io, [impl = impl_, config] {
    std::string key = config.function_arn + ":" + config.version;
    auto it = impl->pools.find(key);
    if (it != impl->pools.end() && it->second.fingerprint != fingerprint(config)) {
      impl->retire(std::move(it->second));
      impl->pools.erase(it);
    }
  });
}

nlohmann::json RuntimeExecutor::stats() {
  auto promise = std::make_shared<std::promise<nlohmann::json>>();
  auto future = promise->get_future();
  asio::post(impl_->io, [impl = impl_, promise] {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& [key, entry] : impl->pools) all.push_back(entry.pool->stats());
    promise->set_value(nlohmann::json{{"account_concurrency",
                                       {{"limit", impl->account->limit}, {"in_use", impl->account->in_use}}},
                                      {"pools", all}});
  });
  if (future.wait_for(std::chrono::seconds(1)) != std::future_status::ready) {
    return nlohmann::json{{"error", "the runtime did not answer in time"}};
  }
  return future.get();
}

runtime::LogPage RuntimeExecutor::logs(const std::string& function_name, std::optional<std::uint64_t> since,
                                      std::size_t max_bytes) {
  auto promise = std::make_shared<std::promise<runtime::LogPage>>();
  auto future = promise->get_future();
  asio::post(impl_->io, [impl = impl_, promise, function_name, since, max_bytes]() mutable {
    std::vector<const runtime::LogBuffer*> buffers;
    for (const auto& [key, entry] : impl->pools) {
      if (entry.pool->config().function_name == function_name) buffers.push_back(&entry.pool->logs());
    }
    if (auto source = impl->log_sources.find(function_name); source != impl->log_sources.end())
      buffers.push_back(source->second.get());
    if (since && *since >= impl->runtime_options.log_sequence->next) since = 0;
    promise->set_value(runtime::read_logs(buffers, since, max_bytes));
  });
  if (future.wait_for(std::chrono::seconds(1)) != std::future_status::ready) {
    runtime::LogPage none;
    none.cursor = since.value_or(0);
    return none;
  }
  return future.get();
}

void RuntimeExecutor::append_log(const std::string& name, std::int64_t time_ms, std::string text) {
  if (impl_->stopped) return;
  asio::post(impl_->io, [impl = impl_, name, time_ms, text = std::move(text)] {
    auto& buffer = impl->log_sources[name];
    if (!buffer) buffer = std::make_unique<runtime::LogBuffer>(impl->runtime_options.log_buffer_bytes,
                                                        impl->runtime_options.log_sequence);
    buffer->append(time_ms, text);
  });
}

void RuntimeExecutor::shutdown() {
  if (impl_->stopped.exchange(true)) return;
  std::promise<void> done;
  asio::post(impl_->io, [impl = impl_.get(), &done] {
    for (auto& [key, entry] : impl->pools) entry.pool->shutdown();
    impl->pools.clear();
    if (impl->runtime_options.spares) impl->runtime_options.spares->shutdown();
    done.set_value();
  });
  done.get_future().wait_for(std::chrono::seconds(2));
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // The thread is gone: run what is still queued here, so pending invokes get their (shutting down)
  // answer, retired pools stop, and no handler is left holding the Impl alive.
  for (auto& timer : std::vector(impl_->retire_timers)) timer->cancel();
  impl_->io.restart();
  impl_->io.poll();
}

}  // namespace stratus::emulator
