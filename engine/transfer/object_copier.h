// ObjectCopier: the transfer state machine for one object to one destination.
//
//   kHeadSource → kCheckDestination → (kSkip | kServerCopy | kDedupCopy |
//   kPut | kMultipart) → kVerify → done
//
// A server-side copy (kServerCopy between buckets of one endpoint, or
// kDedupCopy from an identical replica) above the destination's single-copy
// limit (5 GiB) is a multipart upload of UploadPartCopy ranges (If-Match on
// the source ETag), in the source's part layout when it is known, parts in
// parallel and journaled like any multipart upload; no byte passes through
// ferry.
//
// Multipart streams ranged GETs (If-Match on the source ETag) into leases
// from the shared BufferPool and UploadParts out of them, many parts in
// flight; memory is bounded by the pool, never by object size. Every finished
// part is journaled (durably) before the next remote step, so a restart
// resumes the upload (confirmed with ListParts) and re-sends only unfinished
// parts. The source's part layout is mirrored when HEAD ?partNumber=1 reveals
// it, which makes the destination ETag equal the source ETag.
//
// Verification, in order of preference: the mirrored ETag (kEtagMirror);
// the source's CRC32C (x-amz-checksum-crc32c, when the source endpoint has
// the checksum_crc32c capability) against the CRC32C of the bytes read,
// combined over the parts (or, for a COMPOSITE source whose layout was
// mirrored, the CRC of the part CRCs) (kChecksum); the part MD5s the
// destination confirmed plus the XXH3 content hash (kContentHash); and a
// read-back when configured. A destination with checksum_crc32c also gets
// x-amz-checksum-crc32c on every PUT/UploadPart, which it checks itself.
// A checksum mismatch aborts the upload and restarts the object (like a
// source that changed): the replica is never accepted.
//
// A source object that changes mid-copy (412 on If-Match) restarts the
// object, at most `max_restarts` times. The first error of any part cancels
// the rest. Retries go through WithRetry and the endpoints' pacers.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "engine/transfer/buffer_pool.h"
#include "engine/transfer/journal.h"
#include "engine/transfer/retry.h"
#include "storage/backend.h"

namespace ferry::engine {

enum class CopyAction { kSkipped, kServerCopy, kDedupCopy, kPut, kMultipart };
std::string_view CopyActionName(CopyAction a);

// How the replica was shown to hold the source's bytes.
enum class VerifiedBy {
  kNone,
  kEtagMirror,   // destination ETag equals the source ETag (same MD5s, same layout)
  kChecksum,     // the source's CRC32C equals the CRC32C of the bytes read and sent
  kContentHash,  // every part arrived intact (Content-MD5 or a CRC32C the destination checked)
  kServerCopy,   // server-side copy with If-Match on the source ETag
  kReadBack,     // destination re-read and hashed
  kManifest,     // unchanged since an earlier verified copy (skip)
  // An encrypted object (SSE-KMS, DSSE-KMS or SSE-C at the source or the
  // destination), whose ETag is no MD5: every PUT and part was checked by
  // the destination against the Content-MD5 (or CRC32C) ferry sent with it.
  kSseContentMd5,
};
std::string_view VerifiedByName(VerifiedBy v);

struct TransferSettings {
  std::uint64_t part_size = 16ull << 20;
  std::uint64_t multipart_threshold = 16ull << 20;
  int parts_in_flight_per_object = 16;
  RetryPolicy retry;
  std::chrono::milliseconds buffer_wait{600'000};  // waiting for pool memory
  int max_restarts = 3;                            // source changed mid-copy
  bool read_back = false;                          // verify by re-reading the replica
};

struct TransferCounters {
  std::atomic<std::uint64_t> bytes_read{0};     // from sources
  std::atomic<std::uint64_t> bytes_written{0};  // to destinations (parts and PUTs)
  std::atomic<std::uint64_t> parts_uploaded{0};
  std::atomic<std::uint64_t> parts_resumed{0};
  std::atomic<std::uint64_t> restarts{0};
  // Inferred part layouts (Layout::inferred) the part ETags disproved.
  std::atomic<std::uint64_t> layouts_misguessed{0};
};

struct Side {
  storage::Backend* backend = nullptr;
  Pacer* pacer = nullptr;
};

struct CopyRequest {
  Side src;
  std::string src_key;
  Side dst;
  std::string dst_key;
  TransferJournal* journal = nullptr;  // may be null: no resume, no dedup
  bool read_back = false;              // also verify by re-reading the replica
  // verify: checksum. The copy must be verified by the mirrored ETag or the
  // CRC32C; one that only the content hash verifies fails (kInvalidArgument).
  bool require_checksum = false;
  // verify: etag. The replica's ETag must equal the source's (a single-part
  // source is sent by one PUT, a multipart one in its mirrored layout); a
  // copy that cannot show that (an encrypted object, a layout that could not
  // be learned) fails (kInvalidArgument).
  bool require_etag = false;
  // From the planner's listings: the source object as listed (its ETag and
  // size; an empty ETag when there was no listing, e.g. an event), and
  // whether the destination's listing, read without error up to this key,
  // lacks it. A new object small enough for one PUT then costs two requests:
  // a GET pinned to the listed ETag (If-Match), whose answer carries the
  // metadata and encryption a HEAD would, and the PUT. Ignored after a
  // restart (the source changed since it was listed).
  storage::ObjectSummary listed;
  bool absent_at_destination = false;
};

struct CopyOutcome {
  CopyAction action = CopyAction::kSkipped;
  VerifiedBy verified_by = VerifiedBy::kNone;
  std::string src_etag;
  std::string dst_etag;
  std::uint64_t size = 0;
  storage::ObjectInfo source;  // as HEAD saw it (metadata, mtime)
  std::string content_hash;    // hex XXH3-128 (of the object, or of its part hashes)
  int parts = 0;
  std::uint64_t part_size = 0;  // multipart only
  int parts_resumed = 0;
};

class ObjectCopier {
 public:
  ObjectCopier(BufferPool& pool, TransferSettings settings, TransferCounters& counters)
      : pool_(pool), settings_(settings), counters_(counters) {}

  // Copies src_key to dst_key. kNotFound when the source is gone.
  io::Task<Result<CopyOutcome>> Copy(CopyRequest req);

  const TransferSettings& settings() const { return settings_; }

 private:
  struct Layout {
    std::uint64_t part_size = 0;
    int parts = 0;
    bool mirrored = false;
    // Mirrored from the source ETag's part count and the object's size (the
    // source ignores HEAD ?partNumber): a guess the combined part ETags
    // confirm before Complete, or the object is sent again unmirrored.
    bool inferred = false;
  };
  // A multipart upload to continue: the journaled upload of this very
  // source version and part size with the parts it finished (journaled and
  // listed alike), or a new one (a stale journaled upload aborted first).
  // With `send_crc`, an upload begun without CRC32C is not continued: its
  // parts cannot take one.
  struct OpenedUpload {
    std::string upload_id;
    struct Finished {
      storage::PartInfo listed;
      JournalPart journaled;
    };
    std::map<int, Finished> finished;
  };
  io::Task<Result<OpenedUpload>> OpenUpload(const CopyRequest& req, const CopyOutcome& out,
                                            std::uint64_t part_size, bool send_crc);
  // `hints`: trust CopyRequest::listed and absent_at_destination.
  io::Task<Result<CopyOutcome>> CopyOnce(const CopyRequest& req, bool hints);
  // Whether the listing tells all a HEAD of the source would (a small
  // object copied by one GET and one PUT; see CopyRequest::listed).
  bool ListingSuffices(const CopyRequest& req) const;
  // `buffered`: the parts pass through the buffer pool (so none may exceed
  // its capacity); false for UploadPartCopy, whose bytes never reach ferry.
  // `infer`: where HEAD ?partNumber cannot show the source's layout, guess
  // it (InferPartSize).
  io::Task<Result<Layout>> ChooseLayout(const CopyRequest& req, const storage::ObjectInfo& src,
                                        bool buffered = true, bool infer = true);
  io::Task<Result<CopyOutcome>> ServerCopy(const CopyRequest& req, CopyOutcome out,
                                           storage::CopySourceRef from, CopyAction action);
  // Server-side copy of an object above the single-copy limit: a multipart
  // upload of UploadPartCopy ranges of `from` (object_part_copy.cc).
  io::Task<Result<CopyOutcome>> PartCopy(const CopyRequest& req, CopyOutcome out,
                                         storage::CopySourceRef from, CopyAction action);
  // `from_get`: out.source is only the listing's; the GET's answer fills it.
  io::Task<Result<CopyOutcome>> SinglePut(const CopyRequest& req, CopyOutcome out,
                                          bool from_get = false);
  io::Task<Result<CopyOutcome>> Multipart(const CopyRequest& req, CopyOutcome out,
                                          bool infer = true);
  io::Task<Status> ReadBack(const CopyRequest& req, const CopyOutcome& out);
  // The read-back step and the verify: checksum requirement, at the end of a copy.
  io::Task<Result<CopyOutcome>> FinishVerify(const CopyRequest& req, CopyOutcome out);

  // Whether the destination `dst` returned MD5 ETags for the last part or
  // object written there (learned from the answers' encryption headers):
  // until it is known to, a multipart copy computes its own part MD5s.
  enum class Learned { kUnknown, kMd5, kOpaque };
  Learned DestinationEtags(const storage::Backend* dst);
  void LearnDestinationEtags(const storage::Backend* dst, bool md5);

  BufferPool& pool_;
  TransferSettings settings_;
  TransferCounters& counters_;
  std::mutex learned_mu_;
  std::map<const storage::Backend*, bool> learned_md5_;  // GUARDED_BY(learned_mu_)
};

// Metadata carried from source to destination: content headers and user
// metadata; not storage class or encryption (destination settings).
storage::Metadata CarriedMetadata(const storage::ObjectInfo& src);
// "<etag>:<size>", the dedup identity of a source object's content.
std::string ContentId(const std::string& etag, std::uint64_t size);
// ETag of a multipart object from its parts' raw MD5s: hex(md5(concat))-N.
std::string MultipartEtag(const std::string& concatenated_md5s, int parts);
// A kRetryable error about `key` (a mismatch that a second try may cure).
Status RetryableAt(std::string message, const std::string& key);
// The part size a writer most likely cut an object of `size` bytes into `n`
// parts with, when nothing shows it (HEAD ?partNumber ignored): S3 writers
// cut whole MiB (AWS CLI 8, the AWS Go SDK and rclone 5, minio-go multiples
// of 16), so the common sizes first, then the smallest whole-MiB size that
// gives exactly `n` parts; nullopt when none does.
std::optional<std::uint64_t> InferPartSize(std::uint64_t size, int n);
// A full-object CRC32C ("base64", not "base64-N"), parsed; nullopt otherwise.
std::optional<std::uint32_t> FullObjectCrc32c(const std::string& value);
// True when an object encrypted as `e` on an endpoint with `caps` has an
// MD5-based ETag (plain MD5, or md5(part MD5s)-N): the endpoint says its
// ETags are MD5s and the object is unencrypted or SSE-S3.
bool EtagIsMd5(const storage::Capabilities& caps, s3::Encryption e);
// A checksum mismatch: kPrecondition so that Copy starts the object over.
Status ChecksumMismatch(std::string message, const std::string& key);

}  // namespace ferry::engine
