// Records stored in the manifest and their binary encoding.
//
// A value is one format byte followed by tagged fields (storage/manifest/
// encoding.h). The format byte changes only for an incompatible layout; new
// fields are added under new field numbers and old readers skip them, so a
// record written by a newer ferry of the same schema still decodes. Fields
// equal to their default are omitted, which keeps the many small object
// records small.
//
// Decode* take untrusted bytes: garbage yields an error Status (kFatal,
// "corrupt ... record"), never a crash or an out-of-range enum.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "protocols/base/status.h"

namespace ferry::manifest {

// Which (route, destination) pair a record belongs to. Both are the
// engine's stable names (e.g. the config route name and Target::id);
// non-empty, at most kMaxIdBytes each.
struct Scope {
  std::string route;
  std::string dest;

  bool operator==(const Scope&) const = default;
};

inline constexpr std::size_t kMaxIdBytes = 1024;
// Object keys: any bytes, 1..kMaxKeyBytes. S3 allows 1024; the slack is for
// backends with longer names (a file tree).
inline constexpr std::size_t kMaxKeyBytes = 4096;

// Where an object is in its replication life. Transitions are the engine's
// business; the manifest stores whatever it is given.
enum class ObjectState : std::uint8_t {
  kPending = 0,        // seen at the source, not yet at the destination
  kCopying = 1,        // a transfer is in progress
  kReplicated = 2,     // copied and verified at the destination
  kFailed = 3,         // last attempt failed; see attempts / last_error
  kDeletePending = 4,  // gone at the source; delete waits for policy/grace
  kDeleted = 5,        // deleted at the destination (tombstone)
};
inline constexpr std::uint8_t kMaxObjectState = 5;

// How ferry learned about the object.
enum class SeenBy : std::uint8_t { kListing = 0, kEvent = 1 };
inline constexpr std::uint8_t kMaxSeenBy = 1;

// How the destination copy was shown to equal the source.
enum class VerifiedBy : std::uint8_t {
  kNone = 0,
  kEtagMirror = 1,   // destination ETag equals source ETag (mirrored part layout)
  kChecksum = 2,     // CRC32C/CRC64NVME/SHA from the endpoint matched
  kContentHash = 3,  // XXH3-128 of what was written matched the source's
  kReadBack = 4,     // the destination object was read back and hashed
  kServerCopy = 5,   // server-side copy of an object verified earlier
  // An encrypted object (SSE-KMS, DSSE-KMS, SSE-C at either end: its ETag is
  // no MD5): every PUT/part checked by the destination against the
  // Content-MD5 (or CRC32C) ferry sent with it.
  kSseContentMd5 = 6,
};
inline constexpr std::uint8_t kMaxVerifiedBy = 6;

std::string_view ObjectStateName(ObjectState s);  // "pending", "delete_pending", ...
std::string_view SeenByName(SeenBy s);            // "listing", "event"
std::string_view VerifiedByName(VerifiedBy v);    // "none", "etag_mirror", ...

// The manifest's view of one object at one destination (objects CF).
// Times are milliseconds since the Unix epoch; 0 means "not known / not yet".
struct ObjectRecord {
  std::string source_etag;  // as the source reported it (quotes included if any)
  std::uint64_t size = 0;
  std::int64_t source_mtime_ms = 0;  // LastModified (or event time) at the source
  std::string content_hash;          // XXH3-128, 32 lower-case hex chars, or "" if unknown
  std::string dest_etag;
  ObjectState state = ObjectState::kPending;
  // When ferry first saw this version of the object. Kept across updates of
  // the same version (see CarryFirstSeen); reset only when the object changes.
  std::int64_t first_seen_ms = 0;
  SeenBy seen_by = SeenBy::kListing;
  VerifiedBy verified_by = VerifiedBy::kNone;
  std::int64_t replicated_at_ms = 0;
  std::uint32_t attempts = 0;
  std::string last_error;  // short; truncated to kMaxLastErrorBytes on encode
  // replicated_at_ms - source time, for the lag histogram (may be negative
  // with clock skew).
  std::int64_t lag_ms = 0;
  std::int64_t delete_seen_ms = 0;  // when ferry first saw it gone at the source

  bool operator==(const ObjectRecord&) const = default;
};

inline constexpr std::size_t kMaxLastErrorBytes = 512;

// True when both records describe the same version of the source object
// (same ETag and size). Content changes reset first_seen; updates do not.
bool SameSourceVersion(const ObjectRecord& a, const ObjectRecord& b);

// ENSURES: when `previous` is the same source version as *next and has a
// first_seen_ms, next->first_seen_ms == previous->first_seen_ms.
void CarryFirstSeen(const ObjectRecord& previous, ObjectRecord* next);

// One finished part of a multipart upload.
struct PartRecord {
  std::string etag;
  std::uint64_t size = 0;
  std::string xxh3;  // XXH3-128 of the part, hex; "" if not computed

  bool operator==(const PartRecord&) const = default;
};

inline constexpr std::uint32_t kMinPartNumber = 1;
inline constexpr std::uint32_t kMaxPartNumber = 10000;

// An open multipart upload to a destination (uploads CF).
struct UploadRecord {
  std::string upload_id;
  std::string source_etag;  // the source version being copied
  std::uint64_t size = 0;
  std::uint64_t part_size = 0;
  std::int64_t started_ms = 0;
  std::map<std::uint32_t, PartRecord> parts;  // part number -> finished part

  bool operator==(const UploadRecord&) const = default;
};

// Encoders never fail. Decoders: kFatal "corrupt <what> record: ..." on bad input.
std::string EncodeObjectRecord(const ObjectRecord& r);
Result<ObjectRecord> DecodeObjectRecord(std::string_view bytes);

// The upload header (everything but `parts`).
std::string EncodeUploadHeader(const UploadRecord& r);
Result<UploadRecord> DecodeUploadHeader(std::string_view bytes);

// A part value carries the upload id it belongs to, so a part that raced
// with the replacement of its upload is never attached to the new one.
std::string EncodePartRecord(std::string_view upload_id, const PartRecord& p);
Status DecodePartRecord(std::string_view bytes, std::string* upload_id, PartRecord* p);

}  // namespace ferry::manifest
