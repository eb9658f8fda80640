// ObjectCopier's multipart server-side copy: objects above the single-copy
// limit copied between buckets of one endpoint (or from an identical
// replica) by UploadPartCopy, so no byte passes through ferry. Layout,
// journal and resume work as in the streaming multipart path
// (object_multipart.cc); see object_copier.h.
#include <algorithm>
#include <map>
#include <mutex>

#include "engine/transfer/object_copier.h"
#include "engine/transfer/parallel.h"

namespace ferry::engine {
namespace {

struct CopiedPart {
  std::string etag;
  std::uint64_t size = 0;
  std::string crc32c;  // base64, when the destination returned one
};

}  // namespace

io::Task<Result<CopyOutcome>> ObjectCopier::PartCopy(const CopyRequest& req, CopyOutcome out,
                                                     storage::CopySourceRef from,
                                                     CopyAction action) {
  storage::Backend& dst = *req.dst.backend;
  FERRY_CO_ASSIGN_OR_RETURN(Layout layout,
                            co_await ChooseLayout(req, out.source, /*buffered=*/false,
                                                         /*infer=*/false));
  const std::uint64_t size = out.size;
  const bool send_crc = dst.capabilities().checksum_crc32c;

  // Resume a journaled upload of this very source version and layout.
  FERRY_CO_ASSIGN_OR_RETURN(OpenedUpload opened,
                            co_await OpenUpload(req, out, layout.part_size, send_crc));
  const std::string upload_id = std::move(opened.upload_id);
  std::map<int, CopiedPart> done;
  for (const auto& [number, f] : opened.finished) {
    CopiedPart c;
    c.etag = f.listed.etag;
    c.size = f.listed.size;
    c.crc32c = f.listed.checksum_crc32c;
    done.emplace(number, std::move(c));
  }
  out.parts_resumed = static_cast<int>(done.size());
  counters_.parts_resumed.fetch_add(done.size());

  std::vector<int> todo;
  for (int p = 1; p <= layout.parts; ++p) {
    if (!done.count(p)) todo.push_back(p);
  }
  std::mutex mu;
  std::size_t next = 0;  // GUARDED_BY(mu)
  int workers = std::min<int>(settings_.parts_in_flight_per_object, static_cast<int>(todo.size()));
  Status parts_status = co_await RunParallel(
      workers, [&](int, ParallelControl& control) -> io::Task<Status> {
        for (;;) {
          int part;
          {
            std::lock_guard lock(mu);
            if (control.stop || next >= todo.size()) co_return Status::Ok();
            part = todo[next++];
          }
          const std::uint64_t offset = static_cast<std::uint64_t>(part - 1) * layout.part_size;
          const std::uint64_t len = std::min<std::uint64_t>(layout.part_size, size - offset);
          storage::CopySourceRef range = from;  // If-Match on the source ETag included
          range.range = storage::ByteRange{offset, len};
          FERRY_CO_ASSIGN_OR_RETURN(
              storage::PutResult put, co_await WithRetry(settings_.retry, *req.dst.pacer, [&]() {
                return dst.UploadPartCopy(req.dst_key, upload_id, part, range);
              }));
          if (put.etag.empty()) {
            co_return RetryableAt("UploadPartCopy of part " + std::to_string(part) +
                                      " returned no ETag",
                                  req.dst_key);
          }
          counters_.parts_uploaded.fetch_add(1);
          if (req.journal) {
            FERRY_CO_RETURN_IF_ERROR(
                req.journal->RecordPart(req.dst_key, upload_id, part, {put.etag, len, ""}));
          }
          std::lock_guard lock(mu);
          done.emplace(part, CopiedPart{put.etag, len, put.checksum_crc32c});
        }
      });
  FERRY_CO_RETURN_IF_ERROR(parts_status);

  std::vector<storage::CompletedPart> parts;
  for (const auto& [number, p] : done) {
    storage::CompletedPart cp;
    cp.part_number = number;
    cp.etag = p.etag;
    if (send_crc) cp.checksum_crc32c = p.crc32c;
    parts.push_back(std::move(cp));
  }
  auto completed = co_await WithRetry(settings_.retry, *req.dst.pacer, [&]() {
    return dst.CompleteMultipart(req.dst_key, upload_id, parts);
  });
  if (!completed.ok() && !completed.status().Is(ErrorClass::kNotFound)) {
    co_return completed.status();
  }
  // (kNotFound: a retried Complete whose first attempt succeeded; what
  // landed is checked below like any other answer.)
  FERRY_CO_ASSIGN_OR_RETURN(storage::ObjectInfo landed,
                            co_await WithRetry(settings_.retry, *req.dst.pacer, [&]() {
                              return dst.Head(req.dst_key, storage::HeadOptions());
                            }));
  if (!completed.ok() && (landed.size != size || s3::EtagPartCount(landed.etag) != layout.parts)) {
    co_return completed.status();
  }
  if (req.journal) FERRY_CO_RETURN_IF_ERROR(req.journal->EndUpload(req.dst_key));
  if (landed.size != size) {
    co_return RetryableAt("multipart server-side copy produced " + std::to_string(landed.size) +
                              " bytes, expected " + std::to_string(size),
                          req.dst_key);
  }
  // Encrypted objects (SSE-KMS, DSSE-KMS, SSE-C) at either end have opaque
  // ETags: equal layouts then prove nothing.
  const bool md5_etags = EtagIsMd5(dst.capabilities(), landed.encryption()) &&
                         EtagIsMd5(req.src.backend->capabilities(), out.source.encryption());
  if (layout.mirrored && md5_etags && landed.etag != out.src_etag) {
    // Same parts, same bytes: the ETags must agree. kPrecondition makes
    // Copy start the object over.
    ErrorInfo e;
    e.error_class = ErrorClass::kPrecondition;
    e.message = "replica ETag " + landed.etag + " differs from the source ETag " + out.src_etag +
                " despite the mirrored part layout";
    e.key = req.dst_key;
    co_return Status(std::move(e));
  }
  out.action = action;
  out.dst_etag = landed.etag;
  out.parts = layout.parts;
  out.part_size = layout.part_size;
  out.verified_by = layout.mirrored && md5_etags && landed.etag == out.src_etag
                        ? VerifiedBy::kEtagMirror
                        : VerifiedBy::kServerCopy;
  co_return co_await FinishVerify(req, std::move(out));
}

}  // namespace ferry::engine
