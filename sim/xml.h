// The XML the simulator speaks: a small writer for S3 response documents and
// parsers for the two request bodies that carry XML (CompleteMultipartUpload
// and DeleteObjects).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/base/status.h"
#include "sim/store.h"

namespace ferry::sim {

// Appends elements to a document that starts with the XML declaration and the
// S3 namespace on the root. Text is escaped.
class XmlWriter {
 public:
  explicit XmlWriter(std::string_view root);
  XmlWriter& Open(std::string_view name);
  XmlWriter& Close(std::string_view name);
  XmlWriter& Element(std::string_view name, std::string_view text);
  // Closes the root and returns the document.
  std::string Finish();

 private:
  std::string root_;
  std::string out_;
};

std::string XmlEscape(std::string_view text);
// "2024-01-02T03:04:05.000Z"
std::string Iso8601(Clock::time_point t);
// "Tue, 02 Jan 2024 03:04:05 GMT"
std::string HttpDate(Clock::time_point t);

// <Error><Code/><Message/><Resource/><RequestId/></Error>
std::string ErrorXml(std::string_view code, std::string_view message, std::string_view resource,
                     std::string_view request_id);

// <CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>...; MalformedXML on error.
Result<std::vector<CompletePart>> ParseCompleteMultipartUpload(std::string_view xml);

struct DeleteRequest {
  bool quiet = false;
  std::vector<std::string> keys;
};
// <Delete><Quiet/><Object><Key/></Object>...; MalformedXML on error, at most 1000 keys.
Result<DeleteRequest> ParseDeleteObjects(std::string_view xml);

}  // namespace ferry::sim
