#include "sim/admin_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "sim/faults.h"

namespace ferry::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

Result<nlohmann::json> AdminClient::Call(std::string_view method, std::string_view target,
                                         const std::string& body) {
  std::string where = "s3sim admin " + host_ + ":" + std::to_string(port_) + std::string(target);
  try {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    asio::ip::tcp::resolver resolver(ioc);
    stream.expires_after(timeout_);
    beast::error_code ec;
    auto results = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) return Status::Error(ErrorClass::kRetryable, where + ": " + ec.message());
    // Asynchronous operations with a deadline, run to completion here.
    stream.async_connect(results, [&](beast::error_code e, const auto&) { ec = e; });
    ioc.run();
    if (ec) return Status::Error(ErrorClass::kRetryable, where + ": connect: " + ec.message());
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, host_);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    ioc.restart();
    http::async_write(stream, req, [&](beast::error_code e, std::size_t) {
      ec = e;
      if (!e) http::async_read(stream, buf, res, [&](beast::error_code e2, std::size_t) { ec = e2; });
    });
    ioc.run();
    if (ec) return Status::Error(ErrorClass::kRetryable, where + ": " + ec.message());
    nlohmann::json j = res.body().empty() ? nlohmann::json::object()
                                          : nlohmann::json::parse(res.body(), nullptr, false);
    if (res.result_int() / 100 != 2) {
      ErrorInfo info;
      info.error_class = ErrorClass::kFatal;
      info.http_status = static_cast<int>(res.result_int());
      info.message = where + ": " + (j.is_object() ? j.value("error", res.body()) : res.body());
      return Status(std::move(info));
    }
    return j;
  } catch (const std::exception& e) {
    return Status::Error(ErrorClass::kFatal, where + ": " + e.what());
  }
}

Result<nlohmann::json> AdminClient::Get(std::string_view path_and_query) {
  return Call("GET", path_and_query, "");
}

Result<nlohmann::json> AdminClient::Post(std::string_view path, const nlohmann::json& body) {
  return Call("POST", path, body.dump());
}

Result<std::vector<nlohmann::json>> AdminClient::Log(std::uint64_t since) {
  FERRY_ASSIGN_OR_RETURN(nlohmann::json j, Get("/_sim/log?since=" + std::to_string(since)));
  std::vector<nlohmann::json> out;
  for (auto& e : j["entries"]) out.push_back(e);
  return out;
}

Status AdminClient::AddFault(std::string_view spec) {
  FERRY_ASSIGN_OR_RETURN(FaultRule rule, ParseFaultSpec(spec));
  nlohmann::json j = rule.ToJson();
  j.erase("injected");
  return AddFaults(nlohmann::json::array({j}));
}

Status AdminClient::AddFaults(const nlohmann::json& rules) {
  return Post("/_sim/faults", {{"faults", rules}}).status();
}

Status AdminClient::ClearFaults() { return Post("/_sim/faults", {{"clear", true}}).status(); }

Status AdminClient::SetSeed(std::uint64_t seed) { return Post("/_sim/faults", {{"seed", seed}}).status(); }

Status AdminClient::SetLink(std::uint32_t latency_ms, std::uint64_t bandwidth_bps) {
  return Post("/_sim/link", {{"latency_ms", latency_ms}, {"bandwidth", bandwidth_bps}}).status();
}

Status AdminClient::SetClockOffset(std::int64_t offset_ms) {
  return Post("/_sim/clock", {{"offset_ms", offset_ms}}).status();
}

Result<nlohmann::json> AdminClient::CreateSynthetic(const nlohmann::json& spec) {
  return Post("/_sim/synthetic", spec);
}

Status AdminClient::CreateBucket(std::string_view name) {
  return Post("/_sim/buckets", {{"name", name}}).status();
}

Status AdminClient::SetBucketEncryption(std::string_view bucket, std::string_view sse,
                                        std::string_view kms_key_id) {
  return Post("/_sim/bucket-encryption",
              {{"bucket", bucket}, {"sse", sse}, {"kms_key_id", kms_key_id}})
      .status();
}

Status AdminClient::ResetStats() { return Post("/_sim/reset-stats", nlohmann::json::object()).status(); }

}  // namespace ferry::sim
