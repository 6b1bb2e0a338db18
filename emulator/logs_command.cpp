#include "emulator/logs_command.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <vector>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <fmt/format.h>

namespace stratus::emulator {

namespace {

// Set by SIGINT/SIGTERM while following; blocking calls return EINTR (no SA_RESTART).
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) { g_stop.store(true); }

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Decodes a chunked body; false when it is malformed or incomplete.
bool dechunk(std::string_view in, std::string& out) {
  out.clear();
  while (true) {
    auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) return false;
    std::string_view size_text = in.substr(0, eol);
    if (auto semi = size_text.find(';'); semi != std::string_view::npos) {
      size_text = size_text.substr(0, semi);
    }
    size_text = trim(size_text);
    if (size_text.empty()) return false;
    std::size_t size = 0;
    for (char c : size_text) {
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0 || size > (SIZE_MAX >> 4)) return false;
      size = size * 16 + static_cast<std::size_t>(digit);
    }
    in.remove_prefix(eol + 2);
    if (size == 0) return true;  // trailers, if any, are ignored
    if (in.size() < size + 2) return false;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

std::string percent_encode_segment(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::optional<std::string> http_get(const std::string& host, std::uint16_t port, const std::string& target,
                                    std::chrono::milliseconds timeout, HttpGetResult& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return fmt::format("cannot resolve {}: {}", host, ::gai_strerror(rc));
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  int fd = -1;
  std::string connect_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      connect_error = std::strerror(errno);
      continue;
    }
    // On Linux SO_SNDTIMEO also bounds connect().
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    connect_error = errno == EINPROGRESS || errno == EAGAIN ? "timed out" : std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0) return fmt::format("cannot connect to {}:{}: {}", host, port, connect_error);
  Socket socket(fd);

  std::string request = fmt::format(
      "GET {} HTTP/1.1\r\nHost: {}:{}\r\nAccept: text/plain\r\nUser-Agent: stratus-logs\r\n"
      "Connection: close\r\n\r\n",
      target, host.find(':') != std::string::npos ? "[" + host + "]" : host, port);
  std::string_view pending = request;
  while (!pending.empty()) {
    ssize_t n = ::send(socket.fd(), pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR && !g_stop.load()) continue;
      return fmt::format("cannot send to {}:{}: {}", host, port, std::strerror(errno));
    }
    pending.remove_prefix(static_cast<std::size_t>(n));
  }

  // Read to EOF (Connection: close); Content-Length, when given, ends it sooner.
  std::string raw;
  std::size_t head_end = std::string::npos;
  std::optional<std::size_t> content_length;
  bool chunked = false;
  char buffer[16384];
  while (true) {
    if (head_end != std::string::npos && content_length && raw.size() >= head_end + *content_length) break;
    ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n < 0) {
      if (errno == EINTR && !g_stop.load()) continue;
      if (errno == EINTR) return std::string("interrupted");
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return fmt::format("{}:{} did not answer in time", host, port);
      }
      return fmt::format("cannot read from {}:{}: {}", host, port, std::strerror(errno));
    }
    if (n == 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
    if (raw.size() > (64u << 20)) return std::string("the answer is larger than 64 MiB");
    if (head_end == std::string::npos) {
      auto end = raw.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      head_end = end + 4;
      std::string_view head(raw.data(), end);
      // Status line: HTTP/1.x NNN reason
      auto eol = head.find("\r\n");
      std::string_view status_line = head.substr(0, eol);
      if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
        return fmt::format("{}:{} did not answer HTTP", host, port);
      }
      std::string_view code = status_line.substr(9, 3);
      out.status = 0;
      for (char c : code) {
        if (c < '0' || c > '9') return fmt::format("malformed status line '{}'", status_line);
        out.status = out.status * 10 + (c - '0');
      }
      std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
      while (!rest.empty()) {
        auto line_end = rest.find("\r\n");
        std::string_view line = rest.substr(0, line_end);
        rest = line_end == std::string_view::npos ? std::string_view() : rest.substr(line_end + 2);
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = trim(line.substr(0, colon));
        std::string_view value = trim(line.substr(colon + 1));
        out.headers.emplace_back(name, value);
        if (iequals(name, "Content-Length")) {
          std::size_t length = 0;
          for (char c : value) {
            if (c < '0' || c > '9') return fmt::format("malformed Content-Length '{}'", value);
            length = length * 10 + static_cast<std::size_t>(c - '0');
          }
          content_length = length;
        } else if (iequals(name, "Transfer-Encoding") && value.find("chunked") != std::string_view::npos) {
          chunked = true;
        }
      }
    }
  }
  if (head_end == std::string::npos) {
    return fmt::format("{}:{} closed the connection without an answer", host, port);
  }
  std::string_view body(raw.data() + head_end, raw.size() - head_end);
  if (chunked) {
    if (!dechunk(body, out.body)) return std::string("malformed chunked answer");
  } else if (content_length) {
    if (body.size() < *content_length) return std::string("the answer ended early");
    out.body.assign(body.substr(0, *content_length));
  } else {
    out.body.assign(body);
  }
  return std::nullopt;
}

std::optional<std::string_view> HttpGetResult::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> log_cursor(const HttpGetResult& result) {
  auto value = result.header("X-Stratus-Log-Cursor");
  if (!value || value->empty()) return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || end != value->data() + value->size()) return std::nullopt;
  return n;
}

int run_logs(const LogsOptions& options) {
  std::string target = "/_stratus/logs/" + percent_encode_segment(options.function);
  constexpr auto kTimeout = std::chrono::milliseconds(5000);
  if (options.follow) {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR and the loop ends
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
  }
  std::optional<std::uint64_t> cursor;  // none before the first answer: it prints the recent log
  bool first = true;
  while (!g_stop.load()) {
    HttpGetResult result;
    std::string url = cursor ? fmt::format("{}?since={}", target, *cursor) : target;
    if (auto error = http_get(options.host, options.port, url, kTimeout, result)) {
      if (g_stop.load()) break;
      fmt::print(stderr,
                 "stratus: cannot read logs from the daemon at {}: {}\n(is `stratus serve` running there?)\n",
                 options.endpoint, *error);
      return 1;
    }
    if (result.status != 200) {
      fmt::print(stderr, "stratus: the daemon at {} answered {} to GET {}: {}\n", options.endpoint,
                 result.status, url, result.body.substr(0, 500));
      return 1;
    }
    auto next = log_cursor(result);
    if (options.follow && !next) {
      fmt::print(stderr, "stratus: the daemon at {} sent no X-Stratus-Log-Cursor (not a Stratus daemon of this "
                 "version?); cannot follow\n", options.endpoint);
      return 1;
    }
    if (cursor && result.header("X-Stratus-Log-Lost") == std::string_view("true")) {
      fmt::print(stderr,
                 "stratus: some lines of '{}' were dropped by the daemon before they could be read (it keeps "
                 "the newest 1 MiB per function)\n",
                 options.function);
    }
    if (!result.body.empty()) {
      std::fwrite(result.body.data(), 1, result.body.size(), stdout);
      if (!result.body.ends_with('\n')) std::fputc('\n', stdout);
      std::fflush(stdout);
    }
    if (first && result.body.empty() && !options.follow) {
      fmt::print(stderr,
                 "stratus: no log lines for '{}' (unknown function, or not invoked since the daemon "
                 "started)\n",
                 options.function);
    }
    first = false;
    if (!options.follow) return 0;
    cursor = next;
    // Sleeps the interval in short steps, so a signal ends the loop promptly.
    auto until = std::chrono::steady_clock::now() + options.poll_interval;
    while (!g_stop.load()) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      ::poll(nullptr, 0, static_cast<int>(std::min<long long>(left.count(), 100)));
    }
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace stratus::emulator
