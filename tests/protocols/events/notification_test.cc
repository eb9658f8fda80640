// S3 event notifications: the forms AWS, SNS, MinIO and Ceph RGW send (shaped
// after their documentation), key decoding per source, bounds, hostile bodies,
// and a round trip through the JSON s3sim's notifier sends.
#include "protocols/events/notification.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "protocols/events/json_guard.h"
#include "sim/events.h"
#include "sim/services.h"

namespace ferry::events {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string AwsRecord(
    const std::string& name, const std::string& key,
    const std::string& extra_object =
        R"("size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0055AED6DCD90281E5")") {
  return R"({"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-west-2",
    "eventTime":"2024-03-01T12:34:56.789Z","eventName":")" +
         name + R"(",
    "userIdentity":{"principalId":"AWS:AIDAEXAMPLE"},
    "requestParameters":{"sourceIPAddress":"203.0.113.7"},
    "responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
    "s3":{"s3SchemaVersion":"1.0","configurationId":"ferry","bucket":{"name":"velero-backups",
      "ownerIdentity":{"principalId":"A3NL1KOZZKExample"},"arn":"arn:aws:s3:::velero-backups"},
      "object":{"key":")" +
         key + R"(",)" + extra_object + R"(}}})";
}

std::string Records(const std::vector<std::string>& recs) {
  std::string out = R"({"Records":[)";
  for (std::size_t i = 0; i < recs.size(); ++i) out += (i ? "," : "") + recs[i];
  return out + "]}";
}

TEST(EventsAws, CreatedWithAllFields) {
  auto r =
      ParseNotification(Records({AwsRecord("ObjectCreated:Put", "backups/b1/velero-backup.json")}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  const ObjectEvent& e = r->events[0];
  EXPECT_EQ(e.kind, EventKind::kCreated);
  EXPECT_EQ(e.event_name, "ObjectCreated:Put");
  EXPECT_EQ(e.bucket, "velero-backups");
  EXPECT_EQ(e.key, "backups/b1/velero-backup.json");
  ASSERT_TRUE(e.size.has_value());
  EXPECT_EQ(*e.size, 1024u);
  EXPECT_EQ(e.etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(e.sequencer, "0055AED6DCD90281E5");
  ASSERT_TRUE(e.event_time.has_value());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(e.event_time->time_since_epoch());
  EXPECT_EQ(ms.count(), 1709296496789);
  EXPECT_FALSE(r->test_event);
  EXPECT_EQ(r->ignored_records, 0u);
}

TEST(EventsAws, KeysAreFormDecoded) {
  auto r = ParseNotification(Records({
      AwsRecord("ObjectCreated:Put", "photos/red+flower.jpg"),
      AwsRecord("ObjectCreated:CompleteMultipartUpload", "a%2Fb%2Bc%25d"),
      AwsRecord("ObjectCreated:Copy", "caf%C3%A9/%E2%9B%B4+%F0%9F%9A%A2.tar"),
      AwsRecord("ObjectRemoved:Delete", "kopia/p0123abc", "\"sequencer\":\"0A\""),
      AwsRecord("ObjectRemoved:DeleteMarkerCreated", "with%20space"),
  }));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 5u);
  EXPECT_EQ(r->events[0].key, "photos/red flower.jpg");
  EXPECT_EQ(r->events[1].key, "a/b+c%d");
  EXPECT_EQ(r->events[2].key, "caf\xC3\xA9/\xE2\x9B\xB4 \xF0\x9F\x9A\xA2.tar");
  EXPECT_EQ(r->events[3].kind, EventKind::kRemoved);
  EXPECT_EQ(r->events[3].key, "kopia/p0123abc");
  EXPECT_FALSE(r->events[3].size.has_value());
  EXPECT_EQ(r->events[3].etag, "");
  EXPECT_EQ(r->events[4].kind, EventKind::kRemoved);
  EXPECT_EQ(r->events[4].key, "with space");
}

TEST(EventsAws, OtherKindsAreCountedNotReturned) {
  auto r = ParseNotification(Records({
      AwsRecord("ObjectRestore:Completed", "x"),
      AwsRecord("Replication:OperationFailedReplication", "x"),
      AwsRecord("ObjectTagging:Put", "x"),
      AwsRecord("LifecycleTransition", "x"),
      AwsRecord("LifecycleExpiration:Delete", "expired"),
      AwsRecord("ObjectCreated:Post", "posted"),
  }));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ignored_records, 4u);
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[0].kind, EventKind::kRemoved);
  EXPECT_EQ(r->events[0].key, "expired");
  EXPECT_EQ(r->events[1].key, "posted");
}

TEST(EventsAws, QuotedEtagIsUnquoted) {
  auto r = ParseNotification(
      Records({AwsRecord("ObjectCreated:Put", "k", R"("size":0,"eTag":"\"abc-2\"")")}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->events[0].etag, "abc-2");
  EXPECT_EQ(r->events[0].size, std::optional<std::uint64_t>(0));
}

TEST(EventsAws, TestEvent) {
  auto r = ParseNotification(
      R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-03-01T12:00:00.000Z","Bucket":"velero-backups","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->test_event);
  EXPECT_TRUE(r->events.empty());
}

std::string SnsEnvelope(const std::string& type, const std::string& message_json,
                        const std::string& extra = "") {
  nlohmann::json env = {
      {"Type", type},
      {"MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"},
      {"TopicArn", "arn:aws:sns:us-west-2:123456789012:ferry-events"},
      {"Subject", "Amazon S3 Notification"},
      {"Message", message_json},
      {"Timestamp", "2024-03-01T12:34:57.000Z"},
      {"SignatureVersion", "1"},
      {"Signature",
       "EXAMPLEpH+"
       "DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0A"
       "d8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q="},
      {"SigningCertURL",
       "https://sns.us-west-2.amazonaws.com/"
       "SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"},
      {"UnsubscribeURL",
       "https://sns.us-west-2.amazonaws.com/"
       "?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:ferry-events:"
       "c9135db0"}};
  if (!extra.empty()) env["SubscribeURL"] = extra;
  return env.dump();
}

TEST(EventsSns, NotificationWrapsS3Records) {
  std::string inner = Records({AwsRecord("ObjectCreated:Put", "restores/r1/restore-r1-logs.gz")});
  auto r = ParseNotification(SnsEnvelope("Notification", inner));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].key, "restores/r1/restore-r1-logs.gz");
  EXPECT_FALSE(r->sns_subscribe_url.has_value());
}

TEST(EventsSns, TestEventInsideSns) {
  auto r = ParseNotification(SnsEnvelope(
      "Notification", R"({"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->test_event);
}

TEST(EventsSns, SubscriptionConfirmationIsReportedNotFetched) {
  const std::string url =
      "https://sns.us-west-2.amazonaws.com/"
      "?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:ferry-events&Token="
      "2336412f37fb687f5d51e6e2425c464de12884";
  auto r = ParseNotification(SnsEnvelope("SubscriptionConfirmation",
                                         "You have chosen to subscribe to the topic ...", url));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->sns_subscribe_url.has_value());
  EXPECT_EQ(*r->sns_subscribe_url, url);
  EXPECT_TRUE(r->events.empty());

  auto http = ParseNotification(SnsEnvelope("SubscriptionConfirmation", "x", "http://evil/"));
  ASSERT_FALSE(http.ok());
  EXPECT_THAT(http.status().error().message, HasSubstr("SubscribeURL"));
}

TEST(EventsSns, MessageThatIsNotJson) {
  auto r = ParseNotification(SnsEnvelope("Notification", "{not json"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().error().message, HasSubstr("SNS Message is not valid JSON"));
  auto nested = ParseNotification(SnsEnvelope("Notification", SnsEnvelope("Notification", "{}")));
  ASSERT_FALSE(nested.ok());  // one envelope only
}

TEST(EventsMinio, WebhookFormWithEscapedSlashes) {
  // MinIO escapes keys like Go's url.QueryEscape: '/' as %2F, space as '+'.
  const std::string body =
      R"({"EventName":"s3:ObjectCreated:Put","Key":"velero/backups/b 1/b 1.tar.gz",
   "Records":[{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"",
   "eventTime":"2024-03-01T12:34:56.123Z","eventName":"s3:ObjectCreated:Put",
   "userIdentity":{"principalId":"minioadmin"},
   "requestParameters":{"principalId":"minioadmin","region":"","sourceIPAddress":"10.0.0.5"},
   "responseElements":{"x-amz-id-2":"dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8","x-amz-request-id":"17B8AD1E7CE2A0AF","x-minio-deployment-id":"6f0a8a4e-1c0a-4c86-8f5b-5b0ef3b3b6c1","x-minio-origin-endpoint":"http://10.0.0.2:9000"},
   "s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"velero","ownerIdentity":{"principalId":"minioadmin"},"arn":"arn:aws:s3:::velero"},
   "object":{"key":"backups%2Fb+1%2Fb+1.tar.gz","size":52428800,"eTag":"3b83ef96387f14655fc854ddc3c6bd57-10","contentType":"application/gzip","userMetadata":{"content-type":"application/gzip"},"sequencer":"17B8AD1E7D1C4B9E"}},
   "source":{"host":"10.0.0.5","port":"","userAgent":"MinIO (linux; amd64) minio-go/v7.0.63"}}]})";
  auto r = ParseNotification(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].event_name, "s3:ObjectCreated:Put");
  EXPECT_EQ(r->events[0].kind, EventKind::kCreated);
  EXPECT_EQ(r->events[0].bucket, "velero");
  EXPECT_EQ(r->events[0].key, "backups/b 1/b 1.tar.gz");
  EXPECT_EQ(r->events[0].size, std::optional<std::uint64_t>(52428800));
  EXPECT_EQ(r->events[0].etag, "3b83ef96387f14655fc854ddc3c6bd57-10");
}

TEST(EventsMinio, EmptyEventTimeIsAbsent) {
  const std::string body =
      R"({"EventName":"s3:ObjectRemoved:Delete","Key":"b/k","Records":[{"eventVersion":"2.0","eventSource":"minio:s3","eventTime":"","eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"k","sequencer":""}}}]})";
  auto r = ParseNotification(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->events[0].kind, EventKind::kRemoved);
  EXPECT_FALSE(r->events[0].event_time.has_value());
}

TEST(EventsCeph, RgwRecordKeysKeptAsSent) {
  // RGW sends keys unencoded: '+' and '%' are part of the key.
  const std::string body =
      R"({"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3","awsRegion":"default",
   "eventTime":"2024-03-01T12:34:56.124724Z","eventName":"ObjectCreated:Put",
   "userIdentity":{"principalId":"velero"},"requestParameters":{"sourceIPAddress":""},
   "responseElements":{"x-amz-request-id":"503a4c37-85eb-47cd-8681-2817e80b4281.5330.903595","x-amz-id-2":"14d2-zone1-zonegroup1"},
   "s3":{"s3SchemaVersion":"1.0","configurationId":"ferry","bucket":{"name":"kopia","ownerIdentity":{"principalId":"velero"},
     "arn":"arn:aws:s3:default::kopia","id":"503a4c37-85eb-47cd-8681-2817e80b4281.5332.38"},
   "object":{"key":"repo/a+b 50%/p01.f","size":"1024","eTag":"37b51d194a7513e45b56f6524f2d51f2","versionId":"",
     "sequencer":"F7E6D75DC742D108","metadata":[{"key":"x-amz-meta-owner","val":"velero"}],"tags":[]}},
   "eventId":"1575221657.102001.80dad3aad8584778352c68ea4ce0ee51","opaqueData":"ops@example.com"},
   {"eventVersion":"2.1","eventSource":"ceph:s3","eventTime":"2024-03-01T12:35:00.000000Z",
    "eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"kopia"},"object":{"key":"repo/x%2Fy","etag":"","size":0}}},
   {"eventVersion":"2.2","eventSource":"ceph:s3","eventTime":"2024-03-01T12:36:00.000000Z",
    "eventName":"ObjectLifecycle:Expiration:Current","s3":{"bucket":{"name":"kopia"},"object":{"key":"old","size":5,"etag":"abc"}}},
   {"eventVersion":"2.2","eventSource":"ceph:s3","eventTime":"2024-03-01T12:36:00.000000Z",
    "eventName":"ObjectLifecycle:Expiration:NonCurrent","s3":{"bucket":{"name":"kopia"},"object":{"key":"old"}}}]})";
  auto r = ParseNotification(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 3u);
  EXPECT_EQ(r->events[0].key, "repo/a+b 50%/p01.f");
  EXPECT_EQ(r->events[0].size, std::optional<std::uint64_t>(1024));
  EXPECT_EQ(r->events[0].etag, "37b51d194a7513e45b56f6524f2d51f2");
  ASSERT_TRUE(r->events[0].event_time.has_value());
  EXPECT_EQ(r->events[1].key, "repo/x%2Fy");
  EXPECT_EQ(r->events[1].kind, EventKind::kRemoved);
  EXPECT_EQ(r->events[1].event_name, "s3:ObjectRemoved:Delete");
  EXPECT_EQ(r->events[2].kind, EventKind::kRemoved);
  EXPECT_EQ(r->events[2].etag, "abc");
  EXPECT_EQ(r->ignored_records, 1u);
}

// Every error is kFatal, names the problem, and never quotes the body.
void ExpectRejected(const std::string& body, const std::string& what,
                    std::size_t max_body = 1 << 20) {
  auto r = ParseNotification(body, max_body);
  ASSERT_FALSE(r.ok()) << "accepted: " << body.substr(0, 200);
  EXPECT_TRUE(r.status().Is(ErrorClass::kFatal));
  EXPECT_THAT(r.status().error().message, HasSubstr(what));
  EXPECT_THAT(r.status().error().message, Not(HasSubstr("SECRET-MARKER")));
  EXPECT_LT(r.status().error().message.size(), 200u);
}

TEST(EventsErrors, HostileBodies) {
  ExpectRejected("", "empty body");
  ExpectRejected(std::string(2000, ' '), "exceeds the limit of 1000", 1000);
  ExpectRejected("{\"SECRET-MARKER\": ", "not valid JSON");
  ExpectRejected(R"({"Records":[]} trailing SECRET-MARKER)", "not valid JSON");
  ExpectRejected("[1,2,\"SECRET-MARKER\"]", "not a JSON object");
  ExpectRejected(R"({"Other":"SECRET-MARKER"})", "no Records");
  ExpectRejected(R"({"Records":{"a":1}})", "Records is not an array");
  ExpectRejected("{\"Records\":[],\"x\":\"\xC3\x28 SECRET-MARKER\"}", "not valid UTF-8");
  ExpectRejected(R"({"Records":[5]})", "Records[0]: not an object");
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", "ok"),
                          R"({"eventName":"ObjectCreated:Put","eventSource":"aws:s3"})"}),
                 "Records[1]: s3 missing");
  ExpectRejected(Records({R"({"eventSource":"aws:s3","s3":{}})"}), "eventName missing");
  ExpectRejected(
      Records(
          {R"({"eventName":"ObjectCreated:Put","eventSource":"aws:s3","s3":{"bucket":{"name":""},"object":{"key":"k"}}})"}),
      "s3.bucket.name");
  ExpectRejected(
      Records(
          {R"({"eventName":"ObjectCreated:Put","eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":7}}})"}),
      "s3.object.key missing or not a string");
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", "")}), "s3.object.key is empty");
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", "bad%ZZescape")}), "malformed %-escape");
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", "trunc%4")}), "malformed %-escape");
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", "latin1%E9")}), "not valid UTF-8");
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", "nul%00byte")}), "contains NUL");
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", "k", R"("size":-1)")}), "size");
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", "k", R"("size":1.5)")}), "size");
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", "k", R"("size":"12x")")}), "size");
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", "k", R"("eTag":5)")}), "eTag");
  std::string bad_time = AwsRecord("ObjectCreated:Put", "k");
  bad_time.replace(bad_time.find("2024-03-01T12:34:56.789Z"), 24, "yesterday");
  ExpectRejected(Records({bad_time}), "eventTime");
  // Found by events_fuzz: years a nanosecond clock cannot hold overflowed.
  for (const char* year : {"4048", "1249"}) {
    std::string far = AwsRecord("ObjectCreated:Put", "k");
    far.replace(far.find("2024-03-01"), 4, year);
    ExpectRejected(Records({far}), "eventTime");
  }
  ExpectRejected(SnsEnvelope("Weird", "{}"), "unsupported SNS message type");
}

TEST(EventsErrors, KeyLengthCountedAfterDecoding) {
  // 1024 decoded bytes pass even when the encoded form is 3x longer.
  std::string enc;
  for (int i = 0; i < 1024; ++i) enc += "%41";
  auto ok = ParseNotification(Records({AwsRecord("ObjectCreated:Put", enc)}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->events[0].key, std::string(1024, 'A'));
  ExpectRejected(Records({AwsRecord("ObjectCreated:Put", enc + "B")}), "longer than 1024 bytes");
  ExpectRejected(
      Records(
          {R"({"eventName":"ObjectCreated:Put","eventSource":"ceph:s3","s3":{"bucket":{"name":"b"},"object":{"key":")" +
           std::string(1025, 'k') + R"("}}})"}),
      "longer than 1024 bytes");
}

TEST(EventsErrors, DepthIsCheckedBeforeParsing) {
  // 100,000 levels would overflow the recursive parser's stack.
  std::string deep = "{\"Records\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  ExpectRejected(deep, "nests deeper than 64");
  // Brackets inside strings do not count.
  std::string in_string = Records({AwsRecord("ObjectCreated:Put", std::string(100, '[') + "%5D")});
  auto r = ParseNotification(in_string);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->events[0].key, std::string(100, '[') + "]");
  // Exactly 64 levels are fine.
  std::string ok = R"({"Records":[],"x":)" + std::string(63, '[') + std::string(63, ']') + "}";
  EXPECT_TRUE(ParseNotification(ok).ok());
  std::string over = R"({"Records":[],"x":)" + std::string(64, '[') + std::string(64, ']') + "}";
  ExpectRejected(over, "nests deeper than 64");
}

TEST(EventsErrors, RecordCountBound) {
  std::string body = "{\"Records\":[";
  for (int i = 0; i < 10001; ++i) body += (i ? ",{}" : "{}");
  body += "]}";
  ExpectRejected(body, "more than 10000 records", 4 << 20);
}

TEST(JsonGuard, Utf8AndDepth) {
  EXPECT_TRUE(json_guard::ValidUtf8("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(json_guard::ValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(json_guard::ValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(json_guard::ValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(json_guard::ValidUtf8("\xE2\x82"));          // truncated
  EXPECT_EQ(json_guard::NestingDepth(R"({"a":[1,{"b":"[[[\"]]"}]})", 64), 3u);
  EXPECT_EQ(json_guard::NestingDepth(std::string(10, '['), 5), 6u);
}

// The exact JSON s3sim's notifier POSTs parses back to the same event.
TEST(EventsSim, RoundTripThroughSimEventJson) {
  const std::vector<std::string> keys = {"plain.txt",
                                         "dir/sub dir/file name.bin",
                                         "a+b=c&d?e#f",
                                         "50%/100%",
                                         "caf\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC/\xF0\x9F\x9A\xA2",
                                         "~tilde/-dash_/.dot",
                                         "//double//slash"};
  std::uint64_t seq = 1;
  for (const auto& key : keys) {
    sim::ObjectEvent created;
    created.name = "ObjectCreated:Put";
    created.bucket = "src";
    created.key = key;
    created.size = 5 * 1024 * 1024 + seq;
    created.etag = "9b2cf535f27731c974343645a3985328-2";
    created.time = std::chrono::system_clock::now();
    std::string json = sim::EventJson(created, "eu-west-1", seq++);
    auto r = ParseNotification(json);
    ASSERT_TRUE(r.ok()) << key << ": " << r.status().ToString();
    ASSERT_EQ(r->events.size(), 1u);
    EXPECT_EQ(r->events[0].kind, EventKind::kCreated);
    EXPECT_EQ(r->events[0].key, key);
    EXPECT_EQ(r->events[0].bucket, "src");
    EXPECT_EQ(r->events[0].size, std::optional<std::uint64_t>(created.size));
    EXPECT_EQ(r->events[0].etag, created.etag);
    EXPECT_FALSE(r->events[0].sequencer.empty());
    ASSERT_TRUE(r->events[0].event_time.has_value());
    auto skew = *r->events[0].event_time - created.time;
    EXPECT_LT(std::chrono::abs(skew), std::chrono::seconds(1));

    sim::ObjectEvent removed = created;
    removed.name = "ObjectRemoved:Delete";
    removed.etag.clear();
    auto d = ParseNotification(sim::EventJson(removed, "eu-west-1", seq++));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->events[0].kind, EventKind::kRemoved);
    EXPECT_EQ(d->events[0].key, key);
    EXPECT_FALSE(d->events[0].size.has_value());
  }
}

}  // namespace
}  // namespace ferry::events
