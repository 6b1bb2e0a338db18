// stratus-sqsload: the SQS load client of tests/bench/run.py (sqs_drain, sqs_rss_1m, the drain prefill).
//
// It speaks SQS's JSON 1.0 protocol exactly as boto3 sends it (POST /, X-Amz-Target: AmazonSQS.<Op>,
// Content-Type application/x-amz-json-1.0, x-amzn-query-mode: true, a SigV4-shaped Authorization header
// with the credential scope .../us-east-1/sqs/aws4_request) over plain blocking HTTP/1.1 keep-alive
// sockets, one thread per connection, so that per-connection state (the receipt handles a ReceiveMessage
// returned, which the same connection's next request deletes) is ordinary local variables. A server that
// answers "Connection: close" (moto's Werkzeug) is reconnected to before the next request, as clients do.
//
// Modes (one JSON line on stdout with the counts, the elapsed time and latency percentiles):
//   fill   SendMessageBatch of 10 messages until --messages are stored (connections claim batches from a
//          shared counter), or --duration s.
//   drain  per connection: ReceiveMessage(MaxNumberOfMessages=10) then DeleteMessageBatch of the handles
//          it returned; a connection stops at its first empty ReceiveMessage (the queue holds nothing
//          visible), when --messages are deleted in all, or after --duration s.
//   send   SendMessage until --messages or --duration s.
//   longpoll  send -> waiting receiver latency: --receivers connections (1) each keep a
//          ReceiveMessage(WaitTimeSeconds=20) waiting in the server; then --messages rounds (200): after
//          --settle-ms (20) for every receiver to be waiting, one SendMessage on a connection of its own,
//          timed from just before its request is written to the moment a receiver has read the whole
//          answer carrying that message (steady_clock, both in this process). The receiver deletes the
//          message on its own connection and waits again before the next round. A receiver whose 20 s
//          wait ends empty just waits again. A round whose message does not arrive within --timeout s
//          counts as an error.
// Only 127.0.0.1 is contacted. Every socket operation is bounded by --timeout s.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Options {
  std::string mode;
  int port = 0;
  std::string queue_url;
  int connections = 16;
  double duration_s = 10;
  long long messages = 0;  // 0 = no count limit (duration only)
  int body_bytes = 1024;
  double timeout_s = 30;
  int receivers = 1;    // longpoll
  int settle_ms = 20;   // longpoll
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "stratus-sqsload: %s\nusage: stratus-sqsload --mode fill|drain|send|longpoll --port P --queue-url URL "
               "[--connections 16] [--duration S] [--messages N] [--body-bytes 1024] [--timeout S] "
               "[--receivers 1] [--settle-ms 20]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value");
      return argv[++i];
    };
    if (a == "--mode") o.mode = value();
    else if (a == "--port") o.port = std::atoi(value().c_str());
    else if (a == "--queue-url") o.queue_url = value();
    else if (a == "--connections") o.connections = std::atoi(value().c_str());
    else if (a == "--duration") o.duration_s = std::atof(value().c_str());
    else if (a == "--messages") o.messages = std::atoll(value().c_str());
    else if (a == "--body-bytes") o.body_bytes = std::atoi(value().c_str());
    else if (a == "--timeout") o.timeout_s = std::atof(value().c_str());
    else if (a == "--receivers") o.receivers = std::atoi(value().c_str());
    else if (a == "--settle-ms") o.settle_ms = std::atoi(value().c_str());
    else usage("unknown argument");
  }
  if (o.mode != "fill" && o.mode != "drain" && o.mode != "send" && o.mode != "longpoll")
    usage("--mode must be fill, drain, send or longpoll");
  if (o.port <= 0 || o.port > 65535 || o.queue_url.empty()) usage("--port and --queue-url are required");
  if (o.connections < 1 || o.connections > 1024 || o.duration_s <= 0 || o.body_bytes < 1 ||
      o.body_bytes > 262144 || o.timeout_s <= 0 || o.messages < 0 || o.receivers < 1 || o.receivers > 4096 ||
      o.settle_ms < 0 || o.settle_ms > 10000)
    usage("a value is out of range");
  if (o.mode == "fill" && o.messages == 0) usage("fill needs --messages");
  return o;
}

// ---- a blocking HTTP/1.1 client connection -------------------------------------------------------------

struct Response {
  int status = 0;
  std::string body;
};

class Connection {
 public:
  Connection(int port, double timeout_s) : port_(port), timeout_s_(timeout_s) {}
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one request and reads its response. Returns an error message, or nullopt with `out` set.
  std::optional<std::string> exchange(const std::string& request, Response& out) {
    if (fd_ < 0) {
      if (auto e = connect()) return e;
    }
    if (auto e = write_all(request)) {
      close();
      return e;
    }
    auto e = read_response(out);
    if (e || close_after_) close();
    return e;
  }

 private:
  std::optional<std::string> connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return std::string("socket: ") + std::strerror(errno);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout_s_);
    tv.tv_usec = static_cast<suseconds_t>((timeout_s_ - static_cast<double>(tv.tv_sec)) * 1e6);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::string e = std::string("connect: ") + std::strerror(errno);
      close();
      return e;
    }
    buffer_.clear();
    return std::nullopt;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  std::optional<std::string> write_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::string("send: ") + std::strerror(errno);
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return std::nullopt;
  }

  // Appends what the socket has to buffer_; an error at EOF or timeout.
  std::optional<std::string> fill() {
    char chunk[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return std::string("connection closed by the server");
      if (n < 0) return errno == EAGAIN ? std::string("timed out") : std::string("recv: ") + std::strerror(errno);
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return std::nullopt;
    }
  }

  static bool header_is(std::string_view line, std::string_view name, std::string_view& value) {
    if (line.size() <= name.size() || line[name.size()] != ':') return false;
    for (std::size_t i = 0; i < name.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
    value = line.substr(name.size() + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.remove_suffix(1);
    return true;
  }

  std::optional<std::string> read_response(Response& out) {
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (auto e = fill()) return e;
      if (buffer_.size() > (1u << 20)) return std::string("response head too long");
    }
    std::string_view head(buffer_.data(), end);
    if (head.size() < 12 || head.substr(0, 7) != "HTTP/1.") return std::string("malformed status line");
    out.status = std::atoi(std::string(head.substr(9, 3)).c_str());
    long long length = -1;
    bool chunked = false;
    close_after_ = head.substr(0, 8) == "HTTP/1.0";
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos < head.size()) {
      std::size_t next = head.find("\r\n", pos + 2);
      std::string_view line = head.substr(pos + 2, (next == std::string_view::npos ? head.size() : next) - pos - 2);
      std::string_view v;
      if (header_is(line, "content-length", v)) length = std::atoll(std::string(v).c_str());
      else if (header_is(line, "transfer-encoding", v)) chunked = v.find("chunked") != std::string_view::npos;
      else if (header_is(line, "connection", v)) close_after_ = v == "close" || v == "Close";
      pos = next;
    }
    buffer_.erase(0, end + 4);
    out.body.clear();
    if (chunked) {
      for (;;) {
        std::size_t eol;
        while ((eol = buffer_.find("\r\n")) == std::string::npos)
          if (auto e = fill()) return e;
        std::size_t size = std::strtoull(buffer_.substr(0, eol).c_str(), nullptr, 16);
        if (size == 0) {  // last chunk; no trailers expected
          while (buffer_.size() < eol + 4)
            if (auto e = fill()) return e;
          buffer_.erase(0, eol + 4);
          return std::nullopt;
        }
        while (buffer_.size() < eol + 2 + size + 2)
          if (auto e = fill()) return e;
        out.body.append(buffer_, eol + 2, size);
        buffer_.erase(0, eol + 2 + size + 2);
      }
    }
    if (length < 0) {  // up to EOF
      while (!fill()) {
      }
      out.body = std::move(buffer_);
      buffer_.clear();
      close_after_ = true;
      return std::nullopt;
    }
    while (buffer_.size() < static_cast<std::size_t>(length))
      if (auto e = fill()) return e;
    out.body.assign(buffer_, 0, static_cast<std::size_t>(length));
    buffer_.erase(0, static_cast<std::size_t>(length));
    return std::nullopt;
  }

  int port_;
  double timeout_s_;
  int fd_ = -1;
  bool close_after_ = false;
  std::string buffer_;
};

// ---- SQS requests ----------------------------------------------------------------------------------------

std::string amz_date() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string sqs_request(int port, std::string_view op, const std::string& body) {
  std::string date = amz_date();
  std::string r;
  r.reserve(body.size() + 600);
  r += "POST / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  r += "X-Amz-Target: AmazonSQS.";
  r += op;
  r += "\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-query-mode: true\r\n";
  r += "User-Agent: stratus-sqsload (boto3 wire format)\r\nX-Amz-Date: " + date + "\r\n";
  r += "Authorization: AWS4-HMAC-SHA256 Credential=test/" + date.substr(0, 8) +
       "/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, "
       "Signature=" +
       std::string(64, '0') + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r += body;
  return r;
}

std::string message_body(int bytes) {
  std::string b;
  b.reserve(static_cast<std::size_t>(bytes));
  const char* pattern = "stratus-bench 0123456789 abcdefghijklmnopqrstuvwxyz ";
  while (b.size() < static_cast<std::size_t>(bytes)) b += pattern;
  b.resize(static_cast<std::size_t>(bytes));
  return b;
}

// ---- the run ---------------------------------------------------------------------------------------------

struct Totals {
  std::mutex mutex;
  long long requests = 0;
  long long messages = 0;  // sent (fill/send) or deleted (drain)
  long long received = 0;  // drain: messages ReceiveMessage returned
  long long empty_receives = 0;
  long long non2xx = 0;
  long long failed_entries = 0;
  long long errors = 0;
  std::string first_error;
  std::vector<double> latency_us;          // send / fill: every request; drain: ReceiveMessage
  std::vector<double> delete_latency_us;   // drain: DeleteMessageBatch
  Clock::time_point last_done{};
};

struct Local {
  long long requests = 0, messages = 0, received = 0, empty_receives = 0, non2xx = 0, failed_entries = 0,
            errors = 0;
  std::string first_error;
  std::vector<double> latency_us, delete_latency_us;

  void fail(std::string what) {
    ++errors;
    if (first_error.empty()) first_error = std::move(what);
  }
};

double percentile(std::vector<double>& xs, double q) {
  if (xs.empty()) return -1;
  std::size_t rank = static_cast<std::size_t>(std::ceil(q / 100.0 * static_cast<double>(xs.size())));
  std::size_t i = rank == 0 ? 0 : rank - 1;
  std::nth_element(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(i), xs.end());
  return xs[i];
}


// ---- longpoll: send -> waiting receiver latency ---------------------------------------------------------

int run_longpoll(const Options& o, const std::string& body) {
  const std::string receive_request =
      sqs_request(o.port, "ReceiveMessage",
                  json{{"QueueUrl", o.queue_url}, {"MaxNumberOfMessages", 1}, {"WaitTimeSeconds", 20}}.dump());
  const std::string send_request =
      sqs_request(o.port, "SendMessage", json{{"QueueUrl", o.queue_url}, {"MessageBody", body}}.dump());
  const double receiver_timeout = std::max(o.timeout_s, 25.0);  // longer than the 20 s wait
  const long long rounds = o.messages ? o.messages : 200;
  const auto wait_limit = std::chrono::duration<double>(o.timeout_s);

  std::mutex mu;
  std::condition_variable cv;
  int armed = 0;                    // receivers about to write, or waiting for, a ReceiveMessage
  std::vector<std::pair<std::string, Clock::time_point>> arrivals;  // message id, answer read
  long long errors = 0, empty_answers = 0, deleted = 0;
  std::string first_error;
  auto fail = [&](std::string what) {  // under mu
    ++errors;
    if (first_error.empty()) first_error = std::move(what);
  };

  auto receiver = [&]() {
    Connection c(o.port, receiver_timeout);
    Response r;
    for (;;) {
      {
        std::lock_guard lk(mu);
        ++armed;
      }
      cv.notify_all();
      auto e = c.exchange(receive_request, r);
      auto t1 = Clock::now();
      std::string id, handle;
      if (!e && r.status == 200) {
        try {
          json doc = json::parse(r.body);
          if (auto it = doc.find("Messages"); it != doc.end() && it->is_array() && !it->empty()) {
            id = it->at(0).at("MessageId").get<std::string>();
            handle = it->at(0).at("ReceiptHandle").get<std::string>();
          }
        } catch (const std::exception& ex) {
          e = std::string("ReceiveMessage answer is not what SQS sends: ") + ex.what();
        }
      }
      {
        std::lock_guard lk(mu);
        --armed;
        if (e) fail("receiver: " + *e);
        else if (r.status != 200) fail("ReceiveMessage: HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300));
        else if (id.empty()) ++empty_answers;
        else arrivals.emplace_back(id, t1);
      }
      cv.notify_all();
      if (e || r.status != 200) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // no busy loop against a failing server
        continue;
      }
      if (handle.empty()) continue;
      Response d;
      auto de = c.exchange(sqs_request(o.port, "DeleteMessage",
                                       json{{"QueueUrl", o.queue_url}, {"ReceiptHandle", handle}}.dump()),
                           d);
      std::lock_guard lk(mu);
      if (de) fail("DeleteMessage: " + *de);
      else if (d.status != 200) fail("DeleteMessage: HTTP " + std::to_string(d.status) + ": " + d.body.substr(0, 300));
      else ++deleted;
    }
  };
  for (int i = 0; i < o.receivers; ++i) std::thread(receiver).detach();  // ended by the process's exit

  Connection sender(o.port, o.timeout_s);
  Response r;
  std::vector<double> latency_us;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  bool hit_deadline = false;
  for (long long round = 0; round < rounds; ++round) {
    if (Clock::now() >= deadline) {
      hit_deadline = true;
      break;
    }
    {
      std::unique_lock lk(mu);
      if (!cv.wait_for(lk, wait_limit, [&] { return armed == o.receivers; })) {
        fail("the receivers did not all wait again within --timeout");
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(o.settle_ms));  // their requests reach the server
    auto t0 = Clock::now();
    auto e = sender.exchange(send_request, r);
    std::string id;
    if (!e && r.status == 200) {
      try {
        id = json::parse(r.body).at("MessageId").get<std::string>();
      } catch (const std::exception& ex) {
        e = std::string("SendMessage answer is not what SQS sends: ") + ex.what();
      }
    }
    std::unique_lock lk(mu);
    if (e || r.status != 200) {
      fail(e ? "SendMessage: " + *e : "SendMessage: HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300));
      if (errors > 10) break;
      continue;
    }
    Clock::time_point t1{};
    bool got = cv.wait_for(lk, wait_limit, [&] {
      for (auto& [mid, t] : arrivals)
        if (mid == id) {
          t1 = t;
          return true;
        }
      return false;
    });
    arrivals.clear();
    if (!got) {
      fail("message " + id + " did not reach a waiting receiver within --timeout");
      if (errors > 10) break;
      continue;
    }
    latency_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::lock_guard lk(mu);
  double mx = latency_us.empty() ? -1 : *std::max_element(latency_us.begin(), latency_us.end());
  json out{{"mode", o.mode},
           {"receivers", o.receivers},
           {"settle_ms", o.settle_ms},
           {"elapsed_s", elapsed},
           {"rounds", rounds},
           {"messages", static_cast<long long>(latency_us.size())},
           {"deleted", deleted},
           {"empty_receives", empty_answers},
           {"errors", errors},
           {"first_error", first_error},
           {"hit_deadline", hit_deadline},
           {"p50_us", percentile(latency_us, 50)},
           {"p90_us", percentile(latency_us, 90)},
           {"p99_us", percentile(latency_us, 99)},
           {"max_us", mx}};
  std::printf("%s\n", out.dump().c_str());
  std::fflush(stdout);
  std::_Exit(errors ? 1 : 0);  // the receivers are still blocked in their long polls
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const std::string body = message_body(o.body_bytes);
  if (o.mode == "longpoll") return run_longpoll(o, body);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  std::atomic<long long> claimed{0};  // fill/send: messages claimed; drain: messages deleted
  std::atomic<int> fatal{0};          // stop everyone after repeated errors
  std::atomic<bool> hit_deadline{false};
  Totals totals;

  // The request bodies that never change.
  std::string send_request;
  std::string batch_request;
  if (o.mode == "send") {
    send_request = sqs_request(o.port, "SendMessage", json{{"QueueUrl", o.queue_url}, {"MessageBody", body}}.dump());
  } else if (o.mode == "fill") {
    json entries = json::array();
    for (int i = 0; i < 10; ++i) entries.push_back({{"Id", "m" + std::to_string(i)}, {"MessageBody", body}});
    batch_request = sqs_request(o.port, "SendMessageBatch", json{{"QueueUrl", o.queue_url}, {"Entries", entries}}.dump());
  }
  const std::string receive_request = sqs_request(
      o.port, "ReceiveMessage", json{{"QueueUrl", o.queue_url}, {"MaxNumberOfMessages", 10}, {"WaitTimeSeconds", 0}}.dump());

  auto worker = [&]() {
    Local l;
    Connection c(o.port, o.timeout_s);
    Response r;
    auto timed = [&](const std::string& request, std::vector<double>& into) -> bool {
      auto t0 = Clock::now();
      auto e = c.exchange(request, r);
      auto us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      ++l.requests;
      if (e) {
        l.fail(*e);
        if (l.errors > 100) fatal = 1;
        return false;
      }
      into.push_back(us);
      if (r.status < 200 || r.status > 299) {
        ++l.non2xx;
        l.fail("HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300));
        if (l.non2xx > 100) fatal = 1;
        return false;
      }
      return true;
    };
    bool finished = false;  // stopped by its own condition, not by the deadline
    while (!fatal && Clock::now() < deadline) {
      if (o.mode == "send") {
        if (o.messages && claimed.fetch_add(1) >= o.messages) {
          finished = true;
          break;
        }
        if (timed(send_request, l.latency_us)) ++l.messages;
      } else if (o.mode == "fill") {
        long long first = claimed.fetch_add(10);
        if (first >= o.messages) {
          finished = true;
          break;
        }
        if (!timed(batch_request, l.latency_us)) continue;
        try {
          json doc = json::parse(r.body);
          l.messages += static_cast<long long>(doc.value("Successful", json::array()).size());
          l.failed_entries += static_cast<long long>(doc.value("Failed", json::array()).size());
        } catch (const std::exception& ex) {
          l.fail(std::string("SendMessageBatch answer is not JSON: ") + ex.what());
        }
      } else {  // drain
        if (o.messages && claimed.load() >= o.messages) {
          finished = true;
          break;
        }
        if (!timed(receive_request, l.latency_us)) continue;
        json entries = json::array();
        try {
          json doc = json::parse(r.body);
          if (auto it = doc.find("Messages"); it != doc.end() && it->is_array())
            for (const json& m : *it)
              entries.push_back({{"Id", "d" + std::to_string(entries.size())}, {"ReceiptHandle", m.at("ReceiptHandle")}});
        } catch (const std::exception& ex) {
          l.fail(std::string("ReceiveMessage answer is not what SQS sends: ") + ex.what());
          continue;
        }
        if (entries.empty()) {
          ++l.empty_receives;
          finished = true;
          break;  // nothing visible is left
        }
        l.received += static_cast<long long>(entries.size());
        std::string del = sqs_request(o.port, "DeleteMessageBatch", json{{"QueueUrl", o.queue_url}, {"Entries", entries}}.dump());
        if (!timed(del, l.delete_latency_us)) continue;
        try {
          json doc = json::parse(r.body);
          auto ok = static_cast<long long>(doc.value("Successful", json::array()).size());
          l.messages += ok;
          claimed.fetch_add(ok);
          l.failed_entries += static_cast<long long>(doc.value("Failed", json::array()).size());
        } catch (const std::exception& ex) {
          l.fail(std::string("DeleteMessageBatch answer is not JSON: ") + ex.what());
        }
      }
    }
    auto done = Clock::now();
    if (!finished && !fatal) hit_deadline = true;
    std::lock_guard lock(totals.mutex);
    totals.requests += l.requests;
    totals.messages += l.messages;
    totals.received += l.received;
    totals.empty_receives += l.empty_receives;
    totals.non2xx += l.non2xx;
    totals.failed_entries += l.failed_entries;
    totals.errors += l.errors;
    if (totals.first_error.empty()) totals.first_error = l.first_error;
    totals.latency_us.insert(totals.latency_us.end(), l.latency_us.begin(), l.latency_us.end());
    totals.delete_latency_us.insert(totals.delete_latency_us.end(), l.delete_latency_us.begin(),
                                    l.delete_latency_us.end());
    totals.last_done = std::max(totals.last_done, done);
  };

  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(o.connections));
  for (int i = 0; i < o.connections; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  double elapsed = std::chrono::duration<double>(totals.last_done - start).count();
  json out{{"mode", o.mode},
           {"connections", o.connections},
           {"elapsed_s", elapsed},
           {"requests", totals.requests},
           {"messages", totals.messages},
           {"messages_per_s", elapsed > 0 ? static_cast<double>(totals.messages) / elapsed : 0.0},
           {"requests_per_s", elapsed > 0 ? static_cast<double>(totals.requests) / elapsed : 0.0},
           {"received", totals.received},
           {"empty_receives", totals.empty_receives},
           {"non2xx", totals.non2xx},
           {"failed_entries", totals.failed_entries},
           {"errors", totals.errors},
           {"first_error", totals.first_error},
           {"hit_deadline", hit_deadline.load()},
           {"aborted_after_errors", fatal.load() != 0},
           {"p50_us", percentile(totals.latency_us, 50)},
           {"p99_us", percentile(totals.latency_us, 99)},
           {"delete_p50_us", percentile(totals.delete_latency_us, 50)},
           {"delete_p99_us", percentile(totals.delete_latency_us, 99)}};
  std::printf("%s\n", out.dump().c_str());
  return totals.errors ? 1 : 0;
}
