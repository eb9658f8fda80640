// Multipart upload handlers: Create, UploadPart, UploadPartCopy, Complete,
// Abort, ListParts.
#include "protocols/base/crc32c.h"
#include "protocols/base/digest.h"
#include "sim/encryption.h"
#include "sim/errors.h"
#include "sim/ops.h"
#include "sim/xml.h"

namespace ferry::sim {
namespace {

constexpr std::uint64_t kMaxPartSize = 5ull << 30;

Result<int> PartNumber(const SimRequest& req) {
  const std::string* v = req.Query("partNumber");
  long n = 0;
  try {
    std::size_t used = 0;
    n = v ? std::stol(*v, &used) : 0;
    if (v && used != v->size()) n = 0;
  } catch (const std::exception&) {
    n = 0;
  }
  if (n < 1 || n > 10000) {
    return InvalidArgument("Part number must be an integer between 1 and 10000, inclusive");
  }
  return static_cast<int>(n);
}

std::string UploadId(const SimRequest& req) {
  const std::string* v = req.Query("uploadId");
  return v ? *v : std::string();
}

std::string Lower(std::string s) {
  for (char& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return s;
}

std::string Upper(std::string s) {
  for (char& ch : s) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  }
  return s;
}

void AddOwner(XmlWriter& x, std::string_view element) {
  x.Open(element).Element("ID", "s3sim").Element("DisplayName", "s3sim").Close(element);
}

}  // namespace

HandlerResult CreateMultipartUpload(OpContext& c) {
  // x-amz-checksum-algorithm names the parts' checksum; only CRC32C is
  // validated here, others (CRC32, SHA*, CRC64NVME) are accepted unchecked.
  std::string algorithm = Upper(c.req.HeaderOr("x-amz-checksum-algorithm"));
  std::string type = Upper(c.req.HeaderOr("x-amz-checksum-type"));
  if (!type.empty() && algorithm.empty()) {
    co_return S3Error(400, "InvalidRequest",
                      "The x-amz-checksum-type header can only be used with the "
                      "x-amz-checksum-algorithm header.");
  }
  if (!type.empty() && type != "COMPOSITE" && type != "FULL_OBJECT") {
    co_return S3Error(400, "InvalidRequest", "Value for x-amz-checksum-type header is invalid.");
  }
  if (algorithm == "CRC32C" && type.empty()) type = "COMPOSITE";  // AWS's default for CRC32C
  FERRY_CO_ASSIGN_OR_RETURN(Sse sse, SseForWrite(c.svc.store, c.bucket, c.req));
  Metadata meta = MetadataFromRequest(c.req);
  StoreSse(sse, meta);
  FERRY_CO_ASSIGN_OR_RETURN(std::string id,
                            c.svc.store.CreateUpload(c.bucket, c.key, std::move(meta), algorithm,
                                                     type));
  SimResponse r;
  r.Set("Content-Type", "application/xml");
  AddSseHeaders(sse, r);
  if (!algorithm.empty()) {
    r.Set("x-amz-checksum-algorithm", algorithm);
    r.Set("x-amz-checksum-type", type);
  }
  r.body = XmlWriter("InitiateMultipartUploadResult")
               .Element("Bucket", c.bucket)
               .Element("Key", c.key)
               .Element("UploadId", id)
               .Finish();
  co_return r;
}

HandlerResult UploadPart(OpContext& c) {
  FERRY_CO_ASSIGN_OR_RETURN(int number, PartNumber(c.req));
  std::string id = UploadId(c.req);
  // Fail before the body arrives when the upload is gone.
  FERRY_CO_ASSIGN_OR_RETURN(UploadRecord upload, c.svc.store.GetUpload(c.bucket, c.key, id));
  const Sse sse = SseOf(upload.metadata);
  // SSE-C: every part is sent with the upload's key.
  FERRY_CO_RETURN_IF_ERROR(CheckCustomerKey(c.req, sse, /*copy_source=*/false));
  if (c.req.Header("x-amz-checksum-crc32c") && upload.checksum_algorithm != "CRC32C") {
    co_return S3Error(400, "InvalidRequest",
                      "Checksum Type mismatch occurred, expected checksum Type: " +
                          (upload.checksum_algorithm.empty() ? std::string("null")
                                                             : Lower(upload.checksum_algorithm)) +
                          ", actual checksum Type: crc32c");
  }
  if (c.body.size() && *c.body.size() > kMaxPartSize) {
    co_return S3Error(400, "EntityTooLarge",
                      "Your proposed upload exceeds the maximum allowed object size.");
  }
  FERRY_CO_ASSIGN_OR_RETURN(ReceivedBody body, co_await ReceiveBody(c, c.flip_upload));
  PartRecord part;
  part.number = number;
  part.etag = EtagFor(sse, body.md5_raw);
  part.size = body.size;
  part.last_modified = Clock::now();
  part.body = body.blob;
  part.checksum_crc32c = body.checksum_crc32c;
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.PutPart(c.bucket, c.key, id, part));
  SimResponse r;
  r.Set("ETag", Quote(part.etag));
  if (!part.checksum_crc32c.empty()) r.Set("x-amz-checksum-crc32c", part.checksum_crc32c);
  AddSseHeaders(sse, r);
  co_return r;
}

HandlerResult UploadPartCopy(OpContext& c) {
  FERRY_CO_ASSIGN_OR_RETURN(int number, PartNumber(c.req));
  std::string id = UploadId(c.req);
  FERRY_CO_ASSIGN_OR_RETURN(UploadRecord upload, c.svc.store.GetUpload(c.bucket, c.key, id));
  FERRY_CO_ASSIGN_OR_RETURN(CopySource src, ParseCopySource(c.req));
  FERRY_CO_ASSIGN_OR_RETURN(ObjectRecord obj, c.svc.store.GetObject(src.bucket, src.key));
  FERRY_CO_RETURN_IF_ERROR(CheckCustomerKey(c.req, SseOf(obj.metadata), /*copy_source=*/true));
  const Sse sse = SseOf(upload.metadata);
  FERRY_CO_RETURN_IF_ERROR(CheckCustomerKey(c.req, sse, /*copy_source=*/false));
  FERRY_CO_RETURN_IF_ERROR(CheckCopyConditions(c.req, obj));
  std::uint64_t offset = 0, length = obj.size;
  if (const std::string* range = c.req.Header("x-amz-copy-source-range")) {
    unsigned long long a = 0, b = 0;
    char tail = 0;
    if (std::sscanf(range->c_str(), "bytes=%llu-%llu%c", &a, &b, &tail) != 2 || b < a ||
        b >= obj.size) {
      co_return InvalidArgument("Range specified is not valid for source object of size: " +
                                std::to_string(obj.size));
    }
    offset = a;
    length = b - a + 1;
  }
  if (length > kMaxPartSize) {
    co_return InvalidArgument("The specified copy range exceeds 5 GiB");
  }
  if (!obj.body->kept()) co_return BodyNotKept(obj.size);
  auto md5 = Md5HexOfBlob(*obj.body, offset, length);
  if (!md5.ok()) co_return InternalError(md5.status().error().message);
  PartRecord part;
  part.number = number;
  std::string md5_raw;
  if (!digest::FromHex(*md5, &md5_raw)) co_return InternalError("bad MD5 of a copied range");
  part.etag = EtagFor(sse, md5_raw);
  part.size = length;
  part.last_modified = Clock::now();
  part.body = MakeSliceBlob(obj.body, offset, length);
  if (upload.checksum_algorithm == "CRC32C") {
    // S3 computes the copied part's checksum itself.
    auto crc = Crc32cOfBlob(*part.body, 0, length);
    if (!crc.ok()) co_return InternalError(crc.status().error().message);
    part.checksum_crc32c = crc32c::ToBase64(*crc);
  }
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.PutPart(c.bucket, c.key, id, part));
  SimResponse r;
  r.Set("Content-Type", "application/xml");
  AddSseHeaders(sse, r);
  XmlWriter x("CopyPartResult");
  x.Element("LastModified", Iso8601(part.last_modified)).Element("ETag", Quote(part.etag));
  if (!part.checksum_crc32c.empty()) x.Element("ChecksumCRC32C", part.checksum_crc32c);
  r.body = x.Finish();
  co_return r;
}

HandlerResult CompleteMultipartUpload(OpContext& c) {
  std::string id = UploadId(c.req);
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.GetUpload(c.bucket, c.key, id).status());
  FERRY_CO_ASSIGN_OR_RETURN(std::string xml, co_await ReadAll(c.body, 4u << 20));
  FERRY_CO_ASSIGN_OR_RETURN(std::vector<CompletePart> parts, ParseCompleteMultipartUpload(xml));
  FERRY_CO_ASSIGN_OR_RETURN(
      ObjectRecord obj,
      c.svc.store.CompleteUpload(c.bucket, c.key, id, parts, c.svc.config.min_part_size,
                                 c.req.HeaderOr("x-amz-checksum-crc32c")));
  c.svc.Publish({"ObjectCreated:CompleteMultipartUpload", c.bucket, c.key, obj.size, obj.etag,
                 obj.last_modified});
  SimResponse r;
  r.Set("Content-Type", "application/xml");
  AddSseHeaders(SseOf(obj.metadata), r);
  XmlWriter x("CompleteMultipartUploadResult");
  x.Element("Location", "/" + c.bucket + "/" + c.key)
      .Element("Bucket", c.bucket)
      .Element("Key", c.key)
      .Element("ETag", Quote(obj.etag));
  if (!obj.checksum_crc32c.empty()) {
    x.Element("ChecksumCRC32C", obj.checksum_crc32c).Element("ChecksumType", obj.checksum_type);
  }
  r.body = x.Finish();
  co_return r;
}

HandlerResult AbortMultipartUpload(OpContext& c) {
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.AbortUpload(c.bucket, c.key, UploadId(c.req)));
  SimResponse r;
  r.status = 204;
  co_return r;
}

HandlerResult ListParts(OpContext& c) {
  std::string id = UploadId(c.req);
  FERRY_CO_ASSIGN_OR_RETURN(UploadRecord u, c.svc.store.GetUpload(c.bucket, c.key, id));
  FERRY_CO_ASSIGN_OR_RETURN(long marker, IntQuery(c.req, "part-number-marker", 0, 0, 10000));
  FERRY_CO_ASSIGN_OR_RETURN(long max, IntQuery(c.req, "max-parts", 1000, 0, 1000));
  XmlWriter x("ListPartsResult");
  x.Element("Bucket", c.bucket).Element("Key", c.key).Element("UploadId", id);
  AddOwner(x, "Initiator");
  AddOwner(x, "Owner");
  x.Element("StorageClass", "STANDARD");
  x.Element("PartNumberMarker", std::to_string(marker));
  std::vector<const PartRecord*> page;
  bool truncated = false;
  for (auto it = u.parts.upper_bound(static_cast<int>(marker)); it != u.parts.end(); ++it) {
    if (static_cast<long>(page.size()) == max) {
      truncated = true;
      break;
    }
    page.push_back(&it->second);
  }
  x.Element("NextPartNumberMarker", std::to_string(page.empty() ? 0 : page.back()->number));
  x.Element("MaxParts", std::to_string(max));
  x.Element("IsTruncated", truncated ? "true" : "false");
  for (const PartRecord* p : page) {
    x.Open("Part")
        .Element("PartNumber", std::to_string(p->number))
        .Element("LastModified", Iso8601(p->last_modified))
        .Element("ETag", Quote(p->etag))
        .Element("Size", std::to_string(p->size));
    if (!p->checksum_crc32c.empty()) x.Element("ChecksumCRC32C", p->checksum_crc32c);
    x.Close("Part");
  }
  std::string doc = x.Finish();
  SimResponse r;
  r.Set("Content-Type", "application/xml");
  r.body = std::move(doc);
  co_return r;
}

}  // namespace ferry::sim
