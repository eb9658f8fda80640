// Fuzzes every S3 XML response parser (protocols/s3/xml.h) with one input:
// none may crash, hang or leak, whatever the body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/s3/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace ferry::s3::xml;
  (void)ParseListObjectsV2(body);
  (void)ParseInitiateMultipartUpload(body);
  (void)ParseCompleteMultipartUpload(body);
  (void)ParseCopyResult(body);
  (void)ParseListParts(body);
  (void)ParseListMultipartUploads(body);
  (void)ParseDeleteResult(body);
  (void)UnquoteEtag(body);
  (void)Escape(body);
  return 0;
}
