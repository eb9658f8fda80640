// S3 XML parsing (pugixml) and request-body building.
#include "protocols/s3/xml.h"

#include <pugixml.hpp>

#include <charconv>
#include <cstring>

#include "protocols/s3/errors.h"
#include "protocols/s3/sigv4.h"
#include "protocols/s3/times.h"

namespace ferry::s3::xml {
namespace {

std::string_view LocalName(const pugi::xml_node& n) {
  std::string_view name = n.name();
  std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// Children matched by local name, so a server that prefixes its namespace
// is read like one that declares a default namespace.
pugi::xml_node Child(const pugi::xml_node& n, std::string_view name) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c) == name) return c;
  }
  return {};
}

template <typename F>
void ForEach(const pugi::xml_node& n, std::string_view name, F&& f) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c) == name) f(c);
  }
}

std::string Text(const pugi::xml_node& n, std::string_view name) {
  pugi::xml_node c = Child(n, name);
  return c ? std::string(c.child_value()) : std::string();
}

Status Malformed(std::string_view what, std::string detail) {
  return Status::Error(ErrorClass::kRetryable,
                       "malformed " + std::string(what) + " response: " + std::move(detail));
}

// One parsed document with its root checked. An <Error> root becomes the
// error it describes; another root is kFatal.
class Doc {
 public:
  // moto 5 names the roots of CompleteMultipartUpload and ListParts
  // answers "...Response" where S3 says "...Result"; the content is S3's.
  static bool MotoAlias(std::string_view root, std::string_view expected) {
    return expected.ends_with("Result") && root.ends_with("Response") &&
           root.substr(0, root.size() - 8) == expected.substr(0, expected.size() - 6);
  }

  Status Load(std::string_view body, std::string_view expected_root, std::string_view what) {
    what_ = what;
    if (body.size() > kMaxBodyBytes) {
      return Malformed(what, "body of " + std::to_string(body.size()) + " bytes is too large");
    }
    // Whitespace-only text is kept (a key may be all spaces); end-of-line
    // normalisation is off so a raw CR in a key survives.
    unsigned options = (pugi::parse_default | pugi::parse_ws_pcdata_single) & ~pugi::parse_eol;
    pugi::xml_parse_result r =
        doc_.load_buffer(body.data(), body.size(), options, pugi::encoding_utf8);
    if (!r) {
      return Malformed(what, std::string(r.description()) + " at offset " +
                                 std::to_string(r.offset) + " of " +
                                 std::to_string(body.size()) + " bytes");
    }
    root_ = doc_.document_element();
    if (!root_) return Malformed(what, "empty document");
    if (LocalName(root_) == "Error") {
      return ErrorFromResponse(200, body, "").Annotate(std::string(what) + " failed");
    }
    if (LocalName(root_) != expected_root && !MotoAlias(LocalName(root_), expected_root)) {
      return Status::Error(ErrorClass::kFatal,
                           "unexpected " + std::string(what) + " response: root element <" +
                               std::string(root_.name()) + ">, expected <" +
                               std::string(expected_root) + "> (is the endpoint S3?)");
    }
    return Status::Ok();
  }
  const pugi::xml_node& root() const { return root_; }

 private:
  pugi::xml_document doc_;
  pugi::xml_node root_;
  std::string_view what_;
};

template <typename T>
Status Number(const pugi::xml_node& n, std::string_view name, std::string_view what, T& out,
              bool required) {
  pugi::xml_node c = Child(n, name);
  if (!c) {
    if (required) return Malformed(what, "no <" + std::string(name) + ">");
    return Status::Ok();
  }
  std::string_view v = c.child_value();
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size() || v.empty()) {
    return Malformed(what, "<" + std::string(name) + "> is not a number: '" +
                               std::string(v.substr(0, 32)) + "'");
  }
  return Status::Ok();
}

Status Bool(const pugi::xml_node& n, std::string_view name, std::string_view what, bool& out) {
  pugi::xml_node c = Child(n, name);
  if (!c) return Status::Ok();
  std::string_view v = c.child_value();
  if (v == "true") {
    out = true;
  } else if (v == "false") {
    out = false;
  } else {
    return Malformed(what, "<" + std::string(name) + "> is not true/false");
  }
  return Status::Ok();
}

Status Time(const pugi::xml_node& n, std::string_view name, std::string_view what,
            TimePoint& out) {
  pugi::xml_node c = Child(n, name);
  if (!c) return Status::Ok();
  auto t = ParseIso8601(c.child_value());
  if (!t.ok()) return Malformed(what, "<" + std::string(name) + ">: " + t.status().error().message);
  out = *t;
  return Status::Ok();
}

// Decodes an encoding-type=url value (S3 writes a space as '+').
Status Decode(bool url, std::string_view what, std::string& value) {
  if (!url) return Status::Ok();
  auto d = UriDecode(value, /*plus_as_space=*/true);
  if (!d.ok()) return Malformed(what, "bad URL-encoded name: " + d.status().error().message);
  value = std::move(*d);
  return Status::Ok();
}

bool UrlEncoded(const pugi::xml_node& root) {
  return std::string_view(Text(root, "EncodingType")) == "url";
}

}  // namespace

std::string UnquoteEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

Result<ListObjectsV2Result> ParseListObjectsV2(std::string_view body) {
  constexpr std::string_view kWhat = "ListObjectsV2";
  Doc doc;
  FERRY_RETURN_IF_ERROR(doc.Load(body, "ListBucketResult", kWhat));
  const pugi::xml_node& root = doc.root();
  const bool url = UrlEncoded(root);
  ListObjectsV2Result out;
  FERRY_RETURN_IF_ERROR(Bool(root, "IsTruncated", kWhat, out.is_truncated));
  FERRY_RETURN_IF_ERROR(Number(root, "KeyCount", kWhat, out.key_count, false));
  out.next_continuation_token = Text(root, "NextContinuationToken");
  Status st;
  ForEach(root, "Contents", [&](const pugi::xml_node& c) {
    if (!st.ok()) return;
    ObjectSummary s;
    pugi::xml_node key = Child(c, "Key");
    if (!key) {
      st = Malformed(kWhat, "<Contents> without <Key>");
      return;
    }
    s.key = key.child_value();
    st = Decode(url, kWhat, s.key);
    if (st.ok()) st = Number(c, "Size", kWhat, s.size, true);
    if (st.ok()) st = Time(c, "LastModified", kWhat, s.last_modified);
    s.etag = UnquoteEtag(Text(c, "ETag"));
    s.storage_class = Text(c, "StorageClass");
    out.contents.push_back(std::move(s));
  });
  FERRY_RETURN_IF_ERROR(st);
  ForEach(root, "CommonPrefixes", [&](const pugi::xml_node& c) {
    if (!st.ok()) return;
    std::string p = Text(c, "Prefix");
    st = Decode(url, kWhat, p);
    out.common_prefixes.push_back(std::move(p));
  });
  FERRY_RETURN_IF_ERROR(st);
  // A truncated page without a token cannot be continued: treating it as
  // the end would make the listing look complete when it is not.
  if (out.is_truncated && out.next_continuation_token.empty()) {
    return Malformed(kWhat, "IsTruncated is true but there is no NextContinuationToken");
  }
  return out;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  constexpr std::string_view kWhat = "CreateMultipartUpload";
  Doc doc;
  FERRY_RETURN_IF_ERROR(doc.Load(body, "InitiateMultipartUploadResult", kWhat));
  std::string id = Text(doc.root(), "UploadId");
  if (id.empty()) return Malformed(kWhat, "no <UploadId>");
  return id;
}

Result<PutResult> ParseCompleteMultipartUpload(std::string_view body) {
  constexpr std::string_view kWhat = "CompleteMultipartUpload";
  Doc doc;
  FERRY_RETURN_IF_ERROR(doc.Load(body, "CompleteMultipartUploadResult", kWhat));
  PutResult out;
  // Ceph RGW 16 answers <ETag></ETag>: the upload is complete but the answer
  // does not say the ETag. An empty element is that; a missing one is a
  // damaged answer.
  if (!Child(doc.root(), "ETag")) return Malformed(kWhat, "no <ETag>");
  out.etag = UnquoteEtag(Text(doc.root(), "ETag"));
  out.checksum_crc32c = Text(doc.root(), "ChecksumCRC32C");
  return out;
}

Result<PutResult> ParseCopyResult(std::string_view body) {
  constexpr std::string_view kWhat = "copy";
  Doc doc;
  Status st = doc.Load(body, "CopyObjectResult", kWhat);
  if (!st.ok() && st.error_class() == ErrorClass::kFatal && st.error().http_status == 0) {
    Doc part;
    Status part_st = part.Load(body, "CopyPartResult", kWhat);
    if (!part_st.ok()) return part_st;
    PutResult out;
    out.etag = UnquoteEtag(Text(part.root(), "ETag"));
    if (out.etag.empty()) return Malformed(kWhat, "no <ETag>");
    // An upload created with CRC32C: S3 computed the copied part's checksum,
    // and CompleteMultipartUpload must name it.
    out.checksum_crc32c = Text(part.root(), "ChecksumCRC32C");
    return out;
  }
  FERRY_RETURN_IF_ERROR(st);
  PutResult out;
  out.etag = UnquoteEtag(Text(doc.root(), "ETag"));
  if (out.etag.empty()) return Malformed(kWhat, "no <ETag>");
  return out;
}

Result<ListPartsResult> ParseListParts(std::string_view body) {
  constexpr std::string_view kWhat = "ListParts";
  Doc doc;
  FERRY_RETURN_IF_ERROR(doc.Load(body, "ListPartsResult", kWhat));
  const pugi::xml_node& root = doc.root();
  ListPartsResult out;
  FERRY_RETURN_IF_ERROR(Bool(root, "IsTruncated", kWhat, out.is_truncated));
  FERRY_RETURN_IF_ERROR(Number(root, "NextPartNumberMarker", kWhat,
                               out.next_part_number_marker, false));
  Status st;
  ForEach(root, "Part", [&](const pugi::xml_node& p) {
    if (!st.ok()) return;
    PartSummary s;
    st = Number(p, "PartNumber", kWhat, s.part_number, true);
    if (st.ok()) st = Number(p, "Size", kWhat, s.size, true);
    if (st.ok()) st = Time(p, "LastModified", kWhat, s.last_modified);
    s.etag = UnquoteEtag(Text(p, "ETag"));
    s.checksum_crc32c = Text(p, "ChecksumCRC32C");
    out.parts.push_back(std::move(s));
  });
  FERRY_RETURN_IF_ERROR(st);
  if (out.is_truncated && out.next_part_number_marker <= 0) {
    return Malformed(kWhat, "IsTruncated is true but there is no NextPartNumberMarker");
  }
  return out;
}

Result<ListUploadsResult> ParseListMultipartUploads(std::string_view body,
                                                    UploadKeys undeclared) {
  constexpr std::string_view kWhat = "ListMultipartUploads";
  Doc doc;
  FERRY_RETURN_IF_ERROR(doc.Load(body, "ListMultipartUploadsResult", kWhat));
  const pugi::xml_node& root = doc.root();
  const bool url = UrlEncoded(root) || undeclared == UploadKeys::kUrlEncoded;
  ListUploadsResult out;
  FERRY_RETURN_IF_ERROR(Bool(root, "IsTruncated", kWhat, out.is_truncated));
  out.next_key_marker = Text(root, "NextKeyMarker");
  out.next_upload_id_marker = Text(root, "NextUploadIdMarker");
  FERRY_RETURN_IF_ERROR(Decode(url, kWhat, out.next_key_marker));
  Status st;
  ForEach(root, "Upload", [&](const pugi::xml_node& u) {
    if (!st.ok()) return;
    UploadSummary s;
    s.key = Text(u, "Key");
    s.upload_id = Text(u, "UploadId");
    if (s.upload_id.empty()) st = Malformed(kWhat, "<Upload> without <UploadId>");
    if (st.ok()) st = Decode(url, kWhat, s.key);
    if (st.ok()) st = Time(u, "Initiated", kWhat, s.initiated);
    out.uploads.push_back(std::move(s));
  });
  FERRY_RETURN_IF_ERROR(st);
  if (out.is_truncated && out.next_key_marker.empty() && out.next_upload_id_marker.empty()) {
    return Malformed(kWhat, "IsTruncated is true but there are no next markers");
  }
  return out;
}

Result<std::vector<DeleteError>> ParseDeleteResult(std::string_view body) {
  constexpr std::string_view kWhat = "DeleteObjects";
  Doc doc;
  FERRY_RETURN_IF_ERROR(doc.Load(body, "DeleteResult", kWhat));
  const bool url = UrlEncoded(doc.root());
  std::vector<DeleteError> out;
  Status st;
  ForEach(doc.root(), "Error", [&](const pugi::xml_node& e) {
    if (!st.ok()) return;
    DeleteError d;
    d.key = Text(e, "Key");
    d.code = Text(e, "Code");
    d.message = Text(e, "Message");
    st = Decode(url, kWhat, d.key);
    out.push_back(std::move(d));
  });
  FERRY_RETURN_IF_ERROR(st);
  return out;
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20) {
          out += "&#" + std::to_string(c) + ";";
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

namespace {
constexpr std::string_view kNs = R"( xmlns="http://s3.amazonaws.com/doc/2006-03-01/")";
constexpr std::string_view kDecl = R"(<?xml version="1.0" encoding="UTF-8"?>)";
}  // namespace

std::string BuildCompleteMultipartUpload(const std::vector<CompletedPart>& parts) {
  std::string out(kDecl);
  out.append("<CompleteMultipartUpload").append(kNs).append(">");
  for (const auto& p : parts) {
    out.append("<Part><PartNumber>").append(std::to_string(p.part_number));
    out.append("</PartNumber><ETag>&quot;").append(Escape(UnquoteEtag(p.etag)));
    out.append("&quot;</ETag>");
    if (!p.checksum_crc32c.empty()) {
      out.append("<ChecksumCRC32C>").append(Escape(p.checksum_crc32c)).append("</ChecksumCRC32C>");
    }
    out.append("</Part>");
  }
  out.append("</CompleteMultipartUpload>");
  return out;
}

std::string BuildDelete(const std::vector<std::string>& keys, bool quiet) {
  std::string out(kDecl);
  out.append("<Delete").append(kNs).append(">");
  if (quiet) out.append("<Quiet>true</Quiet>");
  for (const auto& k : keys) out.append("<Object><Key>").append(Escape(k)).append("</Key></Object>");
  out.append("</Delete>");
  return out;
}

std::string BuildCreateBucketConfiguration(std::string_view region) {
  std::string out(kDecl);
  out.append("<CreateBucketConfiguration").append(kNs).append("><LocationConstraint>");
  out.append(Escape(region)).append("</LocationConstraint></CreateBucketConfiguration>");
  return out;
}

}  // namespace ferry::s3::xml
