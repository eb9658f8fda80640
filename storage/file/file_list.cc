// FileBackend::List: a walk of the tree in key order.
//
// Keys come out in UTF-8 byte order without sorting the whole tree: each
// directory's entries are decoded and sorted, a directory "x" sorting as
// "x/" (every key below it starts with "x/"), and visited depth-first. Only
// one directory's entries per level of depth are held at a time. Pieces of
// over-long segments ("%+" directories) are expanded into their directory
// before sorting, since their keys interleave with their neighbours'.
//
// Pages resume from an opaque token: "k<key>" (continue after that key) or
// "p<common prefix>" (continue after every key under that prefix). Subtrees
// wholly before the marker are skipped without being read. With a delimiter,
// a directory whose keys all share one common prefix is not walked further
// than needed to find one eligible key under it.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "storage/file/file_backend_impl.h"
#include "storage/file/key_codec.h"

namespace ferry::storage {
namespace {

using filekeys::Kind;

struct Entry {
  std::string name;  // decoded key segment
  bool is_dir = false;
  std::string path;
  std::string SortKey() const { return is_dir ? name + "/" : name; }
};

// Appends the entries of `dir` (decoded; chunk chains expanded) to `out`.
// A directory that vanished is empty: the walk races with deletes.
Status ReadDir(const std::string& dir, bool is_root, const std::string& name_prefix,
               std::vector<std::string>& pieces, std::vector<Entry>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return fileio::ErrnoStatus(errno, "opendir", dir);
  }
  Status st;
  for (;;) {
    errno = 0;
    struct dirent* de = ::readdir(d);
    if (de == nullptr) {
      if (errno != 0) st = fileio::ErrnoStatus(errno, "readdir", dir);
      break;
    }
    std::string_view name = de->d_name;
    if (name == "." || name == "..") continue;
    if (is_root && name == ".ferry") continue;
    std::optional<filekeys::DecodedName> dec = filekeys::DecodeComponent(name);
    if (!dec) continue;  // not ours
    unsigned char type = de->d_type;
    if (type == DT_UNKNOWN) {  // XFS, some NFS servers
      struct stat s {};
      if (::fstatat(::dirfd(d), de->d_name, &s, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISREG(s.st_mode) ? DT_REG : S_ISDIR(s.st_mode) ? DT_DIR : DT_UNKNOWN;
    }
    const bool want_dir = dec->kind != Kind::kObject;
    if (type != (want_dir ? DT_DIR : DT_REG)) continue;
    std::string full = name_prefix + dec->raw;
    std::string path = dir + "/" + std::string(name);
    pieces.emplace_back(name);
    if (dec->kind == Kind::kChunk) {
      st = ReadDir(path, false, full, pieces, out);
    } else if (filekeys::EncodeSegment(full, dec->kind) == pieces) {
      out->push_back(Entry{std::move(full), want_dir, std::move(path)});
    }
    pieces.pop_back();
    if (!st.ok()) break;
  }
  ::closedir(d);
  return st;
}

Result<std::vector<Entry>> ReadSortedDir(const std::string& dir, bool is_root) {
  std::vector<Entry> entries;
  std::vector<std::string> pieces;
  FERRY_RETURN_IF_ERROR(ReadDir(dir, is_root, "", pieces, &entries));
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.SortKey() < b.SortKey(); });
  return entries;
}

struct WalkParams {
  std::string prefix;
  std::string delimiter;
  std::string marker;       // only keys after this one
  std::string skip_prefix;  // and none under this common prefix
  int max_keys = 1000;
  bool probe = false;  // stop at the first eligible key
};

struct Item {
  std::string key;  // object key or common prefix
  std::string path;
  bool is_prefix = false;
};

class Walker {
 public:
  explicit Walker(const WalkParams& p) : p_(p), last_cp_(p.skip_prefix) {}

  // Walks `dir`, whose keys start with `key_prefix`. Returns true when the
  // walk stopped early (page full plus one, or a probe found a key).
  Result<bool> Walk(const std::string& dir, bool is_root, const std::string& key_prefix) {
    FERRY_ASSIGN_OR_RETURN(std::vector<Entry> entries, ReadSortedDir(dir, is_root));
    for (const Entry& e : entries) {
      if (!e.is_dir) {
        std::string key = key_prefix + e.name;
        if (!key.starts_with(p_.prefix) || !Eligible(key)) continue;
        if (EmitKey(std::move(key), e.path)) return true;
        continue;
      }
      std::string sub = key_prefix + e.name + "/";
      if (!sub.starts_with(p_.prefix) && !p_.prefix.starts_with(sub)) continue;
      if (SkipSubtree(sub)) continue;
      if (!p_.probe && !p_.delimiter.empty() && sub.starts_with(p_.prefix)) {
        std::size_t pos = sub.find(p_.delimiter, p_.prefix.size());
        if (pos != std::string::npos) {
          // Every key below rolls up into one common prefix: report it if
          // one eligible key exists there, without listing the rest.
          std::string cp = sub.substr(0, pos + p_.delimiter.size());
          if (cp == last_cp_) continue;
          WalkParams probe = p_;
          probe.probe = true;
          Walker w(probe);
          FERRY_ASSIGN_OR_RETURN(bool found, w.Walk(e.path, false, sub));
          if (found && EmitPrefix(std::move(cp))) return true;
          continue;
        }
      }
      FERRY_ASSIGN_OR_RETURN(bool stop, Walk(e.path, false, sub));
      if (stop) return true;
    }
    return false;
  }

  std::vector<Item>& items() { return items_; }
  bool truncated() const { return truncated_; }

 private:
  bool Eligible(const std::string& key) const {
    if (key <= p_.marker) return false;
    return p_.skip_prefix.empty() || !key.starts_with(p_.skip_prefix);
  }
  // True when no key under `sub` can be eligible.
  bool SkipSubtree(const std::string& sub) const {
    if (!p_.skip_prefix.empty() && sub.starts_with(p_.skip_prefix)) return true;
    return p_.marker > sub && !p_.marker.starts_with(sub);
  }
  bool EmitKey(std::string key, const std::string& path) {
    if (p_.probe) return true;
    if (!p_.delimiter.empty()) {
      std::size_t pos = key.find(p_.delimiter, p_.prefix.size());
      if (pos != std::string::npos) {
        std::string cp = key.substr(0, pos + p_.delimiter.size());
        return cp == last_cp_ ? false : EmitPrefix(std::move(cp));
      }
    }
    if (Full()) return true;
    items_.push_back(Item{std::move(key), path, false});
    return false;
  }
  bool EmitPrefix(std::string cp) {
    if (Full()) return true;
    last_cp_ = cp;
    items_.push_back(Item{std::move(cp), "", true});
    return false;
  }
  bool Full() {
    if (static_cast<int>(items_.size()) < p_.max_keys) return false;
    truncated_ = true;
    return true;
  }

  const WalkParams& p_;
  std::string last_cp_;
  std::vector<Item> items_;
  bool truncated_ = false;
};

}  // namespace

Task<Result<ListPage>> FileBackend::List(ListOptions opts) {
  ListPage page;
  if (opts.max_keys <= 0) co_return page;
  WalkParams p;
  p.prefix = std::move(opts.prefix);
  p.delimiter = std::move(opts.delimiter);
  p.max_keys = std::min(opts.max_keys, 1000);
  if (!opts.continuation_token.empty()) {
    const std::string& t = opts.continuation_token;
    if (t[0] == 'k') {
      p.marker = t.substr(1);
    } else if (t[0] == 'p') {
      p.marker = p.skip_prefix = t.substr(1);
    } else {
      co_return Error(ErrorClass::kInvalidArgument, "InvalidArgument",
                      "continuation token was not issued by this backend", "");
    }
  } else {
    p.marker = std::move(opts.start_after);
  }
  // Every key under the prefix lives below the directory of its full segments.
  const std::string dir_prefix = p.prefix.substr(0, p.prefix.rfind('/') + 1);
  const std::string rel = filekeys::DirPrefixToRelPath(dir_prefix);
  const std::string dir = rel.empty() ? opts_.root : opts_.root + "/" + rel;
  Walker walker(p);
  Result<bool> walked =
      co_await OffThread([&] { return walker.Walk(dir, rel.empty(), dir_prefix); });
  if (!walked.ok()) co_return WithKey(walked.status().Annotate("listing"), p.prefix);
  for (Item& item : walker.items()) {
    if (item.is_prefix) {
      page.common_prefixes.push_back(item.key);
      continue;
    }
    Result<OpenedFile> f = co_await OpenWithRecord(item.path, sidecars_);
    if (!f.ok()) {
      if (f.status().Is(ErrorClass::kNotFound)) continue;  // deleted since the walk saw it
      co_return WithKey(f.status(), item.key);
    }
    ObjectSummary s;
    s.key = item.key;
    s.size = f->rec.size;
    s.etag = f->rec.etag;
    s.last_modified = f->mtime;
    s.storage_class = f->rec.meta.storage_class.empty() ? "STANDARD" : f->rec.meta.storage_class;
    page.contents.push_back(std::move(s));
  }
  page.is_truncated = walker.truncated();
  if (page.is_truncated && !walker.items().empty()) {
    const Item& last = walker.items().back();
    page.next_continuation_token = (last.is_prefix ? "p" : "k") + last.key;
  }
  page.key_count = static_cast<int>(page.contents.size() + page.common_prefixes.size());
  co_return page;
}

}  // namespace ferry::storage
