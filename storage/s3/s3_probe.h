// Start-up probes of an S3 server: what it really does with HEAD
// ?partNumber=N, with x-amz-checksum-crc32c, with ETags and with
// ListMultipartUploads' key encoding, instead of what AWS does.
//
// With write access (a destination), under `prefix`:
//  - checksum_crc32c: a PUT whose x-amz-checksum-crc32c is wrong must be
//    refused (400), and a PUT with the right one must have it returned by HEAD
//    with x-amz-checksum-mode: ENABLED. A server that accepts the wrong one
//    ignores the header (Ceph RGW 16, s3rver); one that checks but does not
//    return it cannot prove a copy either. Both count as false.
//  - etag_is_md5: a small PUT's ETag must be the MD5 of its bytes, and the
//    two-part upload's (below) the MD5 of its part MD5s with "-2". An
//    SSE-KMS or SSE-C answer (a bucket's default encryption) leaves it
//    undecided: such ETags are never MD5s, whatever the server.
//  - head_part_number: a two-part upload (min_part_size + 1 byte), then HEAD
//    ?partNumber=1 must answer for part 1 alone (its length, and
//    x-amz-mp-parts-count 2). A whole-object answer (Ceph RGW 16) is false.
//  - uploads_encoded_undeclared: while that upload is open (its key has a
//    space and a '+'), ListMultipartUploads with encoding-type=url must name
//    it as sent or declare <EncodingType>url</EncodingType>. URL-encoded
//    without the declaration (Ceph RGW 16) is true.
//  Probe objects are named `prefix` + ".ferry-probe-<random>" (top-level
//  objects under the prefix: a Velero location rejects unknown top-level
//  folders, not objects) and deleted at once; an upload that fails halfway
//  is aborted.
// Read-only (a source): head_part_number from the first multipart object of
// the first listing page under `prefix`, etag_is_md5 from the first small
// single-part object there (read whole, at most 1 MiB); undecided when there
// is none.
//
// A probe never fails: a step the server answers with an error other than
// the ones above leaves that capability undecided, with a note.
#pragma once

#include "protocols/s3/client.h"
#include "storage/backend.h"

namespace ferry::storage {

Task<ProbeResult> ProbeS3(s3::Client& client, const Capabilities& assumed, ProbeOptions opts);

}  // namespace ferry::storage
