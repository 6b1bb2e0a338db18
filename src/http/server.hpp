#pragma once
// The HTTP/1.1 front end: an asynchronous Boost.Beast server on a thread pool. Beast and Asio types
// stay in server.cpp; callers see only http_types.hpp.
//
// Contract:
// - Keep-alive and pipelining: requests on one connection are answered in order; the next request is
//   parsed from the bytes already received once the previous response is written.
// - Limits: header size (header_limit, 431), body size per request from Handler::plan_body (413 and close),
//   header_timeout for a request head to arrive in full, idle_timeout for a keep-alive connection waiting for
//   its next request, body_timeout for the body to make progress. A slow or silent client is disconnected.
// - `Expect: 100-continue` is answered with `100 Continue` as soon as the head is accepted (or with 413 at once).
// - Chunked request bodies are decoded; a body is either buffered into Request::body or streamed to a BodySink.
// - HEAD responses carry the headers (with Content-Length) of the GET answer and no body. HTTP/1.0 is answered
//   and closed unless it asked for keep-alive.
// - Malformed HTTP gets 400 (431 for oversized heads) and the connection is closed.
// - No handler ever runs on the I/O path of another connection: handlers answer through Respond, from any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/http_types.hpp"

namespace stratus::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4566;  // 0 picks a free port
  unsigned threads = 0;       // 0: one per core
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::uint32_t header_limit = 64 * 1024;
};

struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t requests = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t bad_requests = 0;
};

class Server {
 public:
  Server(ServerOptions options, Handler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Returns false with `error` set (e.g. "address already in use") on failure.
  bool listen(std::string& error);
  // The bound port (useful with port 0). Valid after listen().
  std::uint16_t port() const;
  // Starts the I/O threads and accepting. Returns at once.
  void start();
  // Stops accepting, closes idle connections, lets in-flight requests finish and write their responses
  // (then closes those connections), waiting at most `grace`; then stops the threads. Idempotent.
  void shutdown(std::chrono::milliseconds grace);
  // Runs `task` on the server's thread pool (for work that must not block the caller).
  void post(std::function<void()> task);
  ServerStats stats() const;

  struct Impl;  // opaque; defined in server.cpp (where connections need it)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::http
