#include "protocols/events/notification.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "protocols/events/json_guard.h"
#include "protocols/s3/sigv4.h"
#include "protocols/s3/times.h"

namespace ferry::events {

namespace {

using json = nlohmann::json;

Status Bad(std::string message) {
  return Status::Error(ErrorClass::kFatal, "event notification: " + std::move(message));
}

Status BadRecord(std::size_t index, std::string message) {
  return Bad("Records[" + std::to_string(index) + "]: " + std::move(message));
}

// Checks bounds that nlohmann cannot, then parses without exceptions.
Result<json> ParseJson(std::string_view text, const std::string& what) {
  if (!json_guard::ValidUtf8(text)) return Bad(what + " is not valid UTF-8");
  if (json_guard::NestingDepth(text, kMaxDepth) > kMaxDepth) {
    return Bad(what + " nests deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad(what + " is not valid JSON");
  return j;
}

// The member `name` of `obj` when it is a string; nullptr when absent or null.
// Sets *wrong_type when present with another type.
const std::string* StringMember(const json& obj, const char* name, bool* wrong_type) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  if (!it->is_string()) {
    *wrong_type = true;
    return nullptr;
  }
  return it->get_ptr<const std::string*>();
}

bool HasPrefix(std::string_view s, std::string_view p) { return s.starts_with(p); }

// What a record's eventName means for the replica (after any "s3:" prefix).
// Lifecycle expirations of the current version remove the object just like
// a DELETE; non-current expirations, restores, replication, tagging and ACL
// changes do not change what the replica must hold.
std::optional<EventKind> KindOf(std::string_view name) {
  if (name.starts_with("s3:")) name.remove_prefix(3);
  if (HasPrefix(name, "ObjectCreated:")) return EventKind::kCreated;
  if (HasPrefix(name, "ObjectRemoved:")) return EventKind::kRemoved;
  if (HasPrefix(name, "LifecycleExpiration:")) return EventKind::kRemoved;  // AWS
  if (name == "ObjectLifecycle:Expiration:Current" ||                       // Ceph RGW
      name == "ObjectLifecycle:Expiration:DeleteMarker") {
    return EventKind::kRemoved;
  }
  return std::nullopt;
}

Result<std::optional<std::uint64_t>> ParseSize(const json& object) {
  auto it = object.find("size");
  if (it == object.end() || it->is_null()) return std::optional<std::uint64_t>();
  if (it->is_number_unsigned()) return std::optional<std::uint64_t>(it->get<std::uint64_t>());
  if (it->is_number_integer()) {
    auto v = it->get<std::int64_t>();
    if (v >= 0) return std::optional<std::uint64_t>(static_cast<std::uint64_t>(v));
  }
  if (it->is_string()) {  // Ceph RGW writes "size":"1024" in some versions
    const auto& s = it->get_ref<const std::string&>();
    std::uint64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) {
      return std::optional<std::uint64_t>(v);
    }
  }
  return Bad("size is not a non-negative integer");
}

std::string Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

Status ParseRecord(const json& rec, std::size_t index, ParsedNotification* out) {
  if (!rec.is_object()) return BadRecord(index, "not an object");
  bool wrong = false;
  const std::string* name = StringMember(rec, "eventName", &wrong);
  if (wrong || name == nullptr || name->empty()) {
    return BadRecord(index, "eventName missing or not a string");
  }
  std::optional<EventKind> kind = KindOf(*name);
  if (!kind) {
    ++out->ignored_records;
    return Status::Ok();
  }
  const std::string* source = StringMember(rec, "eventSource", &wrong);
  if (wrong) return BadRecord(index, "eventSource is not a string");
  auto s3 = rec.find("s3");
  if (s3 == rec.end() || !s3->is_object()) return BadRecord(index, "s3 missing or not an object");
  auto bucket = s3->find("bucket");
  auto object = s3->find("object");
  if (bucket == s3->end() || !bucket->is_object()) {
    return BadRecord(index, "s3.bucket missing or not an object");
  }
  if (object == s3->end() || !object->is_object()) {
    return BadRecord(index, "s3.object missing or not an object");
  }
  const std::string* bucket_name = StringMember(*bucket, "name", &wrong);
  if (wrong || bucket_name == nullptr || bucket_name->empty()) {
    return BadRecord(index, "s3.bucket.name missing or not a string");
  }
  const std::string* raw_key = StringMember(*object, "key", &wrong);
  if (wrong || raw_key == nullptr) return BadRecord(index, "s3.object.key missing or not a string");

  ObjectEvent ev;
  ev.kind = *kind;
  ev.event_name = *name;
  ev.bucket = *bucket_name;
  bool decode = source != nullptr && (*source == "aws:s3" || *source == "minio:s3");
  if (decode) {
    if (raw_key->size() > 3 * kMaxKeyBytes) {
      return BadRecord(index,
                       "s3.object.key longer than " + std::to_string(kMaxKeyBytes) + " bytes");
    }
    auto decoded = s3::UriDecode(*raw_key, /*plus_as_space=*/true);
    if (!decoded.ok()) return BadRecord(index, "s3.object.key has a malformed %-escape");
    ev.key = std::move(decoded).value();
  } else {
    ev.key = *raw_key;
  }
  if (ev.key.empty()) return BadRecord(index, "s3.object.key is empty");
  if (ev.key.size() > kMaxKeyBytes) {
    return BadRecord(index, "s3.object.key longer than " + std::to_string(kMaxKeyBytes) + " bytes");
  }
  if (!json_guard::ValidUtf8(ev.key)) return BadRecord(index, "s3.object.key is not valid UTF-8");
  if (ev.key.find('\0') != std::string::npos) return BadRecord(index, "s3.object.key contains NUL");

  auto size = ParseSize(*object);
  if (!size.ok()) return BadRecord(index, "s3.object.size is not a non-negative integer");
  ev.size = *size;
  const std::string* etag = StringMember(*object, "eTag", &wrong);
  if (etag == nullptr && !wrong) etag = StringMember(*object, "etag", &wrong);  // Ceph RGW
  if (wrong) return BadRecord(index, "s3.object.eTag is not a string");
  if (etag != nullptr) ev.etag = Unquote(*etag);
  const std::string* sequencer = StringMember(*object, "sequencer", &wrong);
  if (wrong) return BadRecord(index, "s3.object.sequencer is not a string");
  if (sequencer != nullptr) ev.sequencer = *sequencer;
  const std::string* time = StringMember(rec, "eventTime", &wrong);
  if (wrong) return BadRecord(index, "eventTime is not a string");
  if (time != nullptr && !time->empty()) {  // MinIO may send ""
    auto t = s3::ParseIso8601(*time);
    if (!t.ok()) return BadRecord(index, "eventTime is not an ISO 8601 time");
    ev.event_time = *t;
  }
  out->events.push_back(std::move(ev));
  return Status::Ok();
}

Status ParseDocument(const json& doc, bool allow_sns, ParsedNotification* out) {
  if (!doc.is_object()) return Bad("body is not a JSON object");
  bool wrong = false;
  const std::string* type = StringMember(doc, "Type", &wrong);
  if (allow_sns && type != nullptr && doc.contains("TopicArn")) {
    if (*type == "Notification") {
      const std::string* message = StringMember(doc, "Message", &wrong);
      if (wrong || message == nullptr) return Bad("SNS Notification without a Message string");
      FERRY_ASSIGN_OR_RETURN(json inner, ParseJson(*message, "SNS Message"));
      return ParseDocument(inner, /*allow_sns=*/false, out).Annotate("in SNS Message");
    }
    if (*type == "SubscriptionConfirmation") {
      const std::string* url = StringMember(doc, "SubscribeURL", &wrong);
      if (wrong || url == nullptr || !url->starts_with("https://") || url->size() > 2048) {
        return Bad("SNS SubscriptionConfirmation without a valid https SubscribeURL");
      }
      out->sns_subscribe_url = *url;
      return Status::Ok();
    }
    if (*type == "UnsubscribeConfirmation") return Status::Ok();
    return Bad("unsupported SNS message type");
  }
  const std::string* event = StringMember(doc, "Event", &wrong);
  if (event != nullptr && *event == "s3:TestEvent") {
    out->test_event = true;
    return Status::Ok();
  }
  auto records = doc.find("Records");
  if (records == doc.end()) return Bad("no Records (not an S3 event notification)");
  if (!records->is_array()) return Bad("Records is not an array");
  if (records->size() > kMaxRecords) {
    return Bad("more than " + std::to_string(kMaxRecords) + " records");
  }
  out->events.reserve(records->size());
  for (std::size_t i = 0; i < records->size(); ++i) {
    FERRY_RETURN_IF_ERROR(ParseRecord((*records)[i], i, out));
  }
  return Status::Ok();
}

}  // namespace

Result<ParsedNotification> ParseNotification(std::string_view body, std::size_t max_body) {
  if (body.size() > max_body) {
    return Bad("body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
               std::to_string(max_body));
  }
  if (body.empty()) return Bad("empty body");
  try {
    FERRY_ASSIGN_OR_RETURN(json doc, ParseJson(body, "body"));
    ParsedNotification out;
    FERRY_RETURN_IF_ERROR(ParseDocument(doc, /*allow_sns=*/true, &out));
    return out;
  } catch (const std::exception& e) {
    // nlohmann throws only on type errors the checks above rule out; never
    // let one escape from outside input.
    return Bad(std::string("unexpected JSON shape (") + e.what() + ")");
  }
}

}  // namespace ferry::events
