// TLS plumbing for the HTTP client: building the shared OpenSSL context from
// TlsOptions, preparing one connection (SNI, hostname check) and turning a
// failed handshake into a message that says why (OpenSSL's verify reason).
//
// REQUIRES: one context per Client, created before any connection; OpenSSL
// makes SSL_new on a shared context safe from many threads.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>

#include <openssl/ssl.h>

#include "protocols/base/status.h"
#include "protocols/http/client.h"

namespace ferry::http::internal {

// TLS 1.2+ client context. Fails with kInvalidArgument when the CA file or
// directory cannot be loaded.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const TlsOptions& options);

// Sets SNI (names only, never IP literals) and, when `verify`, the name or
// address the peer certificate must match. Returns false if OpenSSL refused.
bool PrepareTlsConnection(SSL* ssl, const std::string& host, bool verify);

// Classifies a failed handshake: certificate problems are kFatal (retrying
// cannot fix them) with OpenSSL's reason; transport problems are kRetryable.
Status TlsHandshakeError(SSL* ssl, const boost::system::error_code& ec,
                         const std::string& endpoint);

}  // namespace ferry::http::internal
