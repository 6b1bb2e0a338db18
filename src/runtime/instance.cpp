#include "runtime/instance.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/ids.hpp"
#include "common/log.hpp"
#include "runtime/config.hpp"

namespace stratus::runtime {

namespace {

constexpr std::size_t kMaxPhaseLog = 1u << 20;  // keep at most the last 1 MiB of one invocation's output

std::int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    switch (WTERMSIG(status)) {
      case SIGABRT:
        return "signal: aborted";
      case SIGSEGV:
        return "signal: segmentation fault";
      case SIGKILL:
        return "signal: killed";
      case SIGBUS:
        return "signal: bus error";
      case SIGFPE:
        return "signal: floating point exception";
      case SIGILL:
        return "signal: illegal instruction";
      case SIGTERM:
        return "signal: terminated";
      case SIGTRAP:
        return "signal: trace/breakpoint trap";
      case SIGSYS:
        return "signal: bad system call";
      default:
        return fmt::format("signal: {}", WTERMSIG(status));
    }
  }
  return "exited";
}

WorkerProcess spawn_worker(const std::string& worker_path, const std::vector<std::string>& args,
                           const std::vector<std::string>& env, std::string& error, const std::string& cwd) {
  WorkerProcess p;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    error = std::strerror(errno);
    return p;
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    error = std::strerror(errno);
    ::close(sv[0]);
    ::close(sv[1]);
    return p;
  }

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  posix_spawn_file_actions_adddup2(&fa, sv[1], wire::kControlFd);
  posix_spawn_file_actions_addclosefrom_np(&fa, wire::kControlFd + 1);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);  // a terminal's Ctrl-C is for the daemon, which kills its workers
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> argv{const_cast<char*>(worker_path.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (const auto& kv : env) envp.push_back(const_cast<char*>(kv.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, worker_path.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(sv[1]);
  ::close(out[1]);
  if (rc != 0) {
    error = std::strerror(rc);
    ::close(sv[0]);
    ::close(out[0]);
    return p;
  }
  // glibc 2.36's <sys/pidfd.h> lacks extern "C"; the raw syscall is the portable spelling.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {  // cannot watch it: do not leave it running
    error = std::string("pidfd_open: ") + std::strerror(errno);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ::close(sv[0]);
    ::close(out[0]);
    return p;
  }
  set_nonblocking(out[0]);
  p.pid = pid;
  p.control = sv[0];
  p.output = out[0];
  p.pidfd = pidfd;
  return p;
}

bool worker_alive(const WorkerProcess& p) {
  if (!p.valid()) return false;
  pollfd pfd{p.pidfd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) == 0;
}

void discard_worker(WorkerProcess& p) {
  if (!p.valid()) return;
  ::kill(p.pid, SIGKILL);
  ::waitpid(p.pid, nullptr, 0);
  ::close(p.control);
  ::close(p.output);
  ::close(p.pidfd);
  p = WorkerProcess{};
}

SpareWorkers::SpareWorkers(std::string worker_path, int target)
    : worker_path_(worker_path.empty() ? default_worker_path() : std::move(worker_path)), target_(target) {}

SpareWorkers::~SpareWorkers() { shutdown(); }

WorkerProcess SpareWorkers::take() {
  while (!ready_.empty()) {
    WorkerProcess p = ready_.back();
    ready_.pop_back();
    if (worker_alive(p)) return p;
    discard_worker(p);
  }
  return {};
}

void SpareWorkers::refill() {
  while (!shut_down_ && static_cast<int>(ready_.size()) < target_) {
    std::string error;
    WorkerProcess p = spawn_worker(worker_path_, {"--standby"}, {}, error);
    if (!p.valid()) {
      log::warn("runtime", "cannot start a spare worker {}: {}", worker_path_, error);
      return;
    }
    ready_.push_back(p);
  }
}

std::vector<pid_t> SpareWorkers::pids() const {
  std::vector<pid_t> out;
  for (const auto& p : ready_) out.push_back(p.pid);
  return out;
}

void SpareWorkers::shutdown() {
  shut_down_ = true;
  for (auto& p : ready_) discard_worker(p);
  ready_.clear();
}

Instance::Instance(asio::io_context& io, const Clock& clock)
    : io_(io),
      clock_(clock),
      control_(io),
      output_(io),
      pidfd_(io),
      timer_(io),
      control_chunk_(64 * 1024) {}

Instance::~Instance() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

std::shared_ptr<Instance> Instance::start(asio::io_context& io, const Clock& clock, const WorkerSpec& spec,
                                          StartHandler on_start, WorkerProcess spare) {
  std::shared_ptr<Instance> self(new Instance(io, clock));
  self->on_start_ = std::move(on_start);
  self->started_us_ = steady_us();

  auto fail = [&](const std::string& what) {
    StartResult r;
    r.kind = EndKind::spawn_failed;
    r.error_type = "Runtime.Unknown";
    r.error_message = fmt::format("cannot start {}: {}", spec.worker_path, what);
    self->state_ = State::dead;
    asio::post(io, [self, r]() mutable { self->finish_start(std::move(r)); });
    return self;
  };

  WorkerProcess proc = spare;
  if (!proc.valid()) {
    std::string error;
    proc = spawn_worker(spec.worker_path,
                        {spec.library_path, spec.function_name, spec.version, std::to_string(spec.memory_mb)},
                        spec.env, error, spec.cwd);
    if (!proc.valid()) return fail(error);
  }
  self->pid_ = proc.pid;
  self->control_.assign(proc.control);
  self->output_.assign(proc.output);
  self->pidfd_.assign(proc.pidfd);
  if (spare.valid()) {
    // A standby worker: tell it which function to become (wire.hpp, 'L').
    auto frame = std::make_shared<std::string>(
        wire::encode(wire::FrameType::load, {{"library", spec.library_path},
                                             {"function_name", spec.function_name},
                                             {"version", spec.version},
                                             {"memory_mb", spec.memory_mb},
                                             {"env", spec.env},
                                             {"cwd", spec.cwd}}));
    asio::async_write(self->control_, asio::buffer(*frame),
                      [self, frame](boost::system::error_code ec, std::size_t) {
                        if (ec) self->terminate();
                      });
  }
  self->read_control();
  self->read_output();
  self->wait_exit();
  self->timer_.expires_after(std::chrono::milliseconds(spec.init_timeout_ms));
  self->timer_.async_wait([w = std::weak_ptr<Instance>(self)](boost::system::error_code ec) {
    if (auto s = w.lock(); s && !ec) s->on_timer();
  });
  return self;
}

void Instance::read_control() {
  control_.async_read_some(
      asio::buffer(control_chunk_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (ec) return;  // EOF or closed: the exit is seen through the pidfd
        self->control_buf_.append(self->control_chunk_.data(), n);
        for (;;) {
          wire::Frame frame;
          std::size_t used = 0;
          auto st = wire::decode(self->control_buf_, frame, used);
          if (st == wire::DecodeStatus::need_more) break;
          if (st == wire::DecodeStatus::bad) {
            log::warn("runtime", "worker {} sent a malformed frame; killing it", self->pid_);
            self->terminate();
            return;
          }
          self->control_buf_.erase(0, used);
          self->on_frame(frame);
        }
        if (self->control_.is_open()) self->read_control();
      });
}

// Waits for output without reading it: the bytes stay in the pipe until drain_output() takes them, here or
// when a control frame ends a phase. (An async read would take them off the pipe as soon as they arrive and
// hand them over in a queued handler, which could run after the frame's handler: a line the function printed
// before replying then fell into the next phase's log.)
void Instance::read_output() {
  output_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](boost::system::error_code ec) {
                       if (ec) return;
                       if (self->drain_output() && self->output_.is_open()) self->read_output();
                     });
}

void Instance::wait_exit() {
  pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [self = shared_from_this()](boost::system::error_code ec) {
                      if (ec) return;
                      self->on_exit();
                    });
}

void Instance::take_output(const char* data, std::size_t len) {
  partial_line_.append(data, len);
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = partial_line_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(partial_line_.data() + start, nl - start);
    std::string ts = iso8601_ms(clock_.now_ms());
    if (tag_.empty()) {
      phase_log_ += fmt::format("{}\t{}\n", ts, line);
    } else {
      phase_log_ += fmt::format("{}\t{}\t{}\n", ts, tag_, line);
    }
    start = nl + 1;
  }
  partial_line_.erase(0, start);
  if (partial_line_.size() > kMaxPhaseLog) partial_line_.erase(0, partial_line_.size() - kMaxPhaseLog);
  if (phase_log_.size() > 2 * kMaxPhaseLog) phase_log_.erase(0, phase_log_.size() - kMaxPhaseLog);
}

// Everything the worker wrote before its reply (or its death) is already in the pipe: read it now,
// without blocking (the fd is O_NONBLOCK), so the output lands between START and END.
bool Instance::drain_output() {
  if (!output_.is_open()) return false;
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(output_.native_handle(), buf, sizeof buf);
    if (n > 0) {
      take_output(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);  // false: EOF (the worker closed it) or an error
  }
}

std::string Instance::finish_phase_log() {
  drain_output();
  if (!partial_line_.empty()) {
    take_output("\n", 1);
  }
  std::string out;
  out.swap(phase_log_);
  return out;
}

void Instance::on_frame(wire::Frame& frame) {
  const auto& h = frame.header;
  switch (frame.type) {
    case wire::FrameType::ready: {
      if (state_ != State::starting) break;
      timer_.cancel();
      StartResult r;
      r.init_ms = static_cast<double>(h.value("init_us", std::int64_t{0})) / 1000.0;
      r.spawn_to_ready_ms = static_cast<double>(steady_us() - started_us_) / 1000.0;
      r.max_rss_kb = h.value("max_rss_kb", 0L);
      r.log = finish_phase_log();
      state_ = State::idle;
      finish_start(std::move(r));
      break;
    }
    case wire::FrameType::init_error: {
      if (state_ != State::starting) break;
      timer_.cancel();
      StartResult r;
      r.kind = EndKind::function_error;
      r.error_type = h.value("errorType", "Runtime.Unknown");
      r.error_message = h.value("errorMessage", "");
      r.init_ms = static_cast<double>(h.value("init_us", std::int64_t{0})) / 1000.0;
      r.spawn_to_ready_ms = static_cast<double>(steady_us() - started_us_) / 1000.0;
      r.max_rss_kb = h.value("max_rss_kb", 0L);
      r.log = finish_phase_log();
      state_ = State::dead;
      terminate();  // it exits by itself; make sure
      finish_start(std::move(r));
      break;
    }
    case wire::FrameType::result:
    case wire::FrameType::function_error: {
      if (state_ != State::busy) break;
      timer_.cancel();
      InvokeOutcome r;
      r.duration_ms = static_cast<double>(h.value("duration_us", std::int64_t{0})) / 1000.0;
      r.max_rss_kb = h.value("max_rss_kb", 0L);
      if (frame.type == wire::FrameType::result) {
        r.payload = std::move(frame.payload);
      } else {
        r.kind = EndKind::function_error;
        r.error_type = h.value("errorType", "Runtime.Unknown");
        r.error_message = h.value("errorMessage", "");
      }
      r.log = finish_phase_log();
      tag_.clear();
      state_ = State::idle;
      finish_invoke(std::move(r));
      break;
    }
    case wire::FrameType::out_of_memory:
      out_of_memory_ = true;
      break;
    case wire::FrameType::invoke:
    case wire::FrameType::load:
      break;  // daemon -> worker only
  }
}

void Instance::on_exit() {
  int status = 0;
  rusage ru{};
  pid_t r = ::wait4(pid_, &status, WNOHANG, &ru);
  if (r == 0) {  // spurious wake-up
    wait_exit();
    return;
  }
  reaped_ = true;
  wait_status_ = status;
  exit_max_rss_kb_ = ru.ru_maxrss;
  // Lambda reports a worker killed for memory as Runtime.OutOfMemory; SIGKILL that we did not send is
  // the kernel's OOM killer.
  bool oom = out_of_memory_ || (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !killed_);
  EndKind kind = oom ? EndKind::out_of_memory : EndKind::exited;
  std::string reason = describe_wait_status(status);
  if (state_ == State::starting) {
    timer_.cancel();
    StartResult s;
    s.kind = kind;
    s.exit_reason = reason;
    s.spawn_to_ready_ms = static_cast<double>(steady_us() - started_us_) / 1000.0;
    s.init_ms = s.spawn_to_ready_ms;
    s.max_rss_kb = exit_max_rss_kb_;
    s.log = finish_phase_log();
    state_ = State::dead;
    finish_start(std::move(s));
  } else if (state_ == State::busy) {
    timer_.cancel();
    InvokeOutcome o;
    o.kind = kind;
    o.exit_reason = reason;
    o.duration_ms = static_cast<double>(steady_us() - invoke_us_) / 1000.0;
    o.max_rss_kb = exit_max_rss_kb_;
    o.log = finish_phase_log();
    state_ = State::dead;
    finish_invoke(std::move(o));
  } else {
    state_ = State::dead;
  }
  close_all();
}

void Instance::on_timer() {
  if (state_ == State::starting) {
    StartResult s;
    s.kind = EndKind::timeout;
    s.spawn_to_ready_ms = static_cast<double>(steady_us() - started_us_) / 1000.0;
    s.init_ms = s.spawn_to_ready_ms;
    s.log = finish_phase_log();
    state_ = State::dead;
    terminate();
    finish_start(std::move(s));
  } else if (state_ == State::busy) {
    InvokeOutcome o;
    o.kind = EndKind::timeout;
    o.duration_ms = static_cast<double>(steady_us() - invoke_us_) / 1000.0;
    o.log = finish_phase_log();
    state_ = State::dead;
    terminate();
    finish_invoke(std::move(o));
  }
}

void Instance::invoke(const std::string& request_id, const std::string& invoked_arn,
                      std::int64_t deadline_epoch_ms, std::int64_t timeout_ms, std::string payload,
                      InvokeHandler done) {
  if (state_ != State::idle) {
    InvokeOutcome o;
    o.kind = EndKind::exited;
    o.exit_reason = "exited";
    asio::post(io_, [done = std::move(done), o = std::move(o)]() mutable { done(std::move(o)); });
    return;
  }
  state_ = State::busy;
  on_invoke_ = std::move(done);
  tag_ = request_id;
  phase_log_.clear();
  invoke_us_ = steady_us();
  auto frame = std::make_shared<std::string>(wire::encode(
      wire::FrameType::invoke,
      {{"request_id", request_id}, {"invoked_function_arn", invoked_arn}, {"deadline_ms", deadline_epoch_ms}},
      payload));
  asio::async_write(control_, asio::buffer(*frame),
                    [self = shared_from_this(), frame](boost::system::error_code ec, std::size_t) {
                      if (ec) self->terminate();  // the exit path reports it
                    });
  timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto s = w.lock(); s && !ec) s->on_timer();
  });
}

void Instance::terminate() {
  if (pid_ > 0 && !reaped_) {
    killed_ = true;
    ::kill(pid_, SIGKILL);
  }
}

void Instance::finish_start(StartResult r) {
  if (!on_start_) return;
  auto h = std::move(on_start_);
  on_start_ = nullptr;
  h(std::move(r));
}

void Instance::finish_invoke(InvokeOutcome r) {
  if (!on_invoke_) return;
  auto h = std::move(on_invoke_);
  on_invoke_ = nullptr;
  h(std::move(r));
}

void Instance::close_all() {
  boost::system::error_code ec;
  timer_.cancel();
  control_.close(ec);
  output_.close(ec);
  pidfd_.close(ec);
}

}  // namespace stratus::runtime
