// Key layouts of the manifest's column families. Internal to storage/manifest.
//
//   objects:  lp(route) lp(dest) key
//   uploads:  lp(route) lp(dest) lp(key) 0x00                  upload header
//             lp(route) lp(dest) lp(key) 0x01 be32(part)       finished part
//   content:  lp(hash) lp(dest) key                            (value empty)
//   meta:     "!" name   internal (schema version)
//             "=" name   entries of Get/PutMeta
// lp(x) = varint(len) x. A length-prefixed sequence is prefix-free, so the
// rows of one (route, dest) are exactly those starting with its prefix, and
// the raw object key as the suffix makes them sort in the key's byte order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::manifest::keys {

std::string ScopePrefix(std::string_view route, std::string_view dest);
std::string ObjectKey(std::string_view route, std::string_view dest, std::string_view key);
// Splits an objects-CF key. False when it is not one.
bool ParseObjectKey(std::string_view k, std::string_view* route, std::string_view* dest,
                    std::string_view* key);

// Every row (header and parts) of one upload starts with this.
std::string UploadPrefix(std::string_view route, std::string_view dest, std::string_view key);
std::string UploadHeaderKey(std::string_view route, std::string_view dest, std::string_view key);
std::string UploadPartKey(std::string_view route, std::string_view dest, std::string_view key,
                          std::uint32_t part_number);
// Splits an uploads-CF key. *part_number is 0 for a header. False when malformed.
bool ParseUploadKey(std::string_view k, std::string_view* route, std::string_view* dest,
                    std::string_view* key, std::uint32_t* part_number);

std::string ContentPrefix(std::string_view hash, std::string_view dest);
std::string ContentKey(std::string_view hash, std::string_view dest, std::string_view key);

inline constexpr std::string_view kSchemaVersionKey = "!schema_version";
std::string MetaKey(std::string_view name);  // "=" name
inline constexpr char kMetaUserTag = '=';

}  // namespace ferry::manifest::keys
