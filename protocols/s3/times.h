// Timestamps in S3 answers: ISO 8601 in XML bodies ("2009-10-12T17:50:30.000Z")
// and HTTP-dates in headers ("Wed, 21 Oct 2015 07:28:00 GMT").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "protocols/base/status.h"

namespace ferry::s3 {

// Accepts "YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)". Fails with
// kInvalidArgument on anything else.
Result<std::chrono::system_clock::time_point> ParseIso8601(std::string_view s);
// "2009-10-12T17:50:30.123Z" (milliseconds, UTC), as S3 writes it.
std::string FormatIso8601(std::chrono::system_clock::time_point t);

// Accepts the three forms HTTP/1.1 allows: IMF-fixdate, RFC 850 and asctime.
Result<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view s);
// IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT".
std::string FormatHttpDate(std::chrono::system_clock::time_point t);

}  // namespace ferry::s3
