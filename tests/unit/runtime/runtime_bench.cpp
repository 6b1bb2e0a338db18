// Cold start and warm invoke round trip through the Pool (no HTTP), median and p99 over N runs.
//   runtime_bench [FUNCTION=echo] [N=100] [SPARE_WORKERS=0]
// Not part of ctest; build with `ninja runtime_bench`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "runtime/pool.hpp"

using namespace stratus::runtime;
using Clock = std::chrono::steady_clock;

static double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

int main(int argc, char** argv) {
  std::string fn = argc > 1 ? argv[1] : "echo";
  int n = argc > 2 ? std::stoi(argv[2]) : 100;
  int spares = argc > 3 ? std::stoi(argv[3]) : 0;
  boost::asio::io_context io;
  stratus::SystemClock& clock = stratus::SystemClock::instance();
  FunctionConfig c;
  c.function_name = fn;
  c.library_path = std::string(STRATUS_TEST_FUNCTIONS_DIR) + "/" + fn + ".so";
  RuntimeOptions rt;
  rt.worker_path = STRATUS_TEST_WORKER;
  rt.spare_workers = spares;
  PoolOptions o;
  o.keep_warm_ms = 0;  // evict_idle() after each cold run makes the next one cold again
  auto pool = Pool::create(io, clock, c, rt, o, nullptr);

  auto once = [&](InvokeResult& out) {
    bool done = false;
    auto t0 = Clock::now();
    pool->invoke(InvokeRequest{R"({"hello":"world"})", {}, {}}, [&](InvokeResult r) {
      out = std::move(r);
      done = true;
    });
    while (!done) {
      if (io.stopped()) io.restart();
      io.run_one();
    }
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  };

  std::vector<double> cold_rtt, spawn_ready, init;
  InvokeResult r;
  for (int i = 0; i < n; ++i) {
    double us = once(r);
    if (!r.cold_start || r.status != InvokeResult::Status::ok) {
      std::fprintf(stderr, "unexpected: cold=%d status=%d %s\n", r.cold_start, static_cast<int>(r.status),
                   r.payload.c_str());
      return 1;
    }
    cold_rtt.push_back(us / 1000.0);
    spawn_ready.push_back(r.cold_start_ms);
    init.push_back(r.init_duration_ms);
    pool->evict_idle();
    // A realistic gap between cold starts (lets the evicted worker die and a spare finish starting).
    if (io.stopped()) io.restart();
    io.run_for(std::chrono::milliseconds(30));
  }
  std::vector<double> warm;
  once(r);  // the instance that stays
  for (int i = 0; i < n; ++i) {
    double us = once(r);
    if (r.cold_start) return 1;
    warm.push_back(us);
  }
  std::printf("%s, %d runs each, spare_workers=%d\n", fn.c_str(), n, spares);
  std::printf("  cold start spawn->ready: p50 %.3f ms  p99 %.3f ms\n", pct(spawn_ready, 0.5),
              pct(spawn_ready, 0.99));
  std::printf("  cold invoke round trip:  p50 %.3f ms  p99 %.3f ms\n", pct(cold_rtt, 0.5),
              pct(cold_rtt, 0.99));
  std::printf("  worker init (dlopen+init): p50 %.3f ms\n", pct(init, 0.5));
  std::printf("  warm invoke round trip:  p50 %.1f us  p99 %.1f us\n", pct(warm, 0.5), pct(warm, 0.99));
  pool->shutdown();
  io.run_for(std::chrono::milliseconds(100));
  return 0;
}
