// A blocking, SigV4-signing HTTP client for s3sim tests: sends one request
// per connection-less call over a kept-alive connection and returns what
// came back, including transport failures (resets, truncation).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ferry::sim::testing {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;  // transport error ("" when a full response arrived)
  std::string Header(const std::string& n) const {
    auto it = headers.find(n);
    return it == headers.end() ? "" : it->second;
  }
  // <Code> of an S3 error body.
  std::string Code() const;
};

struct RequestSpec {
  std::string method = "GET";
  std::string path = "/";  // raw, already encoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool sign = true;
  std::string payload_hash;  // "" = SHA-256 of body
  std::chrono::system_clock::time_point when = std::chrono::system_clock::now();
};

class TestClient {
 public:
  TestClient(std::uint16_t port, std::string access_key, std::string secret_key)
      : port_(port), ak_(std::move(access_key)), sk_(std::move(secret_key)) {}
  RawResponse Send(RequestSpec spec);
  // Signed PUT / GET conveniences. `key_path` is "/bucket/encoded-key".
  RawResponse Put(const std::string& key_path, const std::string& body);
  RawResponse Get(const std::string& key_path,
                  std::vector<std::pair<std::string, std::string>> headers = {});

 private:
  std::uint16_t port_;
  std::string ak_, sk_;
};

}  // namespace ferry::sim::testing
