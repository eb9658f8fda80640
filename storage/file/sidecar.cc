#include "storage/file/sidecar.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace ferry::storage::filemeta {
namespace {

using nlohmann::json;

constexpr int kVersion = 1;
constexpr std::size_t kMaxSidecar = 1u << 20;  // 10000 part sizes + metadata fit easily

json MetaToJson(const Metadata& m) {
  json j = json::object();
  auto put = [&j](const char* name, const std::string& v) {
    if (!v.empty()) j[name] = v;
  };
  put("content_type", m.content_type);
  put("content_encoding", m.content_encoding);
  put("cache_control", m.cache_control);
  put("content_disposition", m.content_disposition);
  put("content_language", m.content_language);
  put("expires", m.expires);
  put("storage_class", m.storage_class);
  put("sse", m.sse);
  put("sse_kms_key_id", m.sse_kms_key_id);
  if (!m.user.empty()) j["user"] = m.user;
  return j;
}

Metadata MetaFromJson(const json& j) {
  Metadata m;
  auto get = [&j](const char* name, std::string& v) {
    auto it = j.find(name);
    if (it != j.end()) v = it->get<std::string>();
  };
  get("content_type", m.content_type);
  get("content_encoding", m.content_encoding);
  get("cache_control", m.cache_control);
  get("content_disposition", m.content_disposition);
  get("content_language", m.content_language);
  get("expires", m.expires);
  get("storage_class", m.storage_class);
  get("sse", m.sse);
  get("sse_kms_key_id", m.sse_kms_key_id);
  auto it = j.find("user");
  if (it != j.end()) m.user = it->get<std::map<std::string, std::string>>();
  return m;
}

Result<std::string> Dump(const json& j) {
  try {
    return j.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const std::exception& e) {
    return Status::Error(ErrorClass::kInvalidArgument,
                         std::string("metadata cannot be stored (not valid UTF-8?): ") + e.what());
  }
}

Status Corrupt(std::string_view what, const std::exception& e) {
  return Status::Error(ErrorClass::kFatal,
                       "unreadable " + std::string(what) + " record: " + e.what());
}

}  // namespace

Result<std::string> EncodeRecord(const ObjectRecord& r) {
  json j = {{"v", kVersion}, {"etag", r.etag}, {"size", r.size}, {"meta", MetaToJson(r.meta)}};
  if (!r.part_sizes.empty()) j["parts"] = r.part_sizes;
  return Dump(j);
}

Result<ObjectRecord> DecodeRecord(std::string_view text) {
  try {
    json j = json::parse(text);
    ObjectRecord r;
    r.etag = j.at("etag").get<std::string>();
    r.size = j.at("size").get<std::uint64_t>();
    if (auto it = j.find("parts"); it != j.end()) {
      r.part_sizes = it->get<std::vector<std::uint64_t>>();
    }
    if (auto it = j.find("meta"); it != j.end()) r.meta = MetaFromJson(*it);
    return r;
  } catch (const std::exception& e) {
    return Corrupt("object", e);
  }
}

Result<std::string> EncodeUpload(const UploadRecord& r) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(r.initiated.time_since_epoch());
  json j = {{"v", kVersion},
            {"key", r.key},
            {"initiated_ns", static_cast<std::int64_t>(ns.count())},
            {"meta", MetaToJson(r.meta)}};
  return Dump(j);
}

Result<UploadRecord> DecodeUpload(std::string_view text) {
  try {
    json j = json::parse(text);
    UploadRecord r;
    r.key = j.at("key").get<std::string>();
    auto ns = std::chrono::nanoseconds(j.at("initiated_ns").get<std::int64_t>());
    r.initiated = s3::TimePoint(std::chrono::duration_cast<s3::TimePoint::duration>(ns));
    if (auto it = j.find("meta"); it != j.end()) r.meta = MetaFromJson(*it);
    return r;
  } catch (const std::exception& e) {
    return Corrupt("upload", e);
  }
}

std::string SidecarStore::PathFor(const fileio::Identity& id) const {
  char shard[8] = "";
  if (sharded_) std::snprintf(shard, sizeof shard, "/%02x", static_cast<unsigned>(id.ino & 0xff));
  char name[96];
  std::snprintf(name, sizeof name, "/%llu-%llu-%lld.json", static_cast<unsigned long long>(id.ino),
                static_cast<unsigned long long>(id.size), static_cast<long long>(id.mtime_ns));
  return dir_ + shard + name;
}

Status SidecarStore::Write(const fileio::Identity& id, const ObjectRecord& r) const {
  FERRY_ASSIGN_OR_RETURN(std::string text, EncodeRecord(r));
  std::string path = PathFor(id);
  Status st = fileio::WriteSmallFileAtomic(tmp_dir_, path, text);
  if (sharded_ && st.Is(ErrorClass::kNotFound)) {  // shard directory not created yet
    FERRY_RETURN_IF_ERROR(fileio::MkdirP(path.substr(0, path.rfind('/'))));
    st = fileio::WriteSmallFileAtomic(tmp_dir_, path, text);
  }
  FERRY_RETURN_IF_ERROR(st);
  // Durable before the data file's rename, so a crash cannot keep the new
  // object but lose the record of its ETag and metadata.
  return fileio::FsyncDir(path.substr(0, path.rfind('/')));
}

Result<ObjectRecord> SidecarStore::Read(const fileio::Identity& id) const {
  std::string path = PathFor(id);
  FERRY_ASSIGN_OR_RETURN(std::string text, fileio::ReadSmallFile(path, kMaxSidecar));
  Result<ObjectRecord> r = DecodeRecord(text);
  if (!r.ok()) return r.status().Annotate(path);
  return r;
}

Status SidecarStore::Remove(const fileio::Identity& id) const {
  return fileio::UnlinkIfExists(PathFor(id));
}

}  // namespace ferry::storage::filemeta
