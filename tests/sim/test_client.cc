#include "tests/sim/test_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>

#include "protocols/base/digest.h"
#include "protocols/s3/sigv4.h"

namespace ferry::sim::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::string RawResponse::Code() const {
  auto a = body.find("<Code>");
  auto b = body.find("</Code>");
  if (a == std::string::npos || b == std::string::npos) return "";
  return body.substr(a + 6, b - a - 6);
}

RawResponse TestClient::Send(RequestSpec spec) {
  RawResponse out;
  std::string host = "127.0.0.1:" + std::to_string(port_);
  std::string target = spec.path;
  std::string q;
  for (const auto& [n, v] : spec.query) {
    q += (q.empty() ? "" : "&") + s3::UriEncode(n, true) + "=" + s3::UriEncode(v, true);
  }
  if (!q.empty()) target += "?" + q;
  http::request<http::string_body> req{http::string_to_verb(spec.method), target, 11};
  req.set(http::field::host, host);
  for (const auto& [n, v] : spec.headers) req.set(n, v);
  if (spec.sign) {
    s3::CanonicalInput in;
    in.method = spec.method;
    in.path = spec.path;
    in.query = spec.query;
    in.headers = {{"host", host}};
    for (const auto& h : spec.headers) in.headers.push_back(h);
    in.payload_hash = spec.payload_hash.empty() ? digest::Sha256Hex(spec.body) : spec.payload_hash;
    s3::SignedHeaders sh = s3::Sign(in, ak_, sk_, "", spec.when, s3::SigningOptions{});
    for (const auto& [n, v] : sh.add) req.set(n, v);
  }
  req.body() = spec.body;
  req.prepare_payload();

  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(20));
  beast::error_code ec;
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  if (ec) {
    out.error = "connect: " + ec.message();
    return out;
  }
  http::write(stream, req, ec);
  if (ec) {
    out.error = "write: " + ec.message();
    return out;
  }
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 32);
  if (spec.method == "HEAD") parser.skip(true);
  http::read(stream, buf, parser, ec);
  if (parser.is_header_done()) {
    out.status = static_cast<int>(parser.get().result_int());
    for (const auto& f : parser.get()) {
      std::string n(f.name_string());
      std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
      out.headers[n] = std::string(f.value());
    }
  }
  out.body = parser.get().body();
  if (ec) out.error = ec.message();
  return out;
}

RawResponse TestClient::Put(const std::string& key_path, const std::string& body) {
  RequestSpec s;
  s.method = "PUT";
  s.path = key_path;
  s.body = body;
  return Send(std::move(s));
}

RawResponse TestClient::Get(const std::string& key_path,
                            std::vector<std::pair<std::string, std::string>> headers) {
  RequestSpec s;
  s.path = key_path;
  s.headers = std::move(headers);
  return Send(std::move(s));
}

}  // namespace ferry::sim::testing
