// From a received request to an S3 answer: addressing (path style, or
// virtual-hosted "bucket.host"), operation classification, SigV4, fault
// decisions, the handler, link latency. Transport-free: the connection layer
// supplies the raw body and carries out what the Outcome says.
#pragma once

#include <optional>
#include <string>

#include "sim/faults.h"
#include "sim/message.h"
#include "sim/services.h"

namespace ferry::sim {

struct Outcome {
  SimResponse response;
  std::string op;  // S3 operation name, e.g. "PutObject"
  std::string bucket;
  std::string key;
  std::string request_id;
  std::string fault;  // kind injected, "" when none
  // Faults the writer carries out: kReset, kTruncate or kFlip.
  std::optional<FaultKind> write_fault;
  bool reset_now = false;  // reset the connection without answering
};

struct Target {
  std::string bucket;
  std::string key;
};
// Bucket and (decoded) key addressed by the request.
Result<Target> ParseTarget(const SimRequest& req, const Store& store);
// The S3 operation name for a request, or "" when not supported.
std::string ClassifyOperation(const SimRequest& req, const Target& t);

io::Task<Outcome> HandleS3(Services& svc, const SimRequest& req, BodyReader& raw_body);

}  // namespace ferry::sim
