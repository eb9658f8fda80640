#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "protocols/control/server.h"

namespace ferry::control {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

Status ConnectError(const std::string& path, const boost::system::error_code& ec) {
  if (ec == asio::error::not_found || ec == boost::system::errc::no_such_file_or_directory) {
    return Status::Error(ErrorClass::kNotFound,
                         "no control socket at " + path + " (is ferryd running?)");
  }
  if (ec == asio::error::access_denied || ec == boost::system::errc::permission_denied) {
    return Status::Error(ErrorClass::kAuth, "permission denied on control socket " + path +
                                                " (ferryd's group may use it)");
  }
  if (ec == asio::error::connection_refused) {
    return Status::Error(ErrorClass::kRetryable,
                         "nothing listens on control socket " + path + " (stale socket file?)");
  }
  return Status::Error(ErrorClass::kRetryable,
                       "cannot connect to control socket " + path + ": " + ec.message());
}

io::Task<Result<Response>> CallAsync(std::string path, std::string line) {
  local::socket sock(co_await asio::this_coro::executor);
  auto [cec] = co_await sock.async_connect(local::endpoint(path), kTuple);
  if (cec) co_return ConnectError(path, cec);
  auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(line), kTuple);
  if (wec) {
    co_return Status::Error(ErrorClass::kRetryable,
                            "control socket " + path + ": send failed: " + wec.message());
  }
  std::string buf;
  auto [rec, n] = co_await asio::async_read_until(
      sock, asio::dynamic_buffer(buf, kMaxResponseLine + 1), '\n', kTuple);
  if (rec == asio::error::not_found) {
    co_return Status::Error(ErrorClass::kInvalidArgument,
                            "control socket " + path + ": response line too long");
  }
  if (rec) {
    co_return Status::Error(
        ErrorClass::kRetryable,
        "control socket " + path + ": connection closed before a response (" + rec.message() + ")");
  }
  auto parsed = ParseResponse(std::string_view(buf.data(), n - 1));
  if (!parsed.ok()) co_return parsed.status().Annotate("control socket " + path);
  co_return std::move(parsed).value();
}

}  // namespace

Result<Response> Call(const std::string& socket_path, const Request& request,
                      std::chrono::milliseconds timeout) {
  if (socket_path.size() >= 108) {
    return Status::Error(ErrorClass::kInvalidArgument,
                         "control socket path too long: " + socket_path);
  }
  asio::io_context ioc;
  auto result = std::make_shared<std::optional<Result<Response>>>();
  asio::co_spawn(ioc, CallAsync(socket_path, RenderRequest(request) + "\n"),
                 [result](std::exception_ptr e, Result<Response> r) {
                   if (e) {
                     *result =
                         Status::Error(ErrorClass::kFatal, "control call failed unexpectedly");
                   } else {
                     *result = std::move(r);
                   }
                 });
  ioc.run_for(timeout);
  if (!result->has_value()) {
    return Status::Error(ErrorClass::kRetryable, "control socket " + socket_path +
                                                     ": no response within " +
                                                     std::to_string(timeout.count()) + " ms");
  }
  return std::move(**result);
}

}  // namespace ferry::control
