// Value checks used by the config parser: S3 bucket names, key prefixes,
// endpoint URLs, listen addresses, names; and text helpers for messages
// (quoting, "did you mean"). Internal to engine/config.
//
// Each Check* returns "" when the value is fine, otherwise a reason that can
// follow the value in a message ("must be 3 to 63 characters"). Reasons never
// repeat the value itself, so callers decide whether it may be shown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/config.h"

namespace ferry::config::internal {

std::string CheckBucketName(std::string_view name);
std::string CheckPrefix(std::string_view prefix);      // valid UTF-8, ≤ 1024 bytes
std::string CheckRouteName(std::string_view name);     // [a-z0-9-_], 1..63
std::string CheckEndpointName(std::string_view name);  // [A-Za-z0-9._-], 1..63

// "http(s)://host[:port][/base]". Rejects user-info, query and fragment.
// The same rules as ferry::http::Url::Parse (protocols/http/url.h), kept
// here so that engine/config needs neither the HTTP library nor Boost; the
// daemon parses EndpointUrl::text with Url::Parse again when it builds the
// client.
// `why` is set on failure; it never contains the text (user-info may hold a
// password).
bool ParseEndpointUrl(std::string_view text, EndpointUrl* out, std::string* why);
// "host:port" or "[v6]:port"; port 0..65535.
bool ParseListen(std::string_view text, std::string* host, std::uint16_t* port, std::string* why);

bool IsValidUtf8(std::string_view s);

// The closest candidate when it is close enough to be a likely typo, else "".
std::string_view Suggest(std::string_view word, const std::vector<std::string_view>& candidates);
std::string Join(const std::vector<std::string_view>& items, std::string_view sep);

// A double-quoted YAML/JSON-compatible string: escapes '"', '\\' and control
// characters; UTF-8 is kept as is. `max_bytes` > 0 cuts long values ("...").
std::string Quote(std::string_view s, size_t max_bytes = 0);

}  // namespace ferry::config::internal
