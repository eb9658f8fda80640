// The simulator's admin API, served on the S3 port under /_sim/ without
// authentication (tests and benchmarks drive it; see admin_client.h):
//   GET  /_sim/stats                 counters (requests per op, statuses, bytes
//                                    in/out, faults injected, events, connections)
//   GET  /_sim/log?since=N&limit=M   request log entries with seq > N
//   GET  /_sim/faults                current fault rules with their counters
//   POST /_sim/faults                {"clear":true} and/or {"seed":N} and/or
//                                    {"faults":[rule...]} (rules are appended
//                                    after clearing when "clear" is set)
//   GET|POST /_sim/clock             {"offset_ms":N}: the simulator's clock runs N ms
//                                    ahead of the host's (Date header, SigV4
//                                    time check); answers the current offset
//   POST /_sim/link                  {"latency_ms":N, "bandwidth":BYTES_PER_SEC}
//   POST /_sim/synthetic             {"bucket":B, "objects":[{"key","size","seed",
//                                    "part_size"} or {"key","content"} (literal
//                                    bytes)]} or {"bucket":B, "prefix":P,
//                                    "count":N, "size":S, "seed":X, "part_size":Z}
//                                    → {"objects":[{"key","size","etag"}]}
//   POST /_sim/buckets               {"name":B}: creates a bucket
//   POST /_sim/bucket-encryption     {"bucket":B, "sse":"aws:kms"|"aws:kms:dsse"|
//                                    "AES256"|"", "kms_key_id":K}: the bucket's
//                                    default encryption ("" clears; encryption.h)
//   POST /_sim/keys                  {"access_key":A, "secret_key":S}: requests
//                                    must now be signed with this pair (the old
//                                    one gets 403 InvalidAccessKeyId)
//   POST /_sim/reset-stats           zeroes the counters (the request log keeps
//                                    its sequence: read it with ?since=)
// Answers are JSON; errors are {"error": "..."} with 400/404.
#pragma once

#include <string>

#include "sim/message.h"
#include "sim/services.h"

namespace ferry::sim {

inline constexpr std::string_view kAdminPrefix = "/_sim/";

SimResponse HandleAdmin(Services& svc, const SimRequest& req, const std::string& body);

}  // namespace ferry::sim
