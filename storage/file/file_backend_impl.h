// FileBackend: the class behind OpenFileBackend (file_backend.h). Internal
// to storage/file; its methods are spread over file_backend.cc (objects),
// file_multipart.cc (uploads) and file_list.cc (listing).
//
// The class holds no mutable state: everything lives in the file system, so
// any number of coroutines (on any number of threads) may call it at once.
// Steps that block for long (fsync: several ms each, directory walks, tree
// removal) run on a small private thread pool, so the caller's io threads
// keep moving other transfers meanwhile; object bytes go through io_uring.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/backend.h"
#include "storage/file/file_backend.h"
#include "storage/file/file_io.h"
#include "storage/file/sidecar.h"

namespace ferry::storage {

// S3 ETags arrive quoted or not; ours are stored unquoted, lower case.
std::string NormalizeEtag(std::string_view etag);
s3::TimePoint FileTimeOf(std::int64_t mtime_ns);

class FileBackend final : public Backend {
 public:
  // REQUIRES: opts.root is absolute and canonical, internal dirs exist.
  FileBackend(boost::asio::any_io_executor ex, FileBackendOptions opts);

  const Capabilities& capabilities() const override { return caps_; }
  std::string Describe() const override { return "file://" + opts_.root; }
  std::string endpoint_id() const override { return "file:" + opts_.root; }
  std::string bucket() const override { return opts_.root; }

  Task<Result<ListPage>> List(ListOptions opts) override;
  Task<Result<ObjectInfo>> Head(std::string key, HeadOptions opts) override;
  Task<Result<ObjectInfo>> Get(std::string key, GetOptions opts, io::BodySink& sink) override;
  Task<Result<PutResult>> Put(std::string key, io::BodySource& body, const Metadata& meta) override;
  Task<Result<std::string>> CreateMultipart(std::string key, const Metadata& meta) override;
  Task<Result<PutResult>> UploadPart(std::string key, std::string upload_id, int part_number,
                                     io::BodySource& body) override;
  Task<Result<PutResult>> UploadPartCopy(std::string key, std::string upload_id, int part_number,
                                         CopySourceRef source) override;
  Task<Result<PutResult>> CompleteMultipart(std::string key, std::string upload_id,
                                            std::vector<CompletedPart> parts) override;
  Task<Status> AbortMultipart(std::string key, std::string upload_id) override;
  Task<Result<std::vector<PartInfo>>> ListParts(std::string key, std::string upload_id) override;
  Task<Result<std::vector<UploadInfo>>> ListUploads(std::string prefix) override;
  Task<Result<PutResult>> Copy(CopySourceRef source, std::string dst_key,
                               std::optional<Metadata> replace) override;
  Task<Status> Delete(std::string key) override;
  Task<Result<std::vector<DeleteError>>> DeleteBatch(std::vector<std::string> keys) override;

 private:
  // A file being written in .ferry/tmp; removed unless committed.
  struct TempFile {
    std::string path;
    std::optional<fileio::File> file;
    bool committed = false;
    TempFile() = default;
    TempFile(TempFile&& o) noexcept
        : path(std::exchange(o.path, {})), file(std::move(o.file)), committed(o.committed) {}
    TempFile& operator=(TempFile&&) = delete;
    ~TempFile();
  };
  // One opened version of an object (or part) with what its sidecar says.
  struct OpenedFile {
    std::string path;
    std::optional<fileio::File> file;
    fileio::Identity id;
    s3::TimePoint mtime{};
    filemeta::ObjectRecord rec;
  };

  Status Error(ErrorClass c, std::string code, std::string message, std::string_view key) const;
  Status WithKey(const Status& st, std::string_view key) const;
  Status CheckKey(std::string_view key) const;
  std::string ObjectPath(std::string_view key) const;
  std::string UploadDir(std::string_view upload_id) const;

  Result<TempFile> CreateTemp() const;
  // Streams `body` into a new temp file, hashing it with MD5.
  Task<Result<TempFile>> WriteTemp(io::BodySource& body, std::string* md5_raw);
  // Copies [offset, offset+length) of `src` into a new temp file.
  Task<Result<TempFile>> CopyToTemp(OpenedFile& src, std::uint64_t offset, std::uint64_t length,
                                    std::string* md5_raw);
  // Seals `tmp`, writes its sidecar into `store` and renames it to
  // `base`/`rel` (creating the directories of `rel`).
  Status CommitFile(TempFile& tmp, const std::string& base, const std::string& rel,
                    const filemeta::SidecarStore& store, const filemeta::ObjectRecord& rec);
  Task<Result<PutResult>> CommitObject(std::string_view key, TempFile& tmp,
                                       const filemeta::ObjectRecord& rec);

  // Opens `path` and finds its record in `store`; for a file without one
  // (not written by ferry) the ETag is computed from the bytes.
  Task<Result<OpenedFile>> OpenWithRecord(std::string path, const filemeta::SidecarStore& store);
  Task<Result<OpenedFile>> OpenObject(std::string_view key, const std::string& if_match);
  ObjectInfo InfoOf(const OpenedFile& f) const;

  Result<filemeta::UploadRecord> LoadUpload(std::string_view key, std::string_view upload_id) const;
  Task<Result<PutResult>> StorePart(std::string_view key, std::string_view upload_id,
                                    int part_number, TempFile& tmp, std::string md5_raw,
                                    std::uint64_t size);

  // Runs `fn` on the blocking pool; the caller resumes on its own executor.
  template <typename F>
  auto OffThread(F fn) -> Task<decltype(fn())> {
    co_return co_await boost::asio::co_spawn(
        blocking_, [&fn]() -> Task<decltype(fn())> { co_return fn(); }, boost::asio::use_awaitable);
  }

  // rmdir the now-empty directories of `rel` (deepest first), up to root.
  void PruneEmptyDirs(const std::string& rel) const;

  boost::asio::any_io_executor ex_;
  FileBackendOptions opts_;
  Capabilities caps_;
  std::string tmp_dir_;
  std::string uploads_dir_;
  filemeta::SidecarStore sidecars_;
  // Last member: joined first on destruction, while the rest still exists.
  boost::asio::thread_pool blocking_{4};
};

}  // namespace ferry::storage
