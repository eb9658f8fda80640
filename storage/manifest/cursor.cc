// ObjectCursor: a RocksDB iterator bounded to one scope's key range.
#include "storage/manifest/encoding.h"
#include "storage/manifest/internal.h"
#include "storage/manifest/keys.h"

namespace ferry::manifest {

void ObjectCursor::Impl::Load() {
  valid = false;
  if (!status.ok()) return;
  if (!it->Valid()) {
    if (!it->status().ok()) status = FromRocks(it->status(), "iterate objects", path);
    return;
  }
  Result<ObjectRecord> r =
      DecodeObjectRecord(std::string_view(it->value().data(), it->value().size()));
  if (!r.ok()) {
    rocksdb::Slice k = it->key();
    std::string key(k.data() + prefix.size(), k.size() - prefix.size());
    status = r.status().Annotate("manifest at " + path).WithContext("", "", key);
    return;
  }
  record = std::move(r).value();
  valid = true;
}

ObjectCursor::ObjectCursor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ObjectCursor::~ObjectCursor() = default;

bool ObjectCursor::Valid() const { return impl_->valid; }

std::string_view ObjectCursor::key() const {
  rocksdb::Slice k = impl_->it->key();
  return std::string_view(k.data() + impl_->prefix.size(), k.size() - impl_->prefix.size());
}

const ObjectRecord& ObjectCursor::record() const { return impl_->record; }

void ObjectCursor::Next() {
  impl_->it->Next();
  impl_->Load();
}

void ObjectCursor::Seek(std::string_view key) {
  if (!impl_->it) return;  // cursor made for an invalid scope
  std::string target = impl_->prefix;
  target.append(key);
  impl_->it->Seek(target);
  impl_->Load();
}

Status ObjectCursor::status() const { return impl_->status; }

std::unique_ptr<ObjectCursor> Manifest::NewObjectCursor(const Scope& scope,
                                                        std::string_view start_key) {
  auto impl = std::make_unique<ObjectCursor::Impl>();
  impl->path = s_->path;
  impl->status = CheckScope(scope);
  if (impl->status.ok()) {
    impl->prefix = keys::ScopePrefix(scope.route, scope.dest);
    impl->upper_bound = encoding::PrefixSuccessor(impl->prefix);
    impl->upper_bound_slice = rocksdb::Slice(impl->upper_bound);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &impl->upper_bound_slice;
    impl->it.reset(s_->db->NewIterator(ro, s_->cf(Batch::Family::kObjects)));
  }
  std::unique_ptr<ObjectCursor> cursor(new ObjectCursor(std::move(impl)));
  cursor->Seek(start_key);
  return cursor;
}

}  // namespace ferry::manifest
