// Object metadata <-> HTTP headers, both ways: the headers a PUT/COPY/CREATE
// sends for an ObjectMetadata, and the ObjectInfo read back from the headers
// of a HEAD or GET answer.
#pragma once

#include <string_view>

#include "protocols/base/status.h"
#include "protocols/http/client.h"
#include "protocols/s3/types.h"

namespace ferry::s3 {

// Appends Content-Type, Content-Encoding, Cache-Control, Content-Disposition,
// Content-Language, Expires, x-amz-meta-*, x-amz-storage-class and the
// server-side-encryption headers that are set in `meta`. Fails
// (kInvalidArgument) on a name or value that cannot go into a header
// (CR, LF, NUL; a metadata name that is not an HTTP token).
Status AppendMetadataHeaders(const ObjectMetadata& meta, http::Headers& out);

// Reads object information from answer headers. `size` is Content-Length,
// or the total from Content-Range ("bytes a-b/total") when present (206).
// A missing or malformed Content-Length is kRetryable (a damaged answer).
Result<ObjectInfo> ParseObjectInfo(const http::Headers& headers);

// True when `v` can be sent as a header value (no CR, LF or NUL).
bool IsValidHeaderValue(std::string_view v);

}  // namespace ferry::s3
