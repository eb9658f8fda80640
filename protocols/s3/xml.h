// S3 XML bodies: parsing the answers the client needs and building the
// request bodies it sends.
//
// Parsers never crash on outside input: a malformed, truncated or oversized
// body is kRetryable (a damaged answer; asking again may work), a
// well-formed document that is not the expected S3 element is kFatal (the
// endpoint is not S3, e.g. a proxy's HTML page), and an <Error> document
// (which S3 may send with status 200) becomes the Status it describes.
// Keys come back raw: with <EncodingType>url</EncodingType> they are
// URL-decoded ('+' is a space there, as S3 writes it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocols/base/status.h"
#include "protocols/s3/types.h"

namespace ferry::s3::xml {

// Larger bodies are refused before parsing.
inline constexpr std::size_t kMaxBodyBytes = 32u << 20;

Result<ListObjectsV2Result> ParseListObjectsV2(std::string_view body);
// Returns the upload id.
Result<std::string> ParseInitiateMultipartUpload(std::string_view body);
// An empty <ETag></ETag> (Ceph RGW 16) gives an empty `etag`: the upload is
// complete and the caller must learn the ETag otherwise (HEAD).
Result<PutResult> ParseCompleteMultipartUpload(std::string_view body);
// CopyObjectResult (CopyObject) or CopyPartResult (UploadPartCopy).
Result<PutResult> ParseCopyResult(std::string_view body);
Result<ListPartsResult> ParseListParts(std::string_view body);
// `undeclared`: see UploadKeys (types.h).
Result<ListUploadsResult> ParseListMultipartUploads(std::string_view body,
                                                    UploadKeys undeclared = UploadKeys::kAsDeclared);
// The per-key failures of a DeleteObjects call (empty: all deleted).
Result<std::vector<DeleteError>> ParseDeleteResult(std::string_view body);

// <CompleteMultipartUpload> with the parts in the order given (S3 wants
// ascending part numbers; the caller orders them).
std::string BuildCompleteMultipartUpload(const std::vector<CompletedPart>& parts);
// <Delete> with <Quiet>true</Quiet> when `quiet` (only failures reported).
std::string BuildDelete(const std::vector<std::string>& keys, bool quiet);
// <CreateBucketConfiguration><LocationConstraint>region...
std::string BuildCreateBucketConfiguration(std::string_view region);

// Text escaped for XML element content; control characters (CR, LF, TAB and
// the rest below 0x20) become character references so they survive parsing.
std::string Escape(std::string_view text);
// Removes the surrounding double quotes of an ETag, if any.
std::string UnquoteEtag(std::string_view etag);

}  // namespace ferry::s3::xml
