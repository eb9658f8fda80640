// Where S3 credentials come from: static keys, the environment, or an AWS
// shared-credentials file with a profile (the format Velero mounts at
// /credentials/cloud: [default] aws_access_key_id / aws_secret_access_key /
// aws_session_token). The file is re-read when it changes, so a rotated
// secret is picked up without a restart.
//
// Secrets never appear in ToString(), error messages or logs.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "protocols/base/status.h"

namespace ferry::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty when none
  // "AKIA…XYZ (session token: yes)": the key id shortened, never the secret.
  std::string Describe() const;
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Thread-safe. kAuth or kInvalidArgument with a message naming the source
  // (file path and profile, or variable names) when none can be had.
  virtual Result<Credentials> Get() = 0;
  // For messages: "static", "env", "file /credentials/cloud [default]".
  virtual std::string Describe() const = 0;
};

std::shared_ptr<CredentialsProvider> StaticCredentials(Credentials c);
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
std::shared_ptr<CredentialsProvider> EnvCredentials();
// `profile` defaults to AWS_PROFILE or "default" when empty.
std::shared_ptr<CredentialsProvider> SharedFileCredentials(std::string path, std::string profile);

// Parses shared-credentials text; errors name `source_name` and the line.
Result<Credentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                           std::string_view source_name);

}  // namespace ferry::s3
