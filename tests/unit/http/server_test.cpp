// The HTTP front against raw sockets: framing, limits, timeouts and streaming, with an in-test handler.
#include "http/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace stratus::http {
namespace {

using namespace std::chrono_literals;

// Collects streamed bodies.
class RecordingSink : public BodySink {
 public:
  void on_data(std::string_view chunk) override {
    std::lock_guard lock(mutex);
    data.append(chunk);
    ++chunks;
  }
  void on_end() override { ended = true; }
  void on_abort() override { aborted = true; }
  std::mutex mutex;
  std::string data;
  int chunks = 0;
  std::atomic<bool> ended{false};
  std::atomic<bool> aborted{false};
};

// Echo handler: answers "<method> <target> <body-size>" as the body; /slow answers from another thread
// later; /stream streams the body into a sink; /small has a 16-byte limit.
class TestHandler : public Handler {
 public:
  BodyPlan plan_body(const Request& head) override {
    BodyPlan plan;
    if (head.path == "/small") plan.limit = 16;
    if (head.path == "/stream") {
      sink = std::make_shared<RecordingSink>();
      plan.sink = sink;
      plan.limit = 64ull * 1024 * 1024;
    }
    return plan;
  }
  void handle(Request request, Respond respond) override {
    ++handled;
    Response r;
    r.headers.add("Content-Type", "text/plain");
    std::size_t size = request.sink ? sink->data.size() : request.body.size();
    r.body = request.method + " " + request.target + " " + std::to_string(size);
    if (request.path == "/slow") {
      std::thread([respond, r]() mutable {
        std::this_thread::sleep_for(300ms);
        respond(std::move(r));
      }).detach();
      return;
    }
    respond(std::move(r));
  }
  std::shared_ptr<RecordingSink> sink;
  std::atomic<int> handled{0};
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void TearDown() override {
    if (server) server->shutdown(1s);
  }
  void start(ServerOptions options) {
    if (server) server->shutdown(1s);
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    server = std::make_unique<Server>(options, handler);
    std::string error;
    ASSERT_TRUE(server->listen(error)) << error;
    server->start();
  }

  int connect_client() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }
  static void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      ASSERT_GT(n, 0);
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Reads until `until` appears `count` times, the peer closes, or the timeout passes.
  static std::string read_until(int fd, std::string_view until, int count = 1, std::chrono::milliseconds timeout = 3s,
                                bool* closed = nullptr) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    if (closed) *closed = false;
    while (std::chrono::steady_clock::now() < deadline) {
      int found = 0;
      for (size_t pos = out.find(until); pos != std::string::npos; pos = out.find(until, pos + 1)) ++found;
      if (!until.empty() && found >= count) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[65536];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed) *closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  static bool peer_closed(int fd, std::chrono::milliseconds timeout) {
    bool closed = false;
    read_until(fd, "", 1, timeout, &closed);
    return closed;
  }

  TestHandler handler;
  std::unique_ptr<Server> server;
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  int fd = connect_client();
  for (int i = 0; i < 50; ++i) {
    send_all(fd, "GET /x?i=" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n");
    std::string r = read_until(fd, "GET /x?i=" + std::to_string(i) + " 0");
    ASSERT_NE(r.find("HTTP/1.1 200 OK"), std::string::npos) << r;
  }
  ::close(fd);
  EXPECT_EQ(server->stats().connections_accepted, 1u);
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrder) {
  int fd = connect_client();
  send_all(fd,
           "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
           "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
           "GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string r = read_until(fd, "HTTP/1.1 200", 3);
  auto a = r.find("GET /slow 0"), b = r.find("POST /b 3"), c = r.find("GET /c 0");
  ASSERT_NE(a, std::string::npos) << r;
  ASSERT_NE(b, std::string::npos) << r;
  ASSERT_NE(c, std::string::npos) << r;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  ::close(fd);
}

TEST_F(ServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  int fd = connect_client();
  send_all(fd, "PUT /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string interim = read_until(fd, "\r\n\r\n");
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(fd, "hello");
  EXPECT_NE(read_until(fd, "PUT /up 5").find("PUT /up 5"), std::string::npos);
  ::close(fd);
}

TEST_F(ServerTest, ExpectContinueWithTooLargeBodyGets413WithoutContinue) {
  int fd = connect_client();
  send_all(fd, "PUT /small HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\nExpect: 100-continue\r\n\r\n");
  bool closed = false;
  std::string r = read_until(fd, "", 1, 2s, &closed);
  EXPECT_EQ(r.find("100 Continue"), std::string::npos) << r;
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  EXPECT_TRUE(closed);
  ::close(fd);
}

TEST_F(ServerTest, ChunkedBodyIsDecoded) {
  int fd = connect_client();
  send_all(fd, "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_NE(read_until(fd, "POST /c 11").find("POST /c 11"), std::string::npos);
  ::close(fd);
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitGets413AndClose) {
  int fd = connect_client();
  send_all(fd, "POST /small HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n0\r\n\r\n");
  bool closed = false;
  std::string r = read_until(fd, "", 1, 2s, &closed);
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  EXPECT_TRUE(closed);
  ::close(fd);
}

TEST_F(ServerTest, StreamedBodyReachesTheSinkInPieces) {
  int fd = connect_client();
  std::string body(1024 * 1024 + 17, 'z');
  send_all(fd, "PUT /stream HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  send_all(fd, body);
  std::string r = read_until(fd, "PUT /stream " + std::to_string(body.size()));
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r.substr(0, 200);
  ASSERT_TRUE(handler.sink);
  EXPECT_TRUE(handler.sink->ended);
  EXPECT_FALSE(handler.sink->aborted);
  EXPECT_EQ(handler.sink->data, body);
  EXPECT_GT(handler.sink->chunks, 1);
  ::close(fd);
}

TEST_F(ServerTest, StreamedBodyCutShortAbortsTheSink) {
  int fd = connect_client();
  send_all(fd, "PUT /stream HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-part");
  std::this_thread::sleep_for(100ms);
  ::close(fd);
  for (int i = 0; i < 100 && !(handler.sink && handler.sink->aborted); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(handler.sink);
  EXPECT_TRUE(handler.sink->aborted);
  EXPECT_EQ(handler.handled, 0);
}

TEST_F(ServerTest, HeadHasContentLengthButNoBody) {
  int fd = connect_client();
  send_all(fd, "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string r = read_until(fd, "GET /after 0");
  auto first_end = r.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos);
  std::string head_response = r.substr(0, first_end);
  EXPECT_NE(head_response.find("Content-Length: 9"), std::string::npos) << r;  // as GET: "HEAD /h 0"
  // The next bytes after the HEAD response are the next response, not a body.
  EXPECT_EQ(r.compare(first_end + 4, 8, "HTTP/1.1"), 0) << r;
  ::close(fd);
}

TEST_F(ServerTest, Http10IsAnsweredAndClosed) {
  int fd = connect_client();
  send_all(fd, "GET /old HTTP/1.0\r\n\r\n");
  bool closed = false;
  std::string r = read_until(fd, "", 1, 2s, &closed);
  EXPECT_NE(r.find("HTTP/1.0 200"), std::string::npos) << r;
  EXPECT_NE(r.find("GET /old 0"), std::string::npos) << r;
  EXPECT_TRUE(closed);
  ::close(fd);
}

TEST_F(ServerTest, Http10KeepAliveStaysOpen) {
  int fd = connect_client();
  send_all(fd, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_NE(read_until(fd, "GET /a 0").find("GET /a 0"), std::string::npos);
  send_all(fd, "GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_NE(read_until(fd, "GET /b 0").find("GET /b 0"), std::string::npos);
  ::close(fd);
}

TEST_F(ServerTest, MalformedRequestGets400AndClose) {
  for (std::string bad : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"}) {
    int fd = connect_client();
    send_all(fd, bad);
    bool closed = false;
    std::string r = read_until(fd, "", 1, 2s, &closed);
    EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << bad << " -> " << r;
    EXPECT_TRUE(closed) << bad;
    ::close(fd);
  }
  EXPECT_EQ(server->stats().bad_requests, 4u);
}

TEST_F(ServerTest, OversizedHeadGets431) {
  int fd = connect_client();
  send_all(fd, "GET / HTTP/1.1\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n");
  bool closed = false;
  std::string r = read_until(fd, "", 1, 2s, &closed);
  EXPECT_NE(r.find("HTTP/1.1 431"), std::string::npos) << r.substr(0, 100);
  EXPECT_TRUE(closed);
  ::close(fd);
}

TEST_F(ServerTest, SilentClientIsDisconnectedByTheHeaderTimeout) {
  ServerOptions o;
  o.header_timeout = 200ms;
  start(o);
  int fd = connect_client();
  send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n");  // never finishes the head
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(peer_closed(fd, 3s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ::close(fd);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions o;
  o.idle_timeout = 200ms;
  start(o);
  int fd = connect_client();
  send_all(fd, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_NE(read_until(fd, "GET /a 0").find("GET /a 0"), std::string::npos);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(peer_closed(fd, 3s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ::close(fd);
}

TEST_F(ServerTest, ShutdownLetsInFlightRequestsFinish) {
  int fd = connect_client();
  send_all(fd, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  for (int i = 0; i < 100 && handler.handled == 0; ++i) std::this_thread::sleep_for(5ms);
  std::thread stopper([&] { server->shutdown(2s); });
  std::string r = read_until(fd, "GET /slow 0");
  stopper.join();
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  ::close(fd);
}

TEST_F(ServerTest, ShutdownClosesIdleConnectionsAndStopsAccepting) {
  int idle = connect_client();
  send_all(idle, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
  read_until(idle, "GET /a 0");
  auto t0 = std::chrono::steady_clock::now();
  server->shutdown(2s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_TRUE(peer_closed(idle, 1s));
  ::close(idle);
}

}  // namespace
}  // namespace stratus::http
