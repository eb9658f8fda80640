// TLS end to end: the destination s3sim serves HTTPS with a certificate from
// a CA made in the test (openssl CLI). The right CA replicates; a wrong CA
// or a certificate for another host fails with a clear error; verification
// is off only with tls.insecure_skip_verify, which logs a warning.
#include <cstdlib>
#include <fstream>

#include "storage/s3/s3_backend.h"
#include "tests/reliability/reliability.h"
#include "tests/support/run.h"

namespace ferry::reliability {
namespace {

using std::chrono::seconds;

// Runs a shell command line; true when it exits 0.
bool Sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

struct Pki {
  std::string ca, other_ca, cert, key, wrong_host_cert, wrong_host_key;
};

// A CA, a server certificate for 127.0.0.1/localhost, another for
// wrong.example only (same CA), and an unrelated CA.
bool MakePki(const std::string& d, Pki* out) {
  auto ca = [&](const std::string& name) {
    return Sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + name +
              " -keyout " + d + "/" + name + ".key -out " + d + "/" + name +
              ".pem >/dev/null 2>&1");
  };
  auto leaf = [&](const std::string& name, const std::string& san) {
    std::ofstream(d + "/" + name + ".ext") << "subjectAltName=" << san
                                           << "\nextendedKeyUsage=serverAuth\n";
    return Sh("openssl req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " + d + "/" +
              name + ".key -out " + d + "/" + name + ".csr >/dev/null 2>&1") &&
           Sh("openssl x509 -req -days 2 -in " + d + "/" + name + ".csr -CA " + d +
              "/test-ca.pem -CAkey " + d + "/test-ca.key -CAcreateserial -extfile " + d + "/" +
              name + ".ext -out " + d + "/" + name + ".pem >/dev/null 2>&1");
  };
  if (!ca("test-ca") || !ca("other-ca")) return false;
  if (!leaf("server", "IP:127.0.0.1,DNS:localhost")) return false;
  if (!leaf("wrong-host", "DNS:wrong.example")) return false;
  *out = {d + "/test-ca.pem",     d + "/other-ca.pem",      d + "/server.pem",
          d + "/server.key",      d + "/wrong-host.pem",    d + "/wrong-host.key"};
  return true;
}

class TlsTest : public ReliabilityTest {
 protected:
  // Config whose destination is https://127.0.0.1:<port> with `tls`.
  std::string TlsYaml(const std::string& tls) {
    ConfigOptions o;
    o.layout = "velero";
    std::string yaml = Yaml(o);
    const std::string from = "url: " + dst_.url();
    auto at = yaml.find(from);
    EXPECT_NE(at, std::string::npos);
    yaml.replace(at, from.size(),
                 "url: https://127.0.0.1:" + std::to_string(dst_.port()) + "\n    tls: " + tls);
    return yaml;
  }
  // Destination backend over TLS verified with the test CA (for checks).
  std::shared_ptr<storage::Backend> TlsBackend(const std::string& ca) {
    storage::S3BackendOptions o;
    o.client.endpoint = http::Url::Parse("https://127.0.0.1:" + std::to_string(dst_.port())).value();
    o.client.bucket = integration::kDstBucket;
    o.client.credentials = s3::StaticCredentials({integration::kAccessKey, integration::kSecretKey, ""});
    o.client.http.tls.ca_file = ca;
    o.capabilities.min_part_size = kMiB;
    auto b = storage::OpenS3Backend(ioc_.get_executor(), o);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : nullptr;
  }
  void StartTlsDestination(const std::string& cert, const std::string& key) {
    // The source stays plain HTTP (the harness populates it); the
    // destination serves HTTPS only, so its admin API is not used.
    Status s = src_.Start(dir_->path(), "src", integration::kSrcBucket);
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = dst_.Start(dir_->path(), "dst", integration::kDstBucket, {"--tls-cert", cert, "--tls-key", key});
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::ofstream(dir_->path() + "/credentials")
        << "[default]\naws_access_key_id = " << integration::kAccessKey
        << "\naws_secret_access_key = " << integration::kSecretKey << "\n";
    src_backend_ = src_.OpenBackend(ioc_);
  }
  // Every source object is at the destination with the same size and ETag.
  void ExpectReplicated(storage::Backend& dst) {
    auto src = ListAll(*src_backend_);
    auto got = ListAll(dst);
    EXPECT_EQ(got.size(), src.size());
    for (const auto& [k, s] : src) {
      auto it = got.find(k);
      if (it == got.end()) {
        ADD_FAILURE() << "missing " << k;
        continue;
      }
      EXPECT_EQ(it->second.size, s.size) << k;
      if (s.etag.find('-') != std::string::npos) {
        EXPECT_EQ(it->second.etag, s.etag) << k;
      }
    }
  }
  Pki pki_;
};

TEST_F(TlsTest, RightCaReplicatesWrongCaAndWrongHostFailClearly) {
  ASSERT_TRUE(MakePki(dir_->path(), &pki_)) << "openssl failed";
  ASSERT_NO_FATAL_FAILURE(StartTlsDestination(pki_.cert, pki_.key));
  PopulateVelero(1);

  // Wrong CA: refused, clear error, nothing written.
  FerrydRun run = RunFerryd({"--config", WriteYaml(TlsYaml("{ca_file: " + pki_.other_ca + "}"), "wrong-ca.yaml"), "--once"},
                            dir_->path(), seconds(60));
  EXPECT_NE(run.exit_code, engine::kExitMatched) << run.err;
  EXPECT_NE(run.exit_code, -1) << run.err;
  EXPECT_NE(run.err.find("certificate"), std::string::npos) << run.err;
  auto dst = TlsBackend(pki_.ca);
  ASSERT_TRUE(dst);
  EXPECT_TRUE(ListAll(*dst).empty());

  // The right CA: a complete replica.
  run = RunFerryd({"--config", WriteYaml(TlsYaml("{ca_file: " + pki_.ca + "}"), "right-ca.yaml"), "--once"},
                  dir_->path(), seconds(90));
  EXPECT_EQ(run.exit_code, engine::kExitMatched) << run.err;
  EXPECT_EQ(run.err.find("verification is OFF"), std::string::npos) << run.err;
  ExpectReplicated(*dst);
}

TEST_F(TlsTest, CertificateForAnotherHostIsRefusedUnlessVerificationIsOff) {
  ASSERT_TRUE(MakePki(dir_->path(), &pki_)) << "openssl failed";
  ASSERT_NO_FATAL_FAILURE(StartTlsDestination(pki_.wrong_host_cert, pki_.wrong_host_key));
  PopulateVelero(1);
  FerrydRun run = RunFerryd({"--config", WriteYaml(TlsYaml("{ca_file: " + pki_.ca + "}"), "host.yaml"), "--once"},
                            dir_->path(), seconds(60));
  EXPECT_NE(run.exit_code, engine::kExitMatched) << run.err;
  EXPECT_NE(run.exit_code, -1) << run.err;
  EXPECT_TRUE(run.err.find("hostname") != std::string::npos ||
              run.err.find("host name") != std::string::npos ||
              run.err.find("127.0.0.1") != std::string::npos)
      << run.err;

  // Only the explicit setting turns verification off, with a warning.
  run = RunFerryd({"--config", WriteYaml(TlsYaml("{ca_file: " + pki_.other_ca + ", insecure_skip_verify: true}"), "insecure.yaml"), "--once"},
                  dir_->path(), seconds(90));
  EXPECT_EQ(run.exit_code, engine::kExitMatched) << run.err;
  EXPECT_NE(run.err.find("insecure_skip_verify"), std::string::npos) << run.err;
  auto dst = [&] {
    storage::S3BackendOptions bo;
    bo.client.endpoint = http::Url::Parse("https://127.0.0.1:" + std::to_string(dst_.port())).value();
    bo.client.bucket = integration::kDstBucket;
    bo.client.credentials = s3::StaticCredentials({integration::kAccessKey, integration::kSecretKey, ""});
    bo.client.http.tls.insecure_skip_verify = true;
    return storage::OpenS3Backend(ioc_.get_executor(), bo);
  }();
  ASSERT_TRUE(dst.ok()) << dst.status().ToString();
  ExpectReplicated(**dst);
}

}  // namespace
}  // namespace ferry::reliability
