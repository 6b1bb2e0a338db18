// stratus-worker: one Lambda execution environment. Started by the daemon (src/runtime/instance.cpp)
// with a clean environment, its control socket on fd 3 and one pipe on fds 1 and 2:
//
//   stratus-worker LIBRARY FUNCTION_NAME VERSION MEMORY_MB
//   stratus-worker --standby      (a spare: waits for an 'L' frame saying which function to become, with
//                                  which environment and working directory, so a cold start skips
//                                  fork/exec/ld.so; see SpareWorkers in instance.hpp)
//
// It dlopen()s LIBRARY, checks the ABI version, limits its address space to what it uses after
// loading plus MEMORY_MB (RLIMIT_AS: the cgroup-free stand-in for Lambda's memory limit), runs the
// function's init, reports 'R' (or 'E'), then serves invocations one at a time until EOF on fd 3.
// The framing is documented in wire.hpp. Built without sanitizers (they reserve terabytes of address
// space, which RLIMIT_AS forbids) and linked against nothing but libc/libstdc++.
#include <dlfcn.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/wire.hpp"
#include "stratus/function.h"

namespace {

using stratus::runtime::wire::FrameType;
namespace wire = stratus::runtime::wire;

std::string g_function_name;
std::string g_version;
std::uint32_t g_memory_mb = 128;

long max_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool write_all(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, char* data, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::read(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

void send(FrameType type, const nlohmann::json& header, std::string_view payload = {}) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::string frame = wire::encode(type, header, payload);
  if (!write_all(wire::kControlFd, frame.data(), frame.size())) std::_Exit(0);  // daemon went away
}

// operator new failed under RLIMIT_AS: tell the daemon, then die the way Lambda's OOM killer does.
// Preallocated frame, no allocation here.
char g_oom_frame[32];
std::size_t g_oom_frame_len = 0;
void on_out_of_memory() {
  write_all(wire::kControlFd, g_oom_frame, g_oom_frame_len);
  ::kill(::getpid(), SIGKILL);
  std::_Exit(137);
}

void log_line(void*, const char* message, std::size_t length) {
  std::fflush(stdout);
  std::string line(message, length);
  if (line.empty() || line.back() != '\n') line.push_back('\n');
  write_all(1, line.data(), line.size());
}

struct ErrorSlot {
  std::string type;
  std::string message;
  bool set = false;
};

void set_error(void* host, const char* type, const char* message) {
  auto* slot = static_cast<ErrorSlot*>(host);
  slot->type = type != nullptr ? type : "";
  slot->message = message != nullptr ? message : "";
  slot->set = true;
}

struct ResponseHost {
  std::string payload;
  ErrorSlot error;
};

void response_write(void* host, const char* data, std::size_t length) {
  static_cast<ResponseHost*>(host)->payload.append(data, length);
}
void response_set_error(void* host, const char* type, const char* message) {
  set_error(&static_cast<ResponseHost*>(host)->error, type, message);
}

[[noreturn]] void init_failed(std::int64_t started_us, std::string type, std::string message) {
  send(FrameType::init_error, {{"errorType", std::move(type)},
                               {"errorMessage", std::move(message)},
                               {"init_us", now_us() - started_us},
                               {"max_rss_kb", max_rss_kb()}});
  std::_Exit(1);
}

// Reads one frame from the control socket; false on EOF or garbage.
bool read_frame(wire::Frame& frame) {
  static std::string buf;
  char len_bytes[4];
  if (!read_all(wire::kControlFd, len_bytes, 4)) return false;
  std::uint32_t n = wire::get_u32(len_bytes);
  if (n < 5 || n > wire::kMaxFrame) return false;
  buf.resize(4 + n);
  std::memcpy(buf.data(), len_bytes, 4);
  if (!read_all(wire::kControlFd, buf.data() + 4, n)) return false;
  std::size_t consumed = 0;
  return wire::decode(buf, frame, consumed) == wire::DecodeStatus::ok;
}

// Virtual memory in use now, from /proc/self/statm (pages).
std::size_t address_space_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  statm >> pages;
  return pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

int main(int argc, char** argv) {
  const bool standby = argc == 2 && std::string_view(argv[1]) == "--standby";
  if (argc != 5 && !standby) {
    std::fprintf(stderr, "usage: stratus-worker LIBRARY FUNCTION_NAME VERSION MEMORY_MB | --standby\n");
    return 2;
  }
  // If the daemon dies, so do we (the daemon spawns from threads that live as long as it does).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // output survives a crash, line by line
  // One malloc arena: each extra arena reserves 64 MB of address space, which RLIMIT_AS counts.
  ::mallopt(M_ARENA_MAX, 1);

  std::string library;
  if (standby) {
    // A spare, started ahead of need with an empty environment: wait for the function to become.
    wire::Frame load;
    if (!read_frame(load) || load.type != FrameType::load) return 0;
    library = load.header.value("library", "");
    g_function_name = load.header.value("function_name", "");
    g_version = load.header.value("version", "");
    g_memory_mb = load.header.value("memory_mb", 128u);
    ::clearenv();
    for (const auto& kv : load.header.value("env", std::vector<std::string>{}))
      ::putenv(::strdup(kv.c_str()));
    // The working directory a spawned worker gets from posix_spawn (LAMBDA_TASK_ROOT).
    std::string cwd = load.header.value("cwd", "");
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      init_failed(now_us(), "Runtime.Unknown",
                  "cannot change to the working directory " + cwd + ": " + std::strerror(errno));
    }
  } else {
    library = argv[1];
    g_function_name = argv[2];
    g_version = argv[3];
    g_memory_mb = static_cast<std::uint32_t>(std::strtoul(argv[4], nullptr, 10));
  }

  std::string oom = wire::encode(FrameType::out_of_memory, nlohmann::json::object());
  std::memcpy(g_oom_frame, oom.data(), oom.size());
  g_oom_frame_len = oom.size();

  const std::int64_t init_started = now_us();
  void* lib = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    // https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html (entrypoint errors)
    const char* err = ::dlerror();
    init_failed(init_started, "Runtime.InvalidEntrypoint", err != nullptr ? err : "dlopen failed");
  }
  auto abi = reinterpret_cast<stratus_function_abi_version_fn>(::dlsym(lib, "stratus_function_abi_version"));
  if (abi == nullptr) {
    init_failed(init_started, "Runtime.InvalidEntrypoint",
                library + " does not export stratus_function_abi_version (not a Stratus function)");
  }
  if (int v = abi(); v != STRATUS_ABI_VERSION) {
    init_failed(init_started, "Runtime.InvalidEntrypoint",
                "unsupported Stratus function ABI version " + std::to_string(v) + " (this worker speaks " +
                    std::to_string(STRATUS_ABI_VERSION) + ")");
  }
  auto handle = reinterpret_cast<stratus_function_handle_fn>(::dlsym(lib, "stratus_function_handle"));
  if (handle == nullptr) {
    init_failed(init_started, "Runtime.HandlerNotFound",
                library + " does not export stratus_function_handle");
  }
  auto init = reinterpret_cast<stratus_function_init_fn>(::dlsym(lib, "stratus_function_init"));

  // MemorySize: what the runtime has mapped so far plus MEMORY_MB for the function.
  if (g_memory_mb > 0) {
    rlim_t limit = address_space_bytes() + static_cast<rlim_t>(g_memory_mb) * 1024 * 1024;
    rlimit rl{limit, limit};
    ::setrlimit(RLIMIT_AS, &rl);
  }
  std::set_new_handler(on_out_of_memory);

  if (init != nullptr) {
    ErrorSlot err;
    stratus_init_context ctx{STRATUS_ABI_VERSION,
                             g_function_name.c_str(),
                             g_version.c_str(),
                             g_memory_mb,
                             &err,
                             log_line,
                             set_error};
    if (init(&ctx) != 0) {
      // https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-initerror
      if (!err.set) init_failed(init_started, "Runtime.Unknown", "Unknown application error occurred");
      init_failed(init_started, err.type, err.message);
    }
  }
  send(FrameType::ready, {{"init_us", now_us() - init_started}, {"max_rss_kb", max_rss_kb()}});

  for (;;) {
    wire::Frame frame;
    if (!read_frame(frame)) return 0;  // EOF: the daemon retired us
    if (frame.type != FrameType::invoke) return 3;
    const std::string request_id = frame.header.value("request_id", "");
    const std::string arn = frame.header.value("invoked_function_arn", "");
    stratus_invocation inv{STRATUS_ABI_VERSION,
                           request_id.c_str(),
                           g_function_name.c_str(),
                           g_version.c_str(),
                           arn.c_str(),
                           g_memory_mb,
                           frame.header.value("deadline_ms", std::int64_t{0}),
                           frame.payload.data(),
                           frame.payload.size(),
                           nullptr,
                           log_line};
    ResponseHost host;
    stratus_response resp{&host, response_write, response_set_error};
    const std::int64_t started = now_us();
    int rc = handle(&inv, &resp);
    const std::int64_t duration = now_us() - started;
    if (rc == 0 && !host.error.set) {
      if (host.payload.empty()) host.payload = "null";
      send(FrameType::result, {{"duration_us", duration}, {"max_rss_kb", max_rss_kb()}}, host.payload);
    } else {
      if (!host.error.set) host.error = {"Runtime.Unknown", "Unknown application error occurred", true};
      send(FrameType::function_error, {{"duration_us", duration},
                                       {"max_rss_kb", max_rss_kb()},
                                       {"errorType", host.error.type},
                                       {"errorMessage", host.error.message}});
    }
  }
}
