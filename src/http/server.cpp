#include "http/server.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/log.hpp"

namespace stratus::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t kBodyChunk = 64 * 1024;
// Initial capacity of a connection's read buffer. Beast reads at most the free capacity (512 bytes when
// there is none), so a small buffer took a typical 1.5 KB AWS request (signed headers + a 1 KiB body) in
// three recv calls; with room for it up front one call takes all of it.
constexpr std::size_t kReadBufferReserve = 16 * 1024;
}

class Session;

struct Server::Impl {
  // Declared before `ios` so they outlive it: destroying an io_context destroys pending handlers,
  // which may hold the last reference to a Session whose destructor updates these counters.
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> bad_requests{0};
  std::mutex idle_mutex;
  std::condition_variable idle_cv;
  std::mutex sessions_mutex;
  std::list<std::weak_ptr<Session>> sessions;

  ServerOptions options;
  Handler& handler;
  // One io_context per I/O thread, each run by exactly that thread. A connection lives on one of them
  // (round robin at accept) for its whole life, so its handlers never run concurrently and need no strand,
  // and the threads share no scheduler queue: with one shared io_context, every completion woke the other
  // thread through the scheduler's lock and a futex, which cost more than the request itself under load.
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::atomic<std::size_t> next_io{0};
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  std::uint16_t bound_port = 0;

  Impl(ServerOptions o, Handler& h)
      : options(std::move(o)), handler(h), ios(make_contexts(options.threads)), acceptor(*ios.front()) {}

  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(unsigned threads) {
    unsigned n = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    for (unsigned i = 0; i < n; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
    return contexts;
  }
  // The next I/O context in turn, for a new connection or a posted task.
  asio::io_context& pick_io() { return *ios[next_io.fetch_add(1, std::memory_order_relaxed) % ios.size()]; }

  void do_accept();
  void request_finished() {
    if (--in_flight == 0) {
      std::lock_guard lock(idle_mutex);
      idle_cv.notify_all();
    }
  }
};

// One connection. All its handlers run on its I/O thread (its socket's io_context); the user handler's
// Respond callback may come from any thread and is re-dispatched onto that io_context.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  ~Session() { --server_.connections_open; }

  void start() {
    beast::error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ip_ = remote.address().to_string();
    local_port_ = stream_.socket().local_endpoint(ec).port();
    stream_.socket().set_option(tcp::no_delay(true), ec);
    buffer_.reserve(kReadBufferReserve);
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_head(); });
  }

  // Closes the connection if it is waiting for a request (used at shutdown); a busy connection closes
  // after writing its response because `stopping` is set.
  // Closes the socket from outside its I/O thread; only when no I/O thread runs (end of Server::shutdown).
  void close_now() { close(); }

  void stop_if_idle() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->close();
    });
  }

 private:
  void read_head() {
    if (server_.stopping) return close();
    parser_.emplace();
    parser_->header_limit(server_.options.header_limit);
    // The body limit is enforced by hand against the plan, chunked or not. (Not boost::none: Beast 1.74
    // compares a Content-Length against an empty optional as "greater", and rejects every body.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    // A connection that already holds bytes of the next request gets the header timeout; one that waits
    // for a new request gets the idle timeout (which also covers receiving the head).
    bool first = requests_on_connection_ == 0;
    auto timeout = first || buffer_.size() > 0 ? server_.options.header_timeout : server_.options.idle_timeout;
    stream_.expires_after(timeout);
    busy_ = false;
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_head(ec); });
  }

  void on_head(beast::error_code ec) {
    if (ec) {
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
          ec == asio::error::connection_reset || ec == asio::error::eof) {
        return close();
      }
      ++server_.bad_requests;
      if (ec == bhttp::error::header_limit) return send_plain_and_close(431, "Request header fields too large");
      return send_plain_and_close(400, std::string("Bad Request: ") + ec.message());
    }
    busy_ = true;
    ++requests_on_connection_;
    ++server_.requests;
    ++server_.in_flight;
    counted_in_flight_ = true;

    auto& head = parser_->get();
    request_ = Request{};
    request_.method = std::string(head.method_string());
    request_.target = std::string(head.target());
    auto qpos = request_.target.find('?');
    request_.path = request_.target.substr(0, qpos);
    request_.query = qpos == std::string::npos ? std::string() : request_.target.substr(qpos + 1);
    request_.version = head.version();
    for (const auto& field : head) {
      request_.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    request_.remote_ip = remote_ip_;
    request_.local_port = local_port_;
    keep_alive_ = head.keep_alive();
    head_request_ = head.method() == bhttp::verb::head;

    plan_ = server_.handler.plan_body(request_);
    request_.sink = plan_.sink;
    request_.context = std::move(plan_.context);
    auto length = parser_->content_length();
    if (length && *length > plan_.limit) {
      ++server_.bad_requests;
      keep_alive_ = false;
      return write_response(server_.handler.body_too_large(request_));
    }
    if (parser_->is_done()) return dispatch_request();
    if (request_.version >= 11 && Headers::iequals(request_.headers.get("Expect"), "100-continue")) {
      continue_response_.emplace(bhttp::status::continue_, request_.version);
      return bhttp::async_write(stream_, *continue_response_,
                                [self = shared_from_this()](beast::error_code wec, std::size_t) {
                                  self->continue_response_.reset();
                                  if (wec) return self->abort_request();
                                  self->read_body();
                                });
    }
    read_body();
  }

  void read_body() {
    if (body_buffer_.size() < kBodyChunk) body_buffer_.resize(kBodyChunk);
    parser_->get().body().data = body_buffer_.data();
    parser_->get().body().size = body_buffer_.size();
    if (buffer_.size() > 0) {
      // Body bytes that arrived with the head (a small request is one recv) are parsed here and now:
      // async_read_some would parse them too, but would complete through a post to the io_context, which
      // costs a scheduler round trip (and often a wake-up of the other I/O thread) per request.
      beast::error_code ec;
      std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
      if (used > 0 || ec) return on_body(ec);  // on_body comes back here while the body is incomplete
    }
    stream_.expires_after(server_.options.body_timeout);
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec == bhttp::error::need_buffer) ec = {};
    std::size_t got = body_buffer_.size() - parser_->get().body().size;
    if (got > 0) {
      body_bytes_ += got;
      if (body_bytes_ > plan_.limit) {
        ++server_.bad_requests;
        if (request_.sink) request_.sink->on_abort();
        keep_alive_ = false;
        request_.body.clear();
        return write_response(server_.handler.body_too_large(request_));
      }
      if (request_.sink) {
        request_.sink->on_data(std::string_view(body_buffer_.data(), got));
      } else {
        request_.body.append(body_buffer_.data(), got);
      }
    }
    if (ec) {
      if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
          ec == bhttp::error::partial_message || ec == asio::error::connection_reset ||
          ec == asio::error::operation_aborted) {
        return abort_request();
      }
      ++server_.bad_requests;
      if (request_.sink) request_.sink->on_abort();
      request_.sink.reset();
      keep_alive_ = false;
      Response bad;
      bad.status = 400;
      bad.headers.add("Content-Type", "text/plain");
      bad.body = "Bad Request: " + ec.message() + "\n";
      return write_response(std::move(bad));
    }
    if (!parser_->is_done()) return read_body();
    dispatch_request();
  }

  void dispatch_request() {
    body_bytes_ = 0;
    if (request_.sink) request_.sink->on_end();
    stream_.expires_never();  // the handler may take its time (long polls); the response is written later
    auto self = shared_from_this();
    Respond respond = [self](Response response) {
      asio::dispatch(self->stream_.get_executor(),
                     [self, response = std::move(response)]() mutable { self->write_response(std::move(response)); });
    };
    server_.handler.handle(std::move(request_), std::move(respond));
  }

  void write_response(Response response) {
    if (write_plain_response(response)) return;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(request_.version >= 11 ? 11 : 10);
    res->result(static_cast<unsigned>(response.status));
    for (const auto& field : response.headers.fields()) res->insert(field.name, field.value);
    bool keep = keep_alive_ && !response.close && !server_.stopping;
    bool no_body_status = response.status == 204 || response.status == 304 || response.status < 200;
    if (head_request_) {
      if (!no_body_status && !response.headers.contains("Content-Length")) res->content_length(response.body.size());
    } else if (!no_body_status) {
      res->body() = std::move(response.body);
      res->prepare_payload();
    }
    res->keep_alive(keep);
    keep_alive_ = keep;
    stream_.expires_after(server_.options.body_timeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      self->on_written(ec);
    });
  }

  // The common answer (a body, no HEAD, none of the headers Beast rewrites) serialized by hand into one
  // string and written with the body in one gather write: the same bytes Beast writes, without building
  // its field container, serializer and composed operations per response. False: use the general path.
  bool write_plain_response(Response& response) {
    int status = response.status;
    if (head_request_ || status < 200 || status == 204 || status == 304 || status > 999) return false;
    for (const auto& field : response.headers.fields()) {
      if (Headers::iequals(field.name, "Content-Length") || Headers::iequals(field.name, "Connection") ||
          Headers::iequals(field.name, "Transfer-Encoding"))
        return false;
    }
    bool keep = keep_alive_ && !response.close && !server_.stopping;
    bool http11 = request_.version >= 11;
    std::string& head = out_head_;
    head.clear();
    head += http11 ? "HTTP/1.1 " : "HTTP/1.0 ";
    head += std::to_string(status);
    head += ' ';
    auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    head.append(reason.data(), reason.size());
    head += "\r\n";
    for (const auto& field : response.headers.fields()) {
      head += field.name;
      head += ": ";
      head += field.value;
      head += "\r\n";
    }
    head += "Content-Length: ";
    head += std::to_string(response.body.size());
    head += "\r\n";
    if (http11 && !keep) head += "Connection: close\r\n";
    if (!http11 && keep) head += "Connection: keep-alive\r\n";
    head += "\r\n";
    out_body_ = std::move(response.body);
    keep_alive_ = keep;
    stream_.expires_after(server_.options.body_timeout);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_head_), asio::buffer(out_body_)};
    asio::async_write(stream_, buffers, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->out_body_.clear();
      self->on_written(ec);
    });
    return true;
  }

  void on_written(beast::error_code ec) {
    if (counted_in_flight_) {
      counted_in_flight_ = false;
      server_.request_finished();
    }
    if (ec || !keep_alive_) return close();
    read_head();
  }

  void abort_request() {
    if (request_.sink) request_.sink->on_abort();
    request_.sink.reset();
    if (counted_in_flight_) {
      counted_in_flight_ = false;
      server_.request_finished();
    }
    close();
  }

  void send_plain_and_close(int status, std::string message) {
    keep_alive_ = false;
    Response response;
    response.status = status;
    response.headers.add("Content-Type", "text/plain");
    response.body = std::move(message) + "\n";
    response.close = true;
    if (request_.version == 0) request_.version = 11;
    write_response(std::move(response));
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_response_;
  std::string out_head_;  // write_plain_response: the head and body being written
  std::string out_body_;
  std::vector<char> body_buffer_;
  Request request_;
  BodyPlan plan_;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t requests_on_connection_ = 0;
  std::string remote_ip_;
  std::uint16_t local_port_ = 0;
  bool keep_alive_ = true;
  bool head_request_ = false;
  bool busy_ = false;
  bool closed_ = false;
  bool counted_in_flight_ = false;
};

void Server::Impl::do_accept() {
  acceptor.async_accept(pick_io(), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      log::warn("http", "accept failed: {}", ec.message());
    } else {
      ++connections_accepted;
      ++connections_open;
      auto session = std::make_shared<Session>(std::move(socket), *this);
      {
        std::lock_guard lock(sessions_mutex);
        // Drop entries of closed sessions now and then so the list stays as long as the open connections.
        if (sessions.size() > 64 && sessions.size() > 2 * connections_open) {
          sessions.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
        }
        sessions.push_back(session);
      }
      session->start();
    }
    do_accept();
  });
}

Server::Server(ServerOptions options, Handler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

Server::~Server() { shutdown(std::chrono::milliseconds(0)); }

bool Server::listen(std::string& error) {
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) {
    error = "invalid host address '" + impl_->options.host + "': " + ec.message();
    return false;
  }
  tcp::endpoint endpoint(address, impl_->options.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port) + ": " +
            ec.message();
    return false;
  }
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  return true;
}

std::uint16_t Server::port() const { return impl_->bound_port; }

void Server::start() {
  for (auto& io : impl_->ios) impl_->work.push_back(asio::make_work_guard(*io));
  impl_->do_accept();
  for (auto& io : impl_->ios) impl_->threads.emplace_back([context = io.get()] { context->run(); });
}

void Server::shutdown(std::chrono::milliseconds grace) {
  if (impl_->stopped.exchange(true)) return;
  impl_->stopping = true;
  asio::post(*impl_->ios.front(), [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  {
    std::lock_guard lock(impl_->sessions_mutex);
    for (auto& weak : impl_->sessions) {
      if (auto session = weak.lock()) session->stop_if_idle();
    }
  }
  {
    std::unique_lock lock(impl_->idle_mutex);
    impl_->idle_cv.wait_for(lock, grace, [this] { return impl_->in_flight.load() == 0; });
  }
  impl_->work.clear();
  for (auto& io : impl_->ios) io->stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  // The I/O threads are gone, so no handler runs concurrently: close what is still open (connections whose
  // close was queued but not run, requests still unanswered after the grace period).
  std::lock_guard lock(impl_->sessions_mutex);
  for (auto& weak : impl_->sessions) {
    if (auto session = weak.lock()) session->close_now();
  }
  impl_->sessions.clear();
}

void Server::post(std::function<void()> task) { asio::post(impl_->pick_io(), std::move(task)); }

ServerStats Server::stats() const {
  ServerStats s;
  s.connections_accepted = impl_->connections_accepted;
  s.connections_open = impl_->connections_open;
  s.requests = impl_->requests;
  s.in_flight = impl_->in_flight;
  s.bad_requests = impl_->bad_requests;
  return s;
}

}  // namespace stratus::http
