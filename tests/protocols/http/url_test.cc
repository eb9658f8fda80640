#include "protocols/http/url.h"

#include <gtest/gtest.h>

namespace ferry::http {
namespace {

struct GoodCase {
  const char* text;
  bool tls;
  const char* host;
  int port;
  const char* base_path;
  const char* host_header;
  const char* to_string;
};

TEST(UrlTest, ParsesValidEndpoints) {
  const GoodCase cases[] = {
      {"http://example.com", false, "example.com", 80, "", "example.com", "http://example.com:80"},
      {"https://s3.eu-west-1.amazonaws.com", true, "s3.eu-west-1.amazonaws.com", 443, "",
       "s3.eu-west-1.amazonaws.com", "https://s3.eu-west-1.amazonaws.com:443"},
      {"http://127.0.0.1:9000", false, "127.0.0.1", 9000, "", "127.0.0.1:9000",
       "http://127.0.0.1:9000"},
      {"https://minio.local:443/", true, "minio.local", 443, "", "minio.local",
       "https://minio.local:443"},
      {"http://host:80/", false, "host", 80, "", "host", "http://host:80"},
      {"https://host:8443/base/path/", true, "host", 8443, "/base/path", "host:8443",
       "https://host:8443/base/path"},
      {"http://host/prefix//", false, "host", 80, "/prefix", "host", "http://host:80/prefix"},
      {"HTTPS://Host.Example.COM", true, "host.example.com", 443, "", "host.example.com",
       "https://host.example.com:443"},
      {"http://[::1]:8080", false, "::1", 8080, "", "[::1]:8080", "http://[::1]:8080"},
      {"https://[2001:db8::1]", true, "2001:db8::1", 443, "", "[2001:db8::1]",
       "https://[2001:db8::1]:443"},
      {"http://[::1]/x", false, "::1", 80, "/x", "[::1]", "http://[::1]:80/x"},
      {"http://my_host-1.internal:65535", false, "my_host-1.internal", 65535, "",
       "my_host-1.internal:65535", "http://my_host-1.internal:65535"},
      {"http://h/a%20b", false, "h", 80, "/a%20b", "h", "http://h:80/a%20b"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto url = Url::Parse(c.text);
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    EXPECT_EQ(url->tls, c.tls);
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->base_path, c.base_path);
    EXPECT_EQ(url->HostHeader(), c.host_header);
    EXPECT_EQ(url->ToString(), c.to_string);
    // ToString parses back to the same URL.
    auto again = Url::Parse(url->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->host, url->host);
    EXPECT_EQ(again->port, url->port);
    EXPECT_EQ(again->tls, url->tls);
    EXPECT_EQ(again->base_path, url->base_path);
  }
}

TEST(UrlTest, RejectsBadEndpoints) {
  const char* cases[] = {
      "",
      "example.com",
      "ftp://example.com",
      "s3://bucket",
      "http://",
      "http:///path",
      "http://user:secret@host",
      "http://user@host",
      "http://host?x=1",
      "http://host/path?x=1",
      "http://host/#frag",
      "http://host:",
      "http://host:0",
      "http://host:65536",
      "http://host:123456",
      "http://host:-1",
      "http://host:80a",
      "http://host:+80",
      "http://[::1",
      "http://[::1]x",
      "http://[not-ip]:80",
      "http://[fe80::1%25eth0]",
      "http://ho st",
      "http://host/a b",
      "http://host/\x01",
      " http://host",
  };
  for (const char* text : cases) {
    auto url = Url::Parse(text);
    EXPECT_FALSE(url.ok()) << "accepted: \"" << text << "\"";
    if (!url.ok()) {
      EXPECT_EQ(url.status().error_class(), ErrorClass::kInvalidArgument) << text;
    }
  }
}

TEST(UrlTest, RejectionDoesNotEchoUserInfoSecret) {
  auto url = Url::Parse("http://user:hunter2@host");
  ASSERT_FALSE(url.ok());
  EXPECT_NE(url.status().ToString().find("user-info"), std::string::npos);
  EXPECT_EQ(url.status().ToString().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace ferry::http
