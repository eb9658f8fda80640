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
  }
  return "unknown";
}

storage::Metadata CarriedMetadata(const storage::ObjectInfo& src) {
  storage::Metadata m = src.metadata;
  m.storage_class.clear();
  m.sse.clear();
  m.sse_kms_key_id.clear();
  return m;
}

std::string ContentId(const std::string& etag, std::uint64_t size) {
  return etag + ":" + std::to_string(size);
}

std::string MultipartEtag(const std::string& concatenated_md5s, int parts) {
  return digest::ToHex(digest::Md5(concatenated_md5s)) + "-" + std::to_string(parts);
}

int EtagParts(const std::string& etag) {
  auto dash = etag.rfind('-');
  if (dash == std::string::npos || dash + 1 >= etag.size()) return 0;
  int n = 0;
  for (std::size_t i = dash + 1; i < etag.size(); ++i) {
    if (etag[i] < '0' || etag[i] > '9' || n > 100000) return 0;
    n = n * 10 + (etag[i] - '0');
  }
  return n;
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
    Result<CopyOutcome> r = co_await CopyOnce(req);
    // 412 from the source: it changed while we copied. Start over with the
    // new version (the journaled upload no longer matches and is replaced).
    if (r.ok() || !r.status().Is(ErrorClass::kPrecondition) || restart >= settings_.max_restarts) {
      co_return r;
    }
    counters_.restarts.fetch_add(1);
  }
}

io::Task<Result<CopyOutcome>> ObjectCopier::CopyOnce(const CopyRequest& req) {
  storage::Backend& src = *req.src.backend;
  storage::Backend& dst = *req.dst.backend;
  CopyOutcome out;

  // kHeadSource: the listing or event is only a hint.
  FERRY_CO_ASSIGN_OR_RETURN(
      out.source, co_await WithRetry(settings_.retry, *req.src.pacer, [&]() {
        return src.Head(req.src_key, storage::HeadOptions());
      }));
  out.src_etag = out.source.etag;
  out.size = out.source.size;

  // kCheckDestination: same content already there?
  auto dst_head = co_await WithRetry(settings_.retry, *req.dst.pacer,
                                     [&]() { return dst.Head(req.dst_key, storage::HeadOptions()); });
  if (!dst_head.ok() && !dst_head.status().Is(ErrorClass::kNotFound)) co_return dst_head.status();
  if (dst_head.ok() && dst_head->size == out.size) {
    bool same = dst_head->etag == out.src_etag;
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
    if (!fits_one_copy) co_return co_await PartCopy(req, out, from, CopyAction::kServerCopy);
    co_return co_await ServerCopy(req, out, from, CopyAction::kServerCopy);
  }

  // kDedupCopy: identical content already at this destination.
  if (req.journal != nullptr && dcaps.server_side_copy && (fits_one_copy || dcaps.multipart) &&
      out.size > 0) {
    for (const std::string& other : req.journal->FindContent(ContentId(out.src_etag, out.size))) {
      if (other == req.dst_key) continue;
      auto h = co_await WithRetry(settings_.retry, *req.dst.pacer,
                                  [&]() { return dst.Head(other, storage::HeadOptions()); });
      if (!h.ok() || h->size != out.size) continue;
      storage::CopySourceRef from;
      from.key = other;
      from.if_match = h->etag;
      if (fits_one_copy) {
        auto r = co_await ServerCopy(req, out, from, CopyAction::kDedupCopy);
        if (r.ok()) co_return r;
      } else {
        auto r = co_await PartCopy(req, out, from, CopyAction::kDedupCopy);
        if (r.ok()) co_return r;
      }
    }
  }

  if (out.size <= settings_.multipart_threshold || !dcaps.multipart) {
    co_return co_await SinglePut(req, std::move(out));
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
  // Only where both ends use MD5 ETags does a plain-MD5 source ETag predict
  // the replica's.
  if (dst.capabilities().etag_is_md5 && req.src.backend->capabilities().etag_is_md5 &&
      IsPlainMd5(out.src_etag) && landed.etag != out.src_etag) {
    co_return RetryableAt("server-side copy ETag " + landed.etag + " differs from source " +
                           out.src_etag,
                       req.dst_key);
  }
  out.action = action;
  out.dst_etag = landed.etag.empty() ? put.etag : landed.etag;
  out.verified_by = VerifiedBy::kServerCopy;
  co_return co_await FinishVerify(req, std::move(out));
}

io::Task<Result<CopyOutcome>> ObjectCopier::SinglePut(const CopyRequest& req, CopyOutcome out) {
  storage::Backend& src = *req.src.backend;
  storage::Backend& dst = *req.dst.backend;
  const std::size_t size = static_cast<std::size_t>(out.size);
  FERRY_CO_ASSIGN_OR_RETURN(BufferPool::Lease lease,
                            co_await pool_.Acquire(size, Clock::now() + settings_.buffer_wait));
  std::span<char> buf = lease.data();
  std::string md5;
  const bool send_crc = dst.capabilities().checksum_crc32c;
  const std::optional<std::uint32_t> src_crc = FullObjectCrc32c(out.source.crc32c());
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
    md5 = digest::Md5(std::string_view(buf.data(), size));
    // A plain-MD5 ETag lets us check the bytes we read against the source.
    if (IsPlainMd5(out.src_etag) && digest::ToHex(md5) != out.src_etag) {
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
        if (r.ok() && dst.capabilities().etag_is_md5 && r->etag != md5_hex) {
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
  out.verified_by = IsPlainMd5(out.src_etag) ? VerifiedBy::kEtagMirror
                    : src_crc                 ? VerifiedBy::kChecksum
                                              : VerifiedBy::kContentHash;
  co_return co_await FinishVerify(req, std::move(out));
}

}  // namespace ferry::engine
