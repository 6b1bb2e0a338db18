#pragma once
// The daemon <-> worker framing, on a SOCK_STREAM socketpair (the worker's fd 3). Header-only and
// dependency-light (std + nlohmann/json) because the worker includes it too.
//
// Every message is one frame:
//
//   u32 LE  N        length of everything after these 4 bytes (5 + H + P)
//   u8      type     see FrameType
//   u32 LE  H        length of the header
//   H bytes header   a JSON object (UTF-8)
//   P bytes payload  opaque bytes (event or response JSON), P = N - 5 - H
//
// Conversation:
//   worker -> daemon  'R' ready      {"init_us", "max_rss_kb"}                    after a successful init
//   worker -> daemon  'E' init error {"errorType", "errorMessage", "init_us", "max_rss_kb"}; then exits
//   daemon -> worker  'L' load       {"library", "function_name", "version", "memory_mb", "env": ["K=V"],
//                                     "cwd"} first frame to a `--standby` spare only: become this function
//   daemon -> worker  'I' invoke     {"request_id", "invoked_function_arn", "deadline_ms"} + event
//   worker -> daemon  'O' result     {"duration_us", "max_rss_kb"} + response payload
//   worker -> daemon  'F' fn error   {"duration_us", "max_rss_kb", "errorType", "errorMessage"}
//   worker -> daemon  'M' no memory  {} sent by the new-handler just before the worker SIGKILLs itself
// One invocation at a time: the daemon sends 'I' only after 'R' or after the previous 'O'/'F'.
// EOF on the socket tells the worker to exit. The function's stdout and stderr are one pipe (fds 1, 2).
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace stratus::runtime::wire {

enum class FrameType : char {
  ready = 'R',
  init_error = 'E',
  load = 'L',
  invoke = 'I',
  result = 'O',
  function_error = 'F',
  out_of_memory = 'M',
};

inline constexpr std::uint32_t kMaxFrame = 64u * 1024u * 1024u;  // far above Lambda's 6 MB payloads
inline constexpr int kControlFd = 3;

struct Frame {
  FrameType type{};
  nlohmann::json header;
  std::string payload;
};

inline void put_u32(std::string& out, std::uint32_t v) {
  char b[4] = {static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
               static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 24) & 0xff)};
  out.append(b, 4);
}

inline std::uint32_t get_u32(const char* p) {
  auto u = [&](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])); };
  return u(0) | (u(1) << 8) | (u(2) << 16) | (u(3) << 24);
}

inline std::string encode(FrameType type, const nlohmann::json& header, std::string_view payload = {}) {
  std::string h = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(9 + h.size() + payload.size());
  put_u32(out, static_cast<std::uint32_t>(5 + h.size() + payload.size()));
  out.push_back(static_cast<char>(type));
  put_u32(out, static_cast<std::uint32_t>(h.size()));
  out.append(h);
  out.append(payload);
  return out;
}

enum class DecodeStatus { ok, need_more, bad };

// Decodes one frame from the front of `buf`; on ok, `consumed` is its total size.
inline DecodeStatus decode(std::string_view buf, Frame& out, std::size_t& consumed) {
  if (buf.size() < 4) return DecodeStatus::need_more;
  std::uint32_t n = get_u32(buf.data());
  if (n < 5 || n > kMaxFrame) return DecodeStatus::bad;
  if (buf.size() < 4 + static_cast<std::size_t>(n)) return DecodeStatus::need_more;
  std::uint32_t h = get_u32(buf.data() + 5);
  if (h > n - 5) return DecodeStatus::bad;
  out.type = static_cast<FrameType>(buf[4]);
  out.header = nlohmann::json::parse(buf.substr(9, h), nullptr, /*allow_exceptions=*/false);
  if (out.header.is_discarded() || !out.header.is_object()) return DecodeStatus::bad;
  out.payload.assign(buf.data() + 9 + h, n - 5 - h);
  consumed = 4 + static_cast<std::size_t>(n);
  return DecodeStatus::ok;
}

}  // namespace stratus::runtime::wire
