// See tls_stream.h.
#include "protocols/http/tls_stream.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>

#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>

namespace ferry::http::tls_internal {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// One BIO method for every engine; the BIO's data is its Engine.
BIO_METHOD* Method(int (*read)(BIO*, char*, int), int (*write)(BIO*, const char*, int),
                   long (*ctrl)(BIO*, int, long, void*)) {
  static std::once_flag once;
  static BIO_METHOD* method = nullptr;
  std::call_once(once, [&] {
    method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ferry-tls-buffers");
    if (method == nullptr) return;
    BIO_meth_set_read(method, read);
    BIO_meth_set_write(method, write);
    BIO_meth_set_ctrl(method, ctrl);
    BIO_meth_set_create(method, [](BIO* b) {
      BIO_set_init(b, 1);
      return 1;
    });
  });
  return method;
}

// Asio's spelling of the error behind a failed SSL call.
error_code SslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return asio::ssl::error::unspecified_system_error;
  return error_code(static_cast<int>(e), asio::error::get_ssl_category());
}

}  // namespace

Engine::Engine(SSL_CTX* ctx, asio::ssl::stream_base::handshake_type type) {
  ssl_ = SSL_new(ctx);
  BIO_METHOD* method = Method(&Engine::BioRead, &Engine::BioWrite, &Engine::BioCtrl);
  BIO* bio = (ssl_ != nullptr && method != nullptr) ? BIO_new(method) : nullptr;
  if (bio == nullptr) {
    // Without memory for OpenSSL there is nothing to fall back on.
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one reference, both directions
  // Our BIO never refuses a write (what the socket will not take waits in
  // the output buffer), so SSL_write always takes the whole batch;
  // renegotiation (TLS 1.2) would need a write inside a read: refuse it.
  SSL_set_mode(ssl_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);
  // Read several records per socket read: fewer system calls per MiB.
  SSL_set_read_ahead(ssl_, 1);
  SSL_set_default_read_buffer_len(ssl_, kInputSize);
  SetRole(type);
}

Engine::~Engine() { SSL_free(ssl_); }

void Engine::SetRole(asio::ssl::stream_base::handshake_type type) {
  if (type == asio::ssl::stream_base::client) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
}

asio::mutable_buffer Engine::input_space() {
  if (!in_) in_.reset(new char[kInputSize]);  // not zeroed: filled by reads
  // Keep unread ciphertext at the front so the whole space is contiguous.
  if (in_begin_ > 0) {
    std::memmove(in_.get(), in_.get() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  return {in_.get() + in_end_, kInputSize - in_end_};
}

int Engine::BioRead(BIO* bio, char* data, int len) {
  auto* e = static_cast<Engine*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  std::size_t have = e->in_end_ - e->in_begin_;
  if (have > 0) {
    // What the last wait brought in comes first.
    std::size_t n = std::min<std::size_t>(have, static_cast<std::size_t>(len));
    std::memcpy(data, e->in_.get() + e->in_begin_, n);
    e->in_begin_ += n;
    if (e->in_begin_ == e->in_end_) e->in_begin_ = e->in_end_ = 0;
    return static_cast<int>(n);
  }
  if (e->fd_ >= 0 && !e->peer_eof_) {
    ssize_t r;
    do {
      r = ::recv(e->fd_, data, static_cast<std::size_t>(len), MSG_DONTWAIT);
    } while (r < 0 && errno == EINTR);
    if (r > 0) return static_cast<int>(r);
    if (r == 0) {
      e->peer_eof_ = true;
      return 0;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      e->sys_error_ = errno;
      return -1;
    }
  }
  BIO_set_retry_read(bio);  // nothing yet: the stream waits for the socket
  return -1;
}

int Engine::BioWrite(BIO* bio, const char* data, int len) {
  auto* e = static_cast<Engine*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  // Collected, not sent: OpenSSL writes one record per call, and a system
  // call per 16 KiB record costs more than copying it.
  e->Keep(data, static_cast<std::size_t>(len));
  return len;
}

void Engine::Keep(const char* data, std::size_t len) {
  if (out_begin_ == out_used_) out_begin_ = out_used_ = 0;
  GrowOutput(out_used_ + len);
  std::memcpy(out_.get() + out_used_, data, len);
  out_used_ += len;
}

void Engine::SendOutput() {
  if (fd_ < 0 || out_begin_ == out_used_) return;
  ssize_t r;
  do {
    r = ::send(fd_, out_.get() + out_begin_, out_used_ - out_begin_, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  // An error other than "would block" shows again, with its reason, in the
  // asynchronous write of what is left.
  if (r <= 0) return;
  out_begin_ += static_cast<std::size_t>(r);
  if (out_begin_ == out_used_) out_begin_ = out_used_ = 0;
}

long Engine::BioCtrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  auto* e = static_cast<Engine*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_PENDING:
      return static_cast<long>(e->in_end_ - e->in_begin_);
    case BIO_CTRL_WPENDING:
      return static_cast<long>(e->out_used_ - e->out_begin_);
    default:
      return 0;
  }
}

void Engine::GrowOutput(std::size_t need) {
  if (need <= out_cap_) return;
  if (out_begin_ > 0) {  // room at the front: move the pending bytes there first
    std::memmove(out_.get(), out_.get() + out_begin_, out_used_ - out_begin_);
    need -= out_begin_;
    out_used_ -= out_begin_;
    out_begin_ = 0;
    if (need <= out_cap_) return;
  }
  // The batch plus record overhead, so a steady stream never reallocates.
  std::size_t cap = std::max<std::size_t>({need, out_cap_ * 2, kWriteBatch + 4096});
  std::unique_ptr<char[]> bigger(new char[cap]);
  if (out_used_ > 0) std::memcpy(bigger.get(), out_.get(), out_used_);  // out_begin_ is 0 here
  out_ = std::move(bigger);
  out_cap_ = cap;
}

Want Engine::Failed(int ret, error_code& ec) {
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ && !peer_eof_ && sys_error_ == 0) {
    ERR_clear_error();
    return Want::kInput;
  }
  if (err == SSL_ERROR_ZERO_RETURN) {
    ERR_clear_error();
    ec = asio::error::eof;  // the peer's close_notify
    return Want::kDone;
  }
  if (sys_error_ != 0) {
    ERR_clear_error();
    ec = error_code(sys_error_, boost::system::system_category());
    return Want::kDone;
  }
  if (peer_eof_) {
    ERR_clear_error();
    ec = asio::ssl::error::stream_truncated;  // the connection ended without close_notify
    return Want::kDone;
  }
  ec = SslError();
  return Want::kDone;
}

Want Engine::Handshake(error_code& ec) {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    ec = {};
    return Want::kDone;
  }
  return Failed(r, ec);
}

Want Engine::Read(std::span<char> out, std::size_t& n, error_code& ec) {
  n = 0;
  ec = {};
  // Bounded per step, so one busy connection does not hold its thread.
  if (out.size() > kReadStep) out = out.first(kReadStep);
  ERR_clear_error();  // once: the queue is left empty after every failure
  while (n < out.size()) {
    std::size_t got = 0;
    int r = SSL_read_ex(ssl_, out.data() + n, out.size() - n, &got);
    if (r == 1) {
      n += got;
      continue;
    }
    error_code err;
    Want w = Failed(r, err);
    if (n > 0) return Want::kDone;  // deliver what we have; the state stays in SSL
    if (w == Want::kInput) return Want::kInput;
    ec = err;
    return Want::kDone;
  }
  return Want::kDone;
}

Want Engine::Write(std::span<const char> in, std::size_t& n, error_code& ec) {
  n = 0;
  ec = {};
  std::size_t take = std::min(in.size(), kWriteBatch);
  std::size_t written = 0;
  ERR_clear_error();
  int r = SSL_write_ex(ssl_, in.data(), take, &written);
  if (r != 1) {
    Want w = Failed(r, ec);
    if (w == Want::kInput && !ec) {
      // A write never waits for the peer on this BIO; SSL asking for input
      // here means it is mid-renegotiation, which we refuse.
      ec = asio::ssl::error::unspecified_system_error;
    }
    return Want::kDone;
  }
  n = written;
  return Want::kDone;
}

Want Engine::Shutdown(error_code& ec) {
  ec = {};
  ERR_clear_error();
  int r = SSL_shutdown(ssl_);
  if (r < 0) {
    Want w = Failed(r, ec);
    if (w == Want::kInput) ec = {};  // our close_notify is queued; we do not wait
  }
  return Want::kDone;
}

}  // namespace ferry::http::tls_internal
