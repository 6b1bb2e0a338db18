#pragma once
// A small blocking client for AWS JSON-protocol calls from inside a Stratus function, back to the daemon
// that runs it (AWS_ENDPOINT_URL). Header-only; needs POSIX sockets and nlohmann/json, nothing else.
//
//   #include <stratus/aws_client.hpp>
//   static stratus::aws::Client aws;           // one per instance: the connection stays open between
//                                              // warm invocations
//   nlohmann::json out = aws.call("sqs", "AmazonSQS.SendMessage",
//                                 {{"QueueUrl", url}, {"MessageBody", "hello"}});
//   out["MessageId"] ...
//
// What it does: POST / with `X-Amz-Target: <target>` and `Content-Type: application/x-amz-json-1.0` (or
// 1.1), the JSON input as body, over HTTP/1.1 with keep-alive; answers the parsed JSON output. Services
// that speak a JSON protocol: SQS (AmazonSQS.*), DynamoDB (DynamoDB_20120810.*), EventBridge
// (AWSEvents.*, JSON 1.1), Step Functions, CloudWatch Logs (1.1). REST services (Lambda, S3, API Gateway)
// are not covered.
//
// Contract:
//  - The endpoint is AWS_ENDPOINT_URL (`http://HOST:PORT`, as Stratus gives every function); plain HTTP
//    only. The region is AWS_REGION (else AWS_DEFAULT_REGION, else us-east-1).
//  - Requests are NOT signed. They carry a SigV4-shaped Authorization header whose credential scope
//    (AWS_ACCESS_KEY_ID/date/region/service/aws4_request) tells Stratus the region and service; Stratus
//    does not verify signatures. This client is for talking to Stratus, not to AWS.
//  - One connection, reused across calls (HTTP keep-alive). If the server closed it while idle, the next
//    call reconnects; a call that fails on a reused connection before any byte of the answer arrived is
//    sent once more on a new connection (the server closed it without reading the request).
//  - Failures throw stratus::aws::Error: `status()` is the HTTP status (0 when there was no answer: bad
//    endpoint, connection refused, timeout, malformed response), `code()` the AWS error code (from
//    `__type` after '#', or for SQS the legacy code in x-amzn-query-error, e.g.
//    "AWS.SimpleQueueService.NonExistentQueue"), and what() a readable one-liner that names the call.
//  - Not thread-safe: one Client per thread. A Stratus instance runs one invocation at a time, so a
//    static Client in the function is the intended use.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace stratus::aws {

// A failed call: see the contract above.
class Error : public std::runtime_error {
 public:
  Error(int status, std::string code, std::string message, const std::string& what)
      : std::runtime_error(what), status_(status), code_(std::move(code)), message_(std::move(message)) {}
  int status() const { return status_; }                     // 0: no HTTP answer
  const std::string& code() const { return code_; }          // AWS error code, or "NetworkError"
  const std::string& message() const { return message_; }    // the service's message

 private:
  int status_;
  std::string code_, message_;
};

namespace detail {

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : std::string(fallback);
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  return out;
}

struct HttpResponse {
  int status = 0;
  std::string headers_lower;  // "name: value\r\n" lines, names lower-cased
  std::string body;
  bool close = false;  // the server said Connection: close (or HTTP/1.0 without keep-alive)

  std::string header(std::string_view name) const {
    std::string key = lower(name) + ":";
    std::size_t pos = 0;
    while (pos < headers_lower.size()) {
      std::size_t end = headers_lower.find("\r\n", pos);
      if (end == std::string::npos) end = headers_lower.size();
      std::string_view line(headers_lower.data() + pos, end - pos);
      if (line.substr(0, key.size()) == key) {
        std::string_view v = line.substr(key.size());
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        return std::string(v);
      }
      pos = end + 2;
    }
    return {};
  }
};

// Why a request failed without an HTTP answer. `retryable`: nothing of an answer arrived on a connection
// that had served requests before (the server closed it while idle).
struct TransportError {
  std::string what;
  bool retryable = false;
};

}  // namespace detail

class Client {
 public:
  // `endpoint`: "http://HOST:PORT" (default: AWS_ENDPOINT_URL); `region` (default: AWS_REGION).
  // `timeout_ms` bounds the connect and each wait for the server (default 10 s).
  explicit Client(std::string endpoint = detail::env_or("AWS_ENDPOINT_URL", ""),
                  std::string region = detail::env_or("AWS_REGION", detail::env_or("AWS_DEFAULT_REGION", "us-east-1").c_str()),
                  int timeout_ms = 10000)
      : endpoint_(std::move(endpoint)), region_(std::move(region)), timeout_ms_(timeout_ms) {}
  ~Client() { disconnect(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Calls `target` ("AmazonSQS.SendMessage") of `service` (the signing name: "sqs", "dynamodb", "events")
  // with `input`; answers the output document ({} when the body is empty). `json_version` "1.0" or "1.1"
  // (EventBridge and CloudWatch Logs use 1.1). Throws stratus::aws::Error.
  nlohmann::json call(std::string_view service, std::string_view target, const nlohmann::json& input,
                      std::string_view json_version = "1.0") {
    std::string where = std::string(target);
    parse_endpoint(where);
    std::string body = input.is_null() ? std::string("{}") : input.dump();
    std::string request = build_request(service, target, json_version, body);
    detail::HttpResponse resp;
    for (int attempt = 0;; ++attempt) {
      detail::TransportError err;
      if (exchange(request, resp, err)) break;
      disconnect();
      if (!err.retryable || attempt > 0)
        throw Error(0, "NetworkError", err.what, where + ": " + err.what + " (endpoint " + endpoint_ + ")");
    }
    if (resp.close) disconnect();
    nlohmann::json out = resp.body.empty() ? nlohmann::json::object()
                                           : nlohmann::json::parse(resp.body, nullptr, false);
    if (resp.status >= 200 && resp.status < 300) {
      if (out.is_discarded())
        throw Error(resp.status, "MalformedResponse", "the answer is not JSON",
                    where + ": HTTP " + std::to_string(resp.status) + " with a body that is not JSON");
      return out;
    }
    std::string code, message;
    if (out.is_object()) {
      code = out.value("__type", std::string());
      if (auto hash = code.rfind('#'); hash != std::string::npos) code = code.substr(hash + 1);
      message = out.value("message", out.value("Message", std::string()));
    }
    // SQS over JSON names its legacy code ("AWS.SimpleQueueService.NonExistentQueue;Sender") here.
    std::string legacy = resp.header("x-amzn-query-error");
    if (!legacy.empty()) code = legacy.substr(0, legacy.find(';'));
    if (code.empty()) code = resp.header("x-amzn-errortype").substr(0, resp.header("x-amzn-errortype").find(':'));
    if (code.empty()) code = "HTTP" + std::to_string(resp.status);
    if (message.empty() && out.is_discarded()) message = resp.body.substr(0, 200);
    throw Error(resp.status, code, message,
                where + ": " + code + " (HTTP " + std::to_string(resp.status) + "): " + message);
  }

  // How many TCP connections this client opened (1 while keep-alive holds).
  int connections_opened() const { return connects_; }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& region() const { return region_; }

 private:
  void parse_endpoint(const std::string& where) {
    if (!host_.empty()) return;
    std::string_view url = endpoint_;
    auto bad = [&](const std::string& why) {
      return Error(0, "InvalidEndpoint", why,
                   where + ": AWS_ENDPOINT_URL '" + endpoint_ + "' " + why + " (want http://HOST:PORT)");
    };
    if (url.empty()) throw bad("is not set");
    if (url.substr(0, 7) != "http://") throw bad("is not an http:// URL");
    url.remove_prefix(7);
    url = url.substr(0, url.find('/'));
    std::string_view host = url, port = "80";
    if (!url.empty() && url.front() == '[') {  // [::1]:4566
      auto close = url.find(']');
      if (close == std::string_view::npos) throw bad("has a malformed IPv6 host");
      host = url.substr(1, close - 1);
      if (close + 1 < url.size()) {
        if (url[close + 1] != ':') throw bad("has a malformed port");
        port = url.substr(close + 2);
      }
    } else if (auto colon = url.rfind(':'); colon != std::string_view::npos) {
      host = url.substr(0, colon);
      port = url.substr(colon + 1);
    }
    if (host.empty()) throw bad("has no host");
    if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) throw bad("has a malformed port");
    host_ = std::string(host);
    port_ = std::string(port);
    host_header_ = std::string(url);
  }

  std::string build_request(std::string_view service, std::string_view target, std::string_view json_version,
                            const std::string& body) const {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char amz_date[32], date[16];
    std::strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
    std::strftime(date, sizeof date, "%Y%m%d", &tm);
    std::string access_key = detail::env_or("AWS_ACCESS_KEY_ID", "test");
    std::string r;
    r.reserve(512 + body.size());
    r += "POST / HTTP/1.1\r\nHost: ";
    r += host_header_;
    r += "\r\nContent-Type: application/x-amz-json-";
    r += json_version;
    r += "\r\nX-Amz-Target: ";
    r += target;
    r += "\r\nX-Amz-Date: ";
    r += amz_date;
    // Unsigned (see the contract): the credential scope is what Stratus reads.
    r += "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=" + access_key + "/" + date + "/" + region_ + "/" +
         std::string(service) + "/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" +
         std::string(64, '0');
    if (service == "sqs") r += "\r\nx-amzn-query-mode: true";  // as botocore sends it: legacy error codes
    r += "\r\nUser-Agent: stratus-aws-client/1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    r += body;
    return r;
  }

  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    served_ = 0;
    buf_.clear();
  }

  // True when the idle connection was closed by the server (EOF or an error is pending on it).
  bool peer_closed() const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return true;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n <= 0;  // EOF, or an error; unsolicited bytes are not expected either
  }

  bool connect_now(detail::TransportError& err) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host_.c_str(), port_.c_str(), &hints, &res);
    if (rc != 0) {
      err.what = "cannot resolve " + host_ + ": " + gai_strerror(rc);
      return false;
    }
    std::string last = "no address";
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
      if (fd < 0) {
        last = std::strerror(errno);
        continue;
      }
      int r = ::connect(fd, a->ai_addr, a->ai_addrlen);
      if (r != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        r = ::poll(&p, 1, timeout_ms_);
        if (r == 0) {
          ::close(fd);
          last = "connect timed out after " + std::to_string(timeout_ms_) + " ms";
          continue;
        }
        int so = 0;
        socklen_t len = sizeof so;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len);
        r = so == 0 ? 0 : -1;
        errno = so;
      }
      if (r != 0) {
        last = std::strerror(errno);
        ::close(fd);
        continue;
      }
      int flags = ::fcntl(fd, F_GETFL);
      ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      fd_ = fd;
      ++connects_;
      ::freeaddrinfo(res);
      return true;
    }
    ::freeaddrinfo(res);
    err.what = "cannot connect to " + host_ + ":" + port_ + ": " + last;
    return false;
  }

  // Reads more bytes into buf_; false (with err) on EOF, error or timeout.
  bool fill(detail::TransportError& err, bool nothing_yet) {
    char chunk[16384];
    ssize_t n;
    do n = ::recv(fd_, chunk, sizeof chunk, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
      buf_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    bool reused = served_ > 0;
    if (n == 0) {
      err.what = "the server closed the connection before answering";
      err.retryable = reused && nothing_yet;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      err.what = "no answer within " + std::to_string(timeout_ms_) + " ms";
    } else {
      err.what = std::string("receive failed: ") + std::strerror(errno);
      err.retryable = reused && nothing_yet && (errno == ECONNRESET);
    }
    return false;
  }

  // Sends `request` and reads one response on the (possibly new) connection.
  bool exchange(const std::string& request, detail::HttpResponse& resp, detail::TransportError& err) {
    if (fd_ >= 0 && peer_closed()) disconnect();
    if (fd_ < 0 && !connect_now(err)) return false;
    std::size_t sent = 0;
    while (sent < request.size()) {
      ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        err.what = std::string("send failed: ") + std::strerror(errno);
        err.retryable = served_ > 0 && (errno == EPIPE || errno == ECONNRESET);
        return false;
      }
      sent += static_cast<std::size_t>(n);
    }
    // Head.
    std::size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (buf_.size() > 64 * 1024) {
        err.what = "response head larger than 64 KiB";
        return false;
      }
      if (!fill(err, buf_.empty())) return false;
    }
    std::string head = buf_.substr(0, head_end);
    buf_.erase(0, head_end + 4);
    auto line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) {
      err.what = "malformed status line '" + status_line.substr(0, 80) + "'";
      return false;
    }
    resp = detail::HttpResponse{};
    resp.status = std::atoi(status_line.c_str() + 9);
    resp.headers_lower = line_end == std::string::npos ? std::string() : head.substr(line_end + 2) + "\r\n";
    // Lower-case the names only.
    for (std::size_t pos = 0; pos < resp.headers_lower.size();) {
      std::size_t colon = resp.headers_lower.find(':', pos), end = resp.headers_lower.find("\r\n", pos);
      for (std::size_t i = pos; i < std::min(colon, end); ++i) {
        char& c = resp.headers_lower[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      pos = end + 2;
    }
    std::string connection = detail::lower(resp.header("connection"));
    bool http10 = status_line.compare(0, 8, "HTTP/1.0") == 0;
    resp.close = connection == "close" || (http10 && connection != "keep-alive");
    // Body: Content-Length, chunked, or up to EOF.
    std::string te = detail::lower(resp.header("transfer-encoding"));
    std::string cl = resp.header("content-length");
    if (te.find("chunked") != std::string::npos) {
      for (;;) {
        std::size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos)
          if (!fill(err, false)) return false;
        std::size_t size = std::strtoul(buf_.c_str(), nullptr, 16);
        buf_.erase(0, eol + 2);
        if (size == 0) {  // trailers up to the empty line
          for (;;) {
            while ((eol = buf_.find("\r\n")) == std::string::npos)
              if (!fill(err, false)) return false;
            bool empty = eol == 0;
            buf_.erase(0, eol + 2);
            if (empty) break;
          }
          break;
        }
        while (buf_.size() < size + 2)
          if (!fill(err, false)) return false;
        resp.body.append(buf_, 0, size);
        buf_.erase(0, size + 2);
      }
    } else if (!cl.empty()) {
      std::size_t size = std::strtoul(cl.c_str(), nullptr, 10);
      while (buf_.size() < size)
        if (!fill(err, false)) return false;
      resp.body = buf_.substr(0, size);
      buf_.erase(0, size);
    } else if (resp.status != 204 && resp.status != 304) {
      detail::TransportError eof;
      while (fill(eof, false)) {
      }
      resp.body = std::move(buf_);
      buf_.clear();
      resp.close = true;
    }
    ++served_;
    return true;
  }

  std::string endpoint_, region_;
  int timeout_ms_;
  std::string host_, port_, host_header_;
  int fd_ = -1;
  int connects_ = 0;
  long served_ = 0;  // answers read on the current connection
  std::string buf_;
};

}  // namespace stratus::aws
