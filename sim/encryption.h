// Server-side encryption as s3sim models it: what a write asks for
// (x-amz-server-side-encryption: AES256 | aws:kms | aws:kms:dsse, or SSE-C
// customer-key headers), a bucket's default encryption applied to every
// object written without its own, and what that means for ETags and reads:
//
//   - unencrypted and SSE-S3 (AES256) objects have MD5 ETags;
//   - SSE-KMS, DSSE-KMS and SSE-C objects have opaque ETags (32 hex digits,
//     different for every write; multipart ones still end in "-N");
//   - HEAD/GET/PUT/Create/UploadPart/Complete/Copy answers carry the
//     x-amz-server-side-encryption(-aws-kms-key-id | -customer-algorithm |
//     -customer-key-MD5) headers;
//   - an SSE-C object can be read (GET, HEAD, as a copy source) only with its
//     key: 400 without one, 403 with another. Keys are checked as AWS does
//     (AES256, 32 bytes base64, key-MD5 equal to the key's MD5).
// The bytes are stored as sent: nothing is really encrypted.
#pragma once

#include <string>

#include "protocols/base/status.h"
#include "sim/message.h"
#include "sim/store.h"

namespace ferry::sim {

struct Sse {
  std::string algorithm;           // "", "AES256", "aws:kms", "aws:kms:dsse"
  std::string kms_key_id;          // aws:kms*, "" = the account's default key
  std::string customer_algorithm;  // SSE-C: "AES256"
  std::string customer_key_md5;    // SSE-C: base64 MD5 of the key

  bool empty() const { return algorithm.empty() && customer_algorithm.empty(); }
  // True for unencrypted and SSE-S3 objects.
  bool EtagIsMd5() const {
    return customer_algorithm.empty() && (algorithm.empty() || algorithm == "AES256");
  }
};

// A bucket default must be AES256, aws:kms or aws:kms:dsse (400 InvalidArgument).
Status ValidateBucketEncryption(const Sse& sse);

// The SSE a write asks for (PUT, CreateMultipartUpload, CopyObject target):
// 400 InvalidArgument / InvalidEncryptionAlgorithmError for what AWS refuses.
Result<Sse> SseFromRequest(const SimRequest& req);
// What an object written with `requested` into a bucket whose default is
// `bucket_default` gets (its own settings win).
Sse ResolveSse(const Sse& requested, const Sse& bucket_default);

// Both: the SSE an object written by `req` into `bucket` gets.
Result<Sse> SseForWrite(const Store& store, const std::string& bucket, const SimRequest& req);

// The SSE recorded in stored metadata, and recording it there (replacing
// every SSE entry `m` had).
Sse SseOf(const Metadata& m);
void StoreSse(const Sse& sse, Metadata& m);

// An ETag for bytes whose MD5 is `md5_raw` stored with `sse`: the MD5 hex,
// or an opaque value for SSE-KMS/DSSE/SSE-C.
std::string EtagFor(const Sse& sse, const std::string& md5_raw);

// SSE-C: the request must carry the object's key (copy_source: the
// x-amz-copy-source-server-side-encryption-customer-* headers). OK for other
// objects.
Status CheckCustomerKey(const SimRequest& req, const Sse& object, bool copy_source);

// The encryption headers of an answer about an object (or part) with `sse`.
void AddSseHeaders(const Sse& sse, SimResponse& r);

}  // namespace ferry::sim
