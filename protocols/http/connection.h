// One HTTP/1.1 connection (plain TCP or TLS) and the pieces an exchange on it
// needs: the per-operation expiry rule and transport-error classification.
//
// A Connection is owned by exactly one party at a time: the pool while idle,
// one exchange while leased. All I/O on it runs on its own strand, so Beast's
// timeout timers and the operations they cancel never race.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "protocols/base/body.h"
#include "protocols/base/status.h"
#include "protocols/http/activity.h"
#include "protocols/http/tls_stream.h"
#include "protocols/http/url.h"

namespace ferry::http::internal {

using Clock = std::chrono::steady_clock;
using Strand = boost::asio::strand<boost::asio::any_io_executor>;
using PlainStream = boost::beast::tcp_stream;
using TlsStream = ferry::http::TlsStream;

class Connection {
 public:
  // `tls` null: plain TCP. The context must outlive the connection.
  Connection(const boost::asio::any_io_executor& executor, boost::asio::ssl::context* tls);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const Strand& strand() const { return strand_; }
  PlainStream& tcp();
  TlsStream* tls() { return tls_ ? &*tls_ : nullptr; }
  PlainStream* plain() { return plain_ ? &*plain_ : nullptr; }

  bool connected = false;
  Clock::time_point idle_since{};
  // When the server last answered on this connection (a response header).
  Clock::time_point answered_at{};
  // Bytes read past the end of one response; must be empty between exchanges.
  boost::beast::flat_buffer buffer;

 private:
  Strand strand_;
  std::optional<PlainStream> plain_;
  std::optional<TlsStream> tls_;
};

// Expiry for the next socket operation: the request deadline or "no progress
// for progress_timeout", whichever comes first; remembers which one it was so
// a timeout can say so.
class OpTimer {
 public:
  OpTimer(Clock::time_point deadline, std::chrono::milliseconds progress,
          Activity* activity = nullptr)
      : deadline_(deadline), progress_(progress), activity_(activity) {}
  // A socket operation moved `bytes` (told to the Activity, if any).
  void Moved(std::size_t bytes, bool sent) {
    if (!activity_) return;
    const bool progress = !sent || proven_;
    activity_->Moved(bytes, sent, progress);
    if (!progress) unproven_sent_ += bytes;
  }
  // The response's header arrived: the connection is proven, and what was
  // sent on it before counts in the rates.
  void Answered() {
    if (activity_) activity_->Credit(unproven_sent_);
    unproven_sent_ = 0;
    proven_ = true;
  }
  // The exchange runs on a connection the server answered on within the
  // last progress timeout: bytes it sends show progress (Activity::Moved).
  // An older answer proves nothing: a server frozen since then still takes
  // bytes into its kernel buffers on a pooled connection.
  void SetProven(Clock::time_point answered_at) {
    proven_ = answered_at != Clock::time_point{} && Clock::now() - answered_at < progress_;
  }
  // Arms `stream` for the next operation; false when the deadline has passed.
  bool Arm(PlainStream& stream);
  // Like Arm but bounded by `limit` (connect_timeout) instead of progress.
  bool ArmConnect(PlainStream& stream, std::chrono::milliseconds limit);
  // "deadline exceeded" or "no progress for N ms" / "connect timeout of N ms".
  std::string Reason() const;
  Clock::time_point deadline() const { return deadline_; }

 private:
  Clock::time_point deadline_;
  std::chrono::milliseconds progress_;
  Activity* activity_;
  bool proven_ = false;
  std::uint64_t unproven_sent_ = 0;
  std::chrono::milliseconds last_limit_{0};
  bool deadline_binds_ = false;
  bool connecting_ = false;
};

// The server went away without a word: EOF, reset, broken pipe, TLS stream
// truncated. On a reused connection before any response byte, this is the
// server having closed an idle keep-alive connection.
bool IsPeerClosed(const boost::system::error_code& ec);

// kRetryable transport error naming the endpoint and what we were doing.
Status TransportError(const std::string& endpoint, std::string_view doing,
                      const boost::system::error_code& ec, const OpTimer& timer);

// Opens TCP (and TLS) to `url` on the connection's strand, bounded by
// connect_timeout and the deadline. REQUIRES: running on conn.strand().
io::Task<Status> Connect(Connection& conn, const Url& url, const std::string& endpoint,
                         OpTimer& timer, std::chrono::milliseconds connect_timeout,
                         bool verify_tls);

}  // namespace ferry::http::internal
