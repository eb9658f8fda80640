#include "storage/manifest/keys.h"

#include "storage/manifest/encoding.h"

namespace ferry::manifest::keys {
namespace {

using encoding::GetFixed32BE;
using encoding::GetLengthPrefixed;
using encoding::PutFixed32BE;
using encoding::PutLengthPrefixed;

constexpr char kUploadHeaderTag = 0x00;
constexpr char kUploadPartTag = 0x01;

}  // namespace

std::string ScopePrefix(std::string_view route, std::string_view dest) {
  std::string k;
  k.reserve(route.size() + dest.size() + 4);
  PutLengthPrefixed(&k, route);
  PutLengthPrefixed(&k, dest);
  return k;
}

std::string ObjectKey(std::string_view route, std::string_view dest, std::string_view key) {
  std::string k = ScopePrefix(route, dest);
  k.append(key);
  return k;
}

bool ParseObjectKey(std::string_view k, std::string_view* route, std::string_view* dest,
                    std::string_view* key) {
  if (!GetLengthPrefixed(&k, route) || !GetLengthPrefixed(&k, dest)) return false;
  *key = k;
  return true;
}

std::string UploadPrefix(std::string_view route, std::string_view dest, std::string_view key) {
  std::string k = ScopePrefix(route, dest);
  PutLengthPrefixed(&k, key);
  return k;
}

std::string UploadHeaderKey(std::string_view route, std::string_view dest, std::string_view key) {
  std::string k = UploadPrefix(route, dest, key);
  k.push_back(kUploadHeaderTag);
  return k;
}

std::string UploadPartKey(std::string_view route, std::string_view dest, std::string_view key,
                          std::uint32_t part_number) {
  std::string k = UploadPrefix(route, dest, key);
  k.push_back(kUploadPartTag);
  PutFixed32BE(&k, part_number);
  return k;
}

bool ParseUploadKey(std::string_view k, std::string_view* route, std::string_view* dest,
                    std::string_view* key, std::uint32_t* part_number) {
  if (!GetLengthPrefixed(&k, route) || !GetLengthPrefixed(&k, dest) ||
      !GetLengthPrefixed(&k, key) || k.empty()) {
    return false;
  }
  char tag = k.front();
  k.remove_prefix(1);
  if (tag == kUploadHeaderTag) {
    *part_number = 0;
    return k.empty();
  }
  if (tag != kUploadPartTag || !GetFixed32BE(&k, part_number)) return false;
  return k.empty() && *part_number != 0;
}

std::string ContentPrefix(std::string_view hash, std::string_view dest) {
  std::string k;
  PutLengthPrefixed(&k, hash);
  PutLengthPrefixed(&k, dest);
  return k;
}

std::string ContentKey(std::string_view hash, std::string_view dest, std::string_view key) {
  std::string k = ContentPrefix(hash, dest);
  k.append(key);
  return k;
}

std::string MetaKey(std::string_view name) {
  std::string k(1, kMetaUserTag);
  k.append(name);
  return k;
}

}  // namespace ferry::manifest::keys
