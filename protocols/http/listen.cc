#include "protocols/http/listen.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <charconv>

namespace ferry::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Fresh tries when a free port of the first address is taken in another family.
constexpr int kPortTries = 16;

Status Invalid(std::string_view listen, const std::string& why) {
  return Status::Error(ErrorClass::kInvalidArgument,
                       "listen address \"" + std::string(listen) + "\": " + why);
}

// IPv4 first, then IPv6; within a family by text. Duplicates removed.
std::vector<asio::ip::address> Ordered(std::vector<asio::ip::address> addrs) {
  std::sort(addrs.begin(), addrs.end(), [](const auto& a, const auto& b) {
    if (a.is_v4() != b.is_v4()) return a.is_v4();
    return a.to_string() < b.to_string();
  });
  addrs.erase(std::unique(addrs.begin(), addrs.end()), addrs.end());
  return addrs;
}

bool FamilyUnavailable(const boost::system::error_code& ec) {
  return ec == asio::error::address_family_not_supported ||
         ec == boost::system::errc::address_not_available;
}

// Opens, binds and listens one socket; `ec` says why not.
std::unique_ptr<tcp::acceptor> BindOne(const asio::any_io_executor& ex, const tcp::endpoint& ep,
                                       boost::system::error_code& ec) {
  auto acc = std::make_unique<tcp::acceptor>(asio::make_strand(ex));
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && ep.address().is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return nullptr;
  return acc;
}

}  // namespace

Result<std::pair<std::string, std::uint16_t>> SplitListenAddress(std::string_view listen) {
  auto bad = [&](const char* why) { return Invalid(listen, why); };
  std::string_view host, port;
  if (listen.starts_with('[')) {
    auto close = listen.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    host = listen.substr(1, close - 1);
    if (close + 1 >= listen.size() || listen[close + 1] != ':') return bad("missing :port");
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) return bad("missing :port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("IPv6 hosts need [brackets]");
  }
  if (host.empty()) return bad("empty host");
  unsigned value = 0;
  auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || value > 65535) {
    return bad("port must be 0-65535");
  }
  return std::make_pair(std::string(host), static_cast<std::uint16_t>(value));
}

Result<std::vector<std::string>> SystemResolve(const std::string& host) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  boost::system::error_code ec;
  // No address_configured: a loopback-only machine must still get both of
  // localhost's addresses; an unusable family is skipped at bind time.
  auto results = resolver.resolve(host, "0", tcp::resolver::passive, ec);
  if (ec) return Status::Error(ErrorClass::kInvalidArgument, ec.message());
  std::vector<std::string> out;
  for (const auto& entry : results) out.push_back(entry.endpoint().address().to_string());
  return out;
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  const std::string host = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(ep.port());
}

Result<Listeners> BindListeners(asio::any_io_executor ex, std::string_view listen,
                                const ListenResolver& resolve) {
  FERRY_ASSIGN_OR_RETURN(auto hp, SplitListenAddress(listen));
  const auto& [host, requested_port] = hp;
  std::vector<asio::ip::address> addrs;
  boost::system::error_code ec;
  auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    addrs.push_back(literal);
  } else if (host.find(':') != std::string::npos) {
    return Invalid(listen, "invalid IPv6 address");
  } else {
    // A name (e.g. "localhost"): resolved once, at start.
    auto names = resolve ? resolve(host) : SystemResolve(host);
    if (!names.ok()) {
      return Invalid(listen,
                     "cannot resolve host \"" + host + "\": " + names.status().error().message);
    }
    for (const std::string& n : *names) {
      auto a = asio::ip::make_address(n, ec);
      if (ec) return Invalid(listen, "resolver gave a malformed address \"" + n + "\"");
      addrs.push_back(a);
    }
    if (addrs.empty()) return Invalid(listen, "host \"" + host + "\" resolves to no address");
  }
  addrs = Ordered(std::move(addrs));

  for (int attempt = 0; attempt < kPortTries; ++attempt) {
    Listeners out;
    out.port = requested_port;
    bool retry = false;
    for (const auto& addr : addrs) {
      tcp::endpoint ep(addr, out.port);
      auto acc = BindOne(ex, ep, ec);
      if (!acc) {
        if (FamilyUnavailable(ec)) {
          out.skipped.push_back(addr.to_string() + " (" + ec.message() + ")");
          continue;
        }
        // Our kernel-chosen port is taken in this address's family: start over.
        if (requested_port == 0 && !out.acceptors.empty() && ec == asio::error::address_in_use) {
          retry = true;
          break;
        }
        return Status::Error(ErrorClass::kFatal, "cannot listen on " + std::string(listen) + " (" +
                                                     FormatEndpoint(ep) + "): " + ec.message());
      }
      out.port = acc->local_endpoint().port();
      out.addresses.push_back(FormatEndpoint(acc->local_endpoint()));
      out.acceptors.push_back(std::move(acc));
    }
    if (retry) continue;  // `out` closes what it bound
    if (out.acceptors.empty()) {
      return Status::Error(ErrorClass::kFatal, "cannot listen on " + std::string(listen) +
                                                   ": no address of this family here (" +
                                                   out.skipped.front() + ")");
    }
    return out;
  }
  return Status::Error(ErrorClass::kFatal, "cannot listen on " + std::string(listen) +
                                               ": no port free on all of its addresses after " +
                                               std::to_string(kPortTries) + " tries");
}

}  // namespace ferry::http
