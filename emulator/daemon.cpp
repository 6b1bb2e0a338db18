#include "emulator/daemon.hpp"

#include <csignal>
#include <cstdio>
#include <memory>
#include <pthread.h>

#include <fmt/format.h>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "emulator/api_port.hpp"
#include "emulator/dispatcher.hpp"
#include "emulator/function_executor.hpp"
#include "emulator/wiring.hpp"
#include "events/router.hpp"
#include "http/server.hpp"
#include "services/apigateway/apigateway.hpp"
#include "services/lambda/async.hpp"
#include "services/service.hpp"
#include "services/sqs/sqs.hpp"
#include "stack/stack_file.hpp"
#include "store/store.hpp"
#include "stratus_version.hpp"

namespace stratus::emulator {

namespace {

void print_stack_errors(const std::vector<stack::StackError>& errors) {
  for (const auto& e : errors) fmt::print(stderr, "stratus: invalid stack file: {}\n", e.to_string());
}

// Blocks SIGINT/SIGTERM in this thread and every thread started after, so that only sigwait() sees them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

}  // namespace

int validate(const std::string& file) {
  stack::Stack parsed;
  std::vector<stack::StackError> errors;
  if (!stack::load_stack_file(file, parsed, errors)) {
    print_stack_errors(errors);
    return kExitBadConfig;
  }
  fmt::print("{}: {} resource(s), in apply order:\n", file, parsed.resources.size());
  for (const auto& r : parsed.resources) fmt::print("  {} ({})\n", r.logical_id, r.type);
  return kExitOk;
}

int serve(const ServeOptions& options) {
  log::configure(options.log_level, options.log_format);
  sigset_t stop_signals = block_stop_signals();

  // 1. The stack file is checked before anything else happens: an invalid one stops the daemon before it
  //    listens, with exit code 2.
  stack::Stack stack_doc;
  if (!options.config_file.empty()) {
    std::vector<stack::StackError> errors;
    if (!stack::load_stack_file(options.config_file, stack_doc, errors)) {
      print_stack_errors(errors);
      return kExitBadConfig;
    }
  }

  // 2. State.
  StoreOptions store_options;
  store_options.ephemeral = options.ephemeral;
  store_options.data_dir = options.data_dir;
  store_options.sync_writes = options.sync_writes;
  Status status;
  std::unique_ptr<Store> store = Store::open(store_options, status);
  if (!store) {
    fmt::print(stderr, "stratus: cannot open the store: {}\n", status.message);
    return kExitFailure;
  }

  // 3. Bind the port (nothing is accepted until step 6): functions need the daemon's URL for
  //    AWS_ENDPOINT_URL, and --port 0 only knows it after binding.
  services::Registry registry;
  DispatcherConfig dispatcher_config;
  dispatcher_config.account_id = options.account_id;
  dispatcher_config.default_region = options.default_region;
  dispatcher_config.persistent = !options.ephemeral;
  dispatcher_config.data_dir = store->data_dir();
  dispatcher_config.version = STRATUS_VERSION;
  std::shared_ptr<RuntimeExecutor> executor;
  dispatcher_config.function_stats = [&executor] { return executor ? executor->stats() : nlohmann::json(); };
  dispatcher_config.function_logs = [&executor](const std::string& name, std::optional<std::uint64_t> since) {
    return executor ? executor->logs(name, since, 1 << 20) : runtime::LogPage{};
  };
  dispatcher_config.queue_stats = [&registry] {
    const services::Service* sqs = registry.find_service("sqs");
    return sqs ? services::sqs::queue_stats(*sqs) : nlohmann::json();
  };
  dispatcher_config.async_stats = [&registry] {
    const services::Service* lambda = registry.find_service("lambda");
    return lambda ? services::lambda::async_stats(*lambda) : nlohmann::json();
  };
  dispatcher_config.esm_stats = [&registry] {
    const services::Service* lambda = registry.find_service("lambda");
    return lambda ? services::lambda::esm_stats(*lambda) : nlohmann::json();
  };
  dispatcher_config.execute_api = [&registry](const std::string& api_id, std::string path, http::Request request,
                                              http::Respond respond) {
    services::Service* apigw = registry.find_service("apigateway");
    if (!apigw) return respond(http::Response{404, {}, R"({"message":"Not Found"})", false});
    services::apigateway::serve_api(*apigw, api_id, std::move(path), std::move(request), std::move(respond));
  };
  dispatcher_config.execute_api_too_large = [&registry](const std::string& api_id) {
    services::Service* apigw = registry.find_service("apigateway");
    return apigw ? services::apigateway::api_payload_too_large(*apigw, api_id) : http::Response{413, {}, "", true};
  };
  Dispatcher dispatcher(dispatcher_config, registry, SystemClock::instance());
  http::ServerOptions server_options;
  server_options.host = options.host;
  server_options.port = options.port;
  server_options.threads = options.threads;
  server_options.header_timeout = options.header_timeout;
  server_options.idle_timeout = options.idle_timeout;
  auto server = std::make_unique<http::Server>(server_options, dispatcher);
  std::string error;
  if (!server->listen(error)) {
    fmt::print(stderr, "stratus: {}\n", error);
    server.reset();
    store->close();
    return kExitFailure;
  }
  std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  std::string url = fmt::format("http://{}:{}", host, server->port());

  // 4. Services, the function runtime and the event router.
  RuntimeExecutorOptions runtime_options;
  runtime_options.endpoint_url = options.host == "0.0.0.0" || options.host == "::"
                                     ? fmt::format("http://127.0.0.1:{}", server->port())
                                     : url;
  runtime_options.keep_warm_ms = options.keep_warm_ms;
  runtime_options.spare_workers = options.spare_workers;
  executor = std::make_shared<RuntimeExecutor>(SystemClock::instance(), runtime_options);
  events::Router router([&server](std::function<void()> task) {
    if (server) server->post(std::move(task));
  });
  stack::StackApplier applier;
  ServiceEnvironment environment;
  environment.store = store.get();
  environment.clock = &SystemClock::instance();
  environment.account_id = options.account_id;
  environment.function_executor = executor;
  environment.router = &router;
  environment.async_retry_base_ms = options.async_retry_base_ms;
  environment.endpoint_host = fmt::format("localhost:{}", server->port());
  // API Gateway access logs are log sources next to the functions' (`stratus logs GROUP`).
  environment.access_log = [&executor](const std::string& group, std::int64_t time_ms, std::string line) {
    if (executor) executor->append_log(group, time_ms, std::move(line));
  };
  register_services(environment, registry, &applier);

  // 5. Apply the stack: create or update every resource it declares (idempotent across restarts).
  if (!stack_doc.resources.empty()) {
    std::vector<stack::StackError> errors;
    stack::ApplyContext context;
    context.account = options.account_id;
    context.region = options.default_region;
    if (!applier.apply(stack_doc, context, errors)) {
      print_stack_errors(errors);
      executor->shutdown();
      server.reset();
      store->close();
      return kExitBadConfig;
    }
  }

  // 5b. APIs with a port of their own (the stack file's Port): one more listener each, same server code.
  std::vector<std::unique_ptr<ApiPortHandler>> port_handlers;
  std::vector<std::unique_ptr<http::Server>> port_servers;
  std::vector<std::string> port_lines;
  if (services::Service* apigw = registry.find_service("apigateway")) {
    for (const auto& p : services::apigateway::api_ports(*apigw)) {
      port_handlers.push_back(std::make_unique<ApiPortHandler>(registry, p.api_id, p.stage));
      http::ServerOptions port_options = server_options;
      port_options.port = static_cast<std::uint16_t>(p.port);
      auto port_server = std::make_unique<http::Server>(port_options, *port_handlers.back());
      std::string port_error;
      if (!port_server->listen(port_error)) {
        fmt::print(stderr, "stratus: cannot serve API {} ({}) on its Port {}: {}\n", p.name, p.api_id, p.port,
                   port_error);
        port_server.reset();
        port_servers.clear();
        executor->shutdown();
        server.reset();
        store->close();
        return kExitFailure;
      }
      port_lines.push_back(fmt::format("stratus api {} ({} API {}) stage {} on its own port: http://{}:{}/", p.name,
                                       p.type, p.api_id, p.stage, host, port_server->port()));
      port_servers.push_back(std::move(port_server));
    }
  }

  // 6. Accept connections.
  server->start();
  for (auto& s : port_servers) s->start();
  std::fprintf(stdout, "stratus ready on %s\n", url.c_str());
  // Each API's invoke URL per stage, after the ready line (whose format scripts rely on).
  if (services::Service* apigw = registry.find_service("apigateway")) {
    std::string authority = fmt::format("localhost:{}", server->port());
    for (const auto& e : services::apigateway::api_endpoints(*apigw, authority))
      std::fprintf(stdout, "stratus api %s (%s API %s) stage %s: %s\n", e.name.c_str(), e.type.c_str(),
                   e.api_id.c_str(), e.stage.c_str(), e.url.c_str());
  }
  for (const auto& line : port_lines) std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
  log::info("daemon", "state: {}", options.ephemeral ? "ephemeral" : "persistent in " + store->data_dir());
  if (!options.config_file.empty()) {
    log::info("daemon", "stack {}: {} resource(s) applied", options.config_file, stack_doc.resources.size());
  }

  // 7. Wait for SIGTERM/SIGINT, then stop in order: no new requests, in-flight ones finish, services stop,
  //    the store closes.
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  log::info("daemon", "received {}, stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  server->shutdown(options.shutdown_grace);
  for (auto& s : port_servers) s->shutdown(options.shutdown_grace);
  registry.shutdown_all();
  executor->shutdown();
  port_servers.clear();
  server.reset();
  store->close();
  log::info("daemon", "stopped");
  return kExitOk;
}

}  // namespace stratus::emulator
