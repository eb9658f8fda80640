#include "engine/daemon/manifest_state.h"

#include "engine/transfer/object_copier.h"

namespace ferry::engine {
namespace {

using manifest::ObjectRecord;

manifest::VerifiedBy ToManifest(const std::string& v) {
  if (v == "etag" || v == "listing-etag") return manifest::VerifiedBy::kEtagMirror;
  if (v == "checksum") return manifest::VerifiedBy::kChecksum;
  if (v == "part-md5" || v == "content-hash") return manifest::VerifiedBy::kContentHash;
  if (v == "server-copy") return manifest::VerifiedBy::kServerCopy;
  if (v == "read-back") return manifest::VerifiedBy::kReadBack;
  if (v == "sse-content-md5") return manifest::VerifiedBy::kSseContentMd5;
  if (v == "manifest") return manifest::VerifiedBy::kContentHash;
  return manifest::VerifiedBy::kNone;
}

std::string FromManifest(manifest::VerifiedBy v) {
  switch (v) {
    case manifest::VerifiedBy::kEtagMirror: return "etag";
    case manifest::VerifiedBy::kChecksum: return "checksum";
    case manifest::VerifiedBy::kServerCopy: return "server-copy";
    case manifest::VerifiedBy::kReadBack: return "read-back";
    case manifest::VerifiedBy::kSseContentMd5: return "sse-content-md5";
    // Part MD5s + XXH3 at copy time, or unchanged since such a copy.
    case manifest::VerifiedBy::kContentHash: return "content-hash";
    case manifest::VerifiedBy::kNone: return "";
  }
  return "";
}

ObjectPhase ToPhase(manifest::ObjectState s) {
  switch (s) {
    case manifest::ObjectState::kReplicated: return ObjectPhase::kReplicated;
    case manifest::ObjectState::kFailed: return ObjectPhase::kFailed;
    case manifest::ObjectState::kDeletePending: return ObjectPhase::kDeletePending;
    default: return ObjectPhase::kPending;
  }
}

manifest::ObjectState FromPhase(ObjectPhase p) {
  switch (p) {
    case ObjectPhase::kReplicated: return manifest::ObjectState::kReplicated;
    case ObjectPhase::kFailed: return manifest::ObjectState::kFailed;
    case ObjectPhase::kDeletePending: return manifest::ObjectState::kDeletePending;
    case ObjectPhase::kPending: return manifest::ObjectState::kPending;
  }
  return manifest::ObjectState::kPending;
}

ObjectState FromRecord(const ObjectRecord& r) {
  ObjectState s;
  s.phase = ToPhase(r.state);
  s.src_etag = r.source_etag;
  s.dst_etag = r.dest_etag;
  s.size = r.size;
  s.source_mtime_ms = r.source_mtime_ms;
  s.first_seen_ms = r.first_seen_ms;
  s.replicated_at_ms = r.replicated_at_ms;
  s.delete_seen_ms = r.delete_seen_ms;
  s.verified_by = FromManifest(r.verified_by);
  s.content_hash = r.content_hash;
  s.attempts = r.attempts;
  s.last_error = r.last_error;
  return s;
}

ObjectRecord ToRecord(const ObjectState& s) {
  ObjectRecord r;
  r.state = FromPhase(s.phase);
  r.source_etag = s.src_etag;
  r.dest_etag = s.dst_etag;
  r.size = s.size;
  r.source_mtime_ms = s.source_mtime_ms;
  r.first_seen_ms = s.first_seen_ms;
  r.replicated_at_ms = s.replicated_at_ms;
  r.delete_seen_ms = s.delete_seen_ms;
  r.verified_by = ToManifest(s.verified_by);
  r.content_hash = s.content_hash;
  r.attempts = s.attempts;
  r.last_error = s.last_error;
  if (s.replicated_at_ms != 0 && s.source_mtime_ms != 0) {
    r.lag_ms = s.replicated_at_ms - s.source_mtime_ms;
  }
  return r;
}

JournalUpload ToJournal(const manifest::UploadRecord& u) {
  JournalUpload j;
  j.upload_id = u.upload_id;
  j.source_etag = u.source_etag;
  j.size = u.size;
  j.part_size = u.part_size;
  j.started_ms = u.started_ms;
  for (const auto& [n, p] : u.parts) j.parts[static_cast<int>(n)] = {p.etag, p.size, p.xxh3};
  return j;
}

class ManifestState final : public RouteState {
 public:
  ManifestState(manifest::Manifest& m, manifest::Scope scope, std::string dest_prefix)
      : m_(m), scope_(std::move(scope)), prefix_(std::move(dest_prefix)) {}

  Result<std::optional<ObjectState>> Get(const std::string& rel_key) override {
    FERRY_ASSIGN_OR_RETURN(std::optional<ObjectRecord> r, m_.GetObject(scope_, rel_key));
    if (!r) return std::optional<ObjectState>();
    return std::optional<ObjectState>(FromRecord(*r));
  }
  Status Put(const std::string& rel_key, const ObjectState& state) override {
    return m_.PutObject(scope_, rel_key, ToRecord(state));
  }
  Status Erase(const std::string& rel_key) override { return m_.DeleteObject(scope_, rel_key); }
  Status AddContent(const std::string& content_id, const std::string& dst_key,
                    const std::string& dst_etag) override {
    return m_.AddContent(content_id, scope_.dest, dst_key, manifest::kNoSync, dst_etag);
  }
  Status DropContent(const std::string& rel_key) override {
    FERRY_ASSIGN_OR_RETURN(std::optional<ObjectRecord> r, m_.GetObject(scope_, rel_key));
    if (!r || r->size == 0 || r->source_etag.empty()) return Status::Ok();
    return m_.RemoveContent(ContentId(r->source_etag, r->size), scope_.dest, prefix_ + rel_key);
  }
  Status Scan(const std::function<bool(const std::string&, const ObjectState&)>& fn) override {
    return m_.ForEachObject(scope_, [&](std::string_view key, const ObjectRecord& r) {
      return fn(std::string(key), FromRecord(r));
    });
  }
  Status ForEachUpload(
      const std::function<bool(const std::string&, const JournalUpload&)>& fn) override {
    return m_.ForEachUpload(
        [&](const manifest::Scope& scope, std::string_view key, const manifest::UploadRecord& u) {
          if (!(scope == scope_)) return true;
          return fn(std::string(key), ToJournal(u));
        });
  }
  std::optional<std::string> GetMeta(const std::string& name) override {
    auto r = m_.GetMeta(MetaName(name));
    if (!r.ok()) return std::nullopt;
    return *r;
  }
  Status PutMeta(const std::string& name, const std::string& value) override {
    return m_.PutMeta(MetaName(name), value, manifest::kSync);
  }

  // TransferJournal.
  std::optional<JournalUpload> FindUpload(const std::string& dst_key) override {
    auto r = m_.GetUpload(scope_, dst_key);
    if (!r.ok() || !*r) return std::nullopt;
    return ToJournal(**r);
  }
  Status BeginUpload(const std::string& dst_key, const JournalUpload& j) override {
    manifest::UploadRecord u;
    u.upload_id = j.upload_id;
    u.source_etag = j.source_etag;
    u.size = j.size;
    u.part_size = j.part_size;
    u.started_ms = j.started_ms;
    return m_.PutUpload(scope_, dst_key, u, manifest::kSync);
  }
  Status RecordPart(const std::string& dst_key, const std::string& upload_id, int part_number,
                    const JournalPart& part) override {
    return m_.AddPart(scope_, dst_key, upload_id, static_cast<std::uint32_t>(part_number),
                      {part.etag, part.size, part.xxh3}, manifest::kSync);
  }
  Status EndUpload(const std::string& dst_key) override {
    return m_.RemoveUpload(scope_, dst_key, manifest::kSync);
  }
  std::vector<ContentEntry> FindContent(const std::string& content_id) override {
    auto r = m_.FindContentEtags(content_id, scope_.dest);
    if (!r.ok()) return {};
    std::vector<ContentEntry> out;
    for (manifest::Manifest::ContentHit& h : *r) {
      if (h.dest_etag.empty()) continue;  // written by an older build: no ETag to hold it to
      if (h.key.compare(0, prefix_.size(), prefix_) == 0) {
        // One of this route's objects: its record must still say that this
        // content, written with this ETag, is what the object holds. An
        // object ferry overwrote since (another source version, or one being
        // copied now) no longer qualifies: the entry goes.
        auto rec = m_.GetObject(scope_, std::string_view(h.key).substr(prefix_.size()));
        if (!rec.ok()) continue;
        const bool holds = *rec && (*rec)->state == manifest::ObjectState::kReplicated &&
                           ContentId((*rec)->source_etag, (*rec)->size) == content_id &&
                           (*rec)->dest_etag == h.dest_etag;
        if (!holds) {
          (void)m_.RemoveContent(content_id, scope_.dest, h.key);
          continue;
        }
      }
      out.push_back({std::move(h.key), std::move(h.dest_etag)});
    }
    return out;
  }
  bool KnownReplica(const std::string& dst_key, const std::string& src_etag,
                    const std::string& dst_etag) override {
    if (dst_key.compare(0, prefix_.size(), prefix_) != 0) return false;
    auto r = m_.GetObject(scope_, std::string_view(dst_key).substr(prefix_.size()));
    if (!r.ok() || !*r) return false;
    const ObjectRecord& rec = **r;
    return rec.state == manifest::ObjectState::kReplicated && rec.source_etag == src_etag &&
           rec.dest_etag == dst_etag;
  }

 private:
  std::string MetaName(const std::string& name) const {
    return scope_.route + "/" + scope_.dest + "/" + name;
  }

  manifest::Manifest& m_;
  manifest::Scope scope_;
  std::string prefix_;
};

}  // namespace

Result<std::unique_ptr<manifest::Manifest>> OpenManifest(const std::string& state_dir) {
  return manifest::Manifest::Open(state_dir + "/manifest");
}

std::unique_ptr<RouteState> MakeManifestState(manifest::Manifest& m, manifest::Scope scope,
                                              std::string dest_prefix) {
  return std::make_unique<ManifestState>(m, std::move(scope), std::move(dest_prefix));
}

}  // namespace ferry::engine
