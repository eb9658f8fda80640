// Client::Create and the pooled client behind it (see client.h).
//
// Send leases a slot from the pool, runs the exchange on the connection's
// strand and returns the slot, with the connection when it is still good.
// The one transparent resend lives here: a reused keep-alive connection that
// the server had already closed fails before any response byte, and the
// request goes once more on a fresh connection.
#include "protocols/http/client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>

#include "protocols/http/exchange.h"
#include "protocols/http/pool.h"
#include "protocols/http/tls.h"

namespace ferry::http {

std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return std::nullopt;
}

namespace internal {
namespace {

namespace asio = boost::asio;

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// Refuses requests that would corrupt the request line or headers. Names the
// offending header, never its value.
Status ValidateRequest(const Request& request) {
  if (request.target.empty() || request.target.front() != '/' ||
      std::any_of(request.target.begin(), request.target.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return Status::Error(ErrorClass::kInvalidArgument,
                         "HTTP request target must start with '/' and be percent-encoded");
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreakOrNul(name) || name.find_first_of(" :") != std::string::npos) {
      return Status::Error(ErrorClass::kInvalidArgument, "bad HTTP header name");
    }
    if (HasLineBreakOrNul(value)) {
      return Status::Error(ErrorClass::kInvalidArgument,
                           "HTTP header " + name + " has a line break in its value");
    }
  }
  return Status::Ok();
}

// Returns a leased slot to the pool whatever way Send leaves.
struct Lease {
  std::shared_ptr<ConnectionPool> pool;
  std::unique_ptr<Connection> conn;
  bool reusable = false;
  ~Lease() { pool->Release(std::move(conn), reusable); }
};

class PooledClient final : public Client, public std::enable_shared_from_this<PooledClient> {
 public:
  PooledClient(asio::any_io_executor executor, Url endpoint, ClientOptions options,
               std::shared_ptr<asio::ssl::context> tls)
      : executor_(std::move(executor)),
        url_(std::move(endpoint)),
        endpoint_(url_.ToString()),
        options_(std::move(options)),
        tls_(std::move(tls)),
        pool_(std::make_shared<ConnectionPool>(options_.max_connections, options_.idle_timeout,
                                               endpoint_)) {
    options_.io_buffer_size = std::max<std::size_t>(options_.io_buffer_size, 4096);
    params_.url = &url_;
    params_.endpoint = &endpoint_;
    params_.io_buffer_size = options_.io_buffer_size;
    params_.connect_timeout = options_.connect_timeout;
    params_.verify_tls = !options_.tls.insecure_skip_verify;
    params_.connections_opened = &connections_opened_;
  }
  ~PooledClient() override { pool_->Shutdown(); }

  io::Task<Result<Response>> Send(Request request, ResponseOptions options) override;

  const Url& endpoint() const override { return url_; }

  ClientStats stats() const override {
    ClientStats s;
    s.connections_opened = connections_opened_.load();
    s.exchanges = exchanges_.load();
    s.reused = reused_.load();
    s.idle = pool_->idle();
    s.leased = pool_->leased();
    return s;
  }

  void Shutdown() override { pool_->Shutdown(); }

 private:
  std::unique_ptr<Connection> NewConnection() {
    return std::make_unique<Connection>(executor_, tls_.get());
  }

  io::Task<ExchangeOutcome> RunOn(Connection& conn, const Request& request,
                                  const ResponseOptions& options) {
    return asio::co_spawn(conn.strand(), RunExchange(conn, params_, request, options),
                          asio::use_awaitable);
  }

  const asio::any_io_executor executor_;
  const Url url_;
  const std::string endpoint_;
  ClientOptions options_;
  const std::shared_ptr<asio::ssl::context> tls_;  // null for http://
  const std::shared_ptr<ConnectionPool> pool_;
  ExchangeParams params_;
  std::atomic<std::uint64_t> connections_opened_{0};
  std::atomic<std::uint64_t> exchanges_{0};
  std::atomic<std::uint64_t> reused_{0};
};

io::Task<Result<Response>> PooledClient::Send(Request request, ResponseOptions options) {
  auto self = shared_from_this();  // pool and connections outlive this call
  try {
    FERRY_CO_RETURN_IF_ERROR(ValidateRequest(request).WithContext(endpoint_, "", ""));
    exchanges_.fetch_add(1);
    FERRY_CO_ASSIGN_OR_RETURN(std::unique_ptr<Connection> pooled,
                              co_await pool_->Acquire(request.deadline));
    Lease lease{pool_, std::move(pooled)};
    const bool reused = lease.conn != nullptr;
    if (reused) {
      reused_.fetch_add(1);
    } else {
      lease.conn = NewConnection();
    }
    // In flight from the lease on: waiting for the server, not for the pool.
    struct InFlight {
      std::shared_ptr<Activity> activity;
      explicit InFlight(std::shared_ptr<Activity> a) : activity(std::move(a)) {
        if (activity) activity->Began();
      }
      ~InFlight() {
        if (activity) activity->Ended();
      }
    } in_flight(request.activity);
    ExchangeOutcome out = co_await RunOn(*lease.conn, request, options);
    if (!out.result.ok() && reused && out.peer_closed_early &&
        (request.body == nullptr || request.body->Rewind().ok())) {
      lease.conn = NewConnection();  // closes the dead one first
      out = co_await RunOn(*lease.conn, request, options);
    }
    lease.reusable = out.reusable;
    // Transport errors name the endpoint in their message; source and sink
    // errors come back exactly as the caller's objects reported them.
    co_return std::move(out.result);
  } catch (const std::exception& e) {
    co_return Status::Error(ErrorClass::kFatal,
                            endpoint_ + ": internal error in HTTP client: " + e.what())
        .WithContext(endpoint_, "", "");
  }
}

}  // namespace
}  // namespace internal

Result<std::shared_ptr<Client>> Client::Create(boost::asio::any_io_executor executor, Url endpoint,
                                               ClientOptions options) {
  if (endpoint.host.empty() || endpoint.port == 0) {
    return Status::Error(ErrorClass::kInvalidArgument, "HTTP client needs a parsed endpoint URL");
  }
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (endpoint.tls) {
    FERRY_ASSIGN_OR_RETURN(tls, internal::MakeTlsContext(options.tls));
  }
  return std::shared_ptr<Client>(std::make_shared<internal::PooledClient>(
      std::move(executor), std::move(endpoint), std::move(options), std::move(tls)));
}

}  // namespace ferry::http
