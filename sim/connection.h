// One client connection: HTTP/1.1 keep-alive request loop on Boost.Beast,
// streaming request bodies into handlers and response bodies out of blobs,
// with per-connection bandwidth shaping and the transport side of fault
// injection (reset, truncate, flip). Every read and write has a deadline.
//
// REQUIRES: `svc` (and the TLS context) outlive the coroutine.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "protocols/base/body.h"
#include "sim/services.h"

namespace ferry::sim {

io::Task<void> ServeConnection(boost::asio::ip::tcp::socket socket, Services& svc);
io::Task<void> ServeTlsConnection(boost::asio::ip::tcp::socket socket,
                                  boost::asio::ssl::context& tls, Services& svc);

}  // namespace ferry::sim
