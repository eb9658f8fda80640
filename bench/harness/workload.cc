#include "bench/harness/workload.h"

#include <cstdio>

namespace ferry::bench {
namespace {

std::string Numbered(const std::string& prefix, std::uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08llu", static_cast<unsigned long long>(i));
  return prefix + buf;
}

// kopia-like blob ids: a letter and 32 hex digits.
std::string BlobId(char kind, std::uint64_t i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%c%016llx%016llx", kind, static_cast<unsigned long long>(i),
                static_cast<unsigned long long>(i * 0x9E3779B97F4A7C15ull));
  return buf;
}

Workload Large(bool smoke) {
  Workload w;
  w.name = "large";
  w.layout = "plain";
  std::uint64_t n = smoke ? 2 : 4;
  std::uint64_t size = smoke ? 11 * kMiB : kGiB;
  std::uint64_t part = smoke ? 5 * kMiB : 16 * kMiB;
  w.description = std::to_string(n) + " x " + (smoke ? "11 MiB" : "1 GiB") +
                  " multipart objects (" + std::to_string(part / kMiB) + " MiB source parts)";
  w.groups.push_back({"large/obj-", n, size, 1000, part});
  return w;
}

Workload Mixed(bool smoke) {
  Workload w;
  w.name = "mixed";
  w.layout = "velero";
  const int backups = smoke ? 1 : 3;
  const std::uint64_t tarball = smoke ? 12 * kMiB : 256 * kMiB;
  const std::uint64_t tar_part = smoke ? 5 * kMiB : 10 * kMiB;
  std::uint64_t seed = 5000;
  for (int b = 0; b < backups; ++b) {
    std::string name = "daily-" + std::to_string(b + 1);
    std::string dir = "backups/" + name + "/";
    w.groups.push_back({dir + name + ".tar.gz", 1, tarball, seed++, tar_part});
    const std::pair<const char*, std::uint64_t> files[] = {
        {"-logs.gz", 64 * kKiB},
        {"-podvolumebackups.json.gz", 4 * kKiB},
        {"-resource-list.json.gz", 16 * kKiB},
        {"-volumesnapshots.json.gz", 1 * kKiB},
        {"-csi-volumesnapshots.json.gz", 1 * kKiB},
        {"-itemoperations.json.gz", 2 * kKiB},
        {"-results.gz", 1 * kKiB},
    };
    for (const auto& [suffix, size] : files) w.groups.push_back({dir + name + suffix, 1, size, seed++, 0});
    // A real Backup as Velero writes it: ferry holds a marker until its phase
    // is final, so random bytes would never be replicated.
    std::string marker =
        R"({"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":")" + name +
        R"(","namespace":"velero"},"spec":{"storageLocation":"default","ttl":"720h0m0s"},)"
        R"("status":{"phase":"Completed","startTimestamp":"2026-11-22T03:00:00Z",)"
        R"("completionTimestamp":"2026-11-22T03:04:10Z","itemsBackedUp":1204}})";
    const std::uint64_t marker_size = marker.size();
    w.groups.push_back({dir + "velero-backup.json", 1, marker_size, seed++, 0, std::move(marker)});
  }
  const std::string repo = "kopia/app/";
  const int packs = smoke ? 3 : 48;
  const std::uint64_t pack = smoke ? 1 * kMiB : 20 * kMiB;
  for (int i = 0; i < packs; ++i) w.groups.push_back({repo + BlobId('p', i), 1, pack, seed++, 0});
  const int qpacks = smoke ? 1 : 8;
  for (int i = 0; i < qpacks; ++i) {
    w.groups.push_back({repo + BlobId('q', i), 1, smoke ? 512 * kKiB : 4 * kMiB, seed++, 0});
  }
  const int indexes = smoke ? 2 : 12;
  for (int i = 0; i < indexes; ++i) {
    w.groups.push_back({repo + "xn0_" + BlobId('x', i).substr(1), 1, 64 * kKiB, seed++, 0});
  }
  for (int i = 0; i < (smoke ? 1 : 4); ++i) {
    w.groups.push_back({repo + "_log_" + BlobId('l', i).substr(1), 1, 2 * kKiB, seed++, 0});
  }
  w.groups.push_back({repo + "kopia.repository", 1, 1 * kKiB, seed++, 0});
  w.groups.push_back({repo + "kopia.blobcfg", 1, 100, seed++, 0});
  w.groups.push_back({repo + "kopia.maintenance", 1, 1 * kKiB, seed++, 0});
  w.description = std::to_string(backups) + " Velero backups (" + std::to_string(tarball / kMiB) +
                  " MiB multipart tarball, 7 metadata files, marker) + kopia repository (" +
                  std::to_string(packs) + " x " + std::to_string(pack / kMiB) + " MiB packs, " +
                  std::to_string(qpacks) + " q packs, " + std::to_string(indexes) +
                  " indexes, format blobs); layout velero";
  return w;
}

Workload Small(bool smoke) {
  Workload w;
  w.name = "small";
  std::uint64_t n = smoke ? 40 : 10'000;
  w.groups.push_back({"small/obj-", n, 64 * kKiB, 100'000, 0});
  w.description = std::to_string(n) + " x 64 KiB";
  return w;
}

Workload List(bool smoke) {
  Workload w;
  w.name = "list";
  w.preload_destination = true;
  std::uint64_t n = smoke ? 3'000 : 1'000'000;
  w.groups.push_back({"list/obj-", n, 1 * kKiB, 7'000'000, 0});
  w.description = std::to_string(n) + " x 1 KiB at both ends (nothing to copy)";
  return w;
}

Workload Sweep(bool smoke) {
  Workload w;
  w.name = "sweep";
  std::uint64_t n = 2;
  std::uint64_t size = smoke ? 11 * kMiB : 384 * kMiB;
  w.groups.push_back({"sweep/obj-", n, size, 9000, 0});
  w.description = std::to_string(n) + " x " + std::to_string(size / kMiB) +
                  " MiB single-part objects (the copier chooses the part size)";
  return w;
}

}  // namespace

std::uint64_t Workload::objects() const {
  std::uint64_t n = 0;
  for (const auto& g : groups) n += g.count;
  return n;
}

std::uint64_t Workload::bytes() const {
  std::uint64_t n = 0;
  for (const auto& g : groups) n += g.count * g.size;
  return n;
}

void Workload::ForEach(const std::function<void(const std::string&, std::uint64_t, std::uint64_t,
                                                std::uint64_t)>& fn) const {
  for (const auto& g : groups) {
    if (g.count == 1) {
      fn(g.key, g.size, g.seed, g.part_size);
      continue;
    }
    for (std::uint64_t i = 0; i < g.count; ++i) fn(Numbered(g.key, i), g.size, g.seed + i, g.part_size);
  }
}

const std::vector<std::string>& ScenarioNames() {
  static const std::vector<std::string> names = {"large", "mixed", "small", "list"};
  return names;
}

Result<Workload> MakeWorkload(const std::string& name, bool smoke) {
  if (name == "large") return Large(smoke);
  if (name == "mixed") return Mixed(smoke);
  if (name == "small") return Small(smoke);
  if (name == "list") return List(smoke);
  if (name == "sweep") return Sweep(smoke);
  return Status::Error(ErrorClass::kInvalidArgument,
                       "unknown scenario \"" + name + "\" (large, mixed, small, list)");
}

Status Populate(SimRegion& region, const std::string& bucket, const Workload& w) {
  // Batches keep each admin request and answer a few MB.
  constexpr std::size_t kBatch = 20'000;
  nlohmann::json objects = nlohmann::json::array();
  std::uint64_t made = 0;
  Status failed;
  auto flush = [&]() {
    if (objects.empty() || !failed.ok()) return;
    nlohmann::json spec = {{"bucket", bucket}, {"objects", std::move(objects)}};
    objects = nlohmann::json::array();
    auto r = region.Post("/_sim/synthetic", spec);
    if (!r.ok()) {
      failed = r.status().Annotate("creating synthetic objects in " + bucket);
      return;
    }
    made += (*r)["objects"].size();
  };
  for (const ObjectGroup& g : w.groups) {
    if (!g.content.empty()) {
      objects.push_back({{"key", g.key}, {"content", g.content}});
      if (objects.size() >= kBatch) flush();
      continue;
    }
    for (std::uint64_t i = 0; i < g.count; ++i) {
      objects.push_back({{"key", g.count == 1 ? g.key : Numbered(g.key, i)},
                         {"size", g.size},
                         {"seed", g.seed + i},
                         {"part_size", g.part_size}});
      if (objects.size() >= kBatch) flush();
    }
  }
  flush();
  FERRY_RETURN_IF_ERROR(failed);
  if (made != w.objects()) {
    return Status::Error(ErrorClass::kFatal, "s3sim made " + std::to_string(made) + " of " +
                                                 std::to_string(w.objects()) + " objects");
  }
  return Status::Ok();
}

}  // namespace ferry::bench
