#include "storage/s3/s3_backend.h"

#include "storage/s3/s3_probe.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace ferry::storage {
namespace {

// Keys per DeleteObjects request: the S3 limit.
constexpr std::size_t kMaxDeleteBatch = 1000;

class S3Backend final : public Backend {
 public:
  S3Backend(std::shared_ptr<s3::Client> client, Capabilities caps)
      : client_(std::move(client)),
        caps_(caps),
        endpoint_(client_->options().endpoint.ToString()),
        bucket_(client_->options().bucket) {}

  const Capabilities& capabilities() const override { return caps_; }

  Task<ProbeResult> Probe(ProbeOptions opts) override {
    return ProbeS3(*client_, caps_, std::move(opts));
  }
  void Learn(const ProbeResult& learned) override {
    if (learned.head_part_number) caps_.head_part_number = *learned.head_part_number;
    if (learned.checksum_crc32c) caps_.checksum_crc32c = *learned.checksum_crc32c;
    if (learned.etag_is_md5) caps_.etag_is_md5 = *learned.etag_is_md5;
    if (learned.uploads_encoded_undeclared) {
      caps_.uploads_encoded_undeclared = *learned.uploads_encoded_undeclared;
    }
  }

  std::string Describe() const override {
    const http::Url& url = client_->options().endpoint;
    return "s3://" + url.HostHeader() + url.base_path + "/" + bucket_;
  }

  // Same URL, same server: CopySource may name another bucket there.
  std::string endpoint_id() const override { return endpoint_; }
  std::string bucket() const override { return bucket_; }

  Task<Result<ListPage>> List(ListOptions opts) override {
    s3::ListObjectsV2Request req;
    req.prefix = std::move(opts.prefix);
    req.delimiter = std::move(opts.delimiter);
    req.start_after = std::move(opts.start_after);
    req.continuation_token = std::move(opts.continuation_token);
    req.max_keys = opts.max_keys;
    std::string prefix = req.prefix;
    auto r = co_await client_->ListObjectsV2(std::move(req));
    if (!r.ok()) co_return Context(r.status(), prefix);
    co_return std::move(r).value();
  }

  Task<Result<ObjectInfo>> Head(std::string key, HeadOptions opts) override {
    s3::HeadObjectRequest req;
    req.key = key;
    req.part_number = opts.part_number;
    req.if_match = std::move(opts.if_match);
    req.checksum_mode = caps_.checksum_crc32c;
    auto r = co_await client_->HeadObject(std::move(req));
    if (!r.ok()) co_return Context(r.status(), key);
    if (opts.part_number && !r->parts_count && s3::EtagPartCount(r->etag) >= 2) {
      // A multipart object answered without its parts count: the server
      // ignored ?partNumber (Ceph RGW 16, s3rver) and described the whole
      // object. Never take that for part N.
      co_return Context(Status::Error(ErrorClass::kFatal,
                                      "HEAD ?partNumber=" + std::to_string(*opts.part_number) +
                                          " answered for the whole object (the server ignores "
                                          "partNumber; set capabilities.head_part_number: false)"),
                        key);
    }
    co_return std::move(r).value();
  }

  Task<Result<ObjectInfo>> Get(std::string key, GetOptions opts, io::BodySink& sink) override {
    s3::GetObjectRequest req;
    req.key = key;
    req.range = opts.range;
    req.if_match = opts.if_match;
    auto r = co_await client_->GetObject(std::move(req), sink);
    if (!r.ok()) co_return Context(r.status(), key);
    if (opts.range) {
      // A server that ignores or misreads the Range header (s3rver does for
      // "bytes=0-0") answers with other bytes than asked for; the caller
      // would splice them into a part. What is in `sink` is then garbage.
      const std::uint64_t size = r->info.size;
      const std::uint64_t want =
          opts.range->offset >= size ? 0 : std::min(opts.range->length, size - opts.range->offset);
      if (r->content_length != want) {
        co_return Context(
            Status::Error(ErrorClass::kFatal, "GET of bytes " + std::to_string(opts.range->offset) +
                                                  "+" + std::to_string(opts.range->length) +
                                                  " returned " + std::to_string(r->content_length) +
                                                  " bytes instead of " + std::to_string(want) +
                                                  "; the server does not honour the range"),
            key);
      }
    }
    co_return std::move(r).value().info;
  }

  Task<Result<PutResult>> Put(std::string key, io::BodySource& body,
                              const Metadata& meta) override {
    auto r = co_await client_->PutObject(key, meta, body);
    if (!r.ok()) co_return Context(r.status(), key);
    co_return std::move(r).value();
  }

  Task<Result<std::string>> CreateMultipart(std::string key, const Metadata& meta) override {
    auto r = co_await client_->CreateMultipartUpload(key, meta);
    if (!r.ok()) co_return Context(r.status(), key);
    co_return std::move(r).value();
  }

  Task<Result<PutResult>> UploadPart(std::string key, std::string upload_id, int part_number,
                                     io::BodySource& body) override {
    auto r = co_await client_->UploadPart(key, std::move(upload_id), part_number, body);
    if (!r.ok()) co_return Context(r.status(), key);
    co_return std::move(r).value();
  }

  Task<Result<PutResult>> UploadPartCopy(std::string key, std::string upload_id, int part_number,
                                         CopySourceRef source) override {
    auto r = co_await client_->UploadPartCopy(key, std::move(upload_id), part_number,
                                              ToCopySource(std::move(source)));
    if (!r.ok()) co_return Context(r.status(), key);
    co_return std::move(r).value();
  }

  Task<Result<PutResult>> CompleteMultipart(std::string key, std::string upload_id,
                                            std::vector<CompletedPart> parts) override {
    auto r = co_await client_->CompleteMultipartUpload(key, std::move(upload_id), std::move(parts));
    if (!r.ok()) co_return Context(r.status(), key);
    if (r->etag.empty()) {
      // Ceph RGW 16 answers <ETag></ETag>: the object exists, ask for its
      // ETag (and how it is encrypted) instead.
      s3::HeadObjectRequest req;
      req.key = key;
      auto h = co_await client_->HeadObject(std::move(req));
      if (!h.ok()) {
        co_return Context(h.status().Annotate("CompleteMultipartUpload answered an empty ETag; "
                                              "HEAD for it"),
                          key);
      }
      if (h->etag.empty()) {
        co_return Context(Status::Error(ErrorClass::kRetryable,
                                        "CompleteMultipartUpload and HEAD answered no ETag"),
                          key);
      }
      r->etag = h->etag;
      if (r->version_id.empty()) r->version_id = h->version_id;
      if (r->sse.empty()) {
        r->sse = h->metadata.sse;
        r->sse_customer_algorithm = h->metadata.sse_customer_algorithm;
      }
    }
    co_return std::move(r).value();
  }

  Task<Status> AbortMultipart(std::string key, std::string upload_id) override {
    Status s = co_await client_->AbortMultipartUpload(key, std::move(upload_id));
    co_return Context(s, key);
  }

  Task<Result<std::vector<PartInfo>>> ListParts(std::string key, std::string upload_id) override {
    std::vector<PartInfo> parts;
    int marker = 0;
    // A part page holds up to 1000 parts, so an honest server needs far fewer
    // pages than max_parts; more means it is looping.
    for (int page = 0;; ++page) {
      if (page >= caps_.max_parts) {
        co_return Context(LoopError("ListParts", page), key);
      }
      auto r = co_await client_->ListParts(key, upload_id, marker);
      if (!r.ok()) co_return Context(r.status(), key);
      for (auto& p : r->parts) parts.push_back(std::move(p));
      if (!r->is_truncated) break;
      if (r->next_part_number_marker <= marker) {
        co_return Context(StuckError("ListParts", "part number marker"), key);
      }
      marker = r->next_part_number_marker;
    }
    std::sort(parts.begin(), parts.end(),
              [](const PartInfo& a, const PartInfo& b) { return a.part_number < b.part_number; });
    co_return parts;
  }

  Task<Result<std::vector<UploadInfo>>> ListUploads(std::string prefix) override {
    std::vector<UploadInfo> uploads;
    std::string key_marker;
    std::string upload_id_marker;
    for (int page = 0;; ++page) {
      if (page >= caps_.max_parts) {
        co_return Context(LoopError("ListMultipartUploads", page), prefix);
      }
      auto r = co_await client_->ListMultipartUploads(
          prefix, key_marker, upload_id_marker,
          caps_.uploads_encoded_undeclared ? s3::UploadKeys::kUrlEncoded
                                           : s3::UploadKeys::kAsDeclared);
      if (!r.ok()) co_return Context(r.status(), prefix);
      for (auto& u : r->uploads) uploads.push_back(std::move(u));
      if (!r->is_truncated) break;
      if (r->next_key_marker == key_marker && r->next_upload_id_marker == upload_id_marker) {
        co_return Context(StuckError("ListMultipartUploads", "key/upload-id marker"), prefix);
      }
      key_marker = std::move(r->next_key_marker);
      upload_id_marker = std::move(r->next_upload_id_marker);
    }
    co_return uploads;
  }

  Task<Result<PutResult>> Copy(CopySourceRef source, std::string dst_key,
                               std::optional<Metadata> replace) override {
    auto r =
        co_await client_->CopyObject(dst_key, ToCopySource(std::move(source)), std::move(replace));
    if (!r.ok()) co_return Context(r.status(), dst_key);
    co_return std::move(r).value();
  }

  Task<Status> Delete(std::string key) override {
    Status s = co_await client_->DeleteObject(key);
    // S3 answers 204 for a missing key; some servers say 404 NoSuchKey. Both
    // mean the key is gone, which is what the caller asked for. A missing
    // bucket is still an error.
    if (s.Is(ErrorClass::kNotFound) && s.error().code != "NoSuchBucket") co_return Status::Ok();
    co_return Context(s, key);
  }

  Task<Result<std::vector<DeleteError>>> DeleteBatch(std::vector<std::string> keys) override {
    std::vector<DeleteError> failed;
    for (std::size_t i = 0; i < keys.size(); i += kMaxDeleteBatch) {
      std::size_t end = std::min(keys.size(), i + kMaxDeleteBatch);
      std::vector<std::string> chunk(std::make_move_iterator(keys.begin() + i),
                                     std::make_move_iterator(keys.begin() + end));
      std::string first = chunk.front();
      auto r = co_await client_->DeleteObjects(std::move(chunk));
      if (!r.ok()) co_return Context(r.status(), first);
      for (auto& e : *r) failed.push_back(std::move(e));
    }
    co_return failed;
  }

 private:
  static s3::CopySource ToCopySource(CopySourceRef ref) {
    s3::CopySource src;
    src.bucket = std::move(ref.bucket);
    src.key = std::move(ref.key);
    src.if_match = std::move(ref.if_match);
    src.range = ref.range;
    return src;
  }

  Status Context(const Status& s, std::string_view key) const {
    return s.WithContext(endpoint_, bucket_, key);
  }

  static Status LoopError(std::string_view op, int pages) {
    return Status::Error(ErrorClass::kFatal, std::string(op) + ": still truncated after " +
                                                 std::to_string(pages) +
                                                 " pages; giving up on a server that loops");
  }

  static Status StuckError(std::string_view op, std::string_view what) {
    return Status::Error(ErrorClass::kFatal, std::string(op) + ": truncated page without a new " +
                                                 std::string(what) + "; giving up");
  }

  std::shared_ptr<s3::Client> client_;
  Capabilities caps_;
  std::string endpoint_;
  std::string bucket_;
};

}  // namespace

Capabilities AwsS3Capabilities() {
  Capabilities caps;
  caps.multipart = true;
  caps.server_side_copy = true;
  caps.cross_bucket_copy = true;
  caps.head_part_number = true;
  caps.etag_is_md5 = true;
  caps.list_common_prefixes = true;
  caps.conditional_get = true;
  // AWS stores CRC32C when asked, but objects written without one have none;
  // turned on per endpoint (capabilities.checksum_crc32c) where wanted.
  caps.checksum_crc32c = false;
  caps.min_part_size = 5ull << 20;
  caps.max_part_size = 5ull << 30;
  caps.max_parts = 10000;
  caps.max_single_put = 5ull << 30;
  return caps;
}

Result<std::shared_ptr<Backend>> OpenS3Backend(boost::asio::any_io_executor ex,
                                               S3BackendOptions opts) {
  FERRY_ASSIGN_OR_RETURN(auto client, s3::Client::Create(std::move(ex), std::move(opts.client)));
  return MakeS3Backend(std::move(client), opts.capabilities);
}

Result<std::shared_ptr<Backend>> OpenS3Backend(std::shared_ptr<http::Client> http,
                                               S3BackendOptions opts) {
  FERRY_ASSIGN_OR_RETURN(auto client, s3::Client::Create(std::move(http), std::move(opts.client)));
  return MakeS3Backend(std::move(client), opts.capabilities);
}

std::shared_ptr<Backend> MakeS3Backend(std::shared_ptr<s3::Client> client,
                                       Capabilities capabilities) {
  return std::make_shared<S3Backend>(std::move(client), capabilities);
}

}  // namespace ferry::storage
