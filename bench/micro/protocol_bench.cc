// Protocol micro benchmarks: the per-request and per-byte costs of talking
// S3. SigV4 signing of a typical UploadPart request, parsing a 1,000-key
// ListObjectsV2 page, and the hashes that run over every byte or part:
// XXH3-128 (ferry's content hash), MD5 (ETags, Content-MD5), SHA-256
// (signed payloads) and CRC32C (S3's additional checksum).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include "protocols/base/crc32c.h"
#include "protocols/base/digest.h"
#include "protocols/s3/sigv4.h"
#include "protocols/s3/xml.h"

namespace {

using ferry::s3::CanonicalInput;
using ferry::s3::SigningOptions;

void BM_SigV4SignUploadPart(benchmark::State& state) {
  const auto now = std::chrono::system_clock::now();
  SigningOptions opts;
  opts.region = "eu-west-1";
  for (auto _ : state) {
    CanonicalInput in;
    in.method = "PUT";
    in.path = "/velero-backups-dr/backups/nightly-2024-06-01/nightly-2024-06-01.tar.gz";
    in.query = {{"partNumber", "17"},
                {"uploadId", "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"}};
    in.headers = {{"Host", "s3.eu-west-1.amazonaws.com"},
                  {"Content-Length", "16777216"},
                  {"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
                  {"User-Agent", "ferry/0.1"}};
    in.payload_hash = std::string(ferry::s3::kUnsignedPayload);
    auto signed_headers = ferry::s3::Sign(std::move(in), "AKIAIOSFODNN7EXAMPLE",
                                          "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", now, opts);
    benchmark::DoNotOptimize(signed_headers);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigV4SignUploadPart);

std::string ListPageXml(int keys) {
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>velero-backups</Name><Prefix></Prefix><KeyCount>" +
      std::to_string(keys) +
      "</KeyCount><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>"
      "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>";
  char buf[512];
  for (int i = 0; i < keys; ++i) {
    std::snprintf(buf, sizeof buf,
                  "<Contents><Key>kopia/app/p%016x%016x</Key>"
                  "<LastModified>2024-06-01T02:%02d:%02d.000Z</LastModified>"
                  "<ETag>&quot;%032x&quot;</ETag><Size>%d</Size>"
                  "<StorageClass>STANDARD</StorageClass></Contents>",
                  i, i * 7919, (i / 60) % 60, i % 60, i * 2654435761u, 20 << 20);
    x += buf;
  }
  x += "</ListBucketResult>";
  return x;
}

void BM_ParseListObjectsV2(benchmark::State& state) {
  const int keys = static_cast<int>(state.range(0));
  const std::string xml = ListPageXml(keys);
  for (auto _ : state) {
    auto page = ferry::s3::xml::ParseListObjectsV2(xml);
    if (!page.ok() || page->contents.size() != static_cast<std::size_t>(keys)) {
      state.SkipWithError("parse failed");
      return;
    }
    benchmark::DoNotOptimize(page);
  }
  state.SetItemsProcessed(state.iterations() * keys);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(xml.size()));
}
BENCHMARK(BM_ParseListObjectsV2)->Arg(1000)->Unit(benchmark::kMicrosecond);

const std::string& Part(std::size_t size) {
  static std::string data;
  if (data.size() != size) {
    data.resize(size);
    std::mt19937_64 rng(42);
    for (std::size_t i = 0; i + 8 <= size; i += 8) {
      std::uint64_t v = rng();
      std::memcpy(data.data() + i, &v, 8);
    }
  }
  return data;
}

// Arg: part size in MiB.
void BM_Xxh3_128Part(benchmark::State& state) {
  const std::string& part = Part(static_cast<std::size_t>(state.range(0)) << 20);
  for (auto _ : state) benchmark::DoNotOptimize(ferry::digest::Xxh3_128Hex(part));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(part.size()));
}
BENCHMARK(BM_Xxh3_128Part)->Arg(16)->Unit(benchmark::kMillisecond);

void BM_Md5Part(benchmark::State& state) {
  const std::string& part = Part(static_cast<std::size_t>(state.range(0)) << 20);
  for (auto _ : state) benchmark::DoNotOptimize(ferry::digest::Md5(part));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(part.size()));
}
BENCHMARK(BM_Md5Part)->Arg(16)->Unit(benchmark::kMillisecond);

void BM_Sha256Part(benchmark::State& state) {
  const std::string& part = Part(static_cast<std::size_t>(state.range(0)) << 20);
  for (auto _ : state) benchmark::DoNotOptimize(ferry::digest::Sha256(part));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(part.size()));
}
BENCHMARK(BM_Sha256Part)->Arg(16)->Unit(benchmark::kMillisecond);

// CRC32C (Castagnoli), S3's x-amz-checksum-crc32c, as the copier computes
// it per part (protocols/base/crc32c): the SSE4.2 path ferry uses when the CPU
// has it, and the table-driven fallback.
void BM_Crc32cPart(benchmark::State& state) {
  if (!ferry::crc32c::HasHardware()) {
    state.SkipWithError("no SSE4.2 on this CPU");
    return;
  }
  const std::string& part = Part(static_cast<std::size_t>(state.range(0)) << 20);
  for (auto _ : state) benchmark::DoNotOptimize(ferry::crc32c::ExtendHardware(0, part));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(part.size()));
}
BENCHMARK(BM_Crc32cPart)->Arg(16)->Unit(benchmark::kMillisecond);

void BM_Crc32cSoftwarePart(benchmark::State& state) {
  const std::string& part = Part(static_cast<std::size_t>(state.range(0)) << 20);
  for (auto _ : state) benchmark::DoNotOptimize(ferry::crc32c::ExtendSoftware(0, part));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(part.size()));
}
BENCHMARK(BM_Crc32cSoftwarePart)->Arg(16)->Unit(benchmark::kMillisecond);

}  // namespace
