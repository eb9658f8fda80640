#include "storage/file/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

namespace ferry::storage::fileio {
namespace {

constexpr auto kAsTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

ErrorClass ClassifyErrno(int err) {
  switch (err) {
    case ENOENT:
      return ErrorClass::kNotFound;
    case EINTR:
    case EAGAIN:
    case EBUSY:
    case ETIMEDOUT:
    case ESTALE:
    case EIO:
      return ErrorClass::kRetryable;
    case ENAMETOOLONG:
    case EINVAL:
    case ENOTDIR:
    case EISDIR:
    case EILSEQ:
    case ELOOP:
      return ErrorClass::kInvalidArgument;
    default:
      return ErrorClass::kFatal;
  }
}

Status EcStatus(const boost::system::error_code& ec, std::string_view op, std::string_view path) {
  if (ec.category() == boost::system::system_category()) return ErrnoStatus(ec.value(), op, path);
  return Status::Error(ErrorClass::kFatal,
                       std::string(op) + " " + std::string(path) + ": " + ec.message());
}

}  // namespace

Status ErrnoStatus(int err, std::string_view op, std::string_view path) {
  std::string msg(op);
  msg += " ";
  msg += path;
  msg += ": ";
  msg += std::generic_category().message(err);
  const char* name = strerrorname_np(err);
  if (name != nullptr) {
    msg += " (";
    msg += name;
    msg += ")";
  }
  return Status::Error(ClassifyErrno(err), std::move(msg));
}

Identity IdentityOf(const struct stat& st) {
  Identity id;
  id.ino = static_cast<std::uint64_t>(st.st_ino);
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return id;
}

Result<File> OpenFile(const boost::asio::any_io_executor& ex, const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  File f(ex);
  boost::system::error_code ec;
  f.assign(fd, ec);
  if (ec) {
    ::close(fd);
    return EcStatus(ec, "register with io_uring", path);
  }
  return f;
}

Result<struct stat> Fstat(File& f, std::string_view path) {
  struct stat st {};
  if (::fstat(f.native_handle(), &st) != 0) return ErrnoStatus(errno, "fstat", path);
  return st;
}

Task<Result<std::size_t>> ReadAt(File& f, std::uint64_t offset, std::span<char> buf,
                                 std::string_view path) {
  for (;;) {
    auto [ec, n] = co_await f.async_read_some_at(
        offset, boost::asio::buffer(buf.data(), buf.size()), kAsTuple);
    if (ec == boost::asio::error::eof) co_return std::size_t{0};
    if (ec == boost::system::errc::interrupted) continue;
    if (ec) co_return EcStatus(ec, "read", path);
    co_return n;
  }
}

Task<Status> WriteAllAt(File& f, std::uint64_t offset, std::span<const char> data,
                        std::string_view path) {
  while (!data.empty()) {
    auto [ec, n] = co_await f.async_write_some_at(
        offset, boost::asio::buffer(data.data(), data.size()), kAsTuple);
    if (ec == boost::system::errc::interrupted) continue;
    if (ec) co_return EcStatus(ec, "write", path);
    if (n == 0) co_return ErrnoStatus(EIO, "write (no progress)", path);
    offset += n;
    data = data.subspan(n);
  }
  co_return Status::Ok();
}

Task<Status> StreamToSink(File& in, std::uint64_t offset, std::uint64_t length, std::size_t chunk,
                          io::BodySink& sink, std::string_view path) {
  std::vector<char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(chunk, length)));
  while (length > 0) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), length));
    FERRY_CO_ASSIGN_OR_RETURN(std::size_t n, co_await ReadAt(in, offset, {buf.data(), want}, path));
    if (n == 0) {
      co_return Status::Error(ErrorClass::kRetryable,
                              "file " + std::string(path) + " shrank while being read");
    }
    FERRY_CO_RETURN_IF_ERROR(co_await sink.Write({buf.data(), n}));
    offset += n;
    length -= n;
  }
  co_return Status::Ok();
}

Task<Status> CopyRange(File& in, std::uint64_t in_offset, std::uint64_t length, File& out,
                       std::uint64_t out_offset, std::size_t chunk, digest::Hasher* hasher,
                       std::string_view in_path, std::string_view out_path) {
  std::vector<char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(chunk, length)));
  while (length > 0) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), length));
    FERRY_CO_ASSIGN_OR_RETURN(std::size_t n,
                              co_await ReadAt(in, in_offset, {buf.data(), want}, in_path));
    if (n == 0) {
      co_return Status::Error(ErrorClass::kRetryable,
                              "file " + std::string(in_path) + " shrank while being copied");
    }
    if (hasher != nullptr) hasher->Update({buf.data(), n});
    FERRY_CO_RETURN_IF_ERROR(co_await WriteAllAt(out, out_offset, {buf.data(), n}, out_path));
    in_offset += n;
    out_offset += n;
    length -= n;
  }
  co_return Status::Ok();
}

Result<Identity> SealFile(File& f, std::string_view path) {
  // An explicit mtime makes NFS clients agree on it (it becomes a SETATTR
  // instead of whatever the server stamps at the last WRITE).
  if (::futimens(f.native_handle(), nullptr) != 0) return ErrnoStatus(errno, "futimens", path);
  if (::fsync(f.native_handle()) != 0) return ErrnoStatus(errno, "fsync", path);
  FERRY_ASSIGN_OR_RETURN(struct stat st, Fstat(f, path));
  return IdentityOf(st);
}

Status MkdirAll(const std::string& base, std::string_view rel) {
  std::string path = base;
  std::size_t start = 0;
  while (start < rel.size()) {
    std::size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) slash = rel.size();
    path += '/';
    path += rel.substr(start, slash - start);
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir", path);
    }
    start = slash + 1;
  }
  return Status::Ok();
}

Status MkdirP(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return ErrnoStatus(ec.value(), "mkdir -p", path);
  return Status::Ok();
}

Status FsyncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory", path);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some file systems (and NFS exports) refuse fsync on directories.
  if (rc != 0 && err != EINVAL && err != EBADF) return ErrnoStatus(err, "fsync directory", path);
  return Status::Ok();
}

Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus(errno, "rename to", to);
  return Status::Ok();
}

Status UnlinkIfExists(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "unlink", path);
  return Status::Ok();
}

Status RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return ErrnoStatus(ec.value(), "remove", path);
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::string& path, std::size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      ::close(fd);
      return Status::Error(ErrorClass::kFatal, "file " + path + " is larger than expected");
    }
  }
  ::close(fd);
  return out;
}

Status WriteSmallFileAtomic(const std::string& tmp_dir, const std::string& path,
                            std::string_view data) {
  std::string tmp = tmp_dir + "/s-" + RandomHex(12);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "create", tmp);
  Status st;
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = ErrnoStatus(errno, "write", tmp);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus(errno, "fsync", tmp);
  ::close(fd);
  if (st.ok()) st = Rename(tmp, path);
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

std::string RandomHex(std::size_t n) {
  std::string raw(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(raw.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  if (got < n) {  // getrandom unavailable: still unique enough for names
    std::random_device rd;
    for (std::size_t i = got; i < n; ++i) raw[i] = static_cast<char>(rd());
  }
  return digest::ToHex(raw);
}

}  // namespace ferry::storage::fileio
