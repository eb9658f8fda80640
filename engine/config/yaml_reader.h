// Reading a yaml-cpp document against a schema while collecting errors that
// name file, line, column and key path. Internal to engine/config.
//
// Every reader reports its own problems to the Diagnostics and returns
// std::nullopt (or an empty MapReader), so the schema code reads top-down
// without error plumbing and the user sees every problem in one go.
// yaml-cpp throws; ParseDocument converts its exceptions, and the accessors
// used here do not throw on the node kinds they are called on.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/config/config.h"

namespace ferry::config::internal {

struct Pos {
  int line = 1;    // 1-based
  int column = 1;  // 1-based
};

class Diagnostics {
 public:
  explicit Diagnostics(std::string source) : source_(std::move(source)) {}
  void Error(Pos pos, std::string_view path, std::string message);
  void Warning(Pos pos, std::string_view path, std::string message);
  bool has_errors() const { return !errors_.empty(); }
  const std::vector<Diagnostic>& errors() const { return errors_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::string& source() const { return source_; }
  // All errors, one per line; at most kMaxErrors plus a count of the rest.
  std::string Summary() const;

  static constexpr size_t kMaxErrors = 25;

 private:
  std::string source_;
  std::vector<Diagnostic> errors_;
  size_t dropped_ = 0;
  std::vector<std::string> warnings_;
};

// A node with the key path that led to it and where to point at it.
struct Field {
  YAML::Node node;
  std::string path;
  Pos pos;
  Diagnostics* diag = nullptr;

  void Error(std::string message) const { diag->Error(pos, path, std::move(message)); }
  void Warning(std::string message) const { diag->Warning(pos, path, std::move(message)); }
  Field Child(std::string_view key, const YAML::Node& child, Pos key_pos) const;
  // A key of this map, for messages about the key itself (path: the map's).
  Field Key(const YAML::Node& key) const;
  Field Element(size_t index, const YAML::Node& child) const;
};

// "a map", "a list", "a string", "nothing": for "expected X, got Y" messages.
std::string_view KindName(const YAML::Node& node);

// The keys of one YAML map, checked against the keys the schema knows.
// Unknown keys (with a "did you mean"), duplicate keys and non-string keys are
// reported on construction. A null node reads as an empty map; anything else
// that is not a map is reported and reads as empty.
class MapReader {
 public:
  MapReader(const Field& field, std::vector<std::string_view> known_keys);

  // The value under `key`, or nullopt when the key is absent.
  std::optional<Field> Get(std::string_view key) const;
  // Like Get, and reports "missing required key" when absent.
  std::optional<Field> Require(std::string_view key) const;
  bool Has(std::string_view key) const { return Get(key).has_value(); }
  bool ok() const { return ok_; }  // false when the node was not a map
  const Field& field() const { return field_; }
  // Entries in file order (known keys only).
  const std::vector<std::pair<std::string, Field>>& entries() const { return entries_; }

 private:
  Field field_;
  bool ok_ = true;
  std::vector<std::pair<std::string, Field>> entries_;
  std::vector<int> key_lines_;  // parallel to entries_
};

// Elements of a YAML list; a non-list is reported and reads as empty.
std::vector<Field> ReadList(const Field& field);

// Scalar readers: nullopt after reporting when the value is unusable.
// String readers never repeat the value in a message, so they are safe for
// secrets; the others quote the offending value (bounded in length).
std::optional<std::string> ReadString(const Field& f);
std::optional<std::string> ReadNonEmptyString(const Field& f);
std::optional<bool> ReadBool(const Field& f);
std::optional<std::int64_t> ReadInt(const Field& f, std::int64_t min, std::int64_t max);
std::optional<double> ReadFraction(const Field& f);  // 0..1
std::optional<Duration> ReadDuration(const Field& f, Duration min);
std::optional<std::uint64_t> ReadSize(const Field& f, std::uint64_t min, std::uint64_t max);

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};
std::optional<int> ReadEnumIndex(const Field& f, const std::vector<std::string_view>& names);
template <typename E, size_t N>
std::optional<E> ReadEnum(const Field& f, const EnumName<E> (&table)[N]) {
  std::vector<std::string_view> names;
  for (const auto& e : table) names.push_back(e.name);
  auto i = ReadEnumIndex(f, names);
  if (!i) return std::nullopt;
  return table[*i].value;
}

// Reads `key` from `m` into `*out` with `read` when present; leaves the
// default otherwise.
template <typename T, typename ReadFn>
void ReadOptional(const MapReader& m, std::string_view key, T* out, ReadFn read) {
  if (auto f = m.Get(key)) {
    if (auto v = read(*f)) *out = static_cast<T>(std::move(*v));
  }
}

// Parses `text` into a single YAML document. Syntax errors (yaml-cpp's, with
// a hint for tabs), unclosed quotes and extra documents are reported;
// nullopt then.
std::optional<YAML::Node> ParseDocument(std::string_view text, Diagnostics* diag);

}  // namespace ferry::config::internal
