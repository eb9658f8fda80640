#include "sim/xml.h"

#include <ctime>

#include <pugixml.hpp>

#include "sim/errors.h"

namespace ferry::sim {
namespace {

Status MalformedXml() {
  return S3Error(400, "MalformedXML",
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema");
}

std::tm Utc(Clock::time_point t) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#13;"; break;
      case '\n': out += "&#10;"; break;
      case '\t': out += "&#9;"; break;
      default:
        // Other control characters cannot appear in XML 1.0 text; S3 clients
        // ask for encoding-type=url when keys may hold them.
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "&#" + std::to_string(static_cast<int>(c)) + ";";
        } else {
          out += c;
        }
    }
  }
  return out;
}

XmlWriter::XmlWriter(std::string_view root) : root_(root) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out_ += root_;
  out_ += " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
}

XmlWriter& XmlWriter::Open(std::string_view name) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::Close(std::string_view name) {
  out_ += "</";
  out_ += name;
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::Element(std::string_view name, std::string_view text) {
  Open(name);
  out_ += XmlEscape(text);
  return Close(name);
}

std::string XmlWriter::Finish() {
  Close(root_);
  return std::move(out_);
}

std::string Iso8601(Clock::time_point t) {
  std::tm tm = Utc(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() %
            1000;
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

std::string HttpDate(Clock::time_point t) {
  std::tm tm = Utc(t);
  char buf[40];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string ErrorXml(std::string_view code, std::string_view message, std::string_view resource,
                     std::string_view request_id) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>";
  out += "<Code>" + XmlEscape(code) + "</Code>";
  out += "<Message>" + XmlEscape(message) + "</Message>";
  out += "<Resource>" + XmlEscape(resource) + "</Resource>";
  out += "<RequestId>" + XmlEscape(request_id) + "</RequestId>";
  out += "</Error>";
  return out;
}

Result<std::vector<CompletePart>> ParseCompleteMultipartUpload(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return MalformedXml();
  pugi::xml_node root = doc.child("CompleteMultipartUpload");
  if (!root) return MalformedXml();
  std::vector<CompletePart> parts;
  for (pugi::xml_node p : root.children("Part")) {
    CompletePart part;
    std::string num = p.child_value("PartNumber");
    try {
      std::size_t used = 0;
      part.number = std::stoi(num, &used);
      if (used != num.size()) return MalformedXml();
    } catch (const std::exception&) {
      return MalformedXml();
    }
    if (part.number < 1 || part.number > 10000) {
      return InvalidArgument("Part number must be an integer between 1 and 10000, inclusive");
    }
    part.etag = p.child_value("ETag");
    part.checksum_crc32c = p.child_value("ChecksumCRC32C");
    parts.push_back(std::move(part));
  }
  return parts;
}

Result<DeleteRequest> ParseDeleteObjects(std::string_view xml) {
  pugi::xml_document doc;
  // Keys are data: keep whitespace-only text and carriage returns as sent.
  unsigned opts = (pugi::parse_default | pugi::parse_ws_pcdata) & ~pugi::parse_eol;
  if (!doc.load_buffer(xml.data(), xml.size(), opts)) {
    return MalformedXml();
  }
  pugi::xml_node root = doc.child("Delete");
  if (!root) return MalformedXml();
  DeleteRequest req;
  std::string quiet = root.child_value("Quiet");
  req.quiet = quiet == "true" || quiet == "True";
  for (pugi::xml_node o : root.children("Object")) {
    if (!o.child("Key")) return MalformedXml();
    req.keys.emplace_back(o.child_value("Key"));
  }
  if (req.keys.empty() || req.keys.size() > 1000) return MalformedXml();
  return req;
}

}  // namespace ferry::sim
