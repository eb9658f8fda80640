// The `file` storage backend: storage::Backend over a directory tree, for
// tests and for NFS-style replication targets.
//
// Layout under `root`:
//   <encoded key path>   one regular file per object, holding exactly the
//                        object's bytes (readable without ferry)
//   .ferry/tmp/          files being written; renamed into place when whole
//   .ferry/meta/         sidecars: ETag, metadata, part layout (sidecar.h)
//   .ferry/uploads/<id>/ open multipart uploads: upload.json, parts, sidecars
// No key maps into .ferry/ and listings never show it.
//
// Key -> path (key_codec.h has the details): a key is split at '/'; each
// segment becomes one path component, with "%XX" escapes for control bytes,
// '%', '\' and a leading '.'. Directories carry the suffix "%d", so object
// "a" (file "a") and object "a/b" (file "a%d/b") coexist; an empty segment is
// "%d" as a directory and "%_" as the last segment. A segment longer than
// NAME_MAX allows is split into directory levels ending in "%+". Examples:
// "backups/b1/velero-backup.json" -> "backups%d/b1%d/velero-backup.json",
// "/x/../y" -> "%d/x%d/%2E.%d/y". Every key of up to 1024 bytes maps to a
// path under the root (at most ~3.1 KiB long, so roots up to ~900 bytes keep
// every path within PATH_MAX), distinct keys to distinct paths, and the walk
// decodes paths back.
//
// Guarantees: Put, Copy and CompleteMultipart write a temp file, fsync it,
// write its sidecar and rename it into place, so readers see the old or the
// new object, never a partial one. A reader that opened an object keeps
// reading that version even if it is replaced meanwhile. Object bytes move
// through io_uring (Boost.Asio random_access_file) in `io_chunk` pieces.
// Commits (fsyncs), listing walks and tree removals run on a private pool of
// 4 threads so they never stall the caller's io threads; small metadata
// calls (open, stat, unlink, sidecar reads) are plain syscalls inline.
// DeleteBatch takes any number of keys. Temp files a crashed writer left in
// .ferry/tmp are removed on open once a day old; sidecars orphaned by a
// crash or by racing writers are not collected (harmless, a few hundred
// bytes each).
//
// Not provided: cross-bucket copy, checksums other than MD5, versioning.
// Objects are not locked: two writers on one key race, the last rename wins.
//
// REQUIRES: the executor's execution context (an io_context) outlives the
// backend and every coroutine started on it; one process (or several that
// only ever race like S3 clients do) owns a root.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "protocols/base/status.h"
#include "storage/backend.h"

namespace ferry::storage {

struct FileBackendOptions {
  // Directory holding the objects; made absolute (and canonical) on open.
  std::string root;
  // Create `root` (and parents) when it does not exist; else kNotFound.
  bool create_if_missing = true;
  // Bytes per read/write submitted to io_uring (and per buffer held).
  std::uint64_t io_chunk = 1ull << 20;
  // Smallest size of every multipart part but the last (S3: 5 MiB); tests
  // lower it to keep multipart cases small.
  std::uint64_t min_part_size = 5ull << 20;
};

// Opens (and prepares the internal area of) a file backend on `opts.root`.
Result<std::shared_ptr<Backend>> OpenFileBackend(boost::asio::any_io_executor ex,
                                                 FileBackendOptions opts);

}  // namespace ferry::storage
