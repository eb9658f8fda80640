#include "engine/sync/verify.h"

#include "engine/sync/lister.h"

namespace ferry::engine {
namespace {

nlohmann::json SideJson(const storage::ObjectSummary& o) {
  return {{"size", o.size}, {"etag", o.etag}};
}

}  // namespace

bool VerifyReport::ok() const {
  return source_listing_complete && destination_listing_complete && missing == 0 &&
         size_mismatch == 0 && etag_mismatch == 0 && (!extra_is_mismatch || extra == 0);
}

nlohmann::json VerifyReport::ToJson() const {
  nlohmann::json j;
  j["route"] = route;
  j["destination"] = destination;
  j["ok"] = ok();
  j["source_listing_complete"] = source_listing_complete;
  j["destination_listing_complete"] = destination_listing_complete;
  j["source_objects"] = source_objects;
  j["source_bytes"] = source_bytes;
  j["replica_objects"] = replica_objects;
  j["replica_bytes"] = replica_bytes;
  j["matched"] = matched;
  j["missing"] = missing;
  j["extra"] = extra;
  j["extra_is_mismatch"] = extra_is_mismatch;
  j["size_mismatch"] = size_mismatch;
  j["etag_mismatch"] = etag_mismatch;
  j["diffs"] = diffs;
  j["diffs_truncated"] = missing + extra + size_mismatch + etag_mismatch > diffs.size();
  j["errors"] = errors;
  return j;
}

io::Task<VerifyReport> VerifyDestination(const PassSettings& settings, const SourceSide& source,
                                         const DestinationSide& dest) {
  VerifyReport rep;
  rep.route = settings.route;
  rep.destination = dest.id;
  rep.extra_is_mismatch = settings.deletes.policy == DeletePolicy::kMirrorNow;
  Lister src(*source.backend, *source.pacer, settings.retry, source.prefix);
  Lister dst(*dest.backend, *dest.pacer, settings.retry, dest.prefix);
  auto diff = [&](const std::string& key, const char* problem, const nlohmann::json& s,
                  const nlohmann::json& d) {
    if (rep.diffs.size() < kMaxDiffs) {
      rep.diffs.push_back({{"key", key}, {"problem", problem}, {"source", s}, {"replica", d}});
    }
  };
  std::optional<storage::ObjectSummary> s, d;
  bool src_ok = true, dst_ok = true;
  auto next_src = [&]() -> io::Task<void> {
    auto r = co_await src.Next();
    if (r.ok()) {
      s = std::move(*r);
      if (s) {
        rep.source_objects++;
        rep.source_bytes += s->size;
      }
    } else {
      s.reset();
      src_ok = false;
      rep.errors.push_back(r.status().Annotate("listing source").ToString());
    }
  };
  auto next_dst = [&]() -> io::Task<void> {
    auto r = co_await dst.Next();
    if (r.ok()) {
      d = std::move(*r);
      if (d) {
        rep.replica_objects++;
        rep.replica_bytes += d->size;
      }
    } else {
      d.reset();
      dst_ok = false;
      rep.errors.push_back(r.status().Annotate("listing replica").ToString());
    }
  };
  co_await next_src();
  co_await next_dst();
  while (src_ok && dst_ok && (s || d)) {
    if (!s || (d && d->key < s->key)) {
      rep.extra++;
      diff(d->key, "extra", nullptr, SideJson(*d));
      co_await next_dst();
      continue;
    }
    if (!d || s->key < d->key) {
      rep.missing++;
      diff(s->key, "missing", SideJson(*s), nullptr);
      co_await next_src();
      continue;
    }
    if (s->size != d->size) {
      rep.size_mismatch++;
      diff(s->key, "size", SideJson(*s), SideJson(*d));
    } else if (s->etag != d->etag) {
      bool recorded = false;
      if (dest.state) {
        auto st = dest.state->Get(s->key);
        recorded = st.ok() && st->has_value() && (*st)->phase == ObjectPhase::kReplicated &&
                   (*st)->src_etag == s->etag && (*st)->dst_etag == d->etag;
      }
      if (recorded) {
        rep.matched++;
      } else {
        rep.etag_mismatch++;
        diff(s->key, "etag", SideJson(*s), SideJson(*d));
      }
    } else {
      rep.matched++;
    }
    co_await next_src();
    co_await next_dst();
  }
  co_await src.Drain();  // a listing that stopped early may have a page in flight
  co_await dst.Drain();
  rep.source_listing_complete = src_ok && src.complete();
  rep.destination_listing_complete = dst_ok && dst.complete();
  co_return rep;
}

}  // namespace ferry::engine
