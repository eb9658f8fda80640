// The control-socket protocol between ferryctl and ferryd: line-delimited
// JSON over a Unix socket, one request per line, one response line per
// request, protocol version 1.
//
//   → {"v":1,"id":"7","cmd":"status","args":{}}
//   ← {"v":1,"id":"7","ok":true,"result":{...}}
//   ← {"v":1,"id":"7","ok":false,"error":{"code":"bad_request","message":"..."}}
//
// Parsing is strict (lines come from any local user allowed on the socket):
// size, UTF-8, nesting depth and every field are checked; errors are
// kInvalidArgument with a message fit to send back to the client.
// Rendering never throws: invalid UTF-8 in strings becomes U+FFFD.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocols/base/status.h"

namespace ferry::control {

inline constexpr int kProtocolVersion = 1;
// Longest request line (without its '\n').
inline constexpr std::size_t kMaxLine = 64 * 1024;
// Longest response line a client accepts (status of many routes).
inline constexpr std::size_t kMaxResponseLine = 4u << 20;
inline constexpr std::size_t kMaxIdBytes = 64;
inline constexpr std::size_t kMaxCommandBytes = 32;

struct Request {
  int version = kProtocolVersion;
  std::string id;
  std::string command;
  nlohmann::json args = nlohmann::json::object();
};

// Line → Request. Must be a JSON object with "v" (integer == 1; other:
// "unsupported protocol version N"), "cmd" (string, [a-z-]{1,32}), optional
// "id" (string, <= 64 bytes), optional "args" (object). Rejects oversized
// lines, invalid UTF-8, non-objects, trailing garbage. One trailing '\r' is
// ignored.
Result<Request> ParseRequest(std::string_view line);
// One line, no '\n'.
std::string RenderRequest(const Request& r);

// Response lines (no '\n').
std::string OkResponse(std::string_view id, const nlohmann::json& result);
std::string ErrorResponse(std::string_view id, std::string_view code, std::string_view message);

struct Response {
  bool ok = false;
  nlohmann::json result;                  // when ok (null if the server sent none)
  std::string error_code, error_message;  // when !ok
};
// Line → Response; the same strictness as ParseRequest, up to kMaxResponseLine.
Result<Response> ParseResponse(std::string_view line);

}  // namespace ferry::control
