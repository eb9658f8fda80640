// File I/O helpers of the file backend: errno classification, data reads and
// writes through io_uring (Boost.Asio random_access_file), and the small
// synchronous metadata operations (mkdir, rename, fsync of directories,
// sidecar-sized files).
//
// Object bytes always move through io_uring in bounded chunks; nothing here
// holds more than one chunk of an object in memory. Metadata calls are plain
// syscalls on the calling thread: they are short and keep the listing walk
// simple.
#pragma once

#include <sys/stat.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/random_access_file.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/base/body.h"
#include "protocols/base/digest.h"
#include "protocols/base/status.h"

namespace ferry::storage::fileio {

using File = boost::asio::random_access_file;
using io::Task;

// Status for a failed syscall: the errno text, the operation and the path.
// ENOENT -> kNotFound; EINTR/EAGAIN/EBUSY/ETIMEDOUT/ESTALE/EIO -> kRetryable
// (NFS reports transient trouble this way); ENAMETOOLONG/EINVAL/ENOTDIR/
// EISDIR/EILSEQ/ELOOP -> kInvalidArgument; anything else kFatal.
Status ErrnoStatus(int err, std::string_view op, std::string_view path);

// Identity of one version of a file: rename keeps it, rewriting changes it.
struct Identity {
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const Identity&) const = default;
};
Identity IdentityOf(const struct stat& st);

// Opens `path` with open(2) flags (O_CLOEXEC added) and hands the descriptor
// to io_uring. Creates with mode 0644 (before umask).
Result<File> OpenFile(const boost::asio::any_io_executor& ex, const std::string& path, int flags);
Result<struct stat> Fstat(File& f, std::string_view path);

// Reads up to buf.size() bytes at `offset`; 0 only at end of file.
Task<Result<std::size_t>> ReadAt(File& f, std::uint64_t offset, std::span<char> buf,
                                 std::string_view path);
Task<Status> WriteAllAt(File& f, std::uint64_t offset, std::span<const char> data,
                        std::string_view path);

// Streams `length` bytes of `in` from `offset` into `sink`, `chunk` at a
// time. A file shorter than expected is an error (kRetryable: it changed).
Task<Status> StreamToSink(File& in, std::uint64_t offset, std::uint64_t length, std::size_t chunk,
                          io::BodySink& sink, std::string_view path);
// Copies `length` bytes of `in` from `in_offset` to `out` at `out_offset`,
// feeding `hasher` (when not null) with every byte copied.
Task<Status> CopyRange(File& in, std::uint64_t in_offset, std::uint64_t length, File& out,
                       std::uint64_t out_offset, std::size_t chunk, digest::Hasher* hasher,
                       std::string_view in_path, std::string_view out_path);

// Sets mtime to now, fsyncs, and returns the final identity: after this the
// identity no longer changes until the file is rewritten.
Result<Identity> SealFile(File& f, std::string_view path);

// mkdir(2) each missing directory of base/rel (rel components are created
// one by one; base must exist).
Status MkdirAll(const std::string& base, std::string_view rel);
// Creates `path` and its missing parents, like mkdir -p.
Status MkdirP(const std::string& path);
Status FsyncDir(const std::string& path);
Status Rename(const std::string& from, const std::string& to);
// unlink(2); a missing file is fine.
Status UnlinkIfExists(const std::string& path);
// Removes a directory tree; a missing one is fine.
Status RemoveTree(const std::string& path);

// Small files (sidecars, upload records): read whole, at most `limit` bytes.
Result<std::string> ReadSmallFile(const std::string& path, std::size_t limit);
// Writes `data` to a fresh file in `tmp_dir`, fsyncs it and renames it over
// `path`: readers see the old or the new content, never a mix.
Status WriteSmallFileAtomic(const std::string& tmp_dir, const std::string& path,
                            std::string_view data);

// `n` random bytes as 2n lower-case hex characters (temp names, upload ids).
std::string RandomHex(std::size_t n);

}  // namespace ferry::storage::fileio
