// Endpoint URLs: "http://host:port[/base]" or "https://host[:port][/base]".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/base/status.h"

namespace ferry::http {

struct Url {
  bool tls = false;        // https
  std::string host;        // name or IP literal (IPv6 without brackets)
  std::uint16_t port = 0;  // defaulted from the scheme when absent
  std::string base_path;   // "" or "/prefix" (no trailing slash)

  // "host" or "host:port" as sent in the Host header (port omitted when it is
  // the scheme's default; IPv6 literals bracketed).
  std::string HostHeader() const;
  // "https://host:port/base"
  std::string ToString() const;

  // Accepts http and https only; rejects user-info, query and fragment.
  static Result<Url> Parse(std::string_view text);
};

}  // namespace ferry::http
