// FileBackend: opening, object reads and writes, copy and delete.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <utility>

#include "protocols/base/digest.h"
#include "storage/file/file_backend_impl.h"
#include "storage/file/key_codec.h"

namespace ferry::storage {
namespace {

constexpr std::size_t kMaxKeyBytes = 1024;

// Temp files of writers that crashed. Another process may share the root,
// so only what is clearly abandoned (a day old) goes; errors are ignored.
void SweepStaleTemps(const std::string& tmp_dir) {
  const auto cutoff = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24);
  std::error_code ec;
  for (std::filesystem::directory_iterator it(tmp_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code ec2;
    if (it->last_write_time(ec2) < cutoff && !ec2) std::filesystem::remove_all(it->path(), ec2);
  }
}

}  // namespace

s3::TimePoint FileTimeOf(std::int64_t ns) {
  return s3::TimePoint(
      std::chrono::duration_cast<s3::TimePoint::duration>(std::chrono::nanoseconds(ns)));
}

std::string NormalizeEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  std::string out(etag);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

FileBackend::TempFile::~TempFile() {
  file.reset();
  if (!committed && !path.empty()) ::unlink(path.c_str());
}

FileBackend::FileBackend(boost::asio::any_io_executor ex, FileBackendOptions opts)
    : ex_(std::move(ex)),
      opts_(std::move(opts)),
      tmp_dir_(opts_.root + "/.ferry/tmp"),
      uploads_dir_(opts_.root + "/.ferry/uploads"),
      sidecars_(opts_.root + "/.ferry/meta", tmp_dir_, /*sharded=*/true) {
  caps_.multipart = true;
  caps_.server_side_copy = true;
  caps_.cross_bucket_copy = false;
  caps_.head_part_number = true;
  caps_.etag_is_md5 = true;
  caps_.list_common_prefixes = true;
  caps_.conditional_get = true;
  caps_.checksum_crc32c = false;
  caps_.min_part_size = opts_.min_part_size;
}

Result<std::shared_ptr<Backend>> OpenFileBackend(boost::asio::any_io_executor ex,
                                                 FileBackendOptions opts) {
  if (opts.root.empty()) {
    return Status::Error(ErrorClass::kInvalidArgument, "file backend: root directory not set");
  }
  std::error_code ec;
  std::filesystem::path root = std::filesystem::absolute(opts.root, ec);
  if (ec) return fileio::ErrnoStatus(ec.value(), "file backend root", opts.root);
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) {
    if (errno != ENOENT || !opts.create_if_missing) {
      return fileio::ErrnoStatus(errno, "file backend root", root.string());
    }
    FERRY_RETURN_IF_ERROR(fileio::MkdirP(root.string()));
  }
  root = std::filesystem::canonical(root, ec);
  if (ec) return fileio::ErrnoStatus(ec.value(), "file backend root", opts.root);
  if (!std::filesystem::is_directory(root, ec)) {
    return fileio::ErrnoStatus(ENOTDIR, "file backend root", root.string());
  }
  opts.root = root.string();
  for (const char* dir : {"/.ferry/tmp", "/.ferry/meta", "/.ferry/uploads"}) {
    FERRY_RETURN_IF_ERROR(fileio::MkdirP(opts.root + dir));
  }
  SweepStaleTemps(opts.root + "/.ferry/tmp");
  opts.io_chunk = std::max<std::uint64_t>(opts.io_chunk, 1);
  return std::shared_ptr<Backend>(std::make_shared<FileBackend>(std::move(ex), std::move(opts)));
}

Status FileBackend::Error(ErrorClass c, std::string code, std::string message,
                          std::string_view key) const {
  ErrorInfo info;
  info.error_class = c;
  info.code = std::move(code);
  info.message = std::move(message);
  info.endpoint = Describe();
  info.bucket = opts_.root;
  info.key = std::string(key);
  return Status(std::move(info));
}

Status FileBackend::WithKey(const Status& st, std::string_view key) const {
  return st.WithContext(Describe(), opts_.root, key);
}

Status FileBackend::CheckKey(std::string_view key) const {
  if (key.empty()) return Error(ErrorClass::kInvalidArgument, "InvalidArgument", "empty key", key);
  if (key.size() > kMaxKeyBytes) {
    return Error(ErrorClass::kInvalidArgument, "KeyTooLongError",
                 "key longer than 1024 bytes (" + std::to_string(key.size()) + ")",
                 key.substr(0, 64));
  }
  return Status::Ok();
}

std::string FileBackend::ObjectPath(std::string_view key) const {
  return opts_.root + "/" + filekeys::KeyToRelPath(key);
}

Result<FileBackend::TempFile> FileBackend::CreateTemp() const {
  TempFile tmp;
  tmp.path = tmp_dir_ + "/o-" + fileio::RandomHex(12);
  FERRY_ASSIGN_OR_RETURN(tmp.file, fileio::OpenFile(ex_, tmp.path, O_RDWR | O_CREAT | O_EXCL));
  return tmp;
}

Task<Result<FileBackend::TempFile>> FileBackend::WriteTemp(io::BodySource& body,
                                                           std::string* md5_raw) {
  FERRY_CO_ASSIGN_OR_RETURN(TempFile tmp, CreateTemp());
  const std::uint64_t expected = body.size();
  std::vector<char> buf(
      static_cast<std::size_t>(std::clamp<std::uint64_t>(expected, 1, opts_.io_chunk)));
  digest::Hasher md5(digest::Hasher::Kind::kMd5);
  std::uint64_t off = 0;
  for (;;) {
    Result<std::size_t> n = co_await body.Read({buf.data(), buf.size()});
    if (!n.ok()) co_return n.status().Annotate("reading the body");
    if (*n == 0) break;
    if (off + *n > expected) {
      co_return Status::Error(
          ErrorClass::kInvalidArgument,
          "body produced more than its declared " + std::to_string(expected) + " bytes");
    }
    md5.Update({buf.data(), *n});
    FERRY_CO_RETURN_IF_ERROR(
        co_await fileio::WriteAllAt(*tmp.file, off, {buf.data(), *n}, tmp.path));
    off += *n;
  }
  if (off != expected) {
    co_return Status::Error(
        ErrorClass::kRetryable,
        "body ended after " + std::to_string(off) + " of " + std::to_string(expected) + " bytes");
  }
  *md5_raw = md5.Finish();
  co_return tmp;
}

Task<Result<FileBackend::TempFile>> FileBackend::CopyToTemp(OpenedFile& src, std::uint64_t offset,
                                                            std::uint64_t length,
                                                            std::string* md5_raw) {
  FERRY_CO_ASSIGN_OR_RETURN(TempFile tmp, CreateTemp());
  digest::Hasher md5(digest::Hasher::Kind::kMd5);
  FERRY_CO_RETURN_IF_ERROR(co_await fileio::CopyRange(*src.file, offset, length, *tmp.file, 0,
                                                      opts_.io_chunk, &md5, src.path, tmp.path));
  *md5_raw = md5.Finish();
  co_return tmp;
}

Status FileBackend::CommitFile(TempFile& tmp, const std::string& base, const std::string& rel,
                               const filemeta::SidecarStore& store,
                               const filemeta::ObjectRecord& rec) {
  FERRY_ASSIGN_OR_RETURN(fileio::Identity id, fileio::SealFile(*tmp.file, tmp.path));
  if (id.size != rec.size) {
    return Status::Error(ErrorClass::kFatal, "temp file " + tmp.path + " has " +
                                                 std::to_string(id.size) + " bytes, expected " +
                                                 std::to_string(rec.size));
  }
  FERRY_RETURN_IF_ERROR(store.Write(id, rec));
  const std::string dest = base + "/" + rel;
  const std::size_t slash = rel.rfind('/');
  const std::string parent_rel = slash == std::string::npos ? "" : rel.substr(0, slash);
  std::optional<fileio::Identity> old;
  struct stat st {};
  if (::lstat(dest.c_str(), &st) == 0 && S_ISREG(st.st_mode)) old = fileio::IdentityOf(st);
  Status s;
  // A Delete of a neighbour may prune a parent directory between our mkdir
  // and rename; then the rename fails with ENOENT and we make it again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    s = fileio::MkdirAll(base, parent_rel);
    if (s.ok()) s = fileio::Rename(tmp.path, dest);
    if (!s.Is(ErrorClass::kNotFound)) break;
  }
  if (!s.ok()) {
    (void)store.Remove(id);
    return s;
  }
  tmp.committed = true;
  if (old && *old != id) (void)store.Remove(*old);
  return fileio::FsyncDir(parent_rel.empty() ? base : base + "/" + parent_rel);
}

Task<Result<PutResult>> FileBackend::CommitObject(std::string_view key, TempFile& tmp,
                                                  const filemeta::ObjectRecord& rec) {
  Status s = co_await OffThread(
      [&] { return CommitFile(tmp, opts_.root, filekeys::KeyToRelPath(key), sidecars_, rec); });
  if (!s.ok()) {
    if (!tmp.committed) PruneEmptyDirs(filekeys::KeyToRelPath(key));
    co_return WithKey(s, key);
  }
  PutResult r;
  r.etag = rec.etag;
  co_return r;
}

Task<Result<FileBackend::OpenedFile>> FileBackend::OpenWithRecord(
    std::string path, const filemeta::SidecarStore& store) {
  OpenedFile f;
  f.path = std::move(path);
  FERRY_CO_ASSIGN_OR_RETURN(f.file, fileio::OpenFile(ex_, f.path, O_RDONLY));
  FERRY_CO_ASSIGN_OR_RETURN(struct stat st, fileio::Fstat(*f.file, f.path));
  if (!S_ISREG(st.st_mode)) co_return fileio::ErrnoStatus(ENOENT, "open", f.path);
  f.id = fileio::IdentityOf(st);
  f.mtime = FileTimeOf(f.id.mtime_ns);
  Result<filemeta::ObjectRecord> rec = store.Read(f.id);
  if (rec.ok()) {
    f.rec = std::move(*rec);
  } else if (rec.status().Is(ErrorClass::kNotFound)) {
    // Not written by ferry (or touched since): the bytes are the truth.
    digest::Hasher md5(digest::Hasher::Kind::kMd5);
    std::vector<char> buf(
        static_cast<std::size_t>(std::clamp<std::uint64_t>(f.id.size, 1, opts_.io_chunk)));
    std::uint64_t off = 0;
    for (;;) {
      FERRY_CO_ASSIGN_OR_RETURN(
          std::size_t n, co_await fileio::ReadAt(*f.file, off, {buf.data(), buf.size()}, f.path));
      if (n == 0) break;
      md5.Update({buf.data(), n});
      off += n;
    }
    f.rec.etag = digest::ToHex(md5.Finish());
    f.rec.size = off;
    if (off == f.id.size) (void)store.Write(f.id, f.rec);
  } else {
    co_return rec.status();
  }
  if (f.rec.size != f.id.size) {
    co_return Status::Error(ErrorClass::kFatal,
                            "record of " + f.path + " says " + std::to_string(f.rec.size) +
                                " bytes, file has " + std::to_string(f.id.size));
  }
  co_return f;
}

Task<Result<FileBackend::OpenedFile>> FileBackend::OpenObject(std::string_view key,
                                                              const std::string& if_match) {
  FERRY_CO_RETURN_IF_ERROR(CheckKey(key));
  Result<OpenedFile> f = co_await OpenWithRecord(ObjectPath(key), sidecars_);
  if (!f.ok()) {
    if (f.status().Is(ErrorClass::kNotFound) || f.status().Is(ErrorClass::kInvalidArgument)) {
      // ENOTDIR / ENAMETOOLONG on the way also mean: no such object.
      co_return Error(ErrorClass::kNotFound, "NoSuchKey", "no such object", key);
    }
    co_return WithKey(f.status(), key);
  }
  if (!if_match.empty() && if_match != "*" && NormalizeEtag(if_match) != f->rec.etag) {
    co_return Error(ErrorClass::kPrecondition, "PreconditionFailed",
                    "If-Match " + if_match + " does not match ETag " + f->rec.etag, key);
  }
  co_return f;
}

ObjectInfo FileBackend::InfoOf(const OpenedFile& f) const {
  ObjectInfo info;
  info.size = f.rec.size;
  info.etag = f.rec.etag;
  info.last_modified = f.mtime;
  info.metadata = f.rec.meta;
  if (!f.rec.part_sizes.empty()) info.parts_count = static_cast<int>(f.rec.part_sizes.size());
  return info;
}

Task<Result<ObjectInfo>> FileBackend::Head(std::string key, HeadOptions opts) {
  FERRY_CO_ASSIGN_OR_RETURN(OpenedFile f, co_await OpenObject(key, opts.if_match));
  ObjectInfo info = InfoOf(f);
  if (!opts.part_number) co_return info;
  const int n = *opts.part_number;
  const int count = f.rec.part_sizes.empty() ? 1 : static_cast<int>(f.rec.part_sizes.size());
  if (n < 1 || n > count) {
    co_return Error(ErrorClass::kInvalidArgument, "InvalidPartNumber",
                    "part " + std::to_string(n) + " requested, object has " + std::to_string(count),
                    key);
  }
  if (!f.rec.part_sizes.empty()) info.size = f.rec.part_sizes[static_cast<std::size_t>(n - 1)];
  co_return info;
}

Task<Result<ObjectInfo>> FileBackend::Get(std::string key, GetOptions opts, io::BodySink& sink) {
  FERRY_CO_ASSIGN_OR_RETURN(OpenedFile f, co_await OpenObject(key, opts.if_match));
  std::uint64_t offset = 0;
  std::uint64_t length = f.rec.size;
  if (opts.range) {
    if (opts.range->length == 0 || opts.range->offset >= f.rec.size) {
      co_return Error(ErrorClass::kInvalidArgument, "InvalidRange",
                      "range " + std::to_string(opts.range->offset) + "+" +
                          std::to_string(opts.range->length) + " outside object of " +
                          std::to_string(f.rec.size) + " bytes",
                      key);
    }
    offset = opts.range->offset;
    length = std::min(opts.range->length, f.rec.size - offset);  // S3 clamps the end
  }
  Status s = co_await fileio::StreamToSink(*f.file, offset, length, opts_.io_chunk, sink, f.path);
  if (!s.ok()) co_return WithKey(s, key);
  co_return InfoOf(f);
}

Task<Result<PutResult>> FileBackend::Put(std::string key, io::BodySource& body,
                                         const Metadata& meta) {
  FERRY_CO_RETURN_IF_ERROR(CheckKey(key));
  if (body.size() > caps_.max_single_put) {
    co_return Error(ErrorClass::kInvalidArgument, "EntityTooLarge",
                    std::to_string(body.size()) + " bytes exceed the single PUT limit", key);
  }
  std::string md5;
  Result<TempFile> tmp = co_await WriteTemp(body, &md5);
  if (!tmp.ok()) co_return WithKey(tmp.status(), key);
  filemeta::ObjectRecord rec;
  rec.etag = digest::ToHex(md5);
  rec.size = body.size();
  rec.meta = meta;
  co_return co_await CommitObject(key, *tmp, rec);
}

Task<Result<PutResult>> FileBackend::Copy(CopySourceRef source, std::string dst_key,
                                          std::optional<Metadata> replace) {
  FERRY_CO_RETURN_IF_ERROR(CheckKey(dst_key));
  if (!source.bucket.empty() && source.bucket != bucket()) {
    co_return Error(ErrorClass::kInvalidArgument, "NotImplemented",
                    "file backend cannot copy from another bucket (" + source.bucket + ")",
                    dst_key);
  }
  FERRY_CO_ASSIGN_OR_RETURN(OpenedFile src, co_await OpenObject(source.key, source.if_match));
  if (src.rec.size > caps_.max_single_put) {
    co_return Error(ErrorClass::kInvalidArgument, "InvalidRequest",
                    "source larger than the copy limit; use UploadPartCopy", source.key);
  }
  std::string md5;
  Result<TempFile> tmp = co_await CopyToTemp(src, 0, src.rec.size, &md5);
  if (!tmp.ok()) co_return WithKey(tmp.status(), dst_key);
  filemeta::ObjectRecord rec;
  rec.etag = digest::ToHex(md5);
  rec.size = src.rec.size;
  rec.meta = replace ? std::move(*replace) : src.rec.meta;
  co_return co_await CommitObject(dst_key, *tmp, rec);
}

void FileBackend::PruneEmptyDirs(const std::string& rel) const {
  std::string dir = rel;
  for (std::size_t slash = dir.rfind('/'); slash != std::string::npos; slash = dir.rfind('/')) {
    dir.resize(slash);
    std::string path = opts_.root + "/" + dir;
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return;  // not empty: others live here
  }
}

Task<Status> FileBackend::Delete(std::string key) {
  FERRY_CO_RETURN_IF_ERROR(CheckKey(key));
  const std::string rel = filekeys::KeyToRelPath(key);
  const std::string path = opts_.root + "/" + rel;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) co_return Status::Ok();
    co_return WithKey(fileio::ErrnoStatus(errno, "stat", path), key);
  }
  if (!S_ISREG(st.st_mode)) co_return Status::Ok();  // not one of our objects
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    co_return WithKey(fileio::ErrnoStatus(errno, "unlink", path), key);
  }
  (void)sidecars_.Remove(fileio::IdentityOf(st));
  PruneEmptyDirs(rel);
  co_return Status::Ok();
}

Task<Result<std::vector<DeleteError>>> FileBackend::DeleteBatch(std::vector<std::string> keys) {
  // S3 takes 1000 keys per request; here there is no request, so no limit.
  std::vector<DeleteError> errors;
  for (std::string& key : keys) {
    Status s = co_await Delete(key);
    if (s.ok()) continue;
    DeleteError e;
    e.key = std::move(key);
    e.code = s.error().code.empty() ? "InternalError" : s.error().code;
    e.message = s.ToString();
    errors.push_back(std::move(e));
  }
  co_return errors;
}

}  // namespace ferry::storage
