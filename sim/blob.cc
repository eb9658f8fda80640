#include "sim/blob.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "protocols/base/crc32c.h"
#include "protocols/base/digest.h"
#include "sim/errors.h"

namespace ferry::sim {
namespace {

Status IoError(std::string what, const std::string& path, int err) {
  return Status::Error(ErrorClass::kFatal, what + " " + path + ": " + std::strerror(err));
}

class MemoryBlob final : public Blob {
 public:
  explicit MemoryBlob(std::string data) : data_(std::move(data)) {}
  std::uint64_t size() const override { return data_.size(); }
  Status ReadAt(std::uint64_t offset, std::span<char> out) const override {
    std::memcpy(out.data(), data_.data() + offset, out.size());
    return Status::Ok();
  }

 private:
  std::string data_;
};

class SliceBlob final : public Blob {
 public:
  SliceBlob(BlobPtr base, std::uint64_t offset, std::uint64_t length)
      : base_(std::move(base)), offset_(offset), length_(length) {}
  std::uint64_t size() const override { return length_; }
  Status ReadAt(std::uint64_t offset, std::span<char> out) const override {
    return base_->ReadAt(offset_ + offset, out);
  }
  bool kept() const override { return base_->kept(); }

 private:
  BlobPtr base_;
  std::uint64_t offset_;
  std::uint64_t length_;
};

class CompositeBlob final : public Blob {
 public:
  explicit CompositeBlob(std::vector<BlobPtr> parts) : parts_(std::move(parts)) {
    std::uint64_t at = 0;
    for (const auto& p : parts_) {
      starts_.push_back(at);
      at += p->size();
    }
    size_ = at;
  }
  std::uint64_t size() const override { return size_; }
  Status ReadAt(std::uint64_t offset, std::span<char> out) const override {
    // The part holding `offset`: the last start <= offset.
    auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
    std::size_t i = static_cast<std::size_t>(it - starts_.begin()) - 1;
    std::size_t done = 0;
    while (done < out.size()) {
      std::uint64_t in_part = offset + done - starts_[i];
      std::uint64_t n = std::min<std::uint64_t>(out.size() - done, parts_[i]->size() - in_part);
      if (n > 0) {
        FERRY_RETURN_IF_ERROR(parts_[i]->ReadAt(in_part, out.subspan(done, n)));
      }
      done += n;
      ++i;
    }
    return Status::Ok();
  }
  bool kept() const override {
    return std::all_of(parts_.begin(), parts_.end(), [](const BlobPtr& p) { return p->kept(); });
  }

 private:
  std::vector<BlobPtr> parts_;
  std::vector<std::uint64_t> starts_;
  std::uint64_t size_ = 0;
};

class MemoryWriter final : public BlobWriter {
 public:
  explicit MemoryWriter(std::optional<std::uint64_t> hint) {
    // A lying Content-Length must not make us reserve gigabytes up front.
    if (hint) data_.reserve(std::min<std::uint64_t>(*hint, 64u << 20));
  }
  Status Append(std::string_view d) override {
    data_.append(d);
    return Status::Ok();
  }
  Result<BlobPtr> Finish() override { return MakeMemoryBlob(std::move(data_)); }

 private:
  std::string data_;
};

class MemoryFactory final : public BlobFactory {
 public:
  std::unique_ptr<BlobWriter> NewWriter(std::optional<std::uint64_t> hint) override {
    return std::make_unique<MemoryWriter>(hint);
  }
};

// A body in a file; the file goes when the last reference does.
class FileBlob final : public Blob {
 public:
  FileBlob(std::string path, std::uint64_t size) : path_(std::move(path)), size_(size) {}
  ~FileBlob() override { ::unlink(path_.c_str()); }
  std::uint64_t size() const override { return size_; }
  Status ReadAt(std::uint64_t offset, std::span<char> out) const override {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return IoError("open", path_, errno);
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n =
          ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int err = n < 0 ? errno : EIO;
        ::close(fd);
        return IoError("read", path_, err);
      }
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return Status::Ok();
  }

 private:
  std::string path_;
  std::uint64_t size_;
};

class FileWriter final : public BlobWriter {
 public:
  FileWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~FileWriter() override {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(path_.c_str());
    }
  }
  Status Append(std::string_view d) override {
    while (!d.empty()) {
      ssize_t n = ::write(fd_, d.data(), d.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return IoError("write", path_, errno);
      d.remove_prefix(static_cast<std::size_t>(n));
      size_ += static_cast<std::uint64_t>(n);
    }
    return Status::Ok();
  }
  Result<BlobPtr> Finish() override {
    ::close(fd_);
    fd_ = -1;
    return BlobPtr(std::make_shared<FileBlob>(path_, size_));
  }

 private:
  std::string path_;
  int fd_;
  std::uint64_t size_ = 0;
};

class DirectoryFactory final : public BlobFactory {
 public:
  explicit DirectoryFactory(std::string dir) : dir_(std::move(dir)) {}
  ~DirectoryFactory() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::unique_ptr<BlobWriter> NewWriter(std::optional<std::uint64_t>) override {
    std::string path = dir_ + "/b" + std::to_string(next_++);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return nullptr;
    return std::make_unique<FileWriter>(std::move(path), fd);
  }

 private:
  std::string dir_;
  std::atomic<std::uint64_t> next_{0};
};

class DroppedBlob final : public Blob {
 public:
  explicit DroppedBlob(std::uint64_t size) : size_(size) {}
  std::uint64_t size() const override { return size_; }
  Status ReadAt(std::uint64_t, std::span<char>) const override { return BodyNotKept(size_); }
  bool kept() const override { return false; }

 private:
  std::uint64_t size_;
};

class DroppingWriter final : public BlobWriter {
 public:
  Status Append(std::string_view d) override {
    size_ += d.size();
    return Status::Ok();
  }
  Result<BlobPtr> Finish() override { return BlobPtr(std::make_shared<DroppedBlob>(size_)); }

 private:
  std::uint64_t size_ = 0;
};

class KeepingFactory final : public BlobFactory {
 public:
  KeepingFactory(std::unique_ptr<BlobFactory> inner, std::uint64_t limit)
      : inner_(std::move(inner)), limit_(limit) {}
  std::unique_ptr<BlobWriter> NewWriter(std::optional<std::uint64_t> hint) override {
    if (hint && *hint > limit_) return std::make_unique<DroppingWriter>();
    return inner_->NewWriter(hint);
  }

 private:
  std::unique_ptr<BlobFactory> inner_;
  std::uint64_t limit_;
};

}  // namespace

Status BodyNotKept(std::uint64_t size) {
  return S3Error(501, "NotImplemented",
                 "s3sim was started with --keep-bodies-up-to: this body of " +
                     std::to_string(size) + " bytes was received and checked, not kept");
}

std::unique_ptr<BlobFactory> BlobFactory::KeepingUpTo(std::unique_ptr<BlobFactory> inner,
                                                      std::uint64_t limit) {
  return std::make_unique<KeepingFactory>(std::move(inner), limit);
}

BlobPtr MakeMemoryBlob(std::string data) { return std::make_shared<MemoryBlob>(std::move(data)); }

BlobPtr MakeSliceBlob(BlobPtr base, std::uint64_t offset, std::uint64_t length) {
  if (offset == 0 && length == base->size()) return base;
  return std::make_shared<SliceBlob>(std::move(base), offset, length);
}

BlobPtr MakeCompositeBlob(std::vector<BlobPtr> parts) {
  if (parts.size() == 1) return parts[0];
  return std::make_shared<CompositeBlob>(std::move(parts));
}

std::unique_ptr<BlobFactory> BlobFactory::Memory() { return std::make_unique<MemoryFactory>(); }

Result<std::unique_ptr<BlobFactory>> BlobFactory::Directory(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  // A private subdirectory: two simulators may share --data-dir.
  std::string tmpl = data_dir + "/s3sim-" + std::to_string(::getpid()) + "-XXXXXX";
  if (ec || ::mkdtemp(tmpl.data()) == nullptr) {
    return Status::Error(ErrorClass::kInvalidArgument,
                         "cannot create a directory under --data-dir " + data_dir);
  }
  return std::unique_ptr<BlobFactory>(std::make_unique<DirectoryFactory>(tmpl));
}

Result<std::string> Md5HexOfBlob(const Blob& blob, std::uint64_t offset, std::uint64_t length) {
  digest::Hasher md5(digest::Hasher::Kind::kMd5);
  // A buffer no larger than the range: many small parts (10,000 × 1 KiB)
  // must not each allocate and clear a MiB.
  std::string buf(static_cast<std::size_t>(std::min<std::uint64_t>(length, 1u << 20)), '\0');
  while (length > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(length, buf.size()));
    FERRY_RETURN_IF_ERROR(blob.ReadAt(offset, std::span<char>(buf.data(), n)));
    md5.Update(std::string_view(buf.data(), n));
    offset += n;
    length -= n;
  }
  return digest::ToHex(md5.Finish());
}

Result<std::uint32_t> Crc32cOfBlob(const Blob& blob, std::uint64_t offset, std::uint64_t length) {
  std::uint32_t crc = 0;
  // A buffer no larger than the range: many small parts (10,000 × 1 KiB)
  // must not each allocate and clear a MiB.
  std::string buf(static_cast<std::size_t>(std::min<std::uint64_t>(length, 1u << 20)), '\0');
  while (length > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(length, buf.size()));
    FERRY_RETURN_IF_ERROR(blob.ReadAt(offset, std::span<char>(buf.data(), n)));
    crc = crc32c::Extend(crc, std::string_view(buf.data(), n));
    offset += n;
    length -= n;
  }
  return crc;
}

}  // namespace ferry::sim
