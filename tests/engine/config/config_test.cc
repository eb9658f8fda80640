// Valid configurations: the shipped example, defaults, the redacted dump,
// targets, warnings, and LoadConfig's file handling.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <string>

#include "engine/config/config.h"

namespace ferry::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kMinimal[] = R"(endpoints:
  primary:
    url: https://s3.us-east-1.amazonaws.com
    credentials: {env: true}
  dr:
    url: https://s3.eu-west-1.amazonaws.com
    credentials: {file: /credentials/cloud}
routes:
  - name: velero
    source: {endpoint: primary, bucket: src-bucket}
    destinations:
      - {endpoint: dr, bucket: dst-bucket}
)";

Config MustParse(std::string_view text) {
  std::vector<Diagnostic> diags;
  Result<Config> r = ParseConfig(text, "test.yaml", &diags);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(diags.empty());
  return r.ok() ? std::move(r).value() : Config{};
}

TEST(Config, ExampleFileParses) {
  Result<Config> r = LoadConfig(FERRY_EXAMPLE_CONFIG);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Config& c = *r;
  EXPECT_EQ(c.source_name, FERRY_EXAMPLE_CONFIG);
  EXPECT_EQ(c.log.format, LogFormat::kJson);
  EXPECT_EQ(c.http.webhook_token_file, "/etc/ferry/webhook-token");
  ASSERT_EQ(c.endpoints.size(), 3u);
  EXPECT_EQ(c.endpoints[0].name, "primary");
  EXPECT_EQ(c.endpoints[1].name, "dr");
  EXPECT_EQ(c.endpoints[1].addressing, Addressing::kVirtual);
  EXPECT_EQ(c.endpoints[1].credentials.kind, CredentialsConfig::Kind::kFile);
  EXPECT_EQ(c.endpoints[1].credentials.profile, "dr");
  EXPECT_EQ(c.endpoints[1].max_connections, 128);
  EXPECT_EQ(c.endpoints[2].url.port, 9000);
  EXPECT_FALSE(c.endpoints[2].url.https);
  EXPECT_EQ(c.endpoints[2].credentials.kind, CredentialsConfig::Kind::kEnv);
  EXPECT_EQ(c.endpoints[2].payload_signing, PayloadSigning::kUnsigned);
  EXPECT_EQ(c.endpoints[2].capabilities.checksum_crc32c, false);
  EXPECT_FALSE(c.endpoints[2].capabilities.max_parts.has_value());
  ASSERT_EQ(c.routes.size(), 1u);
  const Route& r0 = c.routes[0];
  EXPECT_EQ(r0.layout, Layout::kVelero);
  ASSERT_EQ(r0.destinations.size(), 2u);
  EXPECT_EQ(r0.destinations[1].prefix, "replica/");
  EXPECT_EQ(c.transfer.memory_limit, 512ull << 20);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(Config, DefaultsAreFilledIn) {
  Config c = MustParse(kMinimal);
  EXPECT_EQ(c.state_dir, "/var/lib/ferry");
  EXPECT_EQ(c.log.level, LogLevel::kInfo);
  EXPECT_EQ(c.log.format, LogFormat::kText);
  EXPECT_EQ(c.http.listen, "127.0.0.1:9464");
  EXPECT_EQ(c.http.listen_host, "127.0.0.1");
  EXPECT_EQ(c.http.listen_port, 9464);
  EXPECT_TRUE(c.http.enabled());
  EXPECT_EQ(c.http.webhook_token_file, "");
  EXPECT_EQ(c.control.socket, "/run/ferry/ferry.sock");
  EXPECT_EQ(c.reconcile_every, minutes(5));
  EXPECT_EQ(c.shard.index, 0u);
  EXPECT_EQ(c.shard.count, 1u);

  const Endpoint& ep = c.endpoints[0];
  EXPECT_EQ(ep.region, "us-east-1");
  EXPECT_EQ(ep.addressing, Addressing::kPath);
  EXPECT_EQ(ep.credentials.kind, CredentialsConfig::Kind::kEnv);
  EXPECT_FALSE(ep.tls.insecure_skip_verify);
  EXPECT_EQ(ep.tls.ca_file, "");
  EXPECT_EQ(ep.max_connections, 64);
  EXPECT_EQ(ep.payload_signing, PayloadSigning::kAuto);
  EXPECT_TRUE(ep.capabilities.empty());
  EXPECT_EQ(c.endpoints[1].credentials.profile, "default");

  const Route& r = c.routes[0];
  EXPECT_EQ(r.source.prefix, "");
  EXPECT_EQ(r.layout, Layout::kPlain);
  EXPECT_EQ(r.target_lag, minutes(15));
  EXPECT_EQ(r.deletion.policy, DeletePolicy::kMirror);
  EXPECT_EQ(r.deletion.grace, hours(24));
  EXPECT_DOUBLE_EQ(r.deletion.max_fraction, 0.10);
  EXPECT_EQ(r.verify, VerifyMode::kAuto);

  const TransferConfig& t = c.transfer;
  EXPECT_EQ(t.part_size, 16ull << 20);
  EXPECT_EQ(t.parts_in_flight, 32);
  // parts_in_flight x part_size would be 512 MiB: capped for a sidecar.
  EXPECT_EQ(t.memory_limit, 160ull << 20);
  EXPECT_EQ(t.multipart_threshold, 16ull << 20);
  EXPECT_EQ(t.max_objects_in_flight, 256);
  EXPECT_EQ(t.retry.max_attempts, 10);
  EXPECT_EQ(t.retry.initial_backoff, milliseconds(200));
  EXPECT_EQ(t.retry.max_backoff, seconds(30));
  EXPECT_EQ(t.request_timeout, seconds(60));
  EXPECT_EQ(t.progress_timeout, seconds(30));
  EXPECT_EQ(t.stall_after, seconds(30));  // follows progress_timeout
  EXPECT_TRUE(c.warnings.empty());
}

TEST(Config, StallAfterIsItsOwnSettingAtLeastOneSecond) {
  Config c = MustParse(std::string(kMinimal) + "transfer: {progress_timeout: 2m, stall_after: 45s}\n");
  EXPECT_EQ(c.transfer.progress_timeout, minutes(2));
  EXPECT_EQ(c.transfer.stall_after, seconds(45));
  std::vector<Diagnostic> diags;
  auto bad = ParseConfig(std::string(kMinimal) + "transfer: {stall_after: 500ms}\n", "t.yaml", &diags);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("stall_after"), std::string::npos) << bad.status().ToString();
}

TEST(Config, DerivedTransferDefaultsFollowPartSize) {
  Config c = MustParse(std::string(kMinimal) + "transfer: {part_size: 8MiB, parts_in_flight: 4}\n");
  EXPECT_EQ(c.transfer.memory_limit, 32ull << 20);
  EXPECT_EQ(c.transfer.multipart_threshold, 8ull << 20);
}

TEST(Config, EverySettingIsRead) {
  Config c = MustParse(R"(state_dir: /srv/ferry
log: {level: debug, format: json}
http: {listen: "[::1]:0", webhook_token_file: /etc/t}
control: {socket: /tmp/f.sock}
reconcile_every: 1h30m
shard: "0/1"
endpoints:
  a:
    url: http://127.0.0.1:9000/base/
    region: eu-central-1
    addressing: virtual
    credentials: {access_key_id: AKIDEXAMPLE, secret_access_key: s3cr3t, session_token: tok}
    tls: {ca_file: /etc/ca.pem}
    max_connections: 1024
    payload_signing: signed
    capabilities: {list_common_prefixes: false, head_part_number: false, cross_bucket_copy: true,
                   etag_is_md5: false, checksum_crc32c: true, min_part_size: 5MB,
                   max_parts: 1000}
routes:
  - name: r_1-x
    source: {endpoint: a, bucket: src, prefix: "kopia/ns/"}
    destinations: [{endpoint: a, bucket: dst, prefix: "kopia/ns/"}]
    layout: kopia
    target_lag: 90s
    delete: {policy: mirror-now, grace: 0, max_fraction: 1}
    verify: read-back
transfer:
  part_size: 5GiB
  parts_in_flight: 1
  multipart_threshold: 1
  max_objects_in_flight: 7
  retry: {max_attempts: 1, initial_backoff: 1ms, max_backoff: 1ms}
  request_timeout: 250ms
  progress_timeout: 24h
)");
  EXPECT_EQ(c.state_dir, "/srv/ferry");
  EXPECT_EQ(c.log.level, LogLevel::kDebug);
  EXPECT_EQ(c.http.listen_host, "::1");
  EXPECT_EQ(c.http.listen_port, 0);
  EXPECT_EQ(c.reconcile_every, minutes(90));
  EXPECT_EQ(c.shard.index, 0u);
  EXPECT_EQ(c.shard.count, 1u);
  const Endpoint& a = c.endpoints[0];
  EXPECT_EQ(a.url.base_path, "/base");
  EXPECT_EQ(a.credentials.kind, CredentialsConfig::Kind::kInline);
  EXPECT_EQ(a.credentials.secret_access_key, "s3cr3t");
  EXPECT_EQ(a.credentials.session_token, "tok");
  EXPECT_EQ(a.tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(a.capabilities.min_part_size, 5'000'000u);
  EXPECT_EQ(a.capabilities.max_parts, 1000);
  EXPECT_EQ(a.capabilities.cross_bucket_copy, true);
  EXPECT_EQ(a.capabilities.etag_is_md5, false);
  const Route& r = c.routes[0];
  EXPECT_EQ(r.layout, Layout::kKopia);
  EXPECT_EQ(r.deletion.policy, DeletePolicy::kMirrorNow);
  EXPECT_EQ(r.deletion.grace, milliseconds(0));
  EXPECT_DOUBLE_EQ(r.deletion.max_fraction, 1.0);
  EXPECT_EQ(r.verify, VerifyMode::kReadBack);
  EXPECT_EQ(c.transfer.memory_limit, 5ull << 30);
  EXPECT_EQ(c.transfer.multipart_threshold, 1u);
  EXPECT_EQ(c.transfer.progress_timeout, hours(24));
  EXPECT_EQ(c.transfer.stall_after, hours(24));
  // Inline credentials parse, with a warning that names the place.
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].rfind("test.yaml:12:18: endpoints.a.credentials: inline credentials", 0),
            0u)
      << c.warnings[0];
}

TEST(Config, EmptyListenDisablesHttp) {
  Config c = MustParse(std::string(kMinimal) + "http: {listen: \"\"}\n");
  EXPECT_FALSE(c.http.enabled());
}

TEST(Config, InsecureSkipVerifyIsAWarningWithItsPosition) {
  Config c = MustParse(R"(endpoints:
  lab:
    url: https://minio.lab:9000
    credentials: {env: true}
    tls:
      insecure_skip_verify: true
routes:
  - name: r
    source: {endpoint: lab, bucket: aaa}
    destinations: [{endpoint: lab, bucket: bbb}]
)");
  EXPECT_TRUE(c.endpoints[0].tls.insecure_skip_verify);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].rfind("test.yaml:6:29: endpoints.lab.tls.insecure_skip_verify: TLS "
                                "certificate verification is OFF for endpoint \"lab\"",
                                0),
            0u)
      << c.warnings[0];
}

TEST(Config, RedactedHidesSecretsAndParsesBack) {
  const std::string text = std::string(R"(endpoints:
  inline:
    url: https://s3.example.com
    credentials:
      access_key_id: AKIAVERYSECRETKEYID
      secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET
      session_token: FwoGZXIvYXdzSESSIONSECRET
  dr:
    url: https://s3.eu-west-1.amazonaws.com
    credentials: {file: /credentials/cloud, profile: dr}
    capabilities: {max_parts: 500, etag_is_md5: false}
routes:
  - name: r
    source: {endpoint: inline, bucket: src, prefix: "we\"ird \\ ü\t/"}
    destinations: [{endpoint: dr, bucket: dst}]
    delete: {max_fraction: 0.3}
)");
  Config c = MustParse(text);
  const std::string dump = Redacted(c);
  for (const char* secret : {"AKIAVERYSECRETKEYID", "SECRET", "wJalr", "FwoGZXIvYXdz"}) {
    EXPECT_EQ(dump.find(secret), std::string::npos) << secret << "\n" << dump;
  }
  EXPECT_NE(dump.find("secret_access_key: \"***\""), std::string::npos) << dump;
  for (const std::string& w : c.warnings) EXPECT_EQ(w.find("SECRET"), std::string::npos) << w;

  // The dump is a configuration equivalent to the original (secrets aside).
  Config again = MustParse(dump);
  EXPECT_EQ(Redacted(again), dump);
  EXPECT_EQ(again.routes[0].source.prefix, "we\"ird \\ ü\t/");
  EXPECT_DOUBLE_EQ(again.routes[0].deletion.max_fraction, 0.3);
  EXPECT_EQ(again.endpoints[1].capabilities.max_parts, 500);
  EXPECT_EQ(again.endpoints[1].capabilities.etag_is_md5, false);
  EXPECT_EQ(again.endpoints[0].credentials.secret_access_key, "***");
}

TEST(Config, RedactedOfTheExampleIsAFixedPoint) {
  Result<Config> r = LoadConfig(FERRY_EXAMPLE_CONFIG);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string dump = Redacted(*r);
  Result<Config> again = ParseConfig(dump, FERRY_EXAMPLE_CONFIG);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Redacted(*again), dump);
  EXPECT_NE(dump.find("multipart_threshold: 16MiB"), std::string::npos) << dump;
}

TEST(Config, TargetsResolveEndpointsAndMapKeys) {
  Config c = MustParse(R"(endpoints:
  a: {url: "http://127.0.0.1:1", credentials: {env: true}}
  b: {url: "http://127.0.0.1:2", credentials: {env: true}}
routes:
  - name: one
    source: {endpoint: a, bucket: src, prefix: "velero/"}
    destinations:
      - {endpoint: b, bucket: dst, prefix: "replica/velero/"}
      - {endpoint: a, bucket: dst2}
  - name: two
    source: {endpoint: b, bucket: other}
    destinations: [{endpoint: a, bucket: other}]
)");
  std::vector<Target> targets = Targets(c);
  ASSERT_EQ(targets.size(), 3u);
  EXPECT_EQ(targets[0].route->name, "one");
  EXPECT_EQ(targets[0].destination_index, 0);
  EXPECT_EQ(targets[0].source_endpoint->name, "a");
  EXPECT_EQ(targets[0].destination_endpoint->name, "b");
  EXPECT_EQ(targets[0].destination_endpoint->url.port, 2);
  EXPECT_EQ(targets[0].id, "one/b/dst/replica/velero/");
  EXPECT_EQ(targets[1].destination->bucket, "dst2");
  EXPECT_EQ(targets[2].route->name, "two");
  EXPECT_EQ(DestinationKey(targets[0], "velero/backups/b1/velero-backup.json"),
            "replica/velero/backups/b1/velero-backup.json");
  EXPECT_EQ(DestinationKey(targets[1], "velero/ a+b%20?#//x "), " a+b%20?#//x ");
  EXPECT_EQ(c.FindRoute("two"), &c.routes[1]);
  EXPECT_EQ(c.FindRoute("three"), nullptr);
  EXPECT_EQ(c.FindEndpoint("b"), &c.endpoints[1]);
}

TEST(Config, LoadConfigReportsMissingFile) {
  Result<Config> r = LoadConfig("/nonexistent/ferry.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(ErrorClass::kNotFound));
  EXPECT_NE(r.status().error().message.find("/nonexistent/ferry.yaml"), std::string::npos);
}

TEST(Config, LoadConfigNamesTheFileInErrors) {
  char path[] = "/tmp/ferry-config-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "endpoints:\n  a:\n    url: https://x\n    credentials: {env: true}\n    regoin: x\n";
  }
  Result<Config> r = LoadConfig(path);
  std::remove(path);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(ErrorClass::kInvalidArgument));
  EXPECT_EQ(r.status().error().message.rfind(std::string(path) +
                                                 ":5:5: endpoints.a: unknown key \"regoin\" "
                                                 "(did you mean \"region\"?)",
                                             0),
            0u)
      << r.status().error().message;
}

}  // namespace
}  // namespace ferry::config
