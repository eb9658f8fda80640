#include "storage/s3/s3_probe.h"

#include <charconv>
#include <random>

#include "protocols/base/crc32c.h"

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

// "…-N" → N (a multipart ETag); 0 otherwise.
int EtagParts(std::string_view etag) {
  if (!etag.empty() && etag.front() == '"') etag.remove_prefix(1);
  if (!etag.empty() && etag.back() == '"') etag.remove_suffix(1);
  auto dash = etag.rfind('-');
  if (dash == std::string_view::npos) return 0;
  int n = 0;
  auto r = std::from_chars(etag.data() + dash + 1, etag.data() + etag.size(), n);
  return r.ec == std::errc() && r.ptr == etag.data() + etag.size() ? n : 0;
}

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
                              "layout): the source's parts cannot be mirrored");
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

Task<std::optional<bool>> ProbeMultipartHead(s3::Client& c, const Capabilities& caps,
                                             const std::string& key,
                                             std::vector<std::string>* notes) {
  const s3::ObjectMetadata no_meta;  // named: see ProbeChecksum
  const std::string part1(static_cast<std::size_t>(caps.min_part_size), 'p');
  const std::string part2 = "q";
  auto id = co_await c.CreateMultipartUpload(key, no_meta);
  if (!id.ok()) {
    notes->push_back("multipart probe: " + id.status().ToString());
    co_return std::nullopt;
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
    notes->push_back("multipart probe: " + failed.ToString());
    co_return std::nullopt;
  }
  auto honoured = co_await PartOneAnswered(c, key, 2, part1.size() + part2.size(), notes);
  Status deleted = co_await c.DeleteObject(key);
  if (!deleted.ok()) notes->push_back("could not delete probe object " + key);
  co_return honoured;
}

Task<std::optional<bool>> ProbeHeadByReading(s3::Client& c, const std::string& prefix,
                                             std::vector<std::string>* notes) {
  s3::ListObjectsV2Request req;
  req.prefix = prefix;
  auto page = co_await c.ListObjectsV2(req);
  if (!page.ok()) {
    notes->push_back("listing to probe HEAD ?partNumber: " + page.status().ToString());
    co_return std::nullopt;
  }
  for (const auto& o : page->contents) {
    const int n = EtagParts(o.etag);
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
  if (opts.may_write && opts.checksum_crc32c) {
    out.checksum_crc32c = co_await ProbeChecksum(client, key, &out.notes);
  }
  // (if/else, not ?: — GCC 12 mishandles co_await in a conditional
  // expression and ran both branches.)
  if (opts.head_part_number && opts.may_write) {
    out.head_part_number = co_await ProbeMultipartHead(client, assumed, key + "-mp", &out.notes);
  } else if (opts.head_part_number) {
    out.head_part_number = co_await ProbeHeadByReading(client, opts.prefix, &out.notes);
  }
  co_return out;
}

}  // namespace ferry::storage
