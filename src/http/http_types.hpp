#pragma once
// HTTP request/response as the rest of the daemon sees them. Deliberately free of Beast types:
// Beast stays inside src/http (server.cpp); protocol and services only see these structs.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stratus::http {

// Ordered header list with case-insensitive lookup. Keeps repeats (payload 1.0 multiValueHeaders needs them).
class Headers {
 public:
  struct Field {
    std::string name;
    std::string value;
  };

  void add(std::string name, std::string value) { fields_.push_back({std::move(name), std::move(value)}); }
  // Replaces every field with this name by one field.
  void set(std::string_view name, std::string value);
  // First value for `name`, if any.
  std::optional<std::string_view> find(std::string_view name) const;
  // Value or "" when absent.
  std::string_view get(std::string_view name) const { return find(name).value_or(std::string_view{}); }
  bool contains(std::string_view name) const { return find(name).has_value(); }
  void erase(std::string_view name);
  const std::vector<Field>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }

  static bool iequals(std::string_view a, std::string_view b);

 private:
  std::vector<Field> fields_;
};

// Receives a request body piece by piece instead of buffering it (S3 object uploads).
// Calls come from one connection in order; on_data never after on_end/on_abort.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void on_data(std::string_view chunk) = 0;
  // The whole body arrived.
  virtual void on_end() = 0;
  // The body will not complete (client went away, limit exceeded, malformed chunking).
  virtual void on_abort() = 0;
};

struct Request {
  std::string method;     // upper case as sent: "GET", "POST", ...
  std::string target;     // raw request-target: "/path?query"
  std::string path;       // target up to '?', still percent-encoded
  std::string query;      // target after '?', still percent-encoded, "" if none
  unsigned version = 11;  // 10 for HTTP/1.0, 11 for HTTP/1.1
  Headers headers;
  std::string body;       // buffered body; empty when streamed into `sink`
  std::shared_ptr<BodySink> sink;  // set when the handler asked to stream the body
  // Whatever the handler's plan_body() left in BodyPlan::context, handed back to handle(): per-request state
  // the handler computed from the head and need not compute again. Opaque to the server.
  std::shared_ptr<void> context;
  std::string remote_ip;
  std::uint16_t local_port = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Close the connection after this response (e.g. after an error that leaves the stream unusable).
  bool close = false;
};

// Delivers the response for one request. Call exactly once, from any thread, at any later time;
// the connection's I/O is never blocked while the handler works.
using Respond = std::function<void(Response)>;

// How to read a request's body, decided from its head (method, target, headers) before reading it.
struct BodyPlan {
  std::uint64_t limit = 8ull * 1024 * 1024;  // larger bodies get 413 and the connection closes
  std::shared_ptr<BodySink> sink;             // null: buffer into Request::body
  std::shared_ptr<void> context;              // carried to handle() as Request::context (the handler's own)
};

// What the HTTP server calls. Implemented by the emulator's dispatcher.
class Handler {
 public:
  virtual ~Handler() = default;
  // Called once the head is read (Request::body is empty). Must not block.
  virtual BodyPlan plan_body(const Request& head) = 0;
  // Called once the body is read (or streamed into the sink and sink->on_end() was called).
  virtual void handle(Request request, Respond respond) = 0;
  // The answer when a body exceeds BodyPlan::limit (the connection is closed after it). The default is a
  // plain 413; the emulator answers in the request's protocol.
  virtual Response body_too_large(const Request& head);
};

// Percent-decodes `in` (and '+' as space when form_encoding is true). Invalid escapes are kept as is
// unless `ok` is given, in which case *ok becomes false.
std::string percent_decode(std::string_view in, bool form_encoding = false, bool* ok = nullptr);
// Percent-encodes everything but RFC 3986 unreserved characters (and '/' when keep_slash).
std::string percent_encode(std::string_view in, bool keep_slash = false);
// Splits "a=1&b=&c" into decoded (name, value) pairs, in order. '+' decodes to space when form_encoding.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query, bool form_encoding = true);

const char* reason_phrase(int status);

}  // namespace stratus::http
