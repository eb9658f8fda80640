// One request/response exchange on one leased connection: connect if needed,
// stream the request body out, stream or buffer the response body in.
//
// REQUIRES: runs on conn.strand() (the client co_spawns it there); `conn`,
// `params`, `request` and `options` outlive the returned task.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/base/body.h"
#include "protocols/base/status.h"
#include "protocols/http/client.h"
#include "protocols/http/connection.h"

namespace ferry::http::internal {

inline constexpr char kUserAgent[] = "ferry/0.1";

struct ExchangeParams {
  const Url* url = nullptr;
  const std::string* endpoint = nullptr;  // url->ToString(), for messages
  std::size_t io_buffer_size = 256 * 1024;
  std::chrono::milliseconds connect_timeout{10'000};
  bool verify_tls = true;
  std::atomic<std::uint64_t>* connections_opened = nullptr;
};

struct ExchangeOutcome {
  Result<Response> result;
  // The response was read to its end and the server keeps the connection.
  bool reusable = false;
  // Failed before any response byte because the peer closed the connection
  // (EOF/reset/broken pipe): safe to send once more on a fresh connection.
  bool peer_closed_early = false;
};

io::Task<ExchangeOutcome> RunExchange(Connection& conn, const ExchangeParams& params,
                                      const Request& request, const ResponseOptions& options);

}  // namespace ferry::http::internal
