#include "sim/xml.h"

#include <gtest/gtest.h>

namespace ferry::sim {
namespace {

TEST(XmlTest, EscapesText) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  std::string doc = XmlWriter("R").Element("Key", "x & y").Finish();
  EXPECT_NE(doc.find("<Key>x &amp; y</Key></R>"), std::string::npos);
}

TEST(XmlTest, ErrorDocument) {
  std::string e = ErrorXml("NoSuchKey", "gone", "/b/k", "RID");
  EXPECT_NE(e.find("<Code>NoSuchKey</Code>"), std::string::npos);
  EXPECT_NE(e.find("<RequestId>RID</RequestId>"), std::string::npos);
}

TEST(XmlTest, ParsesCompleteMultipartUpload) {
  auto parts = ParseCompleteMultipartUpload(
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag></Part>"
      "<Part><ETag>b</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>");
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].etag, "\"a\"");
  EXPECT_EQ((*parts)[1].number, 2);
  EXPECT_EQ(ParseCompleteMultipartUpload("<nope").status().error().code, "MalformedXML");
  EXPECT_EQ(ParseCompleteMultipartUpload(
                "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part>"
                "</CompleteMultipartUpload>")
                .status()
                .error()
                .code,
            "MalformedXML");
}

TEST(XmlTest, ParsesDeleteKeepingWhitespaceKeys) {
  auto d = ParseDeleteObjects(
      "<Delete><Quiet>true</Quiet><Object><Key> </Key></Object>"
      "<Object><Key>a&amp;b</Key></Object></Delete>");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->quiet);
  EXPECT_EQ(d->keys, (std::vector<std::string>{" ", "a&b"}));
}

}  // namespace
}  // namespace ferry::sim
