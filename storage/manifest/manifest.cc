// Manifest reads and writes for objects, content and meta, and batches.
// Open is in open.cc, uploads in uploads.cc, the cursor in cursor.cc.
#include "storage/manifest/manifest.h"

#include <rocksdb/write_batch.h>

#include <functional>

#include "storage/manifest/encoding.h"
#include "storage/manifest/internal.h"
#include "storage/manifest/keys.h"

namespace ferry::manifest {
namespace {

rocksdb::WriteOptions ToRocks(WriteOptions w) {
  rocksdb::WriteOptions r;
  r.sync = w.sync;
  return r;
}

}  // namespace

Manifest::Manifest(std::unique_ptr<State> state) : s_(std::move(state)) {}
Manifest::~Manifest() = default;

const std::string& Manifest::path() const { return s_->path; }
int Manifest::schema_version() const { return s_->schema_version; }

Status Manifest::Write(const Batch& batch, WriteOptions w) {
  FERRY_RETURN_IF_ERROR(batch.status());
  if (batch.empty()) return Status::Ok();
  rocksdb::WriteBatch wb;
  for (const Batch::Op& op : batch.ops()) {
    rocksdb::ColumnFamilyHandle* cf = s_->cf(op.family);
    rocksdb::Status rs;
    switch (op.kind) {
      case Batch::OpKind::kPut:
        rs = wb.Put(cf, op.key, op.value);
        break;
      case Batch::OpKind::kDelete:
        rs = wb.Delete(cf, op.key);
        break;
      case Batch::OpKind::kDeleteRange:
        rs = wb.DeleteRange(cf, op.key, op.value);
        break;
    }
    if (!rs.ok()) return FromRocks(rs, "build write batch", s_->path);
  }
  rocksdb::Status rs = s_->db->Write(ToRocks(w), &wb);
  if (!rs.ok()) return FromRocks(rs, "write", s_->path);
  return Status::Ok();
}

Result<std::optional<ObjectRecord>> Manifest::GetObject(const Scope& scope, std::string_view key) {
  FERRY_RETURN_IF_ERROR(CheckObjectId(scope, key));
  std::string value;
  rocksdb::Status rs = s_->db->Get(rocksdb::ReadOptions(), s_->cf(Batch::Family::kObjects),
                                   keys::ObjectKey(scope.route, scope.dest, key), &value);
  if (rs.IsNotFound()) return std::optional<ObjectRecord>();
  if (!rs.ok()) return FromRocks(rs, "read object", s_->path).WithContext("", "", key);
  Result<ObjectRecord> r = DecodeObjectRecord(value);
  if (!r.ok()) {
    return r.status().Annotate("manifest at " + s_->path).WithContext("", "", key);
  }
  return std::optional<ObjectRecord>(std::move(r).value());
}

Status Manifest::PutObject(const Scope& scope, std::string_view key, const ObjectRecord& record,
                           WriteOptions w) {
  Batch b;
  b.PutObject(scope, key, record);
  return Write(b, w);
}

Status Manifest::DeleteObject(const Scope& scope, std::string_view key, WriteOptions w) {
  Batch b;
  b.DeleteObject(scope, key);
  return Write(b, w);
}

Status Manifest::UpdateObject(const Scope& scope, std::string_view key, const ObjectMutator& mutate,
                              WriteOptions w) {
  FERRY_RETURN_IF_ERROR(CheckObjectId(scope, key));
  std::string row = keys::ObjectKey(scope.route, scope.dest, key);
  std::mutex& mu = s_->update_locks[std::hash<std::string>{}(row) % s_->update_locks.size()];
  std::lock_guard<std::mutex> lock(mu);
  FERRY_ASSIGN_OR_RETURN(std::optional<ObjectRecord> previous, GetObject(scope, key));
  std::optional<ObjectRecord> record = previous;
  Batch batch;
  FERRY_RETURN_IF_ERROR(mutate(&record, &batch));
  if (record.has_value()) {
    if (previous.has_value()) CarryFirstSeen(*previous, &*record);
    batch.PutObject(scope, key, *record);
  } else if (previous.has_value()) {
    batch.DeleteObject(scope, key);
  }
  return Write(batch, w);
}

Result<std::vector<ObjectEntry>> Manifest::ScanObjects(const Scope& scope, std::string_view after,
                                                       std::size_t limit) {
  std::vector<ObjectEntry> out;
  auto cursor = NewObjectCursor(scope, after);
  if (cursor->Valid() && !after.empty() && cursor->key() == after) cursor->Next();
  for (; cursor->Valid() && out.size() < limit; cursor->Next()) {
    out.push_back(ObjectEntry{std::string(cursor->key()), cursor->record()});
  }
  FERRY_RETURN_IF_ERROR(cursor->status());
  return out;
}

Status Manifest::ForEachObject(
    const Scope& scope, const std::function<bool(std::string_view, const ObjectRecord&)>& fn) {
  auto cursor = NewObjectCursor(scope);
  for (; cursor->Valid(); cursor->Next()) {
    if (!fn(cursor->key(), cursor->record())) break;
  }
  return cursor->status();
}

Result<std::uint64_t> Manifest::CountObjects(const Scope& scope) {
  FERRY_RETURN_IF_ERROR(CheckScope(scope));
  std::string prefix = keys::ScopePrefix(scope.route, scope.dest);
  std::string upper = encoding::PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  ro.fill_cache = false;  // a full scan should not evict the hot set
  std::unique_ptr<rocksdb::Iterator> it(s_->db->NewIterator(ro, s_->cf(Batch::Family::kObjects)));
  std::uint64_t n = 0;
  for (it->Seek(prefix); it->Valid(); it->Next()) ++n;
  if (!it->status().ok()) return FromRocks(it->status(), "count objects", s_->path);
  return n;
}

Result<std::vector<Scope>> Manifest::ListScopes() {
  std::vector<Scope> out;
  std::unique_ptr<rocksdb::Iterator> it(
      s_->db->NewIterator(rocksdb::ReadOptions(), s_->cf(Batch::Family::kObjects)));
  it->SeekToFirst();
  while (it->Valid()) {
    std::string_view route, dest, key;
    rocksdb::Slice k = it->key();
    if (!keys::ParseObjectKey(std::string_view(k.data(), k.size()), &route, &dest, &key)) {
      return Status::Error(ErrorClass::kFatal,
                           "manifest at " + s_->path + ": corrupt object key in the manifest");
    }
    out.push_back(Scope{std::string(route), std::string(dest)});
    // Skip the rest of this scope in one seek.
    std::string next = encoding::PrefixSuccessor(keys::ScopePrefix(route, dest));
    if (next.empty()) break;
    it->Seek(next);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "list scopes", s_->path);
  return out;
}

Status Manifest::AddContent(std::string_view hash, std::string_view dest, std::string_view key,
                            WriteOptions w, std::string_view dest_etag) {
  Batch b;
  b.AddContent(hash, dest, key, dest_etag);
  return Write(b, w);
}

Status Manifest::RemoveContent(std::string_view hash, std::string_view dest, std::string_view key,
                               WriteOptions w) {
  Batch b;
  b.RemoveContent(hash, dest, key);
  return Write(b, w);
}

Result<std::vector<std::string>> Manifest::FindContent(std::string_view hash, std::string_view dest,
                                                       std::size_t limit) {
  FERRY_ASSIGN_OR_RETURN(std::vector<ContentHit> hits, FindContentEtags(hash, dest, limit));
  std::vector<std::string> out;
  out.reserve(hits.size());
  for (ContentHit& h : hits) out.push_back(std::move(h.key));
  return out;
}

Result<std::vector<Manifest::ContentHit>> Manifest::FindContentEtags(std::string_view hash,
                                                                     std::string_view dest,
                                                                     std::size_t limit) {
  FERRY_RETURN_IF_ERROR(CheckContentArgs(hash, dest));
  std::string prefix = keys::ContentPrefix(hash, dest);
  std::string upper = encoding::PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s_->db->NewIterator(ro, s_->cf(Batch::Family::kContent)));
  std::vector<ContentHit> out;
  for (it->Seek(prefix); it->Valid() && out.size() < limit; it->Next()) {
    rocksdb::Slice k = it->key();
    out.push_back({std::string(k.data() + prefix.size(), k.size() - prefix.size()),
                   it->value().ToString()});
  }
  if (!it->status().ok()) return FromRocks(it->status(), "find content", s_->path);
  return out;
}

Result<std::optional<std::string>> Manifest::GetMeta(std::string_view name) {
  FERRY_RETURN_IF_ERROR(CheckMetaName(name));
  std::string value;
  rocksdb::Status rs = s_->db->Get(rocksdb::ReadOptions(), s_->cf(Batch::Family::kMeta),
                                   keys::MetaKey(name), &value);
  if (rs.IsNotFound()) return std::optional<std::string>();
  if (!rs.ok()) return FromRocks(rs, "read meta " + std::string(name), s_->path);
  return std::optional<std::string>(std::move(value));
}

Status Manifest::PutMeta(std::string_view name, std::string_view value, WriteOptions w) {
  Batch b;
  b.PutMeta(name, value);
  return Write(b, w);
}

Status Manifest::DeleteMeta(std::string_view name, WriteOptions w) {
  Batch b;
  b.DeleteMeta(name);
  return Write(b, w);
}

Result<std::vector<std::pair<std::string, std::string>>> Manifest::ListMeta(
    std::string_view prefix) {
  std::string start = keys::MetaKey(prefix);
  std::string upper = encoding::PrefixSuccessor(start);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s_->db->NewIterator(ro, s_->cf(Batch::Family::kMeta)));
  std::vector<std::pair<std::string, std::string>> out;
  for (it->Seek(start); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    out.emplace_back(std::string(k.data() + 1, k.size() - 1), it->value().ToString());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "list meta", s_->path);
  return out;
}

Status Manifest::SyncWal() {
  rocksdb::Status rs = s_->db->FlushWAL(/*sync=*/true);
  if (!rs.ok()) return FromRocks(rs, "sync WAL", s_->path);
  return Status::Ok();
}

Status Manifest::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> families(s_->families.begin(), s_->families.end());
  rocksdb::Status rs = s_->db->Flush(fo, families);
  if (!rs.ok()) return FromRocks(rs, "flush", s_->path);
  return Status::Ok();
}

Stats Manifest::GetStats() {
  Stats st;
  st.block_cache_usage_bytes = s_->block_cache->GetUsage();
  for (auto* cf : s_->families) {
    std::uint64_t v = 0;
    if (s_->db->GetIntProperty(cf, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) {
      st.memtable_bytes += v;
    }
    if (s_->db->GetIntProperty(cf, rocksdb::DB::Properties::kLiveSstFilesSize, &v)) {
      st.live_sst_bytes += v;
    }
  }
  std::uint64_t keys = 0;
  if (s_->db->GetIntProperty(s_->cf(Batch::Family::kObjects),
                             rocksdb::DB::Properties::kEstimateNumKeys, &keys)) {
    st.estimated_object_records = keys;
  }
  return st;
}

}  // namespace ferry::manifest
