#pragma once
// The C++ face of the Stratus function ABI (<stratus/function.h>). A function is
//
//   #include <stratus/function.hpp>
//   nlohmann::json handler(const nlohmann::json& event, stratus::Context& ctx) { ... }
//   STRATUS_HANDLER(handler)
//
// and, optionally, init code run once per instance (the cold start):
//
//   void init(stratus::InitContext& ctx) { ... }
//   STRATUS_INIT(init)
//
// An exception escaping the handler (or init) becomes a Lambda function error whose errorType is the
// exception's demangled dynamic type ("std::runtime_error") and whose errorMessage is what() (for
// types not derived from std::exception: an empty message). Header-only; depends on nlohmann/json only.
#include <cxxabi.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "stratus/function.h"

namespace stratus {

// The invocation context, as Lambda's context object: valid only during the handler call.
class Context {
 public:
  explicit Context(const stratus_invocation* inv) : inv_(inv) {}
  std::string_view request_id() const { return inv_->request_id; }
  std::string_view function_name() const { return inv_->function_name; }
  std::string_view function_version() const { return inv_->function_version; }
  std::string_view invoked_function_arn() const { return inv_->invoked_function_arn; }
  int memory_limit_in_mb() const { return static_cast<int>(inv_->memory_limit_in_mb); }
  std::int64_t deadline_ms() const { return inv_->deadline_ms; }
  // Milliseconds left before the invocation times out (never negative).
  std::int64_t remaining_time_in_millis() const {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    return inv_->deadline_ms > now ? inv_->deadline_ms - now : 0;
  }
  // One line in the function's log, tagged with the request id like stdout/stderr output.
  void log(std::string_view message) const { inv_->log(inv_->host, message.data(), message.size()); }

 private:
  const stratus_invocation* inv_;
};

// Given to the STRATUS_INIT function, once per instance.
class InitContext {
 public:
  explicit InitContext(const stratus_init_context* ctx) : ctx_(ctx) {}
  std::string_view function_name() const { return ctx_->function_name; }
  std::string_view function_version() const { return ctx_->function_version; }
  int memory_limit_in_mb() const { return static_cast<int>(ctx_->memory_limit_in_mb); }
  void log(std::string_view message) const { ctx_->log(ctx_->host, message.data(), message.size()); }

 private:
  const stratus_init_context* ctx_;
};

namespace detail {

// The demangled dynamic type of the exception being handled ("std::runtime_error").
inline std::string current_exception_type() {
  const std::type_info* type = abi::__cxa_current_exception_type();
  if (type == nullptr) return "Runtime.Unknown";
  int status = 0;
  char* name = abi::__cxa_demangle(type->name(), nullptr, nullptr, &status);
  std::string out = (status == 0 && name != nullptr) ? std::string(name) : std::string(type->name());
  std::free(name);
  return out;
}

// Calls f(); on an exception, reports it through set_error(host, type, message) and returns 1.
template <typename F, typename SetError>
int guarded(F&& f, SetError set_error, void* host) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    std::string type = current_exception_type();
    set_error(host, type.c_str(), e.what());
  } catch (...) {
    std::string type = current_exception_type();
    set_error(host, type.c_str(), "");
  }
  return 1;
}

template <typename Handler>
int handle(Handler&& handler, const stratus_invocation* inv, stratus_response* resp) {
  return guarded(
      [&] {
        nlohmann::json event = inv->event_length == 0
                                   ? nlohmann::json()
                                   : nlohmann::json::parse(inv->event, inv->event + inv->event_length);
        Context ctx(inv);
        nlohmann::json result = handler(static_cast<const nlohmann::json&>(event), ctx);
        std::string body = result.dump();
        resp->write(resp->host, body.data(), body.size());
      },
      resp->set_error, resp->host);
}

template <typename Init>
int init(Init&& fn, const stratus_init_context* c) {
  return guarded(
      [&] {
        InitContext ctx(c);
        fn(ctx);
      },
      c->set_error, c->host);
}

}  // namespace detail
}  // namespace stratus

// Exports the ABI entry points for `nlohmann::json fn(const nlohmann::json&, stratus::Context&)`.
// Use once per library, at namespace scope.
#define STRATUS_HANDLER(fn)                                                                        \
  extern "C" STRATUS_EXPORT int stratus_function_abi_version(void) { return STRATUS_ABI_VERSION; } \
  extern "C" STRATUS_EXPORT int stratus_function_handle(const stratus_invocation* inv,             \
                                                        stratus_response* resp) {                  \
    return ::stratus::detail::handle(fn, inv, resp);                                               \
  }

// Exports stratus_function_init for `void fn(stratus::InitContext&)`. Optional; once per library.
#define STRATUS_INIT(fn)                                                                 \
  extern "C" STRATUS_EXPORT int stratus_function_init(const stratus_init_context* ctx) { \
    return ::stratus::detail::init(fn, ctx);                                             \
  }
