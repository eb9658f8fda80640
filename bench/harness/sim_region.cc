#include "bench/harness/sim_region.h"

#include <unistd.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace ferry::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

Result<std::uint16_t> WaitForPortFile(Child& child, const std::string& path,
                                      std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::ifstream in(path);
    unsigned port = 0;
    if (in >> port && port > 0 && port < 65536) return static_cast<std::uint16_t>(port);
    if (!child.Running()) {
      return Status::Error(ErrorClass::kFatal,
                           "s3sim exited before listening: " + Tail(child.log_path()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Error(ErrorClass::kRetryable, "s3sim did not write " + path + " in time");
}

// One request on a fresh connection, plain or TLS, within `timeout`.
template <typename Stream>
Result<http::response<http::string_body>> Exchange(asio::io_context& ioc, Stream& stream,
                                                   http::request<http::string_body>& req,
                                                   const std::string& where) {
  beast::error_code ec;
  beast::flat_buffer buf;
  buf.reserve(64 << 10);
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 30);
  http::async_write(stream, req, [&](beast::error_code e, std::size_t) {
    ec = e;
    if (!e) {
      http::async_read(stream, buf, parser, [&](beast::error_code e2, std::size_t) { ec = e2; });
    }
  });
  ioc.restart();
  ioc.run();
  if (ec) return Status::Error(ErrorClass::kRetryable, where + ": " + ec.message());
  return parser.release();
}

}  // namespace

Result<std::unique_ptr<SimRegion>> SimRegion::Start(RegionOptions opts) {
  auto r = std::unique_ptr<SimRegion>(new SimRegion());
  std::filesystem::create_directories(opts.dir);
  std::string port_file = opts.dir + "/" + opts.name + ".port";
  std::filesystem::remove(port_file);
  ChildOptions co;
  co.argv = {opts.s3sim,
             "--listen",
             "127.0.0.1:0",
             "--port-file",
             port_file,
             "--access-key",
             kAccessKey,
             "--secret-key",
             kSecretKey,
             "--region",
             kRegionName,
             "--threads",
             std::to_string(opts.threads),
             "--latency-ms",
             std::to_string(opts.link.latency_ms),
             "--bandwidth",
             std::to_string(opts.link.bandwidth_bps),
             "--min-part-size",
             std::to_string(opts.min_part_size)};
  for (const auto& b : opts.buckets) co.argv.insert(co.argv.end(), {"--bucket", b});
  for (const auto& b : opts.synthetic_buckets) {
    co.argv.insert(co.argv.end(), {"--synthetic-bucket", b});
  }
  if (!opts.data_dir.empty()) {
    std::filesystem::create_directories(opts.data_dir);
    co.argv.insert(co.argv.end(), {"--data-dir", opts.data_dir});
  }
  if (opts.keep_bodies_up_to) {
    co.argv.insert(co.argv.end(), {"--keep-bodies-up-to", std::to_string(*opts.keep_bodies_up_to)});
  }
  if (opts.tls.enabled()) {
    co.argv.insert(co.argv.end(), {"--tls-cert", opts.tls.cert, "--tls-key", opts.tls.key});
  }
  co.log_path = opts.dir + "/" + opts.name + ".s3sim.log";
  FERRY_ASSIGN_OR_RETURN(r->child_, Child::Spawn(std::move(co)));
  FERRY_ASSIGN_OR_RETURN(r->port_,
                         WaitForPortFile(*r->child_, port_file, std::chrono::seconds(30)));
  r->opts_ = std::move(opts);
  return r;
}

SimRegion::~SimRegion() {
  if (child_) child_->Stop(std::chrono::seconds(5));
}

std::string SimRegion::url() const {
  return std::string(tls() ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

Result<nlohmann::json> SimRegion::Call(const std::string& method, const std::string& target,
                                       const std::string& body, std::chrono::milliseconds timeout) {
  const std::string where = "s3sim " + opts_.name + " admin " + method + " " + target;
  try {
    asio::io_context ioc;
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port_);
    auto connect = [&](beast::tcp_stream& tcp) -> Status {
      beast::error_code ec;
      tcp.expires_after(timeout);
      tcp.async_connect(ep, [&](beast::error_code e) { ec = e; });
      ioc.restart();
      ioc.run();
      if (ec) return Status::Error(ErrorClass::kRetryable, where + ": connect: " + ec.message());
      return Status::Ok();
    };
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    Result<http::response<http::string_body>> res = Status::Ok();
    if (tls()) {
      // Our own simulator's admin API on loopback: the certificate is the
      // one we just made, not worth verifying here (ferryd verifies it).
      asio::ssl::context ctx(asio::ssl::context::tls_client);
      ctx.set_verify_mode(asio::ssl::verify_none);
      beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
      FERRY_RETURN_IF_ERROR(connect(beast::get_lowest_layer(stream)));
      beast::error_code ec;
      stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
      ioc.restart();
      ioc.run();
      if (ec) return Status::Error(ErrorClass::kRetryable, where + ": TLS: " + ec.message());
      res = Exchange(ioc, stream, req, where);
    } else {
      beast::tcp_stream tcp(ioc);
      FERRY_RETURN_IF_ERROR(connect(tcp));
      res = Exchange(ioc, tcp, req, where);
    }
    if (!res.ok()) return res.status();
    nlohmann::json j = res->body().empty() ? nlohmann::json::object()
                                           : nlohmann::json::parse(res->body(), nullptr, false);
    if (res->result_int() / 100 != 2 || j.is_discarded()) {
      std::string msg = j.is_object() ? j.value("error", res->body()) : res->body().substr(0, 300);
      return Status::Error(ErrorClass::kFatal,
                           where + ": HTTP " + std::to_string(res->result_int()) + ": " + msg);
    }
    return j;
  } catch (const std::exception& e) {
    return Status::Error(ErrorClass::kFatal, where + ": " + e.what());
  }
}

Result<nlohmann::json> SimRegion::Get(const std::string& target,
                                      std::chrono::milliseconds timeout) {
  return Call("GET", target, "", timeout);
}

Result<nlohmann::json> SimRegion::Post(const std::string& target, const nlohmann::json& body,
                                       std::chrono::milliseconds timeout) {
  return Call("POST", target, body.dump(), timeout);
}

Result<std::vector<nlohmann::json>> SimRegion::Log(std::uint64_t since) {
  std::vector<nlohmann::json> all;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(nlohmann::json page,
                           Get("/_sim/log?since=" + std::to_string(since) + "&limit=20000"));
    if (!page.contains("entries") || !page["entries"].is_array() || page["entries"].empty()) break;
    for (auto& e : page["entries"]) all.push_back(std::move(e));
    since = all.back().value("seq", since + 1);
  }
  return all;
}

Status SimRegion::SetLink(const LinkSpec& link) {
  nlohmann::json body = {{"latency_ms", link.latency_ms}, {"bandwidth", link.bandwidth_bps}};
  FERRY_ASSIGN_OR_RETURN(nlohmann::json ignored, Post("/_sim/link", body));
  (void)ignored;
  opts_.link = link;
  return Status::Ok();
}

Status SimRegion::CreateBucket(const std::string& name) {
  nlohmann::json body = {{"name", name}};
  FERRY_ASSIGN_OR_RETURN(nlohmann::json ignored, Post("/_sim/buckets", body));
  (void)ignored;
  return Status::Ok();
}

double SimRegion::CpuSeconds() const { return child_ ? ProcessCpuSeconds(child_->pid()) : 0; }

Result<TlsFiles> MakeSelfSignedCert(const std::string& dir) {
  std::filesystem::create_directories(dir);
  TlsFiles f{dir + "/sim-cert.pem", dir + "/sim-key.pem"};
  ChildOptions co;
  co.argv = {"openssl",
             "req",
             "-x509",
             "-newkey",
             "ec",
             "-pkeyopt",
             "ec_paramgen_curve:prime256v1",
             "-nodes",
             "-keyout",
             f.key,
             "-out",
             f.cert,
             "-days",
             "2",
             "-subj",
             "/CN=127.0.0.1",
             "-addext",
             "subjectAltName=IP:127.0.0.1"};
  co.log_path = dir + "/openssl.log";
  FERRY_ASSIGN_OR_RETURN(Usage u, RunToEnd(std::move(co), std::chrono::seconds(30)));
  if (!u.ok()) {
    return Status::Error(ErrorClass::kFatal, "openssl req failed: " + Tail(dir + "/openssl.log"));
  }
  return f;
}

}  // namespace ferry::bench
