// Listen addresses: parsing "host:port", resolving a host name, and binding
// one listening socket per address, all on one port.
//
// A literal address ("127.0.0.1:9464", "[::1]:0", "0.0.0.0:9464") binds that
// address. A host name ("localhost:9464") binds EVERY address the name
// resolves to: Debian's /etc/hosts maps `localhost` to both 127.0.0.1 and
// ::1, and a client may try either. The addresses are deduplicated and bound
// in a fixed order (IPv4 before IPv6, then by text), so what is reported is
// the same from run to run. IPv6 sockets are v6-only, so `[::]:P` and
// `0.0.0.0:P` are separate listeners that can coexist.
//
// Port 0 with several addresses: the first address gets a free port from the
// kernel and every other address is bound to that same port; when the port
// is taken in another family, all are closed and binding starts again (a
// bounded number of tries). An address whose family the machine lacks
// (EAFNOSUPPORT, EADDRNOTAVAIL, e.g. ::1 on a host without IPv6) is skipped
// and reported, as long as one address binds; any other failure fails the
// whole bind, naming the address.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/base/status.h"
#include "protocols/http/server.h"  // ListenResolver

namespace ferry::http {

// The system resolver (getaddrinfo, passive, every family).
Result<std::vector<std::string>> SystemResolve(const std::string& host);

// "127.0.0.1:80", "[::1]:80".
std::string FormatEndpoint(const boost::asio::ip::tcp::endpoint& ep);

struct Listeners {
  // Listening, each on its own strand of the executor given to BindListeners.
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors;
  std::vector<std::string> addresses;  // FormatEndpoint of each acceptor, same order
  std::vector<std::string> skipped;    // "::1 (reason)": family not available here
  std::uint16_t port = 0;              // the one port every acceptor listens on
};

// Binds and listens on `listen` as described above. Errors: kInvalidArgument
// for a malformed address or a name that does not resolve, kFatal when an
// address cannot be bound. `resolve` empty = SystemResolve.
Result<Listeners> BindListeners(boost::asio::any_io_executor ex, std::string_view listen,
                                const ListenResolver& resolve = {});

}  // namespace ferry::http
