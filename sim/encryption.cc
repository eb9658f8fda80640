// Server-side encryption headers, defaults and ETags. See encryption.h.
#include "sim/encryption.h"

#include <algorithm>
#include <atomic>

#include "protocols/base/digest.h"
#include "sim/errors.h"

namespace ferry::sim {
namespace {

constexpr std::string_view kSse = "x-amz-server-side-encryption";
constexpr std::string_view kKmsKeyId = "x-amz-server-side-encryption-aws-kms-key-id";
constexpr std::string_view kCustomerAlgorithm = "x-amz-server-side-encryption-customer-algorithm";
constexpr std::string_view kCustomerKey = "x-amz-server-side-encryption-customer-key";
constexpr std::string_view kCustomerKeyMd5 = "x-amz-server-side-encryption-customer-key-md5";
constexpr std::string_view kCopyPrefix = "x-amz-copy-source-";
// What AWS names the account's default KMS key when a request names none.
constexpr std::string_view kDefaultKmsKey = "arn:aws:kms:us-east-1:000000000000:alias/aws/s3";

bool IsKms(std::string_view a) { return a == "aws:kms" || a == "aws:kms:dsse"; }

Status Unsupported() {
  return InvalidArgument("The encryption method specified is not supported");
}

struct CustomerKey {
  const std::string* algorithm = nullptr;
  const std::string* key = nullptr;
  const std::string* key_md5 = nullptr;
};

CustomerKey CustomerHeaders(const SimRequest& req, bool copy_source) {
  // x-amz-server-side-encryption-customer-* or, for a copy source,
  // x-amz-copy-source-server-side-encryption-customer-*.
  auto name = [&](std::string_view n) {
    return copy_source ? std::string(kCopyPrefix) + std::string(n.substr(6)) : std::string(n);
  };
  return {req.Header(name(kCustomerAlgorithm)), req.Header(name(kCustomerKey)),
          req.Header(name(kCustomerKeyMd5))};
}

// Validates SSE-C headers as AWS does; returns the key's MD5 (base64).
Result<std::string> CheckCustomerHeaders(const CustomerKey& c) {
  if (!c.algorithm) {
    return InvalidArgument(
        "Requests specifying Server Side Encryption with Customer provided keys must provide a "
        "valid encryption algorithm.");
  }
  if (*c.algorithm != "AES256") {
    return S3Error(400, "InvalidEncryptionAlgorithmError",
                   "The encryption request you specified is not valid. The valid value is "
                   "AES256.");
  }
  if (!c.key) {
    return InvalidArgument(
        "Requests specifying Server Side Encryption with Customer provided keys must provide an "
        "appropriate secret key.");
  }
  std::string raw;
  if (!digest::Base64Decode(*c.key, &raw) || raw.size() != 32) {
    return InvalidArgument("The secret key was invalid for the specified algorithm.");
  }
  const std::string md5 = digest::Base64Encode(digest::Md5(raw));
  if (c.key_md5 && *c.key_md5 != md5) {
    return InvalidArgument(
        "The calculated MD5 hash of the key did not match the hash that was provided.");
  }
  return md5;
}

}  // namespace

Status ValidateBucketEncryption(const Sse& sse) {
  if (!sse.customer_algorithm.empty()) return Unsupported();
  if (sse.algorithm != "AES256" && !IsKms(sse.algorithm)) return Unsupported();
  if (!sse.kms_key_id.empty() && !IsKms(sse.algorithm)) {
    return InvalidArgument("A KMS key id needs aws:kms or aws:kms:dsse");
  }
  return Status::Ok();
}

Result<Sse> SseFromRequest(const SimRequest& req) {
  Sse out;
  const std::string* alg = req.Header(kSse);
  const std::string* key_id = req.Header(kKmsKeyId);
  CustomerKey c = CustomerHeaders(req, /*copy_source=*/false);
  const bool customer = c.algorithm || c.key || c.key_md5;
  if (alg) {
    if (*alg != "AES256" && !IsKms(*alg)) return Unsupported();
    if (customer) {
      return InvalidArgument(
          "Server Side Encryption with Customer provided key is incompatible with the "
          "encryption method specified");
    }
    out.algorithm = *alg;
  }
  if (key_id) {
    if (!IsKms(out.algorithm)) {
      return InvalidArgument(
          "Server Side Encryption with AWS KMS managed key requires HTTP header "
          "x-amz-server-side-encryption : aws:kms");
    }
    out.kms_key_id = *key_id;
  }
  if (customer) {
    FERRY_ASSIGN_OR_RETURN(out.customer_key_md5, CheckCustomerHeaders(c));
    out.customer_algorithm = *c.algorithm;
  }
  return out;
}

Sse ResolveSse(const Sse& requested, const Sse& bucket_default) {
  Sse out = requested.empty() ? bucket_default : requested;
  if (IsKms(out.algorithm) && out.kms_key_id.empty()) out.kms_key_id = kDefaultKmsKey;
  return out;
}

Result<Sse> SseForWrite(const Store& store, const std::string& bucket, const SimRequest& req) {
  FERRY_ASSIGN_OR_RETURN(Sse requested, SseFromRequest(req));
  FERRY_ASSIGN_OR_RETURN(BucketRecord b, store.GetBucket(bucket));
  Sse bucket_default;
  bucket_default.algorithm = b.default_sse;
  bucket_default.kms_key_id = b.default_kms_key_id;
  return ResolveSse(requested, bucket_default);
}

Sse SseOf(const Metadata& m) {
  Sse out;
  for (const auto& [name, value] : m) {
    if (name == kSse) out.algorithm = value;
    if (name == kKmsKeyId) out.kms_key_id = value;
    if (name == kCustomerAlgorithm) out.customer_algorithm = value;
    if (name == kCustomerKeyMd5) out.customer_key_md5 = value;
  }
  return out;
}

void StoreSse(const Sse& sse, Metadata& m) {
  std::erase_if(m, [](const auto& kv) { return kv.first.starts_with(kSse); });
  if (!sse.algorithm.empty()) m.emplace_back(std::string(kSse), sse.algorithm);
  if (!sse.kms_key_id.empty()) m.emplace_back(std::string(kKmsKeyId), sse.kms_key_id);
  if (!sse.customer_algorithm.empty()) {
    m.emplace_back(std::string(kCustomerAlgorithm), sse.customer_algorithm);
    m.emplace_back(std::string(kCustomerKeyMd5), sse.customer_key_md5);
  }
}

std::string EtagFor(const Sse& sse, const std::string& md5_raw) {
  if (sse.EtagIsMd5()) return digest::ToHex(md5_raw);
  // Opaque, and different for every write of the same bytes (as on AWS).
  static std::atomic<std::uint64_t> nonce{1};
  return digest::ToHex(
      digest::Md5(md5_raw + sse.algorithm + sse.customer_algorithm + "/" +
                  std::to_string(nonce.fetch_add(1))));
}

Status CheckCustomerKey(const SimRequest& req, const Sse& object, bool copy_source) {
  if (object.customer_algorithm.empty()) return Status::Ok();
  CustomerKey c = CustomerHeaders(req, copy_source);
  if (!c.algorithm && !c.key && !c.key_md5) {
    return S3Error(400, "InvalidRequest",
                   "The object was stored using a form of Server Side Encryption. The correct "
                   "parameters must be provided to retrieve the object.");
  }
  FERRY_ASSIGN_OR_RETURN(std::string md5, CheckCustomerHeaders(c));
  if (md5 != object.customer_key_md5) {
    return S3Error(403, "AccessDenied",
                   "The SSE-C key provided does not match the key the object was stored with.");
  }
  return Status::Ok();
}

void AddSseHeaders(const Sse& sse, SimResponse& r) {
  if (!sse.algorithm.empty()) r.Set(std::string(kSse), sse.algorithm);
  if (!sse.kms_key_id.empty()) r.Set(std::string(kKmsKeyId), sse.kms_key_id);
  if (!sse.customer_algorithm.empty()) {
    r.Set(std::string(kCustomerAlgorithm), sse.customer_algorithm);
    r.Set(std::string(kCustomerKeyMd5), sse.customer_key_md5);
  }
}

}  // namespace ferry::sim
