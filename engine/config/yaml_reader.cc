// See yaml_reader.h.
#include "engine/config/yaml_reader.h"

#include <charconv>
#include <cmath>

#include "engine/config/checks.h"

namespace ferry::config::internal {
namespace {

// Where to point for `node`: its own mark when yaml-cpp knows it; a null
// value's mark is that of the next token, so the key's position is used.
Pos PosOf(const YAML::Node& node, Pos fallback) {
  if (node.IsNull()) return fallback;
  const YAML::Mark m = node.Mark();
  if (m.is_null() || m.line < 0 || m.column < 0) return fallback;
  return Pos{m.line + 1, m.column + 1};
}

std::string JoinPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

// A scalar's text, or nullopt after reporting a wrong kind. Null reads as "".
std::optional<std::string> ScalarText(const Field& f, std::string_view expected) {
  if (f.node.IsNull()) return std::string();
  if (!f.node.IsScalar()) {
    f.Error("expected " + std::string(expected) + ", got " + std::string(KindName(f.node)));
    return std::nullopt;
  }
  return f.node.Scalar();
}

// The value for messages: quoted and bounded, or hidden for secrets.
std::string Shown(const std::string& text) { return Quote(text, 80); }

}  // namespace

void Diagnostics::Error(Pos pos, std::string_view path, std::string message) {
  if (errors_.size() >= kMaxErrors) {
    ++dropped_;
    return;
  }
  errors_.push_back(
      Diagnostic{source_, pos.line, pos.column, std::string(path), std::move(message)});
}

void Diagnostics::Warning(Pos pos, std::string_view path, std::string message) {
  warnings_.push_back(
      Diagnostic{source_, pos.line, pos.column, std::string(path), std::move(message)}.ToString());
}

std::string Diagnostics::Summary() const {
  std::string out;
  for (const Diagnostic& d : errors_) {
    if (!out.empty()) out += '\n';
    out += d.ToString();
  }
  if (dropped_ > 0) out += "\n(" + std::to_string(dropped_) + " more errors not shown)";
  return out;
}

Field Field::Child(std::string_view key, const YAML::Node& child, Pos key_pos) const {
  return Field{child, JoinPath(path, key), PosOf(child, key_pos), diag};
}

Field Field::Key(const YAML::Node& key) const { return Field{key, path, PosOf(key, pos), diag}; }

Field Field::Element(size_t index, const YAML::Node& child) const {
  return Field{child, path + "[" + std::to_string(index) + "]", PosOf(child, pos), diag};
}

std::string_view KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "an undefined value";
  }
}

MapReader::MapReader(const Field& field, std::vector<std::string_view> known_keys) : field_(field) {
  if (field.node.IsNull()) return;
  if (!field.node.IsMap()) {
    field.Error("expected a map, got " + std::string(KindName(field.node)));
    ok_ = false;
    return;
  }
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    // A copy: yaml-cpp iterators hand out a temporary pair.
    const YAML::Node key = it->first;
    const Field key_field = field.Key(key);
    if (!key.IsScalar()) {
      key_field.Error("keys must be plain names, got " + std::string(KindName(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    bool known = false;
    for (std::string_view k : known_keys) known = known || k == name;
    if (!known) {
      std::string msg = "unknown key " + Shown(name);
      std::string_view guess = Suggest(name, known_keys);
      if (!guess.empty()) {
        msg += " (did you mean \"" + std::string(guess) + "\"?)";
      } else {
        msg += " (expected one of: " + Join(known_keys, ", ") + ")";
      }
      key_field.Error(std::move(msg));
      continue;
    }
    bool duplicate = false;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].first == name) {
        field.diag->Error(
            key_field.pos, JoinPath(field.path, name),
            "duplicate key (first given at line " + std::to_string(key_lines_[i]) + ")");
        duplicate = true;
        break;
      }
    }
    if (!duplicate) {
      entries_.emplace_back(name, field.Child(name, it->second, key_field.pos));
      key_lines_.push_back(key_field.pos.line);
    }
  }
}

std::optional<Field> MapReader::Get(std::string_view key) const {
  for (const auto& [name, f] : entries_) {
    if (name == key) return f;
  }
  return std::nullopt;
}

std::optional<Field> MapReader::Require(std::string_view key) const {
  auto f = Get(key);
  if (!f && ok_) field_.Error("missing required key \"" + std::string(key) + "\"");
  return f;
}

std::vector<Field> ReadList(const Field& field) {
  std::vector<Field> out;
  if (field.node.IsNull()) return out;
  if (!field.node.IsSequence()) {
    field.Error("expected a list, got " + std::string(KindName(field.node)));
    return out;
  }
  size_t i = 0;
  for (auto it = field.node.begin(); it != field.node.end(); ++it, ++i) {
    out.push_back(field.Element(i, *it));
  }
  return out;
}

std::optional<std::string> ReadString(const Field& f) { return ScalarText(f, "a string"); }

std::optional<std::string> ReadNonEmptyString(const Field& f) {
  auto s = ScalarText(f, "a string");
  if (s && s->empty()) {
    f.Error("must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<bool> ReadBool(const Field& f) {
  auto s = ScalarText(f, "true or false");
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "True" || *s == "TRUE") return true;
  if (*s == "false" || *s == "False" || *s == "FALSE") return false;
  f.Error("expected true or false, got " + Shown(*s));
  return std::nullopt;
}

std::optional<std::int64_t> ReadInt(const Field& f, std::int64_t min, std::int64_t max) {
  auto s = ScalarText(f, "an integer");
  if (!s) return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (s->empty() || ec != std::errc() || ptr != s->data() + s->size()) {
    f.Error("expected an integer, got " + Shown(*s));
    return std::nullopt;
  }
  if (v < min || v > max) {
    f.Error("must be from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
            std::to_string(v));
    return std::nullopt;
  }
  return v;
}

std::optional<double> ReadFraction(const Field& f) {
  auto s = ScalarText(f, "a number from 0 to 1");
  if (!s) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (s->empty() || ec != std::errc() || ptr != s->data() + s->size() || !std::isfinite(v)) {
    f.Error("expected a number from 0 to 1 (e.g. 0.1), got " + Shown(*s));
    return std::nullopt;
  }
  if (v < 0 || v > 1) {
    f.Error("must be from 0 to 1, got " + *s);
    return std::nullopt;
  }
  return v;
}

std::optional<Duration> ReadDuration(const Field& f, Duration min) {
  auto s = ScalarText(f, "a duration such as \"15m\"");
  if (!s) return std::nullopt;
  auto d = ParseDuration(*s);
  if (!d) {
    f.Error("bad duration " + Shown(*s) +
            " (use a number with a unit: ms, s, m, h; e.g. \"250ms\", \"90s\", \"1h30m\")");
    return std::nullopt;
  }
  if (*d < min) {
    f.Error("must be at least " + FormatDuration(min) + ", got " + Shown(*s));
    return std::nullopt;
  }
  return d;
}

std::optional<std::uint64_t> ReadSize(const Field& f, std::uint64_t min, std::uint64_t max) {
  auto s = ScalarText(f, "a size such as \"16MiB\"");
  if (!s) return std::nullopt;
  auto v = ParseSize(*s);
  if (!v) {
    f.Error("bad size " + Shown(*s) +
            " (use bytes or a number with a unit: KiB, MiB, GiB, TiB, or KB, MB, GB, TB)");
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    f.Error("must be from " + FormatSize(min) + " to " + FormatSize(max) + ", got " + Shown(*s));
    return std::nullopt;
  }
  return v;
}

std::optional<int> ReadEnumIndex(const Field& f, const std::vector<std::string_view>& names) {
  const std::string expected = "one of: " + Join(names, ", ");
  auto s = ScalarText(f, expected);
  if (!s) return std::nullopt;
  for (size_t i = 0; i < names.size(); ++i) {
    if (*s == names[i]) return static_cast<int>(i);
  }
  std::string msg = "unknown value " + Shown(*s) + ", expected " + expected;
  std::string_view guess = Suggest(*s, names);
  if (!guess.empty()) msg += " (did you mean \"" + std::string(guess) + "\"?)";
  f.Error(std::move(msg));
  return std::nullopt;
}

}  // namespace ferry::config::internal
