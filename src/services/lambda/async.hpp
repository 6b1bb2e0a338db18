#pragma once
// Public view of the Lambda service's asynchronous invocations (InvocationType=Event), for the daemon's
// /_stratus/ endpoints. The behaviour is described in async_queue.hpp.
#include <memory>
#include <nlohmann/json.hpp>

#include "services/service.hpp"

namespace stratus::services::lambda {

// The async queue's counters of a service made by make_lambda_service:
//   {"accepted", "queued", "in_flight", "invocations", "succeeded", "function_errors", "retries",
//    "throttled", "retries_exhausted", "expired", "dropped",
//    "destinations": {"function", "router", "undeliverable"}}
// (counters since the daemon started; "queued" includes events loaded from the store). null for any
// other service or a service without a store.
nlohmann::json async_stats(const Service& lambda_service);

// The event source mappings' counters (esm.hpp SqsPollers::stats), by UUID. null for any other service or
// a service without pollers.
nlohmann::json esm_stats(const Service& lambda_service);

}  // namespace stratus::services::lambda
