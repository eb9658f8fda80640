#include "storage/manifest/encoding.h"

namespace ferry::manifest::encoding {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not packed: it would not round-trip
}

bool IsPackableHex(std::string_view s) {
  if (s.empty() || s.size() % 2 != 0) return false;
  for (char c : s) {
    if (HexValue(c) < 0) return false;
  }
  return true;
}

void PackHex(std::string_view hex, std::string* dst) {
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    dst->push_back(static_cast<char>(HexValue(hex[i]) << 4 | HexValue(hex[i + 1])));
  }
}

void UnpackHex(std::string_view bytes, std::string* dst) {
  for (unsigned char b : bytes) {
    dst->push_back(kHexDigits[b >> 4]);
    dst->push_back(kHexDigits[b & 0xf]);
  }
}

}  // namespace

void PutVarint64(std::string* dst, std::uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

bool GetVarint64(std::string_view* in, std::uint64_t* v) {
  std::uint64_t result = 0;
  for (std::size_t i = 0; i < in->size() && i < 10; ++i) {
    std::uint64_t byte = static_cast<unsigned char>((*in)[i]);
    if (i == 9 && byte > 1) return false;  // more than 64 bits
    result |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      in->remove_prefix(i + 1);
      *v = result;
      return true;
    }
  }
  return false;
}

void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s);
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* out) {
  std::uint64_t len = 0;
  if (!GetVarint64(in, &len) || len > in->size()) return false;
  *out = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

void PutFixed32BE(std::string* dst, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(v >> shift));
}

bool GetFixed32BE(std::string_view* in, std::uint32_t* v) {
  if (in->size() < 4) return false;
  std::uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r = (r << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(4);
  *v = r;
  return true;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    unsigned char last = static_cast<unsigned char>(s.back());
    if (last != 0xff) {
      s.back() = static_cast<char>(last + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}

void FieldWriter::Varint(std::uint32_t field, std::uint64_t v) {
  PutVarint64(
      dst_, static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(WireType::kVarint));
  PutVarint64(dst_, v);
}

void FieldWriter::String(std::uint32_t field, std::string_view s) {
  WireType type = WireType::kBytes;
  std::string_view payload = s;
  if (s.size() >= 4 && s.front() == '"' && s.back() == '"' &&
      IsPackableHex(s.substr(1, s.size() - 2))) {
    type = WireType::kQuotedHex;
    payload = s.substr(1, s.size() - 2);
  } else if (IsPackableHex(s)) {
    type = WireType::kHex;
  }
  PutVarint64(dst_, static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(type));
  if (type == WireType::kBytes) {
    PutLengthPrefixed(dst_, payload);
    return;
  }
  PutVarint64(dst_, payload.size() / 2);
  PackHex(payload, dst_);
}

bool FieldReader::Next() {
  if (!ok_ || in_.empty()) return false;
  std::uint64_t tag = 0;
  if (!GetVarint64(&in_, &tag) || (tag >> 3) > UINT32_MAX || (tag & 7) > 3) {
    ok_ = false;
    return false;
  }
  field_ = static_cast<std::uint32_t>(tag >> 3);
  type_ = static_cast<WireType>(tag & 7);
  if (type_ == WireType::kVarint) {
    if (!GetVarint64(&in_, &varint_)) ok_ = false;
    return ok_;
  }
  std::string_view payload;
  if (!GetLengthPrefixed(&in_, &payload)) {
    ok_ = false;
    return false;
  }
  string_.clear();
  switch (type_) {
    case WireType::kBytes:
      string_.assign(payload);
      break;
    case WireType::kHex:
      UnpackHex(payload, &string_);
      break;
    case WireType::kQuotedHex:
      string_.push_back('"');
      UnpackHex(payload, &string_);
      string_.push_back('"');
      break;
    case WireType::kVarint:
      break;
  }
  return true;
}

}  // namespace ferry::manifest::encoding
