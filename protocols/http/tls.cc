// See tls.h.
#include "protocols/http/tls.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/x509_vfy.h>

namespace ferry::http::internal {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> MakeTlsContext(const TlsOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  // AES-128-GCM first, as Go's TLS and browsers order them on CPUs with AES
  // instructions: a full-strength AEAD at about 20% less CPU per byte than
  // OpenSSL's default first choice, AES-256-GCM. The server still decides
  // between the suites both sides offer.
  if (SSL_CTX_set_ciphersuites(ctx->native_handle(),
                               "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                               "TLS_CHACHA20_POLY1305_SHA256") != 1 ||
      SSL_CTX_set_cipher_list(ctx->native_handle(),
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "DEFAULT") != 1) {
    return Status::Error(ErrorClass::kFatal, "cannot set the TLS cipher preferences");
  }
  if (options.insecure_skip_verify) {
    ctx->set_verify_mode(ssl::verify_none, ec);
    return ctx;
  }
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (!options.ca_file.empty()) {
    ctx->load_verify_file(options.ca_file, ec);
    if (ec) {
      return Status::Error(ErrorClass::kInvalidArgument,
                           "cannot load TLS CA file \"" + options.ca_file + "\": " + ec.message());
    }
  }
  if (!options.ca_path.empty()) {
    ctx->add_verify_path(options.ca_path, ec);
    if (ec) {
      return Status::Error(
          ErrorClass::kInvalidArgument,
          "cannot use TLS CA directory \"" + options.ca_path + "\": " + ec.message());
    }
  }
  if (options.ca_file.empty() && options.ca_path.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) {
      return Status::Error(ErrorClass::kInvalidArgument,
                           "cannot load the system's default CA certificates: " + ec.message());
    }
  }
  return ctx;
}

bool PrepareTlsConnection(SSL* ssl, const std::string& host, bool verify) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  const bool is_ip = !ec;
  // RFC 6066: SNI carries host names only.
  if (!is_ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return false;
  if (!verify) return true;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  // OpenSSL's own check (rather than a verify callback) so that a mismatch
  // is reported as "hostname mismatch" by SSL_get_verify_result.
  if (is_ip) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  return SSL_set1_host(ssl, host.c_str()) == 1;
}

Status TlsHandshakeError(SSL* ssl, const boost::system::error_code& ec,
                         const std::string& endpoint) {
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return Status::Error(ErrorClass::kFatal, endpoint + ": TLS certificate verification failed: " +
                                                 X509_verify_cert_error_string(verify) + " (" +
                                                 ec.message() + ")");
  }
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    // Protocol-level refusal (no shared cipher, wrong version, not TLS at
    // all): the same server will refuse again.
    return Status::Error(ErrorClass::kFatal, endpoint + ": TLS handshake failed: " + ec.message());
  }
  return Status::Error(ErrorClass::kRetryable,
                       endpoint + ": TLS handshake failed: " + ec.message());
}

}  // namespace ferry::http::internal
