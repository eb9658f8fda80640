// Credential providers: the shared-credentials format as Velero mounts it,
// rotation of the file, the environment, and that secrets never leak into
// descriptions or error messages.
#include "protocols/s3/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace ferry::s3 {
namespace {

class TempFile {
 public:
  TempFile() {
    char tmpl[] = "/tmp/ferry-cred-XXXXXX";
    int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  void Write(const std::string& text) {
    // Write a new file and rename it over the old one, as a secret update does.
    std::string tmp = path_ + ".new";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
    }
    std::filesystem::rename(tmp, path_);
  }
  void WriteInPlace(const std::string& text) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << text;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr char kVelero[] =
    "[default]\n"
    "aws_access_key_id=AKIAVELERO0000001\n"
    "aws_secret_access_key=SECRETvelero/abc+def\n";

TEST(ParseSharedCredentials, VeleroFormat) {
  auto c = ParseSharedCredentials(kVelero, "default", "/credentials/cloud");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAVELERO0000001");
  EXPECT_EQ(c->secret_access_key, "SECRETvelero/abc+def");
  EXPECT_EQ(c->session_token, "");
}

TEST(ParseSharedCredentials, ProfilesCommentsWhitespaceAndToken) {
  const char* text =
      "\xEF\xBB\xBF# comment\r\n"
      "; another comment\r\n"
      "[default]\r\n"
      "aws_access_key_id = DEFAULTKEY\r\n"
      "aws_secret_access_key = DEFAULTSECRET\r\n"
      "\r\n"
      "[ backup-site ]\r\n"
      "region = eu-west-1\r\n"
      "AWS_ACCESS_KEY_ID\t=\tSITEKEY  \r\n"
      "aws_secret_access_key =   SITE=SECRET==  \r\n"
      "aws_session_token = TOKEN/with+chars=\r\n"
      "s3 =\r\n"
      "  addressing_style = path\r\n"
      "[profile other]\n"
      "aws_access_key_id = O\n"
      "aws_secret_access_key = OS\n";
  auto c = ParseSharedCredentials(text, "backup-site", "f");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "SITEKEY");
  EXPECT_EQ(c->secret_access_key, "SITE=SECRET==");
  EXPECT_EQ(c->session_token, "TOKEN/with+chars=");
  auto d = ParseSharedCredentials(text, "default", "f");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->access_key_id, "DEFAULTKEY");
  auto o = ParseSharedCredentials(text, "other", "f");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->secret_access_key, "OS");
}

void ExpectError(const std::string& text, const std::string& profile,
                 const std::vector<std::string>& must_contain) {
  auto c = ParseSharedCredentials(text, profile, "/creds/file");
  ASSERT_FALSE(c.ok()) << text;
  std::string msg = c.status().ToString();
  EXPECT_TRUE(c.status().Is(ErrorClass::kInvalidArgument)) << msg;
  for (const auto& s : must_contain) EXPECT_NE(msg.find(s), std::string::npos) << msg;
  EXPECT_EQ(msg.find("TOPSECRET"), std::string::npos) << msg;
}

TEST(ParseSharedCredentials, Errors) {
  ExpectError("[default]\naws_access_key_id=K\naws_secret_access_key=TOPSECRET\n", "prod",
              {"/creds/file", "[prod] not found", "default"});
  ExpectError("", "default", {"not found", "no profiles"});
  ExpectError("[default]\naws_secret_access_key=TOPSECRET\n", "default",
              {"/creds/file", "[default]", "aws_access_key_id is missing"});
  ExpectError("[default]\naws_access_key_id=K\n", "default",
              {"aws_secret_access_key is missing"});
  ExpectError("[default]\naws_access_key_id=K\naws_secret_access_key=\n", "default",
              {"aws_secret_access_key is empty"});
  ExpectError("[default]\naws_access_key_id K TOPSECRET\n", "default", {"line 2", "key = value"});
  ExpectError("[default\naws_access_key_id=K\n", "default", {"line 1", "']'"});
  ExpectError("aws_access_key_id=K\n[default]\n", "default", {"line 1", "before any"});
  ExpectError("[default]\naws_access_key_id=K\naws_secret_access_key=TOPSECRET\n"
              "[default]\naws_access_key_id=K2\n",
              "default", {"appears twice", "lines 1 and 4"});
  ExpectError("[default]\naws_access_key_id=K\naws_access_key_id=K\n", "default",
              {"line 3", "repeated"});
  ExpectError("[default]\naws_access_key_id=K\n   TOPSECRET\n", "default",
              {"line 3", "indented"});
}

TEST(Credentials, DescribeNeverShowsSecret) {
  Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "tok"};
  std::string d = c.Describe();
  EXPECT_EQ(d, "AKIA\xE2\x80\xA6PLE (session token: yes)");
  EXPECT_EQ(d.find("wJalr"), std::string::npos);
  Credentials shortid{"AK", "S", ""};
  EXPECT_EQ(shortid.Describe(), "\xE2\x80\xA6 (session token: no)");
}

TEST(StaticCredentials, GetAndEmpty) {
  auto p = StaticCredentials({"AK", "SK", ""});
  ASSERT_TRUE(p->Get().ok());
  EXPECT_EQ(p->Get()->secret_access_key, "SK");
  EXPECT_EQ(p->Describe(), "static");
  auto e = StaticCredentials({"AK", "", ""});
  EXPECT_TRUE(e->Get().status().Is(ErrorClass::kAuth));
}

TEST(EnvCredentials, ReadsVariablesEachTime) {
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  unsetenv("AWS_SESSION_TOKEN");
  auto p = EnvCredentials();
  auto r = p->Get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            std::string::npos);
  setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  r = p->Get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().ToString().find("AWS_ACCESS_KEY_ID "), std::string::npos);
  setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
  setenv("AWS_SESSION_TOKEN", "ENVTOKEN", 1);
  r = p->Get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->access_key_id, "ENVKEY");
  EXPECT_EQ(r->secret_access_key, "ENVSECRET");
  EXPECT_EQ(r->session_token, "ENVTOKEN");
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  unsetenv("AWS_SESSION_TOKEN");
}

TEST(SharedFileCredentials, RereadsOnRotation) {
  TempFile f;
  f.Write(kVelero);
  auto p = SharedFileCredentials(f.path(), "default");
  EXPECT_EQ(p->Describe(), "file " + f.path() + " [default]");
  auto a = p->Get();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->access_key_id, "AKIAVELERO0000001");
  // Rotation by atomic replace (new inode).
  f.Write("[default]\naws_access_key_id=ROTATED2\naws_secret_access_key=NEWSECRET\n");
  auto b = p->Get();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->access_key_id, "ROTATED2");
  // Rotation in place with the same size, within the same second.
  f.WriteInPlace("[default]\naws_access_key_id=ROTATED3\naws_secret_access_key=NEWSECRET\n");
  auto c = p->Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "ROTATED3");
  // A broken rotation is reported (not papered over with the old keys)...
  f.Write("[default]\naws_access_key_id=ONLYKEY\n");
  auto d = p->Get();
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().ToString().find(f.path()), std::string::npos);
  // ...and fixed by the next good one.
  f.Write(kVelero);
  EXPECT_TRUE(p->Get().ok());
}

TEST(SharedFileCredentials, MissingFileAndDefaultProfile) {
  auto p = SharedFileCredentials("/nonexistent/ferry/creds", "default");
  auto r = p->Get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("/nonexistent/ferry/creds"), std::string::npos);
  setenv("AWS_PROFILE", "envprofile", 1);
  EXPECT_EQ(SharedFileCredentials("/x", "")->Describe(), "file /x [envprofile]");
  unsetenv("AWS_PROFILE");
  EXPECT_EQ(SharedFileCredentials("/x", "")->Describe(), "file /x [default]");
}

TEST(SharedFileCredentials, ConcurrentGetDuringRotation) {
  TempFile f;
  f.Write(kVelero);
  auto p = SharedFileCredentials(f.path(), "default");
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto r = p->Get();
        if (!r.ok() || (r->access_key_id != "AKIAVELERO0000001" &&
                        r->access_key_id != "AKIAVELERO0000002")) {
          bad.fetch_add(1);
        }
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    f.Write(i % 2 ? kVelero
                  : "[default]\naws_access_key_id=AKIAVELERO0000002\n"
                    "aws_secret_access_key=SECRETvelero/abc+def\n");
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(p->Get()->access_key_id, "AKIAVELERO0000001");
}

}  // namespace
}  // namespace ferry::s3
