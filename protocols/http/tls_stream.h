// A TLS stream over a Beast tcp_stream, built for bodies of many MiB.
//
// asio::ssl::stream moves one TLS record (16 KiB) per asynchronous step,
// through a BIO pair that copies every byte twice more; at a few hundred
// MB/s the steps and copies cost more CPU than the cipher. Here OpenSSL talks
// to a BIO of ours that reads and writes the socket itself, without blocking:
// records go from the kernel into OpenSSL's buffer and out of it, and one
// step decrypts as many records as have arrived straight into the caller's
// buffer (up to kReadStep bytes) or encrypts up to kWriteBatch bytes. Only
// when the socket has nothing to read, or no room to write, does the stream
// wait, with an ordinary asynchronous read into (or write from) a buffer of
// its own on the tcp_stream, whose expiry bounds every wait. It models Asio's
// AsyncReadStream and AsyncWriteStream, so Beast's HTTP reads and writes run
// on it unchanged, and get_lowest_layer() reaches the tcp_stream.
//
// REQUIRES: at most one operation (handshake, read, write, shutdown) in
// flight at a time, which is how HTTP/1.1 uses a connection; the SSL context
// outlives the stream. Errors are Asio's: OpenSSL failures in the SSL
// category, a peer's close_notify as error::eof, a connection that ends
// without one as ssl::error::stream_truncated.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include <openssl/ssl.h>

namespace ferry::http {

namespace tls_internal {

// What an engine step needs next.
enum class Want { kDone, kInput };

// The OpenSSL side: an SSL object whose BIO reads what the last wait
// brought in (the input buffer), then the socket; and collects the records
// OpenSSL writes (the output buffer), which each step sends with one
// non-blocking system call, leaving what the socket would not take for an
// asynchronous write. Not thread-safe (see TlsStream).
class Engine {
 public:
  static constexpr std::size_t kInputSize = 64 * 1024;
  static constexpr std::size_t kReadStep = 1024 * 1024;
  static constexpr std::size_t kWriteBatch = 256 * 1024;

  Engine(SSL_CTX* ctx, boost::asio::ssl::stream_base::handshake_type type);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  SSL* ssl() const { return ssl_; }
  // Re-chooses the role before the handshake starts (client or server).
  void SetRole(boost::asio::ssl::stream_base::handshake_type type);
  // The socket the BIO reads and writes directly (-1: none, only buffers).
  // Set before every step: the descriptor exists once the socket is open.
  void SetSocket(int fd) { fd_ = fd; }

  // Each step either finishes (kDone, with `ec` and `n` set) or needs more
  // ciphertext from the peer (kInput). Either way it may have produced
  // output, which must be sent before anything else.
  Want Handshake(boost::system::error_code& ec);
  // Decrypts into `out` as much as has arrived, up to kReadStep bytes;
  // kInput only when nothing at all could be delivered.
  Want Read(std::span<char> out, std::size_t& n, boost::system::error_code& ec);
  // Encrypts up to kWriteBatch bytes of `in` and sends what the socket
  // takes; the rest waits in the output. Never needs input.
  Want Write(std::span<const char> in, std::size_t& n, boost::system::error_code& ec);
  // Queues our close_notify (we do not wait for the peer's).
  Want Shutdown(boost::system::error_code& ec);

  // Sends what the output holds, as far as the socket takes it now: a batch
  // of records per system call rather than one each. Called after every step.
  void SendOutput();
  bool has_output() const { return out_used_ > out_begin_; }
  boost::asio::const_buffer output() const {
    return {out_.get() + out_begin_, out_used_ - out_begin_};
  }
  void OutputSent() { out_begin_ = out_used_ = 0; }
  boost::asio::mutable_buffer input_space();
  void InputArrived(std::size_t n) { in_end_ += n; }
  std::size_t input_buffered() const { return in_end_ - in_begin_; }

 private:
  static int BioRead(BIO* bio, char* data, int len);
  static int BioWrite(BIO* bio, const char* data, int len);
  static long BioCtrl(BIO* bio, int cmd, long num, void* ptr);
  // Turns a failed SSL call into a step result.
  Want Failed(int ret, boost::system::error_code& ec);
  void GrowOutput(std::size_t need);
  void Keep(const char* data, std::size_t len);

  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool peer_eof_ = false;  // the socket read returned end of file
  int sys_error_ = 0;      // errno of a failed socket call
  std::unique_ptr<char[]> in_;
  std::size_t in_begin_ = 0, in_end_ = 0;
  std::unique_ptr<char[]> out_;
  std::size_t out_cap_ = 0, out_begin_ = 0, out_used_ = 0;  // pending: [begin, used)
};

// Drives one engine step to completion over the socket: sends what the step
// produced, reads more ciphertext while the step wants input, and completes
// with the step's result. Completion never happens inside the initiating
// call (a result available at once is posted), as Asio requires. kSized:
// the handler takes (error_code, bytes), else (error_code).
template <class Stream, class Step, bool kSized>
class StepOp {
 public:
  StepOp(Stream& s, Step step) : s_(s), step_(std::move(step)) {}

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
    for (;;) {
      switch (state_) {
        case kCall:
          want_ = step_(s_.engine(), result_ec_, result_);
          s_.engine().SendOutput();
          state_ = kSend;
          break;
        case kSend:
          if (s_.engine().has_output()) {
            state_ = kSent;
            async_ = true;
            boost::asio::async_write(s_.next_layer(), s_.engine().output(), std::move(self));
            return;
          }
          state_ = kAfterSend;
          break;
        case kSent:
          s_.engine().OutputSent();
          if (ec) return Finish(self, ec, 0);
          state_ = kAfterSend;
          break;
        case kAfterSend:
          if (want_ == Want::kDone) return Finish(self, result_ec_, result_);
          state_ = kReceived;
          async_ = true;
          s_.next_layer().async_read_some(s_.engine().input_space(), std::move(self));
          return;
        case kReceived:
          if (ec == boost::asio::error::eof) ec = boost::asio::ssl::error::stream_truncated;
          if (ec) return Finish(self, ec, 0);
          s_.engine().InputArrived(n);
          state_ = kCall;
          break;
        case kPosted:
          Complete(self, result_ec_, result_);
          return;
      }
    }
  }

 private:
  enum State { kCall, kSend, kSent, kAfterSend, kReceived, kPosted };

  template <class Self>
  static void Complete(Self& self, boost::system::error_code ec, std::size_t n) {
    if constexpr (kSized) {
      self.complete(ec, n);
    } else {
      self.complete(ec);
    }
  }
  template <class Self>
  void Finish(Self& self, boost::system::error_code ec, std::size_t n) {
    if (async_) {
      Complete(self, ec, n);
      return;
    }
    result_ec_ = ec;
    result_ = n;
    state_ = kPosted;
    boost::asio::post(s_.get_executor(), std::move(self));
  }

  Stream& s_;
  Step step_;
  State state_ = kCall;
  Want want_ = Want::kDone;
  boost::system::error_code result_ec_;
  std::size_t result_ = 0;
  bool async_ = false;
};

}  // namespace tls_internal

class TlsStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;
  using handshake_type = boost::asio::ssl::stream_base::handshake_type;

  // `ctx` must outlive the stream. The role (client or server) is fixed by
  // async_handshake; until then the stream is a client.
  template <class... Args>
  TlsStream(boost::asio::ssl::context& ctx, Args&&... next_layer_args)
      : next_(std::forward<Args>(next_layer_args)...),
        engine_(std::make_unique<tls_internal::Engine>(ctx.native_handle(),
                                                       boost::asio::ssl::stream_base::client)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() { return next_; }
  const next_layer_type& next_layer() const { return next_; }
  SSL* native_handle() { return engine_->ssl(); }
  tls_internal::Engine& engine() { return *engine_; }

  template <class Token>
  auto async_handshake(handshake_type type, Token&& token) {
    engine_->SetRole(type);
    return Run<false>(
        [](tls_internal::Engine& e, boost::system::error_code& ec, std::size_t& n) {
          n = 0;
          return e.Handshake(ec);
        },
        std::forward<Token>(token));
  }

  // Reads into the first non-empty buffer, as a read_some may.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    auto b = FirstNonEmpty<boost::asio::mutable_buffer>(buffers);
    std::span<char> out(static_cast<char*>(b.data()), b.size());
    return Run<true>(
        [out](tls_internal::Engine& e, boost::system::error_code& ec, std::size_t& n) {
          return out.empty() ? Nothing(ec, n) : e.Read(out, n, ec);
        },
        std::forward<Token>(token));
  }

  // Writes from the first non-empty buffer, up to the write batch; Beast
  // hands over the header and each body chunk as separate buffers.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    auto b = FirstNonEmpty<boost::asio::const_buffer>(buffers);
    std::span<const char> in(static_cast<const char*>(b.data()), b.size());
    return Run<true>(
        [in](tls_internal::Engine& e, boost::system::error_code& ec, std::size_t& n) {
          return in.empty() ? Nothing(ec, n) : e.Write(in, n, ec);
        },
        std::forward<Token>(token));
  }

  // Sends our close_notify; does not wait for the peer's.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return Run<false>(
        [](tls_internal::Engine& e, boost::system::error_code& ec, std::size_t& n) {
          n = 0;
          return e.Shutdown(ec);
        },
        std::forward<Token>(token));
  }

 private:
  template <class Buffer, class Sequence>
  static Buffer FirstNonEmpty(const Sequence& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      Buffer b(*it);
      if (b.size() > 0) return b;
    }
    return Buffer();
  }
  // The step of an operation on empty buffers: done at once, nothing moved.
  static tls_internal::Want Nothing(boost::system::error_code& ec, std::size_t& n) {
    ec = {};
    n = 0;
    return tls_internal::Want::kDone;
  }

  template <bool kSized, class Step, class Token>
  auto Run(Step step, Token&& token) {
    auto& socket = next_.socket();
    engine_->SetSocket(socket.is_open() ? static_cast<int>(socket.native_handle()) : -1);
    using Signature = std::conditional_t<kSized, void(boost::system::error_code, std::size_t),
                                         void(boost::system::error_code)>;
    return boost::asio::async_compose<Token, Signature>(
        tls_internal::StepOp<TlsStream, Step, kSized>(*this, std::move(step)), token, next_);
  }

  next_layer_type next_;
  std::unique_ptr<tls_internal::Engine> engine_;
};

}  // namespace ferry::http
