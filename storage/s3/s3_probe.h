// Start-up probes of an S3 server: what it really does with HEAD
// ?partNumber=N and with x-amz-checksum-crc32c, instead of what AWS does.
//
// With write access (a destination), under `prefix`:
//  - checksum_crc32c: a PUT whose x-amz-checksum-crc32c is wrong must be
//    refused (400), and a PUT with the right one must have it returned by HEAD
//    with x-amz-checksum-mode: ENABLED. A server that accepts the wrong one
//    ignores the header (Ceph RGW 16, s3rver); one that checks but does not
//    return it cannot prove a copy either. Both count as false.
//  - head_part_number: a two-part upload (min_part_size + 1 byte), then HEAD
//    ?partNumber=1 must answer for part 1 alone (its length, and
//    x-amz-mp-parts-count 2). A whole-object answer (Ceph RGW 16) is false.
//  Probe objects are named `prefix` + ".ferry-probe-<random>" (top-level
//  objects under the prefix: a Velero location rejects unknown top-level
//  folders, not objects) and deleted at once; an upload that fails halfway
//  is aborted.
// Read-only (a source): head_part_number from the first multipart object of
// the first listing page under `prefix`; undecided when there is none.
//
// A probe never fails: a step the server answers with an error other than
// the ones above leaves that capability undecided, with a note.
#pragma once

#include "protocols/s3/client.h"
#include "storage/backend.h"

namespace ferry::storage {

Task<ProbeResult> ProbeS3(s3::Client& client, const Capabilities& assumed, ProbeOptions opts);

}  // namespace ferry::storage
