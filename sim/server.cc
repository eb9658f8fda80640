#include "sim/server.h"

#include "sim/encryption.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "sim/connection.h"
#include "sim/events.h"
#include "sim/faults.h"

namespace ferry::sim {

namespace asio = boost::asio;
using asio::ip::tcp;

struct Server::Impl {
  explicit Impl(SimConfig cfg) : config(std::move(cfg)) {}

  io::Task<void> Accept() {
    for (;;) {
      auto [ec, sock] = co_await acceptor->async_accept(asio::make_strand(*ioc),
                                                        asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      auto ex = sock.get_executor();
      if (tls) {
        asio::co_spawn(ex, ServeTlsConnection(std::move(sock), *tls, *services), asio::detached);
      } else {
        asio::co_spawn(ex, ServeConnection(std::move(sock), *services), asio::detached);
      }
    }
  }

  SimConfig config;
  std::unique_ptr<Services> services;
  std::unique_ptr<asio::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<EventNotifier> events;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;  // GUARDED_BY(mu): Stop() has begun
  bool done = false;     // GUARDED_BY(mu): Stop() has finished
};

Server::Server(SimConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Server::~Server() { Stop(); }

Services& Server::services() { return *impl_->services; }
std::uint16_t Server::port() const { return impl_->port; }

Status Server::Start() {
  Impl& m = *impl_;
  const SimConfig& c = m.config;
  auto bad = [](std::string msg) {
    return Status::Error(ErrorClass::kInvalidArgument, std::move(msg));
  };
  if (c.access_key.empty() || c.secret_key.empty())
    return bad("--access-key and --secret-key are required");
  if (c.threads < 1 || c.threads > 256) return bad("--threads must be within 1..256");
  std::unique_ptr<BlobFactory> blobs;
  if (c.data_dir.empty()) {
    blobs = BlobFactory::Memory();
  } else {
    FERRY_ASSIGN_OR_RETURN(blobs, BlobFactory::Directory(c.data_dir));
  }
  if (c.keep_bodies_up_to) blobs = BlobFactory::KeepingUpTo(std::move(blobs), *c.keep_bodies_up_to);
  m.services = std::make_unique<Services>(c, std::move(blobs));
  Services& svc = *m.services;
  for (const auto& b : c.buckets)
    FERRY_RETURN_IF_ERROR(svc.store.CreateBucket(b).Annotate("--bucket " + b));
  for (const auto& b : c.synthetic_buckets) {
    if (!svc.store.BucketExists(b)) {
      FERRY_RETURN_IF_ERROR(svc.store.CreateBucket(b).Annotate("--synthetic-bucket " + b));
    }
  }
  for (const auto& spec : c.bucket_encryption) {
    const auto eq = spec.find('=');
    Sse sse;
    if (eq != std::string::npos) sse.algorithm = spec.substr(eq + 1);
    if (eq == std::string::npos || eq == 0 || !ValidateBucketEncryption(sse).ok()) {
      return bad("--bucket-encryption " + spec +
                 ": expected BUCKET=ALGORITHM with AES256, aws:kms or aws:kms:dsse");
    }
    const std::string bucket = spec.substr(0, eq);
    FERRY_RETURN_IF_ERROR(svc.store.SetBucketEncryption(bucket, sse.algorithm, "")
                              .Annotate("--bucket-encryption " + spec));
  }
  for (const auto& spec : c.faults) {
    auto rule = ParseFaultSpec(spec);
    if (!rule.ok()) return rule.status().Annotate("--fault " + spec);
    svc.faults.Add(*rule);
  }

  m.ioc = std::make_unique<asio::io_context>(c.threads);
  if (!c.tls_cert.empty() || !c.tls_key.empty()) {
    m.tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    boost::system::error_code ec;
    m.tls->use_certificate_chain_file(c.tls_cert, ec);
    if (!ec) m.tls->use_private_key_file(c.tls_key, asio::ssl::context::pem, ec);
    if (ec) return bad("--tls-cert/--tls-key: " + ec.message());
  }
  if (!c.event_webhook.empty()) {
    FERRY_ASSIGN_OR_RETURN(m.events, EventNotifier::Create(*m.ioc, svc, c.event_webhook,
                                                           c.event_token, c.event_queue_limit));
    svc.events = m.events.get();
  }

  boost::system::error_code ec;
  auto addr = asio::ip::make_address(c.listen_host, ec);
  if (ec) return bad("--listen: bad address '" + c.listen_host + "'");
  m.acceptor = std::make_unique<tcp::acceptor>(*m.ioc);
  tcp::endpoint ep(addr, c.port);
  m.acceptor->open(ep.protocol(), ec);
  if (!ec) m.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor->bind(ep, ec);
  if (!ec) m.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Error(ErrorClass::kFatal, "cannot listen on " + c.listen_host + ":" +
                                                 std::to_string(c.port) + ": " + ec.message());
  }
  m.port = m.acceptor->local_endpoint().port();

  asio::co_spawn(*m.ioc, m.Accept(), asio::detached);
  if (m.events) m.events->Start();
  if (c.handle_signals) {
    m.signals = std::make_unique<asio::signal_set>(*m.ioc, SIGINT, SIGTERM);
    m.signals->async_wait([this](const boost::system::error_code& e, int) {
      if (!e) std::thread([this] { Stop(); }).detach();
    });
  }
  for (int i = 0; i < c.threads; ++i) m.threads.emplace_back([&m] { m.ioc->run(); });
  return Status::Ok();
}

void Server::Stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.stopped) return;
    m.stopped = true;
  }
  if (m.ioc) {
    if (m.events) m.events->Stop();
    m.ioc->stop();
    for (auto& t : m.threads) {
      if (t.get_id() != std::this_thread::get_id()) t.join();
    }
    m.threads.clear();
    // The notifier goes before the io_context: its timer is an I/O object of
    // that context (destroying it after was a heap-use-after-free, ASan). Its
    // parked sender frame only holds locals, destroyed with the context below.
    if (m.services) m.services->events = nullptr;
    m.events.reset();
    // Coroutine frames still parked in the io_context are destroyed here,
    // while everything they reference (services, TLS context) still exists.
    m.acceptor.reset();
    m.signals.reset();
    m.ioc.reset();
  }
  std::lock_guard lock(m.mu);
  m.done = true;
  m.cv.notify_all();
}

void Server::Wait() {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait(lock, [&] { return impl_->done; });
}

Status WritePortFile(const std::string& path, std::uint16_t port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << port << "\n";
    if (!f.flush()) return Status::Error(ErrorClass::kFatal, "cannot write --port-file " + path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::Error(ErrorClass::kFatal, "cannot write --port-file " + path);
  }
  return Status::Ok();
}

}  // namespace ferry::sim
