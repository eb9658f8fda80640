#include "storage/file/key_codec.h"

namespace ferry::storage::filekeys {
namespace {

// Escaped bytes per component; 2 bytes stay free for a suffix.
constexpr std::size_t kBudget = kNameMax - 2;

bool MustEscape(unsigned char c, bool first) {
  if (c < 0x20 || c == 0x7f) return true;
  if (c == '%' || c == '/' || c == '\\') return true;
  return first && c == '.';
}

std::size_t EscapedLen(unsigned char c, bool first) { return MustEscape(c, first) ? 3 : 1; }

bool IsContinuationByte(unsigned char c) { return (c & 0xc0) == 0x80; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not canonical
}

std::string_view SuffixFor(Kind kind) {
  switch (kind) {
    case Kind::kDir:
      return kDirSuffix;
    case Kind::kChunk:
      return kChunkSuffix;
    case Kind::kObject:
      break;
  }
  return {};
}

// Unescapes a component body; nullopt when it is not a valid escape string.
std::optional<std::string> Unescape(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '%') {
      out.push_back(body[i]);
      continue;
    }
    if (i + 2 >= body.size()) return std::nullopt;
    int hi = HexValue(body[i + 1]);
    int lo = HexValue(body[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

std::vector<std::string_view> SplitKey(std::string_view key) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = key.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(key.substr(start));
      return out;
    }
    out.push_back(key.substr(start, slash - start));
    start = slash + 1;
  }
}

std::string EscapeBytes(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    auto c = static_cast<unsigned char>(raw[i]);
    if (MustEscape(c, i == 0)) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::vector<std::string> EncodeSegment(std::string_view segment, Kind kind) {
  std::vector<std::string> out;
  if (segment.empty()) {
    // "%d" alone for a directory keeps keys like "////" short as paths.
    out.push_back(kind == Kind::kDir ? std::string(kDirSuffix) : std::string(kEmptyToken));
    return out;
  }
  std::string whole = EscapeBytes(segment);
  if (whole.size() <= kBudget) {
    out.push_back(std::move(whole) + std::string(SuffixFor(kind)));
    return out;
  }
  // Too long for one name: cut greedily, never inside a UTF-8 character
  // (file systems that insist on valid UTF-8 names stay happy) unless the
  // bytes are not UTF-8 at all.
  std::size_t pos = 0;
  while (pos < segment.size()) {
    std::size_t end = pos;
    std::size_t used = 0;
    while (end < segment.size()) {
      std::size_t len = EscapedLen(static_cast<unsigned char>(segment[end]), end == pos);
      if (used + len > kBudget) break;
      used += len;
      ++end;
    }
    if (end < segment.size()) {
      std::size_t back = end;
      for (int i = 0;
           i < 3 && back > pos + 1 && IsContinuationByte(static_cast<unsigned char>(segment[back]));
           ++i) {
        --back;
      }
      if (!IsContinuationByte(static_cast<unsigned char>(segment[back]))) end = back;
    }
    bool last = end >= segment.size();
    out.push_back(EscapeBytes(segment.substr(pos, end - pos)) +
                  std::string(SuffixFor(last ? kind : Kind::kChunk)));
    pos = end;
  }
  return out;
}

std::string KeyToRelPath(std::string_view key) {
  std::vector<std::string_view> segs = SplitKey(key);
  std::string out;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    Kind kind = i + 1 == segs.size() ? Kind::kObject : Kind::kDir;
    for (const std::string& c : EncodeSegment(segs[i], kind)) {
      if (!out.empty()) out.push_back('/');
      out += c;
    }
  }
  return out;
}

std::string DirPrefixToRelPath(std::string_view dir_prefix) {
  std::string out;
  if (dir_prefix.empty()) return out;
  std::vector<std::string_view> segs = SplitKey(dir_prefix.substr(0, dir_prefix.size() - 1));
  for (std::string_view seg : segs) {
    for (const std::string& c : EncodeSegment(seg, Kind::kDir)) {
      if (!out.empty()) out.push_back('/');
      out += c;
    }
  }
  return out;
}

std::optional<DecodedName> DecodeComponent(std::string_view name) {
  if (name.empty() || name.size() > kNameMax) return std::nullopt;
  DecodedName d;
  std::string_view body = name;
  auto ends_with = [&](std::string_view s) {
    return body.size() >= s.size() && body.substr(body.size() - s.size()) == s;
  };
  if (ends_with(kDirSuffix)) {
    d.kind = Kind::kDir;
    body.remove_suffix(kDirSuffix.size());
  } else if (ends_with(kChunkSuffix)) {
    d.kind = Kind::kChunk;
    body.remove_suffix(kChunkSuffix.size());
  }
  if (body.empty()) {  // "%d": the empty directory segment
    if (d.kind != Kind::kDir) return std::nullopt;
    return d;
  }
  if (body == kEmptyToken) {  // "%_": the empty object segment
    if (d.kind != Kind::kObject) return std::nullopt;
    return d;
  }
  std::optional<std::string> raw = Unescape(body);
  if (!raw || EscapeBytes(*raw) != body) return std::nullopt;
  d.raw = std::move(*raw);
  return d;
}

std::optional<std::string> RelPathToKey(std::string_view rel_path) {
  if (rel_path.empty()) return std::nullopt;
  std::string key;
  std::string segment;
  std::vector<std::string> pieces;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = rel_path.find('/', start);
    bool last = slash == std::string_view::npos;
    std::string_view comp = rel_path.substr(start, last ? std::string_view::npos : slash - start);
    std::optional<DecodedName> d = DecodeComponent(comp);
    if (!d) return std::nullopt;
    if (last && d->kind != Kind::kObject) return std::nullopt;
    if (!last && d->kind == Kind::kObject) return std::nullopt;
    segment += d->raw;
    pieces.emplace_back(comp);
    if (d->kind != Kind::kChunk) {
      // A segment must be stored exactly the way EncodeSegment stores it.
      if (EncodeSegment(segment, d->kind) != pieces) return std::nullopt;
      key += segment;
      if (!last) key.push_back('/');
      segment.clear();
      pieces.clear();
    }
    if (last) break;
    start = slash + 1;
  }
  return key;
}

}  // namespace ferry::storage::filekeys
