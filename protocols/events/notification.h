// S3 event notifications, as POSTed to ferryd's webhook: which objects were
// created or removed. An event is a hint (the planner confirms it with HEAD),
// so parsing is strict about shape and bounds and says exactly what is wrong.
//
// Accepted forms:
//  - AWS S3: {"Records":[{eventVersion 2.x, eventSource "aws:s3", eventName,
//    eventTime, s3:{bucket:{name}, object:{key,size,eTag,sequencer}}}]}
//  - the same inside an SNS envelope {"Type":"Notification","Message":"<json>"};
//    {"Type":"SubscriptionConfirmation","SubscribeURL":...} is reported (never
//    fetched here); the S3 test event {"Event":"s3:TestEvent",...} has no events.
//  - MinIO webhooks: AWS Records plus top-level "EventName"/"Key" (ignored:
//    the Records say the same).
//  - Ceph RGW: Records with eventSource "ceph:s3", eventVersion 2.1/2.2,
//    "eTag" or "etag", size as a number or a decimal string, x-amz-* extras.
//
// Key decoding. AWS form-encodes keys in events ("red flower.jpg" arrives as
// "red+flower.jpg", '/' kept); MinIO query-escapes them ('/' as %2F, space as
// '+'); Ceph RGW sends keys as stored, unencoded (a key with a literal '+' or
// '%' would be corrupted by decoding). So keys are form-decoded ('+' = space,
// %XX) only when eventSource is "aws:s3" or "minio:s3"; any other source's
// keys are kept exactly as sent.
//
// Bounds: body <= max_body, nesting depth <= 64, records <= 10,000, keys
// 1..1024 bytes after decoding and valid UTF-8. Anything else is a kFatal
// Status naming the problem (and the record index), never quoting the body.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/base/status.h"

namespace ferry::events {

inline constexpr std::size_t kMaxDepth = 64;
inline constexpr std::size_t kMaxRecords = 10000;
inline constexpr std::size_t kMaxKeyBytes = 1024;

enum class EventKind { kCreated, kRemoved };

struct ObjectEvent {
  EventKind kind = EventKind::kCreated;
  std::string event_name;  // e.g. "ObjectCreated:Put", "s3:ObjectCreated:Put" kept as sent
  std::string bucket;
  std::string key;  // DECODED (see above); any UTF-8, <= 1024 bytes
  std::optional<std::uint64_t> size;
  std::string etag;       // without quotes, may be empty
  std::string sequencer;  // may be empty
  std::optional<std::chrono::system_clock::time_point> event_time;
};

struct ParsedNotification {
  std::vector<ObjectEvent> events;
  bool test_event = false;                       // s3:TestEvent → no events
  std::optional<std::string> sns_subscribe_url;  // SNS SubscriptionConfirmation (not fetched)
  std::size_t ignored_records = 0;  // records of other kinds (e.g. ObjectRestore, Replication)
};

Result<ParsedNotification> ParseNotification(std::string_view body, std::size_t max_body = 1 << 20);

}  // namespace ferry::events
