// Low-level byte encoding for manifest keys and values: varints, zig-zag
// signed integers, length-prefixed strings, and a small tagged-field format
// (protobuf-like) that lets a record gain fields without breaking readers.
//
// Every decoder takes untrusted bytes (a corrupt or foreign database) and
// returns false instead of reading out of bounds; nothing here allocates more
// than the input size.
//
// Tagged field wire format, one field after another:
//   varint(field_number << 3 | wire_type) then
//     kVarint:    varint
//     kBytes:     varint(length) + bytes
//     kHex:       varint(length) + bytes; the value is those bytes as lower-case
//                 hex (a content hash or ETag stored in half the space)
//     kQuotedHex: like kHex, and the value is wrapped in double quotes
//                 (S3 ETags as returned on the wire)
// A reader skips fields it does not know, so newer writers may add fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::manifest::encoding {

void PutVarint64(std::string* dst, std::uint64_t v);
// Consumes a varint from the front of *in. False when truncated or longer
// than 10 bytes / overflowing 64 bits.
bool GetVarint64(std::string_view* in, std::uint64_t* v);

inline std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void PutLengthPrefixed(std::string* dst, std::string_view s);
bool GetLengthPrefixed(std::string_view* in, std::string_view* out);

// Big-endian fixed 32-bit, so numbers sort in byte order inside keys.
void PutFixed32BE(std::string* dst, std::uint32_t v);
bool GetFixed32BE(std::string_view* in, std::uint32_t* v);

// The smallest string greater than every string that starts with `prefix`,
// or "" when there is none (prefix is all 0xff bytes): an exclusive upper
// bound for a prefix scan.
std::string PrefixSuccessor(std::string_view prefix);

enum class WireType : std::uint8_t { kVarint = 0, kBytes = 1, kHex = 2, kQuotedHex = 3 };

// Appends tagged fields to a buffer.
class FieldWriter {
 public:
  explicit FieldWriter(std::string* dst) : dst_(dst) {}
  void Varint(std::uint32_t field, std::uint64_t v);
  void Signed(std::uint32_t field, std::int64_t v) { Varint(field, ZigZag(v)); }
  // Chooses the most compact wire type for `s` (packed hex when it is
  // lower-case hex of even length, optionally in quotes). Empty strings are
  // written too, so "present but empty" survives.
  void String(std::uint32_t field, std::string_view s);

 private:
  std::string* dst_;
};

// Reads tagged fields one at a time.
//   FieldReader r(bytes);
//   while (r.Next()) { switch (r.field()) { ... r.varint() / r.string() } }
//   if (!r.ok()) -> corrupt
class FieldReader {
 public:
  explicit FieldReader(std::string_view in) : in_(in) {}
  // Advances to the next field; false at the end or on malformed input
  // (then ok() is false).
  bool Next();
  bool ok() const { return ok_; }
  std::uint32_t field() const { return field_; }
  bool is_varint() const { return type_ == WireType::kVarint; }
  // REQUIRES: is_varint().
  std::uint64_t varint() const { return varint_; }
  std::int64_t signed_varint() const { return UnZigZag(varint_); }
  // REQUIRES: !is_varint(). The decoded string value (hex expanded).
  const std::string& string() const { return string_; }

 private:
  std::string_view in_;
  bool ok_ = true;
  std::uint32_t field_ = 0;
  WireType type_ = WireType::kVarint;
  std::uint64_t varint_ = 0;
  std::string string_;
};

}  // namespace ferry::manifest::encoding
