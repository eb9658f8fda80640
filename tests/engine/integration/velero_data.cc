// The Velero-like data set the integration tests replicate, and the checks
// of layout order over a destination's request log. See harness.h.
#include <algorithm>
#include <cstdio>

#include "tests/engine/integration/harness.h"

namespace ferry::integration {

void IntegrationTest::PopulateVelero(int backups) {
  std::uint64_t seed = 1000;
  for (int b = 1; b <= backups; ++b) {
    std::string name = "nightly-" + std::to_string(b);
    std::string unit = "backups/" + name + "/";
    // Tarball: multipart with 1 MiB parts ("-4" ETag), not a multiple of the part size.
    PutSourceMultipart(unit + name + ".tar.gz", RandomBytes(3 * kMiB + 12345 * b, ++seed), kMiB);
    for (const char* f : {"-logs.gz", "-podvolumebackups.json.gz", "-resource-list.json.gz",
                          "-results.gz", "-volumesnapshots.json.gz"}) {
      PutSource(unit + name + f, RandomBytes(1000 + 4096 * b, ++seed));
    }
    PutSource(unit + "velero-backup.json",
              R"({"kind":"Backup","metadata":{"name":")" + name +
                  R"("},"status":{"phase":"Completed"}})");
  }
  const std::string repo = "kopia/app/";
  for (int i = 0; i < 6; ++i) {
    char name[40];
    std::snprintf(name, sizeof name, "p%032x", i + 1);
    if (i < 2) {
      PutSourceMultipart(repo + name, RandomBytes(2 * kMiB + 777 * (i + 1), ++seed), kMiB);
    } else {
      PutSource(repo + name, RandomBytes(200 * kKiB + 999 * i, ++seed));
    }
  }
  for (int i = 0; i < 2; ++i) {
    char name[40];
    std::snprintf(name, sizeof name, "q%032x", i + 1);
    PutSource(repo + name, RandomBytes(150 * kKiB + i, ++seed));
  }
  for (int i = 0; i < 3; ++i) {
    char name[40];
    std::snprintf(name, sizeof name, "xn0_%032x", i + 1);
    PutSource(repo + name, RandomBytes(20000 + i, ++seed));
  }
  for (const char* f : {"kopia.repository", "kopia.blobcfg", "kopia.maintenance"}) {
    PutSource(repo + f, std::string(R"({"format":")") + f + "\"}");
  }
}

bool IsWrite(const nlohmann::json& e) {
  static const std::set<std::string> kWrites = {
      "PutObject",  "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
      "CopyObject", "UploadPartCopy"};
  return kWrites.count(e.value("op", std::string()));
}

std::vector<nlohmann::json> Filter(const std::vector<nlohmann::json>& log, const std::string& op,
                                   const std::string& key_prefix) {
  std::vector<nlohmann::json> out;
  for (const auto& e : log) {
    if ((op.empty() || e.value("op", std::string()) == op) &&
        e.value("key", std::string()).starts_with(key_prefix)) {
      out.push_back(e);
    }
  }
  return out;
}

void ExpectVeleroOrder(const std::vector<nlohmann::json>& log,
                       const std::vector<std::string>& units) {
  for (const std::string& unit : units) {
    const std::string marker = unit + "velero-backup.json";
    std::uint64_t last_other = 0, first_marker = UINT64_MAX;
    std::size_t others = 0, markers = 0;
    for (const auto& e : log) {
      if (!IsWrite(e)) continue;
      const std::string key = e.value("key", std::string());
      if (!key.starts_with(unit)) continue;
      const std::uint64_t seq = e["seq"].get<std::uint64_t>();
      if (key == marker) {
        first_marker = std::min(first_marker, seq);
        ++markers;
      } else {
        last_other = std::max(last_other, seq);
        ++others;
      }
    }
    EXPECT_GE(markers, 1u) << "no marker write for " << unit;
    EXPECT_GE(others, 1u) << "no other write for " << unit;
    EXPECT_GT(first_marker, last_other)
        << unit << ": marker written (seq " << first_marker << ") before the unit's last write (seq "
        << last_other << ")";
  }
}

void ExpectKopiaOrder(const std::vector<nlohmann::json>& log, const std::string& repo) {
  // Phase of a key: p/q packs 0, x indexes 1, kopia.* format blobs 2.
  auto phase = [&](const std::string& rel) {
    if (rel.starts_with("kopia.")) return 2;
    if (rel.starts_with("x")) return 1;
    return 0;
  };
  std::uint64_t last[3] = {0, 0, 0}, first[3] = {UINT64_MAX, UINT64_MAX, UINT64_MAX};
  std::size_t count[3] = {0, 0, 0};
  for (const auto& e : log) {
    if (!IsWrite(e)) continue;
    const std::string key = e.value("key", std::string());
    if (!key.starts_with(repo)) continue;
    int ph = phase(key.substr(repo.size()));
    const std::uint64_t seq = e["seq"].get<std::uint64_t>();
    last[ph] = std::max(last[ph], seq);
    first[ph] = std::min(first[ph], seq);
    ++count[ph];
  }
  for (int ph = 0; ph < 3; ++ph) EXPECT_GE(count[ph], 1u) << repo << " phase " << ph;
  EXPECT_GT(first[1], last[0]) << repo << ": an index written before the last pack";
  EXPECT_GT(first[2], last[1]) << repo << ": a format blob written before the last index";
}

}  // namespace ferry::integration
