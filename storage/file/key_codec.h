// Key codec of the file backend: how an object key becomes a relative path
// under the backend root, and back. Internal to storage/file (and its tests);
// the scheme itself is described for users in file_backend.h.
//
// The mapping is a bijection between keys and the paths the backend creates:
// Encode* functions define the canonical form, and every Decode* function
// re-encodes what it decoded and rejects any name that is not canonical, so a
// stray file placed in the tree can never alias a key or another name.
//
// Each '/'-separated key segment is stored as one or more path components:
//   - bytes outside printable ASCII below 0x80, '%', '/' and '\' are escaped
//     as "%XX" (upper-case hex); a leading '.' of a component is escaped too,
//     so no component is ".", ".." or hidden (".ferry" stays ours);
//   - a directory component ends in "%d"; an object component has no suffix,
//     so object "a" (file "a") and objects under "a/" (dir "a%d") coexist;
//   - the empty segment ("a//b", "/lead", "dir/") is "%d" as a directory
//     and "%_" as an object (the key's last segment);
//   - a segment whose encoding does not fit NAME_MAX is split into pieces at
//     UTF-8 character boundaries; every piece but the last is a directory
//     ending in "%+" ("continued below").
// '%' followed by '_', 'd' or '+' never occurs in an escaped byte string
// (escapes use upper-case hex digits only), so suffixes are unambiguous.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::storage::filekeys {

// Longest file-name component we create (NAME_MAX on Linux file systems).
inline constexpr std::size_t kNameMax = 255;
inline constexpr std::string_view kDirSuffix = "%d";
inline constexpr std::string_view kChunkSuffix = "%+";
inline constexpr std::string_view kEmptyToken = "%_";

enum class Kind { kObject, kDir, kChunk };

// Splits a key at every '/'; "a//b/" -> {"a", "", "b", ""}.
std::vector<std::string_view> SplitKey(std::string_view key);

// Escapes `raw` for use as (part of) one path component.
std::string EscapeBytes(std::string_view raw);

// The components storing one key segment whose last piece is of `kind`
// (kObject or kDir). Every component is at most kNameMax bytes.
std::vector<std::string> EncodeSegment(std::string_view segment, Kind kind);

// The relative path of an object ("a%d/b"); REQUIRES: key is not empty.
std::string KeyToRelPath(std::string_view key);
// The relative path of the directory holding keys that start with
// `dir_prefix`, which is empty or ends in '/' ("a/b/" -> "a%d/b%d").
std::string DirPrefixToRelPath(std::string_view dir_prefix);

struct DecodedName {
  Kind kind = Kind::kObject;
  std::string raw;  // the decoded bytes (a piece of a segment for kChunk)
};
// Decodes one directory entry name; nullopt when it is not a canonical
// component (foreign or internal files), which listings skip.
std::optional<DecodedName> DecodeComponent(std::string_view name);

// Inverse of KeyToRelPath; nullopt for any path KeyToRelPath cannot produce.
std::optional<std::string> RelPathToKey(std::string_view rel_path);

}  // namespace ferry::storage::filekeys
