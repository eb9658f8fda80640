#include "sim/admin.h"

#include <nlohmann/json.hpp>

#include <optional>

#include "sim/encryption.h"
#include "sim/synthetic.h"

namespace ferry::sim {
namespace {

using nlohmann::json;

SimResponse Json(int status, const json& j) {
  SimResponse r;
  r.status = status;
  r.Set("Content-Type", "application/json");
  r.body = j.dump();
  return r;
}

SimResponse Error(int status, const std::string& msg) { return Json(status, {{"error", msg}}); }

std::uint64_t QueryU64(const SimRequest& req, std::string_view name, std::uint64_t fallback) {
  const std::string* v = req.Query(name);
  if (!v) return fallback;
  try {
    return std::stoull(*v);
  } catch (const std::exception&) {
    return fallback;
  }
}

SimResponse Faults(Services& svc, const json& body) {
  if (body.value("clear", false)) svc.faults.Clear();
  if (body.contains("seed")) svc.faults.Reseed(body["seed"].get<std::uint64_t>());
  if (body.contains("faults")) {
    // Validate all before adding any, so a bad rule changes nothing.
    std::vector<FaultRule> rules;
    for (const json& j : body["faults"]) {
      auto r = FaultRuleFromJson(j);
      if (!r.ok()) return Error(400, r.status().error().message);
      rules.push_back(*r);
    }
    for (auto& r : rules) svc.faults.Add(std::move(r));
  }
  json out = json::array();
  for (const FaultRule& r : svc.faults.Rules()) out.push_back(r.ToJson());
  return Json(200, {{"faults", out}});
}

json CreateSynthetic(Services& svc, const std::string& bucket, const std::string& key,
                     std::uint64_t size, std::uint64_t seed, std::uint64_t part_size,
                     const std::string* content = nullptr) {
  // `content`: these literal bytes instead of generated ones (e.g. a Velero
  // marker that must parse); `size` is then theirs.
  if (content) size = content->size();
  BlobPtr blob = content ? MakeMemoryBlob(*content) : MakeSyntheticBlob(seed, size);
  auto etag = ComputeEtag(*blob, part_size);
  if (!etag.ok()) throw std::runtime_error(etag.status().ToString());
  ObjectRecord rec;
  rec.key = key;
  rec.size = size;
  rec.etag = etag->etag;
  rec.part_sizes = etag->part_sizes;
  rec.last_modified = Clock::now();
  rec.body = blob;
  Status st = svc.store.PutObject(bucket, rec);
  if (!st.ok()) throw std::runtime_error("no such bucket: " + bucket);
  return {{"key", key}, {"size", size}, {"etag", rec.etag}};
}

SimResponse Synthetic(Services& svc, const json& body) {
  std::string bucket = body.at("bucket").get<std::string>();
  if (!svc.store.BucketExists(bucket)) return Error(404, "no such bucket: " + bucket);
  json made = json::array();
  if (body.contains("objects")) {
    for (const json& o : body["objects"]) {
      std::optional<std::string> content;
      if (o.contains("content")) content = o.at("content").get<std::string>();
      made.push_back(CreateSynthetic(svc, bucket, o.at("key").get<std::string>(),
                                     content ? content->size() : o.at("size").get<std::uint64_t>(),
                                     o.value("seed", std::uint64_t{0}),
                                     o.value("part_size", std::uint64_t{0}),
                                     content ? &*content : nullptr));
    }
  } else {
    std::string prefix = body.value("prefix", std::string());
    std::uint64_t count = body.at("count").get<std::uint64_t>();
    std::uint64_t size = body.at("size").get<std::uint64_t>();
    std::uint64_t seed = body.value("seed", std::uint64_t{0});
    std::uint64_t part_size = body.value("part_size", std::uint64_t{0});
    for (std::uint64_t i = 0; i < count; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "%08llu", static_cast<unsigned long long>(i));
      made.push_back(CreateSynthetic(svc, bucket, prefix + name, size, seed + i, part_size));
    }
  }
  return Json(200, {{"objects", made}});
}

constexpr std::int64_t kMaxClockOffsetMs = 10ll * 366 * 24 * 3600 * 1000;

}  // namespace

SimResponse HandleAdmin(Services& svc, const SimRequest& req, const std::string& body) {
  std::string_view what = std::string_view(req.raw_path).substr(kAdminPrefix.size());
  try {
    json in = body.empty() ? json::object() : json::parse(body);
    if (req.method == "GET" && what == "stats") {
      json j = svc.stats.ToJson();
      j["last_seq"] = svc.log.last_seq();
      return Json(200, j);
    }
    if (req.method == "GET" && what == "log") {
      json entries = json::array();
      for (const LogEntry& e : svc.log.Since(QueryU64(req, "since", 0), QueryU64(req, "limit", 10000))) {
        entries.push_back(e.ToJson());
      }
      return Json(200, {{"entries", entries}, {"last_seq", svc.log.last_seq()}});
    }
    if (what == "faults" && req.method == "GET") return Faults(svc, json::object());
    if (what == "faults" && req.method == "POST") return Faults(svc, in);
    if (what == "link" && req.method == "POST") {
      if (in.contains("latency_ms")) svc.link.latency_ms = in["latency_ms"].get<std::uint32_t>();
      if (in.contains("bandwidth")) svc.link.bandwidth_bps = in["bandwidth"].get<std::uint64_t>();
      return Json(200, {{"latency_ms", svc.link.latency_ms.load()},
                        {"bandwidth", svc.link.bandwidth_bps.load()}});
    }
    if (what == "clock") {
      if (req.method == "POST") {
        // Bounded to ±10 years so the Date header stays a valid HTTP-date.
        auto ms = in.at("offset_ms").get<std::int64_t>();
        if (ms < -kMaxClockOffsetMs || ms > kMaxClockOffsetMs) {
          return Error(400, "offset_ms must be within ±10 years");
        }
        svc.clock_offset_ms = ms;
      }
      return Json(200, {{"offset_ms", svc.clock_offset_ms.load()}});
    }
    if (what == "synthetic" && req.method == "POST") return Synthetic(svc, in);
    if (what == "buckets" && req.method == "POST") {
      Status st = svc.store.CreateBucket(in.at("name").get<std::string>());
      if (!st.ok()) return Error(400, st.error().code + ": " + st.error().message);
      return Json(200, {{"created", in["name"]}});
    }
    if (what == "bucket-encryption" && req.method == "POST") {
      // {"bucket": "b", "sse": "aws:kms", "kms_key_id": "..."}; "sse": "" clears.
      Sse sse;
      sse.algorithm = in.value("sse", std::string());
      sse.kms_key_id = in.value("kms_key_id", std::string());
      if (!sse.algorithm.empty()) {
        Status valid = ValidateBucketEncryption(sse);
        if (!valid.ok()) return Error(400, valid.error().message);
      } else if (!sse.kms_key_id.empty()) {
        return Error(400, "kms_key_id needs sse aws:kms or aws:kms:dsse");
      }
      Status st = svc.store.SetBucketEncryption(in.at("bucket").get<std::string>(), sse.algorithm,
                                                sse.kms_key_id);
      if (!st.ok()) return Error(404, st.error().message);
      return Json(200, {{"bucket", in["bucket"]}, {"sse", sse.algorithm}});
    }
    if (what == "keys" && req.method == "POST") {
      std::string ak = in.at("access_key").get<std::string>();
      std::string sk = in.at("secret_key").get<std::string>();
      if (ak.empty() || sk.empty()) return Error(400, "access_key and secret_key must not be empty");
      svc.keys.Set(std::move(ak), std::move(sk));
      return Json(200, {{"ok", true}});  // the secret is never echoed
    }
    if (what == "reset-stats" && req.method == "POST") {
      svc.stats.Reset();
      return Json(200, {{"ok", true}});
    }
    return Error(404, "unknown admin endpoint " + req.method + " " + req.raw_path);
  } catch (const std::exception& e) {
    return Error(400, std::string("bad admin request: ") + e.what());
  }
}

}  // namespace ferry::sim
