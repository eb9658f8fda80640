#include "storage/s3/s3_probe.h"

#include <cctype>
#include <random>

#include "protocols/base/crc32c.h"
#include "protocols/base/digest.h"
#include "protocols/s3/xml.h"

namespace ferry::storage {
namespace {

std::string RandomTag() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 16; ++i) out += kHex[rd() % 16];
  return out;
}

// A body whose x-amz-checksum-crc32c header is the one given (right or not).
class ChecksummedBody final : public io::BodySource {
 public:
  ChecksummedBody(std::string_view data, std::string crc) : inner_(data), crc_(std::move(crc)) {}
  std::uint64_t size() const override { return inner_.size(); }
  Task<Result<std::size_t>> Read(std::span<char> buf) override { return inner_.Read(buf); }
  Status Rewind() override { return inner_.Rewind(); }
  std::optional<std::string> sha256_hex() override { return inner_.sha256_hex(); }
  std::optional<std::string> content_md5_base64() override { return inner_.content_md5_base64(); }
  std::optional<std::string> checksum_crc32c_base64() override { return crc_; }
  std::optional<std::span<const char>> contiguous() const override { return inner_.contiguous(); }

 private:
  io::MemorySource inner_;
  std::string crc_;
};

// Does HEAD ?partNumber=1 of `key` (an object of `parts` parts, `size`
// bytes) answer for part 1 alone?
Task<std::optional<bool>> PartOneAnswered(s3::Client& c, const std::string& key, int parts,
                                          std::uint64_t size, std::vector<std::string>* notes) {
  s3::HeadObjectRequest req;
  req.key = key;
  req.part_number = 1;
  auto head = co_await c.HeadObject(req);
  if (!head.ok()) {
    notes->push_back("HEAD ?partNumber=1 failed: " + head.status().ToString());
    co_return std::nullopt;
  }
  const bool honoured = head->parts_count == parts && head->size < size;
  notes->push_back(honoured ? "HEAD ?partNumber=1 answered for part 1"
                            : "HEAD ?partNumber=1 answered with the whole object (no part "
                              "layout): source layouts are inferred from their ETags");
  co_return honoured;
}

Task<std::optional<bool>> ProbeChecksum(s3::Client& c, const std::string& key,
                                        std::vector<std::string>* notes) {
  // Named, not a temporary: GCC 12 ends a temporary bound to a coroutine's
  // reference parameter before the coroutine runs.
  const s3::ObjectMetadata no_meta;
  const std::string data(4096, 'c');
  const std::uint32_t right = crc32c::Crc32c(data);
  ChecksummedBody wrong_body(data, crc32c::ToBase64(right ^ 0x5a5a5a5au));
  auto wrong = co_await c.PutObject(key, no_meta, wrong_body);
  if (wrong.ok()) {
    (void)co_await c.DeleteObject(key);
    notes->push_back("x-amz-checksum-crc32c is not checked (a wrong one was accepted)");
    co_return false;
  }
  if (wrong.status().error().http_status != 400) {
    notes->push_back("checksum probe: " + wrong.status().ToString());
    co_return std::nullopt;
  }
  ChecksummedBody right_body(data, crc32c::ToBase64(right));
  auto put = co_await c.PutObject(key, no_meta, right_body);
  if (!put.ok()) {
    notes->push_back("checksum probe: " + put.status().ToString());
    co_return std::nullopt;
  }
  s3::HeadObjectRequest req;
  req.key = key;
  req.checksum_mode = true;
  auto head = co_await c.HeadObject(req);
  Status deleted = co_await c.DeleteObject(key);
  if (!deleted.ok()) notes->push_back("could not delete probe object " + key);
  if (!head.ok()) {
    notes->push_back("checksum probe: " + head.status().ToString());
    co_return std::nullopt;
  }
  auto it = head->checksums.find("CRC32C");
  const bool returned = it != head->checksums.end() && it->second == crc32c::ToBase64(right);
  notes->push_back(returned ? "x-amz-checksum-crc32c is checked, stored and returned"
                            : "x-amz-checksum-crc32c is checked but not returned by HEAD");
  co_return returned;
}

// Does an ETag show the MD5 of the bytes? Undecided where encryption makes
// a non-MD5 ETag normal (SSE-KMS, SSE-C).
std::optional<bool> EtagShowsMd5(const std::string& etag, const std::string& expected_hex,
                                 s3::Encryption enc, std::string_view what,
                                 std::vector<std::string>* notes) {
  if (!s3::EtagMayBeMd5(enc)) {
    notes->push_back(std::string(what) + " is " + std::string(s3::EncryptionName(enc)) +
                     "-encrypted: its ETag says nothing about ETags being MD5s");
    return std::nullopt;
  }
  const bool md5 = s3::xml::UnquoteEtag(etag) == expected_hex;
  if (!md5) {
    notes->push_back(std::string(what) + " ETag " + etag + " is not the MD5 " + expected_hex +
                     " of its bytes");
  }
  return md5;
}

std::string UrlEncodedKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// While `id` is open: how does ListMultipartUploads name `key` (which has a
// space and a '+')? As sent, or URL-encoded without <EncodingType> (RGW 16).
Task<std::optional<bool>> UploadsEncodedUndeclared(s3::Client& c, const std::string& key,
                                                   const std::string& id,
                                                   std::vector<std::string>* notes) {
  auto page = co_await c.ListMultipartUploads(key, "", "", s3::UploadKeys::kAsDeclared);
  if (!page.ok()) {
    notes->push_back("ListMultipartUploads probe: " + page.status().ToString());
    co_return std::nullopt;
  }
  for (const auto& u : page->uploads) {
    if (u.upload_id != id) continue;
    if (u.key == key) co_return false;
    const std::string encoded = UrlEncodedKey(key);
    std::string plus = encoded;  // S3's form writes a space as '+'
    for (std::size_t at = plus.find("%20"); at != std::string::npos; at = plus.find("%20")) {
      plus.replace(at, 3, "+");
    }
    if (u.key == encoded || u.key == plus) {
      notes->push_back(
          "ListMultipartUploads URL-encodes keys without <EncodingType>: its keys are decoded");
      co_return true;
    }
    notes->push_back("ListMultipartUploads named the probe upload '" + u.key + "'");
    co_return std::nullopt;
  }
  notes->push_back("ListMultipartUploads did not list the probe upload");
  co_return std::nullopt;
}

struct MultipartFindings {
  std::optional<bool> head_part_number;
  std::optional<bool> uploads_encoded_undeclared;
  std::optional<bool> etag_is_md5;
};

Task<MultipartFindings> ProbeMultipart(s3::Client& c, const Capabilities& caps,
                                       const std::string& key, const ProbeOptions& opts,
                                       std::vector<std::string>* notes) {
  MultipartFindings out;
  const s3::ObjectMetadata no_meta;  // named: see ProbeChecksum
  const std::string part1(static_cast<std::size_t>(caps.min_part_size), 'p');
  const std::string part2 = "q";
  auto id = co_await c.CreateMultipartUpload(key, no_meta);
  if (!id.ok()) {
    notes->push_back("multipart probe: " + id.status().ToString());
    co_return out;
  }
  if (opts.uploads_encoding) {
    out.uploads_encoded_undeclared = co_await UploadsEncodedUndeclared(c, key, *id, notes);
  }
  std::vector<s3::CompletedPart> parts;
  Status failed = Status::Ok();
  for (int n = 1; n <= 2 && failed.ok(); ++n) {
    io::MemorySource body(n == 1 ? part1 : part2);
    auto r = co_await c.UploadPart(key, *id, n, body);
    if (r.ok()) {
      parts.push_back({n, r->etag});
    } else {
      failed = r.status();
    }
  }
  if (failed.ok()) {
    auto done = co_await c.CompleteMultipartUpload(key, *id, parts);
    if (!done.ok()) failed = done.status();
  }
  if (!failed.ok()) {
    (void)co_await c.AbortMultipartUpload(key, *id);
    // A Complete whose answer failed may still have made the object.
    (void)co_await c.DeleteObject(key);
    notes->push_back("multipart probe: " + failed.ToString());
    co_return out;
  }
  if (opts.head_part_number) {
    out.head_part_number =
        co_await PartOneAnswered(c, key, 2, part1.size() + part2.size(), notes);
  }
  if (opts.etag_is_md5) {
    s3::HeadObjectRequest req;
    req.key = key;
    auto head = co_await c.HeadObject(req);
    if (head.ok()) {
      const std::string expected =
          digest::ToHex(digest::Md5(digest::Md5(part1) + digest::Md5(part2))) + "-2";
      out.etag_is_md5 =
          EtagShowsMd5(head->etag, expected, head->encryption(), "a two-part upload's", notes);
    } else {
      notes->push_back("multipart ETag probe: " + head.status().ToString());
    }
  }
  Status deleted = co_await c.DeleteObject(key);
  if (!deleted.ok()) notes->push_back("could not delete probe object " + key);
  co_return out;
}

// A single PUT: is its ETag the MD5 of the bytes?
Task<std::optional<bool>> ProbeSingleEtag(s3::Client& c, const std::string& key,
                                          std::vector<std::string>* notes) {
  const s3::ObjectMetadata no_meta;  // named: see ProbeChecksum
  const std::string data = "ferry probe: is an ETag the MD5 of the bytes?";
  io::MemorySource body(data);
  auto put = co_await c.PutObject(key, no_meta, body);
  if (!put.ok()) {
    notes->push_back("ETag probe: " + put.status().ToString());
    co_return std::nullopt;
  }
  Status deleted = co_await c.DeleteObject(key);
  if (!deleted.ok()) notes->push_back("could not delete probe object " + key);
  co_return EtagShowsMd5(put->etag, digest::ToHex(digest::Md5(data)), put->encryption(),
                         "a PUT's", notes);
}

// Read-only: the first small single-part object of the first listing page,
// read whole (at most 1 MiB), and its ETag compared with its MD5.
Task<std::optional<bool>> ProbeEtagByReading(s3::Client& c, const s3::ListObjectsV2Result& page,
                                             std::vector<std::string>* notes) {
  constexpr std::uint64_t kMaxRead = 1u << 20;
  for (const auto& o : page.contents) {
    if (s3::EtagPartCount(o.etag) > 0 || o.size == 0 || o.size > kMaxRead) continue;
    s3::GetObjectRequest get;
    get.key = o.key;
    get.if_match = o.etag;
    io::StringSink sink(kMaxRead);
    auto r = co_await c.GetObject(get, sink);
    if (!r.ok()) {
      notes->push_back("reading " + o.key + " to probe ETags: " + r.status().ToString());
      co_return std::nullopt;
    }
    co_return EtagShowsMd5(r->info.etag, digest::ToHex(digest::Md5(sink.data())),
                           r->info.encryption(), "the listed object " + o.key + "'s", notes);
  }
  notes->push_back("no small single-part object in the first listing page to probe ETags with");
  co_return std::nullopt;
}

Task<std::optional<bool>> ProbeHeadByReading(s3::Client& c, const s3::ListObjectsV2Result& page,
                                             std::vector<std::string>* notes) {
  for (const auto& o : page.contents) {
    const int n = s3::EtagPartCount(o.etag);
    if (n >= 2) co_return co_await PartOneAnswered(c, o.key, n, o.size, notes);
  }
  notes->push_back(
      "no multipart object in the first listing page to probe HEAD ?partNumber "
      "with (the answer for each object is checked as it comes)");
  co_return std::nullopt;
}

}  // namespace

Task<ProbeResult> ProbeS3(s3::Client& client, const Capabilities& assumed, ProbeOptions opts) {
  ProbeResult out;
  const std::string key = opts.prefix + ".ferry-probe-" + RandomTag();
  if (!opts.may_write) {
    if (!opts.head_part_number && !opts.etag_is_md5) co_return out;
    s3::ListObjectsV2Request req;
    req.prefix = opts.prefix;
    auto page = co_await client.ListObjectsV2(req);
    if (!page.ok()) {
      out.notes.push_back("listing to probe with: " + page.status().ToString());
      co_return out;
    }
    // (if, not ?: — GCC 12 mishandles co_await in a conditional expression.)
    if (opts.head_part_number) {
      out.head_part_number = co_await ProbeHeadByReading(client, *page, &out.notes);
    }
    if (opts.etag_is_md5) {
      out.etag_is_md5 = co_await ProbeEtagByReading(client, *page, &out.notes);
    }
    co_return out;
  }
  if (opts.checksum_crc32c) {
    out.checksum_crc32c = co_await ProbeChecksum(client, key, &out.notes);
  }
  std::optional<bool> single_md5;
  if (opts.etag_is_md5) single_md5 = co_await ProbeSingleEtag(client, key + "-etag", &out.notes);
  if (opts.head_part_number || opts.uploads_encoding || opts.etag_is_md5) {
    // A space and a '+' in the key show how ListMultipartUploads names it.
    MultipartFindings mp = co_await ProbeMultipart(client, assumed, key + " mp+", opts, &out.notes);
    out.head_part_number = mp.head_part_number;
    out.uploads_encoded_undeclared = mp.uploads_encoded_undeclared;
    // Both kinds of ETag must be MD5-based; either one that is not decides.
    if (single_md5 == false || mp.etag_is_md5 == false) {
      out.etag_is_md5 = false;
    } else if (single_md5 && mp.etag_is_md5) {
      out.etag_is_md5 = true;
    }
  } else {
    out.etag_is_md5 = single_md5;
  }
  co_return out;
}

}  // namespace ferry::storage
