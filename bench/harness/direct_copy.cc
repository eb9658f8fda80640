#include "bench/harness/direct_copy.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "engine/transfer/buffer_pool.h"
#include "engine/transfer/parallel.h"
#include "protocols/base/digest.h"
#include "protocols/s3/client.h"

namespace ferry::bench {
namespace {

using Clock = std::chrono::steady_clock;

Result<std::shared_ptr<s3::Client>> OpenClient(boost::asio::io_context& ioc, const SimRegion& r,
                                               const std::string& bucket, const RegionPair& pair,
                                               int connections) {
  s3::ClientOptions o;
  FERRY_ASSIGN_OR_RETURN(o.endpoint, http::Url::Parse(r.url()));
  o.region = kRegionName;
  o.bucket = bucket;
  o.payload_signing = s3::PayloadSigning::kUnsigned;
  o.credentials = s3::StaticCredentials({kAccessKey, kSecretKey, ""});
  o.http.max_connections = static_cast<std::size_t>(std::max(1, connections));
  o.http.tls.ca_file = pair.ca_file;
  o.request_timeout = std::chrono::seconds(120);
  return s3::Client::Create(ioc.get_executor(), o);
}

// Runs `task` on `threads` threads of a fresh io_context; returns its status.
Status RunOn(boost::asio::io_context& ioc, int threads, io::Task<Status> task) {
  std::promise<Status> done;
  auto fut = done.get_future();
  boost::asio::co_spawn(ioc, std::move(task), [&done](std::exception_ptr ep, Status s) {
    done.set_value(ep ? Status::Error(ErrorClass::kFatal, "direct client threw") : s);
  });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  std::thread waiter([&] {
    fut.wait();
    ioc.stop();
  });
  ioc.run();
  waiter.join();
  for (auto& t : pool) t.join();
  return fut.get();
}

struct Unit {
  std::size_t object = 0;
  int part = 0;  // 0: single PUT
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct Obj {
  std::string key;
  std::uint64_t size = 0;
  std::string upload_id;
  std::vector<s3::CompletedPart> parts;  // GUARDED_BY(mu) of the copy
};

}  // namespace

Result<DirectResult> DirectCopy(const RegionPair& pair, const Workload& w, const DirectOptions& o) {
  boost::asio::io_context ioc;
  FERRY_ASSIGN_OR_RETURN(auto src, OpenClient(ioc, *pair.src, pair.src_bucket, pair, o.streams));
  FERRY_ASSIGN_OR_RETURN(auto dst, OpenClient(ioc, *pair.dst, pair.dst_bucket, pair, o.streams));
  std::vector<Obj> objs;
  std::vector<Unit> units;
  w.ForEach([&](const std::string& key, std::uint64_t size, std::uint64_t, std::uint64_t) {
    Obj ob;
    ob.key = key;
    ob.size = size;
    objs.push_back(std::move(ob));
    std::size_t idx = objs.size() - 1;
    if (size <= o.part_size) {
      units.push_back({idx, 0, 0, size});
      return;
    }
    int part = 1;
    for (std::uint64_t off = 0; off < size; off += o.part_size, ++part) {
      units.push_back({idx, part, off, std::min(o.part_size, size - off)});
    }
  });
  std::size_t largest_unit = 1;
  for (const Unit& u : units) largest_unit = std::max<std::size_t>(largest_unit, u.length);
  std::mutex mu;
  std::size_t next = 0;  // GUARDED_BY(mu)
  std::atomic<std::uint64_t> hashes{0};  // keeps the XXH3 calls observable
  DirectResult result;
  auto started = Clock::now();

  auto body = [&]() -> io::Task<Status> {
    // Uploads first (few), then every part and small object, then completions.
    for (Obj& ob : objs) {
      if (ob.size <= o.part_size) continue;
      s3::ObjectMetadata meta;
      FERRY_CO_ASSIGN_OR_RETURN(ob.upload_id, co_await dst->CreateMultipartUpload(ob.key, meta));
    }
    Status moved = co_await engine::RunParallel(
        std::min<int>(o.streams, static_cast<int>(units.size())),
        [&](int, engine::ParallelControl& control) -> io::Task<Status> {
          // Not zero-filled: every byte is written by the GET before use.
          std::unique_ptr<char[]> buf(new char[largest_unit]);
          for (;;) {
            Unit u;
            {
              std::lock_guard lock(mu);
              if (control.stop || next >= units.size()) co_return Status::Ok();
              u = units[next++];
            }
            Obj& ob = objs[u.object];
            std::span<char> span(buf.get(), static_cast<std::size_t>(u.length));
            engine::SpanSink sink(span);
            s3::GetObjectRequest get;
            get.key = ob.key;
            if (u.part > 0) get.range = s3::ByteRange{u.offset, u.length};
            FERRY_CO_ASSIGN_OR_RETURN(s3::GetObjectResult got, co_await src->GetObject(get, sink));
            (void)got;
            if (sink.written() != u.length) {
              co_return Status::Error(ErrorClass::kRetryable, "short read of " + ob.key);
            }
            if (o.hash) {
              std::string_view bytes(span.data(), span.size());
              hashes.fetch_add(digest::Xxh3_128Hex(bytes).size());
            }
            // No digests: UNSIGNED-PAYLOAD and no Content-MD5 (nothing is hashed).
            engine::SpanSource source(std::string_view(span.data(), span.size()), "");
            if (u.part == 0) {
              s3::ObjectMetadata meta;
              FERRY_CO_ASSIGN_OR_RETURN(s3::PutResult put, co_await dst->PutObject(ob.key, meta, source));
              (void)put;
            } else {
              FERRY_CO_ASSIGN_OR_RETURN(
                  s3::PutResult put, co_await dst->UploadPart(ob.key, ob.upload_id, u.part, source));
              std::lock_guard lock(mu);
              s3::CompletedPart cp;
              cp.part_number = u.part;
              cp.etag = put.etag;
              ob.parts.push_back(cp);
            }
          }
        });
    FERRY_CO_RETURN_IF_ERROR(moved);
    for (Obj& ob : objs) {
      if (ob.upload_id.empty()) continue;
      std::sort(ob.parts.begin(), ob.parts.end(),
                [](const s3::CompletedPart& a, const s3::CompletedPart& b) {
                  return a.part_number < b.part_number;
                });
      FERRY_CO_ASSIGN_OR_RETURN(s3::PutResult done,
                                co_await dst->CompleteMultipartUpload(ob.key, ob.upload_id, ob.parts));
      (void)done;
    }
    co_return Status::Ok();
  };
  FERRY_RETURN_IF_ERROR(RunOn(ioc, o.threads, body()));
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.bytes = w.bytes();
  result.objects = objs.size();
  return result;
}

Result<DirectResult> DirectList(const RegionPair& pair, const DirectOptions& o) {
  boost::asio::io_context ioc;
  FERRY_ASSIGN_OR_RETURN(auto src, OpenClient(ioc, *pair.src, pair.src_bucket, pair, 2));
  FERRY_ASSIGN_OR_RETURN(auto dst, OpenClient(ioc, *pair.dst, pair.dst_bucket, pair, 2));
  std::uint64_t listed[2] = {0, 0};
  auto started = Clock::now();
  auto body = [&]() -> io::Task<Status> {
    co_return co_await engine::RunParallel(2, [&](int side, engine::ParallelControl&) -> io::Task<Status> {
      s3::Client& c = side == 0 ? *src : *dst;
      s3::ListObjectsV2Request req;
      for (;;) {
        FERRY_CO_ASSIGN_OR_RETURN(s3::ListObjectsV2Result page, co_await c.ListObjectsV2(req));
        listed[side] += page.contents.size();
        if (!page.is_truncated) co_return Status::Ok();
        req.continuation_token = page.next_continuation_token;
      }
    });
  };
  FERRY_RETURN_IF_ERROR(RunOn(ioc, o.threads, body()));
  DirectResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  r.objects = listed[0];  // source keys: what a reconciliation covers
  return r;
}

}  // namespace ferry::bench
