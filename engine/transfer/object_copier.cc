#include "engine/transfer/object_copier.h"

#include <algorithm>
#include <mutex>

#include "engine/transfer/parallel.h"
#include "protocols/base/crc32c.h"
#include "protocols/base/digest.h"

namespace ferry::engine {
namespace {

using Clock = std::chrono::steady_clock;

bool IsPlainMd5(const std::string& etag) {
  return etag.size() == 32 && etag.find('-') == std::string::npos;
}

}  // namespace

Status RetryableAt(std::string message, const std::string& key) {
  ErrorInfo e;
  e.error_class = ErrorClass::kRetryable;
  e.message = std::move(message);
  e.key = key;
  return Status(std::move(e));
}

std::string_view CopyActionName(CopyAction a) {
  switch (a) {
    case CopyAction::kSkipped: return "skipped";
    case CopyAction::kServerCopy: return "server-copy";
    case CopyAction::kDedupCopy: return "dedup-copy";
    case CopyAction::kPut: return "put";
    case CopyAction::kMultipart: return "multipart";
  }
  return "unknown";
}

std::string_view VerifiedByName(VerifiedBy v) {
  switch (v) {
    case VerifiedBy::kNone: return "none";
    case VerifiedBy::kEtagMirror: return "etag";
    case VerifiedBy::kChecksum: return "checksum";
    case VerifiedBy::kContentHash: return "part-md5";
    case VerifiedBy::kServerCopy: return "server-copy";
    case VerifiedBy::kReadBack: return "read-back";
    case VerifiedBy::kManifest: return "manifest";
    case VerifiedBy::kSseContentMd5: return "sse-content-md5";
  }
  return "unknown";
}

storage::Metadata CarriedMetadata(const storage::ObjectInfo& src) {
  storage::Metadata m = src.metadata;
  m.storage_class.clear();
  m.sse.clear();
  m.sse_kms_key_id.clear();
  m.sse_customer_algorithm.clear();
  return m;
}

bool EtagIsMd5(const storage::Capabilities& caps, s3::Encryption e) {
  return caps.etag_is_md5 && s3::EtagMayBeMd5(e);
}

ObjectCopier::Learned ObjectCopier::DestinationEtags(const storage::Backend* dst) {
  std::lock_guard lock(learned_mu_);
  auto it = learned_md5_.find(dst);
  if (it == learned_md5_.end()) return Learned::kUnknown;
  return it->second ? Learned::kMd5 : Learned::kOpaque;
}

void ObjectCopier::LearnDestinationEtags(const storage::Backend* dst, bool md5) {
  std::lock_guard lock(learned_mu_);
  learned_md5_[dst] = md5;
}

std::string ContentId(const std::string& etag, std::uint64_t size) {
  return etag + ":" + std::to_string(size);
}

std::string MultipartEtag(const std::string& concatenated_md5s, int parts) {
  return digest::ToHex(digest::Md5(concatenated_md5s)) + "-" + std::to_string(parts);
}

std::optional<std::uint32_t> FullObjectCrc32c(const std::string& value) {
  if (value.empty() || value.find('-') != std::string::npos) return std::nullopt;
  return crc32c::FromBase64(value);
}

Status ChecksumMismatch(std::string message, const std::string& key) {
  ErrorInfo e;
  e.error_class = ErrorClass::kPrecondition;
  e.message = std::move(message);
  e.key = key;
  return Status(std::move(e));
}

io::Task<Result<CopyOutcome>> ObjectCopier::FinishVerify(const CopyRequest& req,
                                                         CopyOutcome out) {
  if (settings_.read_back || req.read_back) {
    FERRY_CO_RETURN_IF_ERROR(co_await ReadBack(req, out));
    out.verified_by = VerifiedBy::kReadBack;
  } else if (req.require_etag && out.verified_by != VerifiedBy::kEtagMirror) {
    ErrorInfo e;
    e.error_class = ErrorClass::kInvalidArgument;
    e.message = "verify: etag, but the replica's ETag " + out.dst_etag +
                " does not equal the source's " + out.src_etag + " (verified only as " +
                std::string(VerifiedByName(out.verified_by)) +
                "; an encrypted object or a part layout that could not be mirrored)";
    e.key = req.src_key;
    co_return Status(std::move(e));
  } else if (req.require_checksum && out.verified_by != VerifiedBy::kEtagMirror &&
             out.verified_by != VerifiedBy::kChecksum &&
             out.verified_by != VerifiedBy::kServerCopy) {
    ErrorInfo e;
    e.error_class = ErrorClass::kInvalidArgument;
    e.message = "verify: checksum, but the copy could not be verified by a checksum (the source "
                "returned no usable x-amz-checksum-crc32c)";
    e.key = req.src_key;
    co_return Status(std::move(e));
  }
  co_return out;
}

io::Task<Result<CopyOutcome>> ObjectCopier::Copy(CopyRequest req) {
  for (int restart = 0;; ++restart) {
    Result<CopyOutcome> r = co_await CopyOnce(req, /*hints=*/restart == 0);
    // 412 from the source: it changed while we copied. Start over with the
    // new version (the journaled upload no longer matches and is replaced).
    if (r.ok() || !r.status().Is(ErrorClass::kPrecondition) || restart >= settings_.max_restarts) {
      co_return r;
    }
    counters_.restarts.fetch_add(1);
  }
}

bool ObjectCopier::ListingSuffices(const CopyRequest& req) const {
  const storage::Backend& src = *req.src.backend;
  const storage::Backend& dst = *req.dst.backend;
  const storage::ObjectSummary& l = req.listed;
  if (l.etag.empty() || l.size > settings_.multipart_threshold || l.size > pool_.capacity() ||
      l.size > dst.capabilities().max_single_put) {
    return false;
  }
  // A server-side copy carries metadata from the HEAD; a source with
  // checksums gives them to HEAD (x-amz-checksum-mode), not to this GET.
  const bool same_endpoint = !src.endpoint_id().empty() && src.endpoint_id() == dst.endpoint_id();
  if (same_endpoint || src.capabilities().checksum_crc32c) return false;
  // Identical content already at the destination: the dedup path decides.
  return req.journal == nullptr || l.size == 0 ||
         req.journal->FindContent(ContentId(l.etag, l.size)).empty();
}

io::Task<Result<CopyOutcome>> ObjectCopier::CopyOnce(const CopyRequest& req, bool hints) {
  storage::Backend& src = *req.src.backend;
  storage::Backend& dst = *req.dst.backend;
  CopyOutcome out;

  // kHeadSource: the listing or event is only a hint, except for a small
  // object (ListingSuffices) whose GET, pinned to the listed ETag, says the
  // rest.
  bool listed_only = hints && ListingSuffices(req);
  if (listed_only) {
    out.src_etag = req.listed.etag;
    out.size = req.listed.size;
    out.source.etag = req.listed.etag;
    out.source.size = req.listed.size;
    out.source.last_modified = req.listed.last_modified;
  } else {
    FERRY_CO_ASSIGN_OR_RETURN(
        out.source, co_await WithRetry(settings_.retry, *req.src.pacer, [&]() {
          return src.Head(req.src_key, storage::HeadOptions());
        }));
    out.src_etag = out.source.etag;
    out.size = out.source.size;
  }

  // kCheckDestination: same content already there? (Not where the
  // destination's listing already said the key is absent.)
  Result<storage::ObjectInfo> dst_head = Status::Error(ErrorClass::kNotFound, "not listed");
  if (!(hints && req.absent_at_destination)) {
    dst_head = co_await WithRetry(settings_.retry, *req.dst.pacer,
                                  [&]() { return dst.Head(req.dst_key, storage::HeadOptions()); });
  }
  if (!dst_head.ok() && !dst_head.status().Is(ErrorClass::kNotFound)) co_return dst_head.status();
  if (listed_only && dst_head.ok()) {
    // The destination has the key: whether it already holds these bytes
    // depends on the source's encryption, which only a HEAD says here.
    FERRY_CO_ASSIGN_OR_RETURN(
        out.source, co_await WithRetry(settings_.retry, *req.src.pacer, [&]() {
          return src.Head(req.src_key, storage::HeadOptions());
        }));
    out.src_etag = out.source.etag;
    out.size = out.source.size;
    listed_only = false;
  }
  if (dst_head.ok() && dst_head->size == out.size) {
    // Equal ETags mean equal bytes only where both are MD5s: never for an
    // encrypted (SSE-KMS, DSSE-KMS, SSE-C) object at either end.
    bool same = dst_head->etag == out.src_etag && s3::EtagMayBeMd5(out.source.encryption()) &&
                s3::EtagMayBeMd5(dst_head->encryption());
    bool known = !same && req.journal != nullptr &&
                 req.journal->KnownReplica(req.dst_key, out.src_etag, dst_head->etag);
    if (same || known) {
      out.action = CopyAction::kSkipped;
      out.verified_by = same ? VerifiedBy::kEtagMirror : VerifiedBy::kManifest;
      out.dst_etag = dst_head->etag;
      co_return out;
    }
  }

  // kServerCopy: same endpoint, the destination can read the source bucket.
  const auto& dcaps = dst.capabilities();
  // Above the single-copy limit: UploadPartCopy ranges (PartCopy).
  const bool fits_one_copy = out.size <= dcaps.max_single_put;
  if (dcaps.cross_bucket_copy && dcaps.server_side_copy && !src.endpoint_id().empty() &&
      src.endpoint_id() == dst.endpoint_id() && (fits_one_copy || dcaps.multipart)) {
    // Named, never a braced temporary: GCC 12 miscompiles those as coroutine
    // arguments (double destruction).
    storage::CopySourceRef from;
    from.bucket = src.bucket();
    from.key = req.src_key;
    from.if_match = out.src_etag;
    // verify: etag: a multipart source keeps its ETag only when copied in
    // its own part layout (CopyObject would give it a single-part ETag).
    const bool keep_layout = req.require_etag && s3::EtagPartCount(out.src_etag) > 0 && dcaps.multipart;
    if (!fits_one_copy || keep_layout) {
      co_return co_await PartCopy(req, out, from, CopyAction::kServerCopy);
    }
    co_return co_await ServerCopy(req, out, from, CopyAction::kServerCopy);
  }

  // kDedupCopy: identical content already at this destination. Each entry
  // names the ETag its object had when ferry wrote the content there; the
  // copy is conditional on it (If-Match on the HEAD, then
  // x-amz-copy-source-if-match), so an object overwritten since is never
  // copied in its place (412: the next entry, or a normal copy).
  if (req.journal != nullptr && dcaps.server_side_copy && (fits_one_copy || dcaps.multipart) &&
      out.size > 0 && !req.require_etag) {
    for (const ContentEntry& entry :
         req.journal->FindContent(ContentId(out.src_etag, out.size))) {
      if (entry.dst_key == req.dst_key) continue;
      storage::HeadOptions if_same;
      if_same.if_match = entry.dst_etag;
      auto h = co_await WithRetry(settings_.retry, *req.dst.pacer,
                                  [&]() { return dst.Head(entry.dst_key, if_same); });
      if (!h.ok() || h->size != out.size || h->etag != entry.dst_etag) continue;
      storage::CopySourceRef from;
      from.key = entry.dst_key;
      from.if_match = entry.dst_etag;
      if (fits_one_copy) {
        auto r = co_await ServerCopy(req, out, from, CopyAction::kDedupCopy);
        if (r.ok()) co_return r;
      } else {
        auto r = co_await PartCopy(req, out, from, CopyAction::kDedupCopy);
        if (r.ok()) co_return r;
      }
    }
  }

  // verify: etag: a single-part source keeps its ETag (its MD5) only when
  // sent by one PUT.
  const bool one_put_for_etag = req.require_etag && s3::EtagPartCount(out.src_etag) == 0 &&
                                out.size <= dcaps.max_single_put && out.size <= pool_.capacity();
  if (out.size <= settings_.multipart_threshold || !dcaps.multipart || one_put_for_etag) {
    co_return co_await SinglePut(req, std::move(out), listed_only);
  }
  co_return co_await Multipart(req, std::move(out));
}

io::Task<Result<CopyOutcome>> ObjectCopier::ServerCopy(const CopyRequest& req, CopyOutcome out,
                                                       storage::CopySourceRef from,
                                                       CopyAction action) {
  storage::Backend& dst = *req.dst.backend;
  storage::Metadata meta = CarriedMetadata(out.source);
  FERRY_CO_ASSIGN_OR_RETURN(
      storage::PutResult put, co_await WithRetry(settings_.retry, *req.dst.pacer, [&]() {
        return dst.Copy(from, req.dst_key, meta);
      }));
  // A copied multipart source gets a single-part ETag; a copied single-part
  // source keeps its MD5. Confirm what landed.
  FERRY_CO_ASSIGN_OR_RETURN(storage::ObjectInfo landed,
                            co_await WithRetry(settings_.retry, *req.dst.pacer, [&]() {
                              return dst.Head(req.dst_key, storage::HeadOptions());
                            }));
  if (landed.size != out.size) {
    co_return RetryableAt("server-side copy produced " + std::to_string(landed.size) +
                           " bytes, expected " + std::to_string(out.size),
                       req.dst_key);
  }
  // Only where both ends use MD5 ETags (endpoints that say so, objects not
  // encrypted with KMS or a customer key) does a plain-MD5 ETag predict the
  // replica's: the source's, or for a dedup copy the ETag the copied replica
  // was written with (a copy keeps a single-part object's MD5).
  const bool landed_md5 = EtagIsMd5(dst.capabilities(), landed.encryption());
  const bool src_md5 =
      EtagIsMd5(req.src.backend->capabilities(), out.source.encryption());
  const std::string& predicted = action == CopyAction::kDedupCopy && !src_md5 ? from.if_match
                                                                               : out.src_etag;
  if (landed_md5 && (src_md5 || action == CopyAction::kDedupCopy) && IsPlainMd5(predicted) &&
      landed.etag != predicted) {
    co_return RetryableAt("server-side copy ETag " + landed.etag + " differs from " + predicted,
                          req.dst_key);
  }
  // A CRC32C the destination computed must be the source's, where both have one.
  const auto landed_crc = FullObjectCrc32c(landed.crc32c());
  const auto src_crc = FullObjectCrc32c(out.source.crc32c());
  if (landed_crc && src_crc && *landed_crc != *src_crc) {
    co_return RetryableAt("server-side copy CRC32C " + landed.crc32c() + " differs from the " +
                              "source's " + out.source.crc32c(),
                          req.dst_key);
  }
  out.action = action;
  out.dst_etag = landed.etag.empty() ? put.etag : landed.etag;
  out.verified_by = landed_md5 && src_md5 && landed.etag == out.src_etag ? VerifiedBy::kEtagMirror
                                                                         : VerifiedBy::kServerCopy;
  co_return co_await FinishVerify(req, std::move(out));
}

io::Task<Result<CopyOutcome>> ObjectCopier::SinglePut(const CopyRequest& req, CopyOutcome out,
                                                      bool from_get) {
  storage::Backend& src = *req.src.backend;
  storage::Backend& dst = *req.dst.backend;
  const std::size_t size = static_cast<std::size_t>(out.size);
  FERRY_CO_ASSIGN_OR_RETURN(BufferPool::Lease lease,
                            co_await pool_.Acquire(size, Clock::now() + settings_.buffer_wait));
  std::span<char> buf = lease.data();
  std::string md5;
  const bool send_crc = dst.capabilities().checksum_crc32c;
  std::optional<std::uint32_t> src_crc = FullObjectCrc32c(out.source.crc32c());
  // An SSE-KMS/DSSE/SSE-C source ETag is no MD5: never compared with one.
  // (With `from_get`, known once the GET answers.)
  bool src_md5 =
      EtagIsMd5(src.capabilities(), out.source.encryption()) && IsPlainMd5(out.src_etag);
  bool landed_md5 = false;  // the PUT's answer says the replica's ETag is an MD5
  s3::Encryption landed_enc = s3::Encryption::kNone;
  std::uint32_t crc = 0;
  auto fetched = co_await WithRetry(settings_.retry, *req.src.pacer, [&]() -> io::Task<Status> {
    SpanSink sink(buf);
    storage::GetOptions opts;
    opts.if_match = out.src_etag;
    auto r = co_await src.Get(req.src_key, opts, sink);
    if (!r.ok()) co_return r.status();
    if (sink.written() != size) {
      co_return RetryableAt("source returned " + std::to_string(sink.written()) + " of " +
                             std::to_string(size) + " bytes",
                         req.src_key);
    }
    if (from_get) {
      // The answer of the GET pinned to the listed ETag stands in for HEAD.
      if (r->size != out.size || r->etag != out.src_etag) {
        ErrorInfo e;
        e.error_class = ErrorClass::kPrecondition;
        e.message = "source answered ETag " + r->etag + ", " + std::to_string(r->size) +
                    " bytes for the listed " + out.src_etag + ", " + std::to_string(out.size);
        e.key = req.src_key;
        co_return Status(std::move(e));
      }
      out.source = *r;
      src_crc = FullObjectCrc32c(out.source.crc32c());
      src_md5 = EtagIsMd5(src.capabilities(), out.source.encryption()) && IsPlainMd5(out.src_etag);
    }
    md5 = digest::Md5(std::string_view(buf.data(), size));
    // A plain-MD5 ETag lets us check the bytes we read against the source.
    if (src_md5 && digest::ToHex(md5) != out.src_etag) {
      co_return RetryableAt("bytes read do not match the source ETag (corrupted in transit)",
                         req.src_key);
    }
    if (send_crc || src_crc) crc = crc32c::Crc32c(std::string_view(buf.data(), size));
    if (src_crc && crc != *src_crc) {
      co_return RetryableAt("bytes read do not match the source's CRC32C (corrupted in transit)",
                            req.src_key);
    }
    co_return Status::Ok();
  });
  FERRY_CO_RETURN_IF_ERROR(fetched);
  counters_.bytes_read.fetch_add(size);
  std::string_view data(buf.data(), size);
  out.content_hash = digest::Xxh3_128Hex(data);

  storage::Metadata meta = CarriedMetadata(out.source);
  const std::string md5_hex = digest::ToHex(md5);
  FERRY_CO_ASSIGN_OR_RETURN(
      storage::PutResult put, co_await WithRetry(settings_.retry, *req.dst.pacer,
                                                 [&]() -> io::Task<Result<storage::PutResult>> {
        SpanSource body(data, md5);  // MD5 (and CRC32C) computed with the read above
        if (send_crc) body.set_crc32c(crc);
        auto r = co_await dst.Put(req.dst_key, body, meta);
        if (r.ok() && send_crc && !r->checksum_crc32c.empty() &&
            r->checksum_crc32c != crc32c::ToBase64(crc)) {
          co_return RetryableAt("destination CRC32C " + r->checksum_crc32c +
                                    " differs from the CRC32C sent",
                                req.dst_key);
        }
        // The Content-MD5 sent with the body was checked by the destination;
        // where its ETag is an MD5 too, it must be ours.
        if (r.ok()) landed_enc = r->encryption();
        landed_md5 = r.ok() && EtagIsMd5(dst.capabilities(), landed_enc);
        if (landed_md5 && r->etag != md5_hex) {
          co_return RetryableAt("destination ETag " + r->etag + " differs from the MD5 sent " +
                                 md5_hex,
                             req.dst_key);
        }
        co_return r;
      }));
  counters_.bytes_written.fetch_add(size);
  out.action = CopyAction::kPut;
  out.dst_etag = put.etag;
  out.parts = 1;
  if (dst.capabilities().etag_is_md5) LearnDestinationEtags(&dst, landed_md5);
  const bool encrypted =
      !s3::EtagMayBeMd5(out.source.encryption()) || !s3::EtagMayBeMd5(landed_enc);
  out.verified_by = src_md5 && !encrypted ? VerifiedBy::kEtagMirror
                    : src_crc             ? VerifiedBy::kChecksum
                    : encrypted           ? VerifiedBy::kSseContentMd5
                                          : VerifiedBy::kContentHash;
  co_return co_await FinishVerify(req, std::move(out));
}

}  // namespace ferry::engine
