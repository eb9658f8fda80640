// Credential providers: static, environment, and the AWS shared-credentials
// file (re-read when it changes, so a rotated Kubernetes secret is picked
// up). No message here ever contains a secret or a session token.
#include "protocols/s3/credentials.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

namespace ferry::s3 {
namespace {

constexpr std::size_t kMaxCredentialsFileBytes = 1u << 20;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status Invalid(std::string message) {
  return Status::Error(ErrorClass::kInvalidArgument, std::move(message));
}

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : c_(std::move(c)) {}
  Result<Credentials> Get() override {
    if (c_.access_key_id.empty() || c_.secret_access_key.empty()) {
      return Status::Error(ErrorClass::kAuth,
                           "static credentials: access key id or secret access key is empty");
    }
    return c_;
  }
  std::string Describe() const override { return "static"; }

 private:
  const Credentials c_;
};

class EnvProvider final : public CredentialsProvider {
 public:
  Result<Credentials> Get() override {
    Credentials c;
    const char* id = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    const char* token = std::getenv("AWS_SESSION_TOKEN");
    std::string missing;
    if (id == nullptr || *id == '\0') missing = "AWS_ACCESS_KEY_ID";
    if (secret == nullptr || *secret == '\0') {
      missing += missing.empty() ? "AWS_SECRET_ACCESS_KEY" : " and AWS_SECRET_ACCESS_KEY";
    }
    if (!missing.empty()) {
      return Status::Error(ErrorClass::kAuth,
                           "env credentials: " + missing + " not set or empty");
    }
    c.access_key_id = Trim(id);
    c.secret_access_key = Trim(secret);
    if (token != nullptr) c.session_token = Trim(token);
    return c;
  }
  std::string Describe() const override { return "env"; }
};

// What identifies one version of the file; a change in any field means
// "read it again". Nanosecond mtime plus ctime and inode catch rewrites in
// the same second and the atomic symlink swap Kubernetes does on update.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  timespec ctime{};
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec &&
           ctime.tv_nsec == o.ctime.tv_nsec;
  }
};

class SharedFileProvider final : public CredentialsProvider {
 public:
  SharedFileProvider(std::string path, std::string profile)
      : path_(std::move(path)), profile_(std::move(profile)) {}

  Result<Credentials> Get() override {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      return Invalid("credentials file " + path_ + " [" + profile_ +
                     "]: cannot stat: " + std::strerror(errno));
    }
    FileStamp stamp{st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
    std::lock_guard lock(mu_);
    if (cached_.has_value() && stamp == stamp_) return *cached_;
    if (static_cast<std::uint64_t>(st.st_size) > kMaxCredentialsFileBytes) {
      return Invalid("credentials file " + path_ + " is larger than 1 MiB");
    }
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
      return Invalid("credentials file " + path_ + " [" + profile_ +
                     "]: cannot open: " + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    Result<Credentials> parsed = ParseSharedCredentials(text.str(), profile_, path_);
    if (!parsed.ok()) {
      cached_.reset();
      return parsed.status();
    }
    // Cache under the stamp taken before reading: if the file changed while
    // it was read, the next Get sees a new stamp and reads it again.
    cached_ = *parsed;
    stamp_ = stamp;
    return parsed;
  }

  std::string Describe() const override { return "file " + path_ + " [" + profile_ + "]"; }

 private:
  const std::string path_;
  const std::string profile_;
  std::mutex mu_;
  std::optional<Credentials> cached_;  // GUARDED_BY(mu_)
  FileStamp stamp_;                    // GUARDED_BY(mu_)
};

}  // namespace

std::string Credentials::Describe() const {
  std::string id;
  if (access_key_id.size() >= 10) {
    id = access_key_id.substr(0, 4) + "\xE2\x80\xA6" +
         access_key_id.substr(access_key_id.size() - 3);
  } else {
    // Too short to shorten without showing most of it.
    id = "\xE2\x80\xA6";
  }
  return id + " (session token: " + (session_token.empty() ? "no" : "yes") + ")";
}

std::shared_ptr<CredentialsProvider> StaticCredentials(Credentials c) {
  return std::make_shared<StaticProvider>(std::move(c));
}

std::shared_ptr<CredentialsProvider> EnvCredentials() { return std::make_shared<EnvProvider>(); }

std::shared_ptr<CredentialsProvider> SharedFileCredentials(std::string path,
                                                           std::string profile) {
  if (profile.empty()) {
    const char* env = std::getenv("AWS_PROFILE");
    profile = (env != nullptr && *env != '\0') ? env : "default";
  }
  return std::make_shared<SharedFileProvider>(std::move(path), std::move(profile));
}

Result<Credentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                           std::string_view source_name) {
  const std::string where = "credentials file " + std::string(source_name);
  const std::string want(Trim(profile));
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM

  std::vector<std::string> sections;  // for "not found" messages
  bool in_profile = false;
  int profile_line = 0;
  std::string last_key;
  bool last_value_empty = false;
  struct Field {
    std::string value;
    int line = 0;
  };
  Field id, secret, token;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view raw = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    const std::string at = where + " line " + std::to_string(line_no);

    if (line.front() == '[') {
      if (line.back() != ']') return Invalid(at + ": section header without closing ']'");
      std::string name(Trim(line.substr(1, line.size() - 2)));
      // The config file spells non-default profiles "[profile name]"; accept
      // that here too, since people copy sections between the two files.
      if (name.starts_with("profile ")) name = std::string(Trim(name.substr(8)));
      if (name.empty()) return Invalid(at + ": empty section name");
      sections.push_back(name);
      last_key.clear();
      if (name == want) {
        if (profile_line != 0) {
          return Invalid(where + ": profile [" + want + "] appears twice (lines " +
                         std::to_string(profile_line) + " and " + std::to_string(line_no) + ")");
        }
        profile_line = line_no;
        in_profile = true;
      } else {
        in_profile = false;
      }
      continue;
    }

    // An indented line continues the previous key (nested settings such as
    // "s3 =\n  addressing_style = path"); only valid after an empty value.
    if (raw.front() == ' ' || raw.front() == '\t') {
      if (!last_key.empty() && last_value_empty) continue;
      return Invalid(at + ": unexpected indented line");
    }

    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Invalid(at + ": expected 'key = value' or '[profile]'");
    }
    if (sections.empty()) return Invalid(at + ": 'key = value' before any [profile] section");
    std::string key = Lower(Trim(line.substr(0, eq)));
    std::string_view value = Trim(line.substr(eq + 1));
    if (key.empty()) return Invalid(at + ": empty key");
    last_key = key;
    last_value_empty = value.empty();
    if (!in_profile) continue;
    Field* f = nullptr;
    if (key == "aws_access_key_id") f = &id;
    if (key == "aws_secret_access_key") f = &secret;
    if (key == "aws_session_token" || key == "aws_security_token") f = &token;
    if (f == nullptr) continue;  // region, output, ... are not ours
    if (f->line != 0) {
      return Invalid(at + ": " + key + " repeated in [" + want + "] (first on line " +
                     std::to_string(f->line) + ")");
    }
    f->value = std::string(value);
    f->line = line_no;
  }

  if (profile_line == 0) {
    std::string present;
    for (const auto& s : sections) present += (present.empty() ? "" : ", ") + s;
    return Invalid(where + ": profile [" + want + "] not found" +
                   (present.empty() ? " (file has no profiles)"
                                    : " (profiles present: " + present + ")"));
  }
  auto missing = [&](std::string_view field, const Field& f) {
    return Invalid(where + " [" + want + "] (line " + std::to_string(profile_line) + "): " +
                   std::string(field) + (f.line == 0 ? " is missing" : " is empty"));
  };
  if (id.value.empty()) return missing("aws_access_key_id", id);
  if (secret.value.empty()) return missing("aws_secret_access_key", secret);
  Credentials c;
  c.access_key_id = std::move(id.value);
  c.secret_access_key = std::move(secret.value);
  c.session_token = std::move(token.value);
  return c;
}

}  // namespace ferry::s3
