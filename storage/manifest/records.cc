#include "storage/manifest/records.h"

#include "storage/manifest/encoding.h"

namespace ferry::manifest {
namespace {

using encoding::FieldReader;
using encoding::FieldWriter;

// The first byte of every value. Bump only for a layout old readers cannot
// skip through; adding a field never needs it.
constexpr char kFormatV1 = 1;

// Field numbers: never reuse or renumber one.
enum ObjectField : std::uint32_t {
  kObjSourceEtag = 1,
  kObjSize = 2,
  kObjSourceMtime = 3,
  kObjContentHash = 4,
  kObjDestEtag = 5,
  kObjState = 6,
  kObjFirstSeen = 7,
  kObjSeenBy = 8,
  kObjVerifiedBy = 9,
  kObjReplicatedAt = 10,
  kObjAttempts = 11,
  kObjLastError = 12,
  kObjLag = 13,
  kObjDeleteSeen = 14,
};

enum UploadField : std::uint32_t {
  kUpUploadId = 1,
  kUpSourceEtag = 2,
  kUpSize = 3,
  kUpPartSize = 4,
  kUpStarted = 5,
};

enum PartField : std::uint32_t {
  kPartUploadId = 1,
  kPartEtag = 2,
  kPartSize = 3,
  kPartXxh3 = 4,
};

Status Corrupt(std::string_view what, std::string_view why) {
  return Status::Error(ErrorClass::kFatal,
                       "corrupt " + std::string(what) + " record: " + std::string(why));
}

// Checks the format byte and returns the fields that follow it.
Result<std::string_view> Body(std::string_view bytes, std::string_view what) {
  if (bytes.empty()) return Corrupt(what, "empty value");
  if (bytes[0] != kFormatV1) {
    return Corrupt(what, "unknown record format " +
                             std::to_string(static_cast<unsigned char>(bytes[0])) +
                             " (this ferry reads format 1)");
  }
  return bytes.substr(1);
}

// Each copies the current field into *dst; false when its wire type is not
// the one this reader expects.
bool ReadString(const FieldReader& f, std::string* dst) {
  if (f.is_varint()) return false;
  *dst = f.string();
  return true;
}
bool ReadU64(const FieldReader& f, std::uint64_t* dst) {
  if (!f.is_varint()) return false;
  *dst = f.varint();
  return true;
}
bool ReadI64(const FieldReader& f, std::int64_t* dst) {
  if (!f.is_varint()) return false;
  *dst = f.signed_varint();
  return true;
}
bool WantVarint(const FieldReader& f) { return f.is_varint(); }

// Cuts at a UTF-8 character boundary so a truncated message stays valid text.
std::string_view TruncateUtf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

}  // namespace

std::string_view ObjectStateName(ObjectState s) {
  switch (s) {
    case ObjectState::kPending:
      return "pending";
    case ObjectState::kCopying:
      return "copying";
    case ObjectState::kReplicated:
      return "replicated";
    case ObjectState::kFailed:
      return "failed";
    case ObjectState::kDeletePending:
      return "delete_pending";
    case ObjectState::kDeleted:
      return "deleted";
  }
  return "unknown";
}

std::string_view SeenByName(SeenBy s) {
  switch (s) {
    case SeenBy::kListing:
      return "listing";
    case SeenBy::kEvent:
      return "event";
  }
  return "unknown";
}

std::string_view VerifiedByName(VerifiedBy v) {
  switch (v) {
    case VerifiedBy::kNone:
      return "none";
    case VerifiedBy::kEtagMirror:
      return "etag_mirror";
    case VerifiedBy::kChecksum:
      return "checksum";
    case VerifiedBy::kContentHash:
      return "content_hash";
    case VerifiedBy::kReadBack:
      return "read_back";
    case VerifiedBy::kServerCopy:
      return "server_copy";
    case VerifiedBy::kSseContentMd5:
      return "sse_content_md5";
  }
  return "unknown";
}

bool SameSourceVersion(const ObjectRecord& a, const ObjectRecord& b) {
  return a.source_etag == b.source_etag && a.size == b.size;
}

void CarryFirstSeen(const ObjectRecord& previous, ObjectRecord* next) {
  if (previous.first_seen_ms != 0 && SameSourceVersion(previous, *next)) {
    next->first_seen_ms = previous.first_seen_ms;
  }
}

std::string EncodeObjectRecord(const ObjectRecord& r) {
  std::string out(1, kFormatV1);
  FieldWriter w(&out);
  if (!r.source_etag.empty()) w.String(kObjSourceEtag, r.source_etag);
  if (r.size != 0) w.Varint(kObjSize, r.size);
  if (r.source_mtime_ms != 0) w.Signed(kObjSourceMtime, r.source_mtime_ms);
  if (!r.content_hash.empty()) w.String(kObjContentHash, r.content_hash);
  if (!r.dest_etag.empty()) w.String(kObjDestEtag, r.dest_etag);
  if (r.state != ObjectState::kPending) w.Varint(kObjState, static_cast<std::uint64_t>(r.state));
  if (r.first_seen_ms != 0) w.Signed(kObjFirstSeen, r.first_seen_ms);
  if (r.seen_by != SeenBy::kListing) w.Varint(kObjSeenBy, static_cast<std::uint64_t>(r.seen_by));
  if (r.verified_by != VerifiedBy::kNone) {
    w.Varint(kObjVerifiedBy, static_cast<std::uint64_t>(r.verified_by));
  }
  if (r.replicated_at_ms != 0) w.Signed(kObjReplicatedAt, r.replicated_at_ms);
  if (r.attempts != 0) w.Varint(kObjAttempts, r.attempts);
  if (!r.last_error.empty())
    w.String(kObjLastError, TruncateUtf8(r.last_error, kMaxLastErrorBytes));
  if (r.lag_ms != 0) w.Signed(kObjLag, r.lag_ms);
  if (r.delete_seen_ms != 0) w.Signed(kObjDeleteSeen, r.delete_seen_ms);
  return out;
}

Result<ObjectRecord> DecodeObjectRecord(std::string_view bytes) {
  constexpr std::string_view kWhat = "object";
  FERRY_ASSIGN_OR_RETURN(std::string_view body, Body(bytes, kWhat));
  ObjectRecord r;
  FieldReader f(body);
  while (f.Next()) {
    bool wire_ok = true;
    switch (f.field()) {
      case kObjSourceEtag:
        wire_ok = ReadString(f, &r.source_etag);
        break;
      case kObjSize:
        wire_ok = ReadU64(f, &r.size);
        break;
      case kObjSourceMtime:
        wire_ok = ReadI64(f, &r.source_mtime_ms);
        break;
      case kObjContentHash:
        wire_ok = ReadString(f, &r.content_hash);
        break;
      case kObjDestEtag:
        wire_ok = ReadString(f, &r.dest_etag);
        break;
      case kObjState:
        if (!WantVarint(f) || f.varint() > kMaxObjectState) return Corrupt(kWhat, "bad state");
        r.state = static_cast<ObjectState>(f.varint());
        break;
      case kObjFirstSeen:
        wire_ok = ReadI64(f, &r.first_seen_ms);
        break;
      case kObjSeenBy:
        if (!WantVarint(f) || f.varint() > kMaxSeenBy) return Corrupt(kWhat, "bad seen_by");
        r.seen_by = static_cast<SeenBy>(f.varint());
        break;
      case kObjVerifiedBy:
        if (!WantVarint(f) || f.varint() > kMaxVerifiedBy) {
          return Corrupt(kWhat, "bad verified_by");
        }
        r.verified_by = static_cast<VerifiedBy>(f.varint());
        break;
      case kObjReplicatedAt:
        wire_ok = ReadI64(f, &r.replicated_at_ms);
        break;
      case kObjAttempts:
        if (!WantVarint(f) || f.varint() > UINT32_MAX) return Corrupt(kWhat, "bad attempts");
        r.attempts = static_cast<std::uint32_t>(f.varint());
        break;
      case kObjLastError:
        wire_ok = ReadString(f, &r.last_error);
        break;
      case kObjLag:
        wire_ok = ReadI64(f, &r.lag_ms);
        break;
      case kObjDeleteSeen:
        wire_ok = ReadI64(f, &r.delete_seen_ms);
        break;
      default:
        break;  // a field from a newer ferry: skip
    }
    if (!wire_ok)
      return Corrupt(kWhat, "field " + std::to_string(f.field()) + " has the wrong type");
  }
  if (!f.ok()) return Corrupt(kWhat, "malformed field encoding");
  return r;
}

std::string EncodeUploadHeader(const UploadRecord& r) {
  std::string out(1, kFormatV1);
  FieldWriter w(&out);
  w.String(kUpUploadId, r.upload_id);
  if (!r.source_etag.empty()) w.String(kUpSourceEtag, r.source_etag);
  if (r.size != 0) w.Varint(kUpSize, r.size);
  if (r.part_size != 0) w.Varint(kUpPartSize, r.part_size);
  if (r.started_ms != 0) w.Signed(kUpStarted, r.started_ms);
  return out;
}

Result<UploadRecord> DecodeUploadHeader(std::string_view bytes) {
  constexpr std::string_view kWhat = "upload";
  FERRY_ASSIGN_OR_RETURN(std::string_view body, Body(bytes, kWhat));
  UploadRecord r;
  FieldReader f(body);
  while (f.Next()) {
    bool wire_ok = true;
    switch (f.field()) {
      case kUpUploadId:
        wire_ok = ReadString(f, &r.upload_id);
        break;
      case kUpSourceEtag:
        wire_ok = ReadString(f, &r.source_etag);
        break;
      case kUpSize:
        wire_ok = ReadU64(f, &r.size);
        break;
      case kUpPartSize:
        wire_ok = ReadU64(f, &r.part_size);
        break;
      case kUpStarted:
        wire_ok = ReadI64(f, &r.started_ms);
        break;
      default:
        break;
    }
    if (!wire_ok)
      return Corrupt(kWhat, "field " + std::to_string(f.field()) + " has the wrong type");
  }
  if (!f.ok()) return Corrupt(kWhat, "malformed field encoding");
  if (r.upload_id.empty()) return Corrupt(kWhat, "no upload id");
  return r;
}

std::string EncodePartRecord(std::string_view upload_id, const PartRecord& p) {
  std::string out(1, kFormatV1);
  FieldWriter w(&out);
  w.String(kPartUploadId, upload_id);
  if (!p.etag.empty()) w.String(kPartEtag, p.etag);
  if (p.size != 0) w.Varint(kPartSize, p.size);
  if (!p.xxh3.empty()) w.String(kPartXxh3, p.xxh3);
  return out;
}

Status DecodePartRecord(std::string_view bytes, std::string* upload_id, PartRecord* p) {
  constexpr std::string_view kWhat = "part";
  FERRY_ASSIGN_OR_RETURN(std::string_view body, Body(bytes, kWhat));
  *p = PartRecord{};
  upload_id->clear();
  FieldReader f(body);
  while (f.Next()) {
    bool wire_ok = true;
    switch (f.field()) {
      case kPartUploadId:
        wire_ok = ReadString(f, upload_id);
        break;
      case kPartEtag:
        wire_ok = ReadString(f, &p->etag);
        break;
      case kPartSize:
        wire_ok = ReadU64(f, &p->size);
        break;
      case kPartXxh3:
        wire_ok = ReadString(f, &p->xxh3);
        break;
      default:
        break;
    }
    if (!wire_ok)
      return Corrupt(kWhat, "field " + std::to_string(f.field()) + " has the wrong type");
  }
  if (!f.ok()) return Corrupt(kWhat, "malformed field encoding");
  if (upload_id->empty()) return Corrupt(kWhat, "no upload id");
  return Status::Ok();
}

}  // namespace ferry::manifest
