// Bucket handlers and listings: ListBuckets, Create/Head/DeleteBucket,
// GetBucketLocation, GetBucketVersioning, ListObjects (v1, v2),
// ListMultipartUploads, DeleteObjects.
#include "protocols/base/digest.h"
#include "protocols/s3/sigv4.h"
#include "sim/errors.h"
#include "sim/ops.h"
#include "sim/xml.h"

namespace ferry::sim {
namespace {

SimResponse Xml(std::string body) {
  SimResponse r;
  r.Set("Content-Type", "application/xml");
  r.body = std::move(body);
  return r;
}

std::string StorageClassOf(const Metadata& m) {
  for (const auto& [n, v] : m) {
    if (n == "x-amz-storage-class") return v;
  }
  return "STANDARD";
}

struct Encoder {
  bool url = false;
  std::string operator()(std::string_view s) const {
    return url ? s3::UriEncode(s, false) : std::string(s);
  }
};

Result<Encoder> EncodingOf(const SimRequest& req) {
  const std::string* e = req.Query("encoding-type");
  if (!e) return Encoder{};
  if (*e != "url") return InvalidArgument("Invalid Encoding Method specified in Request");
  return Encoder{true};
}

void AddContents(XmlWriter& x, const ListPage& page, const Encoder& enc, bool owner) {
  for (const ObjectRecord& o : page.contents) {
    x.Open("Contents")
        .Element("Key", enc(o.key))
        .Element("LastModified", Iso8601(o.last_modified))
        .Element("ETag", Quote(o.etag))
        .Element("Size", std::to_string(o.size))
        .Element("StorageClass", StorageClassOf(o.metadata));
    if (owner) x.Open("Owner").Element("ID", "s3sim").Element("DisplayName", "s3sim").Close("Owner");
    x.Close("Contents");
  }
  for (const std::string& p : page.common_prefixes) {
    x.Open("CommonPrefixes").Element("Prefix", enc(p)).Close("CommonPrefixes");
  }
}

}  // namespace

HandlerResult ListBuckets(OpContext& c) {
  XmlWriter x("ListAllMyBucketsResult");
  x.Open("Owner").Element("ID", "s3sim").Element("DisplayName", "s3sim").Close("Owner");
  x.Open("Buckets");
  for (const BucketRecord& b : c.svc.store.ListBuckets()) {
    x.Open("Bucket").Element("Name", b.name).Element("CreationDate", Iso8601(b.created)).Close("Bucket");
  }
  x.Close("Buckets");
  co_return Xml(x.Finish());
}

HandlerResult CreateBucket(OpContext& c) {
  // The body (CreateBucketConfiguration) names a region; any is accepted.
  FERRY_CO_ASSIGN_OR_RETURN(std::string body, co_await ReadAll(c.body, 64 << 10));
  (void)body;
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.CreateBucket(c.bucket));
  SimResponse r;
  r.Set("Location", "/" + c.bucket);
  co_return r;
}

HandlerResult HeadBucket(OpContext& c) {
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.CheckBucket(c.bucket));
  SimResponse r;
  r.Set("x-amz-bucket-region", c.svc.config.region);
  co_return r;
}

HandlerResult DeleteBucket(OpContext& c) {
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.DeleteBucket(c.bucket));
  SimResponse r;
  r.status = 204;
  co_return r;
}

HandlerResult GetBucketLocation(OpContext& c) {
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.CheckBucket(c.bucket));
  // us-east-1 is reported as an empty constraint, as AWS does.
  std::string region = c.svc.config.region == "us-east-1" ? "" : c.svc.config.region;
  co_return Xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
                XmlEscape(region) + "</LocationConstraint>");
}

HandlerResult GetBucketVersioning(OpContext& c) {
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.CheckBucket(c.bucket));
  co_return Xml(XmlWriter("VersioningConfiguration").Finish());
}

HandlerResult ListObjectsV2(OpContext& c) {
  FERRY_CO_ASSIGN_OR_RETURN(Encoder enc, EncodingOf(c.req));
  FERRY_CO_ASSIGN_OR_RETURN(long max, IntQuery(c.req, "max-keys", 1000, 0, 1000));
  ListQuery q;
  if (const std::string* p = c.req.Query("prefix")) q.prefix = *p;
  if (const std::string* d = c.req.Query("delimiter")) q.delimiter = *d;
  q.max_keys = static_cast<int>(max);
  const std::string* token = c.req.Query("continuation-token");
  const std::string* start_after = c.req.Query("start-after");
  if (token) {
    if (!digest::Base64Decode(*token, &q.after) || token->empty()) {
      co_return InvalidArgument("The continuation token provided is incorrect");
    }
  } else if (start_after) {
    q.after = *start_after;
  }
  FERRY_CO_ASSIGN_OR_RETURN(ListPage page, c.svc.store.List(c.bucket, q));
  XmlWriter x("ListBucketResult");
  x.Element("Name", c.bucket).Element("Prefix", enc(q.prefix));
  if (!q.delimiter.empty()) x.Element("Delimiter", enc(q.delimiter));
  x.Element("MaxKeys", std::to_string(max));
  if (enc.url) x.Element("EncodingType", "url");
  x.Element("KeyCount", std::to_string(page.contents.size() + page.common_prefixes.size()));
  x.Element("IsTruncated", page.truncated ? "true" : "false");
  if (token) x.Element("ContinuationToken", *token);
  if (page.truncated) x.Element("NextContinuationToken", digest::Base64Encode(page.last));
  if (start_after) x.Element("StartAfter", enc(*start_after));
  const std::string* fetch_owner = c.req.Query("fetch-owner");
  AddContents(x, page, enc, fetch_owner && *fetch_owner == "true");
  co_return Xml(x.Finish());
}

HandlerResult ListObjectsV1(OpContext& c) {
  FERRY_CO_ASSIGN_OR_RETURN(Encoder enc, EncodingOf(c.req));
  FERRY_CO_ASSIGN_OR_RETURN(long max, IntQuery(c.req, "max-keys", 1000, 0, 1000));
  ListQuery q;
  if (const std::string* p = c.req.Query("prefix")) q.prefix = *p;
  if (const std::string* d = c.req.Query("delimiter")) q.delimiter = *d;
  if (const std::string* m = c.req.Query("marker")) q.after = *m;
  q.max_keys = static_cast<int>(max);
  FERRY_CO_ASSIGN_OR_RETURN(ListPage page, c.svc.store.List(c.bucket, q));
  XmlWriter x("ListBucketResult");
  x.Element("Name", c.bucket).Element("Prefix", enc(q.prefix)).Element("Marker", enc(q.after));
  if (page.truncated) x.Element("NextMarker", enc(page.last));
  x.Element("MaxKeys", std::to_string(max));
  if (!q.delimiter.empty()) x.Element("Delimiter", enc(q.delimiter));
  if (enc.url) x.Element("EncodingType", "url");
  x.Element("IsTruncated", page.truncated ? "true" : "false");
  AddContents(x, page, enc, true);
  co_return Xml(x.Finish());
}

HandlerResult ListMultipartUploads(OpContext& c) {
  FERRY_CO_ASSIGN_OR_RETURN(Encoder enc, EncodingOf(c.req));
  FERRY_CO_ASSIGN_OR_RETURN(long max, IntQuery(c.req, "max-uploads", 1000, 0, 1000));
  UploadListQuery q;
  if (const std::string* p = c.req.Query("prefix")) q.prefix = *p;
  if (const std::string* m = c.req.Query("key-marker")) q.key_marker = *m;
  if (const std::string* m = c.req.Query("upload-id-marker")) q.upload_id_marker = *m;
  q.max_uploads = static_cast<int>(max);
  bool truncated = false;
  FERRY_CO_ASSIGN_OR_RETURN(std::vector<UploadRecord> ups,
                            c.svc.store.ListUploads(c.bucket, q, &truncated));
  XmlWriter x("ListMultipartUploadsResult");
  x.Element("Bucket", c.bucket)
      .Element("KeyMarker", enc(q.key_marker))
      .Element("UploadIdMarker", q.upload_id_marker)
      .Element("NextKeyMarker", ups.empty() ? "" : enc(ups.back().key))
      .Element("NextUploadIdMarker", ups.empty() ? "" : ups.back().id)
      .Element("Prefix", enc(q.prefix))
      .Element("MaxUploads", std::to_string(max))
      .Element("IsTruncated", truncated ? "true" : "false");
  if (enc.url) x.Element("EncodingType", "url");
  for (const UploadRecord& u : ups) {
    x.Open("Upload")
        .Element("Key", enc(u.key))
        .Element("UploadId", u.id)
        .Open("Initiator").Element("ID", "s3sim").Element("DisplayName", "s3sim").Close("Initiator")
        .Open("Owner").Element("ID", "s3sim").Element("DisplayName", "s3sim").Close("Owner")
        .Element("StorageClass", StorageClassOf(u.metadata))
        .Element("Initiated", Iso8601(u.initiated))
        .Close("Upload");
  }
  co_return Xml(x.Finish());
}

HandlerResult DeleteObjects(OpContext& c) {
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.CheckBucket(c.bucket));
  FERRY_CO_ASSIGN_OR_RETURN(std::string xml, co_await ReadAll(c.body, 2u << 20));
  if (const std::string* want = c.req.Header("content-md5")) {
    std::string raw;
    if (!digest::Base64Decode(*want, &raw) || raw != digest::Md5(xml)) {
      co_return S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    }
  }
  FERRY_CO_ASSIGN_OR_RETURN(DeleteRequest del, ParseDeleteObjects(xml));
  XmlWriter x("DeleteResult");
  for (const std::string& key : del.keys) {
    bool existed = false;
    FERRY_CO_RETURN_IF_ERROR(c.svc.store.DeleteObject(c.bucket, key, &existed));
    if (existed) c.svc.Publish({"ObjectRemoved:Delete", c.bucket, key, 0, "", Clock::now()});
    if (!del.quiet) x.Open("Deleted").Element("Key", key).Close("Deleted");
  }
  co_return Xml(x.Finish());
}

}  // namespace ferry::sim
