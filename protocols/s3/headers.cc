// Object metadata headers, sent and parsed.
#include "protocols/s3/headers.h"

#include <algorithm>
#include <charconv>

#include "protocols/s3/times.h"
#include "protocols/s3/xml.h"

namespace ferry::s3 {
namespace {

constexpr std::string_view kMetaPrefix = "x-amz-meta-";
constexpr std::string_view kChecksumPrefix = "x-amz-checksum-";

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view v, T& out) {
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return !v.empty() && ec == std::errc() && ptr == v.data() + v.size();
}

}  // namespace

bool IsValidHeaderValue(std::string_view v) {
  return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

Status AppendMetadataHeaders(const ObjectMetadata& meta, http::Headers& out) {
  auto add = [&](std::string_view name, const std::string& value) -> Status {
    if (value.empty()) return Status::Ok();
    if (!IsValidHeaderValue(value)) {
      return Status::Error(ErrorClass::kInvalidArgument,
                           "metadata " + std::string(name) + " contains CR, LF or NUL");
    }
    out.emplace_back(std::string(name), value);
    return Status::Ok();
  };
  FERRY_RETURN_IF_ERROR(add("Content-Type", meta.content_type));
  FERRY_RETURN_IF_ERROR(add("Content-Encoding", meta.content_encoding));
  FERRY_RETURN_IF_ERROR(add("Cache-Control", meta.cache_control));
  FERRY_RETURN_IF_ERROR(add("Content-Disposition", meta.content_disposition));
  FERRY_RETURN_IF_ERROR(add("Content-Language", meta.content_language));
  FERRY_RETURN_IF_ERROR(add("Expires", meta.expires));
  for (const auto& [name, value] : meta.user) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return Status::Error(ErrorClass::kInvalidArgument,
                           "user metadata name '" + name + "' is not a valid header name");
    }
    if (!IsValidHeaderValue(value)) {
      return Status::Error(ErrorClass::kInvalidArgument,
                           "user metadata '" + name + "' contains CR, LF or NUL");
    }
    out.emplace_back(std::string(kMetaPrefix) + Lower(name), value);
  }
  FERRY_RETURN_IF_ERROR(add("x-amz-storage-class", meta.storage_class));
  FERRY_RETURN_IF_ERROR(add("x-amz-server-side-encryption", meta.sse));
  FERRY_RETURN_IF_ERROR(add("x-amz-server-side-encryption-aws-kms-key-id", meta.sse_kms_key_id));
  return Status::Ok();
}

Result<ObjectInfo> ParseObjectInfo(const http::Headers& headers) {
  ObjectInfo info;
  bool have_length = false;
  bool have_range_total = false;
  for (const auto& [raw_name, value] : headers) {
    const std::string name = Lower(raw_name);
    if (name == "content-length") {
      if (!have_range_total) {
        if (!ParseNumber(value, info.size)) {
          return Status::Error(ErrorClass::kRetryable, "malformed Content-Length in answer");
        }
      }
      have_length = true;
    } else if (name == "content-range") {
      // "bytes a-b/total"; total may be '*' when unknown.
      std::size_t slash = value.rfind('/');
      std::uint64_t total = 0;
      if (slash != std::string::npos && ParseNumber(std::string_view(value).substr(slash + 1), total)) {
        info.size = total;
        have_range_total = true;
      }
    } else if (name == "etag") {
      info.etag = xml::UnquoteEtag(value);
    } else if (name == "last-modified") {
      auto t = ParseHttpDate(value);
      if (t.ok()) info.last_modified = *t;
    } else if (name == "content-type") {
      info.metadata.content_type = value;
    } else if (name == "content-encoding") {
      info.metadata.content_encoding = value;
    } else if (name == "cache-control") {
      info.metadata.cache_control = value;
    } else if (name == "content-disposition") {
      info.metadata.content_disposition = value;
    } else if (name == "content-language") {
      info.metadata.content_language = value;
    } else if (name == "expires") {
      info.metadata.expires = value;
    } else if (name.starts_with(kMetaPrefix)) {
      info.metadata.user[name.substr(kMetaPrefix.size())] = value;
    } else if (name == "x-amz-storage-class") {
      info.metadata.storage_class = value;
    } else if (name == "x-amz-server-side-encryption") {
      info.metadata.sse = value;
    } else if (name == "x-amz-server-side-encryption-aws-kms-key-id") {
      info.metadata.sse_kms_key_id = value;
    } else if (name == "x-amz-server-side-encryption-customer-algorithm") {
      info.metadata.sse_customer_algorithm = value;
    } else if (name == "x-amz-mp-parts-count") {
      int n = 0;
      if (ParseNumber(value, n) && n > 0) info.parts_count = n;
    } else if (name.starts_with(kChecksumPrefix)) {
      std::string algo = name.substr(kChecksumPrefix.size());
      if (algo == "type") {
        info.checksum_type = value;
      } else if (!algo.empty() && algo != "mode" && algo != "algorithm") {
        info.checksums[Upper(algo)] = value;
      }
    } else if (name == "x-amz-version-id") {
      if (value != "null") info.version_id = value;
    }
  }
  if (!have_length && !have_range_total) {
    return Status::Error(ErrorClass::kRetryable, "answer has no Content-Length");
  }
  return info;
}

}  // namespace ferry::s3
