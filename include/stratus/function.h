/*
 * Stratus function ABI, version 1.
 *
 * A Stratus function is a shared library (.so) loaded by a worker process (stratus-worker). One
 * worker is one Lambda "execution environment": it loads the library once, calls
 * stratus_function_init() once (the cold start), then calls stratus_function_handle() once per
 * invocation, one invocation at a time, for as long as the instance lives. Globals survive between
 * invocations of the same instance, exactly like Lambda's warm starts.
 *
 * The library exports, with C linkage and default visibility:
 *
 *   int stratus_function_abi_version(void);                                  required
 *   int stratus_function_init(const stratus_init_context* ctx);              optional
 *   int stratus_function_handle(const stratus_invocation* inv,
 *                               stratus_response* resp);                     required
 *
 * stratus_function_abi_version() returns STRATUS_ABI_VERSION as compiled into the library; the worker
 * refuses a library whose version it does not speak (Runtime.InvalidEntrypoint).
 *
 * Return values: 0 is success. Nonzero is failure; the function should first report the error with
 * set_error(errorType, errorMessage). A nonzero return without set_error is reported as errorType
 * "Runtime.Unknown" / "Unknown application error occurred" (init) or "Runtime.Unknown" (handler).
 *
 * Every pointer handed to the function is valid only during the call that received it. Strings are
 * NUL-terminated UTF-8 unless a length is given. The callbacks are not thread-safe and must be called
 * from the thread that received them, before the call returns.
 *
 * This header is plain C (C99) so functions can be written in any language that can build a
 * C-compatible shared library. C++ functions should use <stratus/function.hpp> instead.
 * See docs/functions.md.
 */
#ifndef STRATUS_FUNCTION_H
#define STRATUS_FUNCTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATUS_ABI_VERSION 1

#if defined(__GNUC__)
#define STRATUS_EXPORT __attribute__((visibility("default")))
#else
#define STRATUS_EXPORT
#endif

/* Given to stratus_function_init(), once per instance. */
typedef struct stratus_init_context {
  uint32_t abi_version;          /* STRATUS_ABI_VERSION of the worker */
  const char* function_name;     /* "my-function" */
  const char* function_version;  /* "$LATEST" or "3" */
  uint32_t memory_limit_in_mb;   /* the function's MemorySize */
  void* host;                    /* opaque, pass back to the callbacks */
  /* Writes one log line (a trailing newline is added if missing) to the function's log. */
  void (*log)(void* host, const char* message, size_t length);
  /* Reports why init failed: errorType (e.g. "std::runtime_error") and errorMessage. */
  void (*set_error)(void* host, const char* error_type, const char* error_message);
} stratus_init_context;

/* Given to stratus_function_handle(), once per invocation. */
typedef struct stratus_invocation {
  uint32_t abi_version;
  const char* request_id;            /* "8476a536-e9f4-11e8-9739-2dfe598c3fcd" */
  const char* function_name;
  const char* function_version;
  const char* invoked_function_arn;  /* the ARN used to invoke, with a qualifier if one was given */
  uint32_t memory_limit_in_mb;
  int64_t deadline_ms;               /* Unix epoch milliseconds at which the invocation times out */
  const char* event;                 /* the payload (JSON), NOT NUL-terminated */
  size_t event_length;
  void* host;
  void (*log)(void* host, const char* message, size_t length);
} stratus_invocation;

/* Where stratus_function_handle() puts its result. */
typedef struct stratus_response {
  void* host;
  /* Appends bytes to the response payload (must add up to a JSON document). */
  void (*write)(void* host, const char* data, size_t length);
  /* Makes this invocation a function error: {"errorMessage","errorType","stackTrace":[]}. */
  void (*set_error)(void* host, const char* error_type, const char* error_message);
} stratus_response;

typedef int (*stratus_function_abi_version_fn)(void);
typedef int (*stratus_function_init_fn)(const stratus_init_context*);
typedef int (*stratus_function_handle_fn)(const stratus_invocation*, stratus_response*);

#ifdef __cplusplus
}
#endif

#endif /* STRATUS_FUNCTION_H */
