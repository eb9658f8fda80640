// The `routes:` section: source → destinations, and the checks that keep a
// route from replicating onto itself. Two locations "overlap" when they are
// in the same bucket of the same service (same host, port and base path,
// whatever the endpoint is called) and one prefix is a prefix of the other:
// copying between them would copy objects onto themselves or feed the
// destination's writes back into the source listing, and a mirror delete in
// one would remove objects of the other.
#include "engine/config/checks.h"
#include "engine/config/parse_internal.h"

namespace ferry::config::internal {
namespace {

constexpr EnumName<Layout> kLayouts[] = {
    {"velero", Layout::kVelero}, {"kopia", Layout::kKopia}, {"plain", Layout::kPlain}};
constexpr EnumName<DeletePolicy> kDeletePolicies[] = {{"mirror", DeletePolicy::kMirror},
                                                      {"keep", DeletePolicy::kKeep},
                                                      {"mirror-now", DeletePolicy::kMirrorNow}};
constexpr EnumName<VerifyMode> kVerifyModes[] = {{"auto", VerifyMode::kAuto},
                                                 {"etag", VerifyMode::kEtag},
                                                 {"checksum", VerifyMode::kChecksum},
                                                 {"read-back", VerifyMode::kReadBack}};

// A location with where it was written, for the cross checks.
struct Placed {
  Location loc;
  Field field;
  bool complete = false;  // endpoint resolved and bucket valid
};

std::string StoreId(const Config& config, const std::string& endpoint) {
  const Endpoint* ep = config.FindEndpoint(endpoint);
  if (ep == nullptr || ep->url.host.empty()) return "name:" + endpoint;
  return ep->url.host + ":" + std::to_string(ep->url.port) + ep->url.base_path;
}

bool Overlap(const Config& config, const Location& a, const Location& b) {
  return a.bucket == b.bucket && StoreId(config, a.endpoint) == StoreId(config, b.endpoint) &&
         (a.prefix.starts_with(b.prefix) || b.prefix.starts_with(a.prefix));
}

Placed ParseLocation(const Field& field, const Config& config) {
  Placed p{Location{}, field, false};
  MapReader m(field, {"endpoint", "bucket", "prefix"});
  if (!m.ok()) return p;
  bool endpoint_ok = false;
  bool bucket_ok = false;
  if (auto f = m.Require("endpoint")) {
    if (auto name = ReadNonEmptyString(*f)) {
      p.loc.endpoint = *name;
      if (config.FindEndpoint(*name) != nullptr) {
        endpoint_ok = true;
      } else {
        std::vector<std::string_view> known;
        for (const Endpoint& ep : config.endpoints) known.push_back(ep.name);
        f->Error("unknown endpoint " + Quote(*name, 80) + " (known: " + Join(known, ", ") + ")");
      }
    }
  }
  if (auto f = m.Require("bucket")) {
    if (auto bucket = ReadNonEmptyString(*f)) {
      p.loc.bucket = *bucket;
      if (std::string why = CheckBucketName(*bucket); !why.empty()) {
        f->Error("bad bucket name " + Quote(*bucket, 80) + ": " + why);
      } else {
        bucket_ok = true;
      }
    }
  }
  if (auto f = m.Get("prefix")) {
    if (auto prefix = ReadString(*f)) {
      if (std::string why = CheckPrefix(*prefix); !why.empty()) {
        f->Error("bad prefix: " + why);
      } else {
        p.loc.prefix = std::move(*prefix);
      }
    }
  }
  p.complete = endpoint_ok && bucket_ok;
  return p;
}

std::string Describe(const Location& l) { return l.endpoint + "/" + l.bucket + "/" + l.prefix; }

void ParseDelete(const Field& field, DeleteConfig* out) {
  MapReader m(field, {"policy", "grace", "max_fraction"});
  ReadOptional(m, "policy", &out->policy,
               [](const Field& f) { return ReadEnum(f, kDeletePolicies); });
  ReadOptional(m, "grace", &out->grace,
               [](const Field& f) { return ReadDuration(f, Duration(0)); });
  ReadOptional(m, "max_fraction", &out->max_fraction, ReadFraction);
}

// Returns the destinations as placed (for checks across routes).
std::vector<Placed> ParseRoute(const Field& field, Config* config, Route* route) {
  std::vector<Placed> dests;
  MapReader m(field,
              {"name", "source", "destinations", "layout", "target_lag", "delete", "verify",
               "settle"});
  if (!m.ok()) return dests;
  if (auto f = m.Require("name")) {
    if (auto name = ReadNonEmptyString(*f)) {
      if (std::string why = CheckRouteName(*name); !why.empty()) {
        f->Error("bad route name " + Quote(*name, 80) + ": " + why);
      } else if (config->FindRoute(*name) != nullptr) {
        f->Error("duplicate route name \"" + *name + "\"");
      } else {
        route->name = *name;
      }
    }
  }
  ReadOptional(m, "layout", &route->layout, [](const Field& f) { return ReadEnum(f, kLayouts); });
  ReadOptional(m, "target_lag", &route->target_lag,
               [](const Field& f) { return ReadDuration(f, std::chrono::seconds(1)); });
  if (auto f = m.Get("delete")) ParseDelete(*f, &route->deletion);
  ReadOptional(m, "verify", &route->verify,
               [](const Field& f) { return ReadEnum(f, kVerifyModes); });
  if (auto f = m.Get("settle")) {
    if (route->layout != Layout::kVelero) {
      f->Error("settle applies to layout velero only (it delays a backup's marker)");
    } else if (auto d = ReadDuration(*f, Duration(0))) {
      if (*d > std::chrono::hours(24)) {
        f->Error("must be at most 24h, got " + FormatDuration(*d));
      } else {
        route->settle = *d;
      }
    }
  }

  // Velero and kopia units are folders: a prefix that cuts a name in two
  // ("backups" instead of "backups/") would make unit boundaries wrong.
  auto check_layout_prefix = [&](const Placed& p) {
    if (route->layout != Layout::kPlain && !p.loc.prefix.empty() && !p.loc.prefix.ends_with('/')) {
      p.field.Error("layout " + std::string(ToString(route->layout)) +
                    " needs a prefix that is empty or ends with '/'");
    }
  };

  std::optional<Placed> source;
  if (auto f = m.Require("source")) {
    source = ParseLocation(*f, *config);
    route->source = source->loc;
    check_layout_prefix(*source);
  }
  if (auto f = m.Require("destinations")) {
    std::vector<Field> items = ReadList(*f);
    if (items.empty() && (f->node.IsNull() || f->node.IsSequence())) {
      f->Error("at least one destination is required");
    }
    for (const Field& item : items) {
      Placed d = ParseLocation(item, *config);
      check_layout_prefix(d);
      if (d.complete && source && source->complete) {
        if (d.loc == source->loc) {
          d.field.Error("destination is the same as the source (" + Describe(d.loc) + ")");
          d.complete = false;
        } else if (Overlap(*config, d.loc, source->loc)) {
          d.field.Error(
              "destination overlaps the source (same bucket, and one prefix contains "
              "the other)");
          d.complete = false;
        }
      }
      for (size_t i = 0; d.complete && i < dests.size(); ++i) {
        if (!dests[i].complete) continue;
        if (d.loc == dests[i].loc) {
          d.field.Error("duplicate destination: same as " + dests[i].field.path);
          d.complete = false;
        } else if (Overlap(*config, d.loc, dests[i].loc)) {
          d.field.Error("destination overlaps " + dests[i].field.path +
                        " (same bucket, and one prefix contains the other)");
          d.complete = false;
        }
      }
      route->destinations.push_back(d.loc);
      dests.push_back(std::move(d));
    }
  }
  return dests;
}

}  // namespace

void ParseRoutes(const Field& field, Config* config) {
  std::vector<Field> items = ReadList(field);
  if (items.empty()) {
    if (field.node.IsNull() || field.node.IsSequence())
      field.Error("at least one route is required");
    return;
  }
  std::vector<Placed> all_dests;  // across routes
  for (const Field& item : items) {
    Route route;
    std::vector<Placed> dests = ParseRoute(item, config, &route);
    for (Placed& d : dests) {
      if (!d.complete) continue;
      for (const Placed& other : all_dests) {
        if (Overlap(*config, d.loc, other.loc)) {
          d.field.Error("destination overlaps " + other.field.path +
                        " of another route: two routes must not write to the same place");
          break;
        }
      }
    }
    for (Placed& d : dests) {
      if (d.complete) all_dests.push_back(std::move(d));
    }
    config->routes.push_back(std::move(route));
  }
}

}  // namespace ferry::config::internal
