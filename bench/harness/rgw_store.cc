#include "bench/harness/rgw_store.h"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "bench/harness/child.h"
#include "protocols/s3/client.h"
#include "tests/support/rgw.h"
#include "tests/support/run.h"

namespace ferry::bench {
namespace {

using std::chrono::seconds;

Workload Set(bool smoke) {
  Workload w;
  w.name = "rgw-set";
  const std::uint64_t big = smoke ? 2 : 4, small = smoke ? 20 : 1000;
  const std::uint64_t size = smoke ? 11 * kMiB : 256 * kMiB;
  const std::uint64_t part = smoke ? 5 * kMiB : 16 * kMiB;
  w.groups.push_back({"set/big-", big, size, 20'000, part});
  w.groups.push_back({"set/small-", small, 64 * kKiB, 30'000, 0});
  w.description = std::to_string(big) + " x " + std::to_string(size / kMiB) + " MiB uploaded in " +
                  std::to_string(part / kMiB) + " MiB parts + " + std::to_string(small) +
                  " x 64 KiB";
  return w;
}

Workload Small(bool smoke) {
  Workload w;
  w.name = "rgw-small";
  const std::uint64_t n = smoke ? 40 : 3000;
  w.groups.push_back({"small/obj-", n, 64 * kKiB, 40'000, 0});
  w.description = std::to_string(n) + " x 64 KiB";
  return w;
}

// The bytes of an object: splitmix64 of (seed, offset / 8), so any part can
// be made on its own and no two objects share content.
void Generate(std::uint64_t seed, std::uint64_t offset, char* out, std::size_t n) {
  std::uint64_t i = offset / 8;
  std::size_t skip = offset % 8, done = 0;
  while (done < n) {
    std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + (i++ + 1) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    char bytes[8];
    std::memcpy(bytes, &z, 8);
    const std::size_t take = std::min<std::size_t>(8 - skip, n - done);
    std::memcpy(out + done, bytes + skip, take);
    done += take;
    skip = 0;
  }
}

Result<std::shared_ptr<s3::Client>> OpenClient(boost::asio::io_context& ioc, const Endpoint& e,
                                               const std::string& bucket, int connections) {
  s3::ClientOptions o;
  FERRY_ASSIGN_OR_RETURN(o.endpoint, http::Url::Parse(e.url));
  o.region = e.region;
  o.bucket = bucket;
  o.payload_signing = s3::PayloadSigning::kUnsigned;  // Content-MD5 still guards each body
  o.credentials = s3::StaticCredentials({e.access_key, e.secret_key, ""});
  o.http.max_connections = static_cast<std::size_t>(std::max(1, connections));
  o.request_timeout = seconds(120);
  return s3::Client::Create(ioc.get_executor(), o);
}

// Runs a status-returning task on `ioc`; a timeout or exception is an error.
Status Run(boost::asio::io_context& ioc, io::Task<Status> task, std::chrono::seconds limit) {
  try {
    return testing::RunTask(ioc, std::move(task), limit);
  } catch (const std::exception& e) {
    return Status::Error(ErrorClass::kFatal, e.what());
  }
}

// One request of the fill: a part of a multipart object, or a whole object.
struct Unit {
  std::string key;
  std::uint64_t seed = 0;
  std::uint64_t offset = 0, length = 0;
  std::size_t upload = 0;  // index into the uploads, for parts
  int part = 0;            // 0: a single PutObject
};

struct Upload {
  std::string key;
  std::string id;
  std::vector<s3::CompletedPart> parts;
};

}  // namespace

const std::vector<std::string>& RgwScenarioNames() {
  static const std::vector<std::string> names = {"rgw-set", "rgw-small"};
  return names;
}

bool IsRgwScenario(const std::string& name) {
  const auto& n = RgwScenarioNames();
  return std::find(n.begin(), n.end(), name) != n.end();
}

Result<Workload> MakeRgwWorkload(const std::string& name, bool smoke) {
  if (name == "rgw-set") return Set(smoke);
  if (name == "rgw-small") return Small(smoke);
  return Status::Error(ErrorClass::kInvalidArgument,
                       "unknown RGW scenario \"" + name + "\" (rgw-set, rgw-small)");
}

bool CephAvailable() { return testing::RgwAvailable(); }

std::string CephVersion(const std::string& scratch) {
  if (scratch.empty() || FindProgram("ceph").empty()) return "";
  std::filesystem::create_directories(scratch);
  ChildOptions co;
  co.argv = {"ceph", "--version"};
  co.log_path = scratch + "/ceph-version.txt";
  std::filesystem::remove(co.log_path);
  auto u = RunToEnd(std::move(co), seconds(30));
  std::ifstream in(scratch + "/ceph-version.txt");
  std::string line;
  std::getline(in, line);
  std::filesystem::remove(scratch + "/ceph-version.txt");
  return u.ok() && u->ok() ? line : "";
}

Result<std::unique_ptr<RgwStore>> RgwStore::Start(const std::string& region) {
  std::unique_ptr<RgwStore> s(new RgwStore());
  testing::RgwOptions o;
  o.api_name = region;
  o.kms_testing_key = false;
  FERRY_ASSIGN_OR_RETURN(s->cluster_, testing::RgwCluster::Start(std::move(o)));
  return s;
}

RgwStore::~RgwStore() = default;

Endpoint RgwStore::endpoint() const {
  Endpoint e;
  e.url = cluster_->endpoint();
  e.region = cluster_->region();
  e.access_key = cluster_->access_key();
  e.secret_key = cluster_->secret_key();
  e.rclone_provider = "Ceph";
  return e;
}

std::string RgwStore::Describe() const { return cluster_->Describe(); }
Status RgwStore::Healthy() { return cluster_->Healthy(); }
double RgwStore::RadosgwCpuSeconds() const { return ProcessCpuSeconds(cluster_->radosgw_pid()); }
double RgwStore::OsdCpuSeconds() const { return ProcessCpuSeconds(cluster_->osd_pid()); }

Status RgwStore::CreateBucket(const std::string& bucket) {
  boost::asio::io_context ioc;
  FERRY_ASSIGN_OR_RETURN(auto client, OpenClient(ioc, endpoint(), bucket, 1));
  return Run(ioc, client->CreateBucket(), seconds(60)).Annotate("creating bucket " + bucket);
}

Status RgwStore::WarmUp() {
  const std::string bucket = "ferry-bench-warm-up";
  FERRY_RETURN_IF_ERROR(CreateBucket(bucket));
  boost::asio::io_context ioc;
  FERRY_ASSIGN_OR_RETURN(auto client, OpenClient(ioc, endpoint(), bucket, 1));
  const std::string bytes(4096, 'w');
  const s3::ObjectMetadata no_metadata;
  auto put = [&]() -> io::Task<Status> {
    io::MemorySource body(bytes);
    auto r = co_await client->PutObject("warm-up", no_metadata, body);
    co_return r.ok() ? Status::Ok() : r.status();
  };
  return Run(ioc, put(), seconds(60)).Annotate("warming up " + Describe());
}

Status RgwStore::Fill(const std::string& bucket, const Workload& w, int streams) {
  boost::asio::io_context ioc;
  FERRY_ASSIGN_OR_RETURN(auto client, OpenClient(ioc, endpoint(), bucket, streams));
  std::vector<Upload> uploads;
  std::vector<Unit> units;
  w.ForEach([&](const std::string& key, std::uint64_t size, std::uint64_t seed,
                std::uint64_t part_size) {
    if (part_size == 0 || size <= part_size) {
      units.push_back({key, seed, 0, size, 0, 0});
      return;
    }
    uploads.push_back({key, "", {}});
    int part = 1;
    for (std::uint64_t off = 0; off < size; off += part_size, ++part) {
      units.push_back({key, seed, off, std::min(part_size, size - off), uploads.size() - 1, part});
    }
  });
  const auto limit = seconds(1800);
  // A named object, not a `{}` argument: GCC 12 can end a temporary's life
  // before the coroutine that holds a reference to it runs.
  const s3::ObjectMetadata no_metadata;
  // Uploads opened first, then every part and small object, then completions.
  FERRY_RETURN_IF_ERROR(testing::RunParallel(
      ioc, uploads.size(), static_cast<std::size_t>(streams),
      [&](std::size_t i) -> io::Task<Status> {
        FERRY_CO_ASSIGN_OR_RETURN(
            uploads[i].id, co_await client->CreateMultipartUpload(uploads[i].key, no_metadata));
        co_return Status::Ok();
      },
      limit));
  FERRY_RETURN_IF_ERROR(testing::RunParallel(
      ioc, units.size(), static_cast<std::size_t>(streams),
      [&](std::size_t i) -> io::Task<Status> {
        const Unit& u = units[i];
        std::string bytes(u.length, '\0');
        Generate(u.seed, u.offset, bytes.data(), bytes.size());
        io::MemorySource body(bytes);
        if (u.part == 0) {
          auto put = co_await client->PutObject(u.key, no_metadata, body);
          co_return put.ok() ? Status::Ok() : put.status();
        }
        Upload& up = uploads[u.upload];
        FERRY_CO_ASSIGN_OR_RETURN(s3::PutResult r,
                                  co_await client->UploadPart(u.key, up.id, u.part, body));
        up.parts.push_back({u.part, r.etag});  // one thread: no lock
        co_return Status::Ok();
      },
      limit));
  return testing::RunParallel(
      ioc, uploads.size(), static_cast<std::size_t>(streams),
      [&](std::size_t i) -> io::Task<Status> {
        Upload& up = uploads[i];
        std::sort(up.parts.begin(), up.parts.end(),
                  [](const auto& a, const auto& b) { return a.part_number < b.part_number; });
        auto done = co_await client->CompleteMultipartUpload(up.key, up.id, up.parts);
        co_return done.ok() ? Status::Ok() : done.status();
      },
      limit);
}

Result<RgwStore::ListingCheck> RgwStore::Check(const std::string& bucket, const Workload& w) {
  boost::asio::io_context ioc;
  FERRY_ASSIGN_OR_RETURN(auto client, OpenClient(ioc, endpoint(), bucket, 1));
  std::map<std::string, std::uint64_t> listed;
  auto list = [&]() -> io::Task<Status> {
    s3::ListObjectsV2Request req;
    for (;;) {
      FERRY_CO_ASSIGN_OR_RETURN(s3::ListObjectsV2Result page, co_await client->ListObjectsV2(req));
      for (const auto& o : page.contents) listed[o.key] = o.size;
      if (!page.is_truncated) co_return Status::Ok();
      req.continuation_token = page.next_continuation_token;
    }
  };
  Status listing = Run(ioc, list(), seconds(300));
  FERRY_RETURN_IF_ERROR(listing.Annotate("listing " + bucket));
  ListingCheck c;
  c.keys = listed.size();
  std::uint64_t known = 0;
  w.ForEach([&](const std::string& key, std::uint64_t size, std::uint64_t, std::uint64_t) {
    auto it = listed.find(key);
    if (it != listed.end()) ++known;
    if (it != listed.end() && it->second == size) {
      ++c.matching;
      c.bytes += size;
    } else if (c.first_problem.empty()) {
      c.first_problem = it == listed.end() ? "missing " + key
                                           : key + " has " + std::to_string(it->second) +
                                                 " bytes, the source " + std::to_string(size);
    }
  });
  c.extra = c.keys - known;
  return c;
}

}  // namespace ferry::bench
