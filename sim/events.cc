#include "sim/events.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "protocols/s3/sigv4.h"
#include "sim/xml.h"

namespace ferry::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string EventKeyEncode(std::string_view key) {
  std::string enc = s3::UriEncode(key, false);
  std::string out;
  for (std::size_t i = 0; i < enc.size(); ++i) {
    if (enc.compare(i, 3, "%20") == 0) {
      out += '+';
      i += 2;
    } else {
      out += enc[i];
    }
  }
  return out;
}

std::string EventJson(const ObjectEvent& e, std::string_view region, std::uint64_t sequence) {
  char seq[24];
  std::snprintf(seq, sizeof seq, "%016llX", static_cast<unsigned long long>(sequence));
  nlohmann::json object = {{"key", EventKeyEncode(e.key)}, {"sequencer", seq}};
  if (e.name.starts_with("ObjectCreated")) {
    object["size"] = e.size;
    object["eTag"] = e.etag;
  }
  nlohmann::json rec = {
      {"eventVersion", "2.1"},
      {"eventSource", "aws:s3"},
      {"awsRegion", region},
      {"eventTime", Iso8601(e.time)},
      {"eventName", e.name},
      {"userIdentity", {{"principalId", "s3sim"}}},
      {"s3",
       {{"s3SchemaVersion", "1.0"},
        {"configurationId", "s3sim"},
        {"bucket", {{"name", e.bucket}, {"arn", "arn:aws:s3:::" + e.bucket}}},
        {"object", object}}}};
  return nlohmann::json{{"Records", nlohmann::json::array({rec})}}.dump();
}

Result<std::unique_ptr<EventNotifier>> EventNotifier::Create(asio::io_context& ioc, Services& svc,
                                                             const std::string& url,
                                                             std::string token,
                                                             std::size_t queue_limit) {
  std::string_view u = url;
  if (!u.starts_with("http://")) {
    return Status::Error(ErrorClass::kInvalidArgument,
                         "--event-webhook must be an http:// URL, got " + url);
  }
  u.remove_prefix(7);
  auto slash = u.find('/');
  std::string_view hostport = u.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "/" : std::string(u.substr(slash));
  auto colon = hostport.rfind(':');
  std::string host(hostport.substr(0, colon));
  std::string port = colon == std::string_view::npos ? "80" : std::string(hostport.substr(colon + 1));
  if (host.empty()) {
    return Status::Error(ErrorClass::kInvalidArgument, "--event-webhook has no host: " + url);
  }
  return std::make_unique<EventNotifier>(ioc, svc, host, port, path, std::move(token), queue_limit);
}

EventNotifier::EventNotifier(asio::io_context& ioc, Services& svc, std::string host,
                             std::string port, std::string path, std::string token,
                             std::size_t queue_limit)
    : ioc_(ioc),
      svc_(svc),
      host_(std::move(host)),
      port_(std::move(port)),
      path_(std::move(path)),
      token_(std::move(token)),
      limit_(queue_limit),
      wake_(asio::make_strand(ioc)) {}

void EventNotifier::Publish(ObjectEvent e) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    if (queue_.size() >= limit_) {
      svc_.stats.CountEvent("dropped");
      return;
    }
    queue_.push_back(EventJson(e, svc_.config.region, ++sequence_));
  }
  asio::post(wake_.get_executor(), [this] { wake_.cancel(); });
}

void EventNotifier::Start() { asio::co_spawn(wake_.get_executor(), Run(), asio::detached); }

void EventNotifier::Stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
}

io::Task<void> EventNotifier::Run() {
  for (;;) {
    std::string body;
    {
      std::lock_guard lock(mu_);
      if (stopped_) co_return;
      if (!queue_.empty()) {
        body = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    if (body.empty()) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(kTuple);
      continue;
    }
    bool ok = false;
    for (int attempt = 0; attempt < 4 && !ok; ++attempt) {
      if (attempt > 0) {
        svc_.stats.CountEvent("retried");
        asio::steady_timer backoff(co_await asio::this_coro::executor);
        backoff.expires_after(std::chrono::milliseconds(100 << attempt));
        co_await backoff.async_wait(kTuple);
      }
      ok = co_await PostOnce(body);
    }
    svc_.stats.CountEvent(ok ? "sent" : "failed");
  }
}

io::Task<bool> EventNotifier::PostOnce(const std::string& body) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(host_, port_, kTuple);
  if (rec) co_return false;
  beast::tcp_stream stream(ex);
  stream.expires_after(std::chrono::seconds(5));
  auto [cec, ep] = co_await stream.async_connect(results, kTuple);
  if (cec) co_return false;
  http::request<http::string_body> req{http::verb::post, path_, 11};
  req.set(http::field::host, host_ + ":" + port_);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "s3sim");
  if (!token_.empty()) req.set("X-Ferry-Token", token_);
  req.body() = body;
  req.prepare_payload();
  auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
  if (wec) co_return false;
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  auto [rdec, rn] = co_await http::async_read(stream, buf, parser, kTuple);
  if (rdec) co_return false;
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  unsigned status = parser.get().result_int();
  co_return status >= 200 && status < 300;
}

}  // namespace ferry::sim
