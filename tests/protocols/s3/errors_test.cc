// Error classification and the Status built from S3 error answers.
#include "protocols/s3/errors.h"

#include <gtest/gtest.h>

namespace ferry::s3 {
namespace {

struct Row {
  int status;
  const char* code;
  ErrorClass expected;
};

TEST(ClassifyError, Table) {
  const Row rows[] = {
      {404, "NoSuchKey", ErrorClass::kNotFound},
      {404, "NoSuchUpload", ErrorClass::kNotFound},
      {404, "NoSuchBucket", ErrorClass::kNotFound},
      {404, "", ErrorClass::kNotFound},
      {404, "NotFound", ErrorClass::kNotFound},
      {412, "PreconditionFailed", ErrorClass::kPrecondition},
      {412, "", ErrorClass::kPrecondition},
      {304, "", ErrorClass::kPrecondition},
      {503, "SlowDown", ErrorClass::kThrottled},
      {503, "", ErrorClass::kThrottled},
      {503, "ServiceUnavailable", ErrorClass::kThrottled},
      {429, "", ErrorClass::kThrottled},
      {400, "ThrottlingException", ErrorClass::kThrottled},
      {403, "RequestTimeTooSkewed", ErrorClass::kClockSkew},
      {403, "AccessDenied", ErrorClass::kAuth},
      {403, "SignatureDoesNotMatch", ErrorClass::kAuth},
      {403, "InvalidAccessKeyId", ErrorClass::kAuth},
      {400, "ExpiredToken", ErrorClass::kAuth},
      {400, "InvalidToken", ErrorClass::kAuth},
      {401, "", ErrorClass::kAuth},
      {403, "", ErrorClass::kAuth},
      {500, "InternalError", ErrorClass::kRetryable},
      {500, "", ErrorClass::kRetryable},
      {502, "", ErrorClass::kRetryable},
      {504, "", ErrorClass::kRetryable},
      {400, "RequestTimeout", ErrorClass::kRetryable},
      {400, "BadDigest", ErrorClass::kRetryable},
      {400, "IncompleteBody", ErrorClass::kRetryable},
      {409, "OperationAborted", ErrorClass::kRetryable},
      {200, "InternalError", ErrorClass::kRetryable},
      {416, "InvalidRange", ErrorClass::kInvalidArgument},
      {416, "", ErrorClass::kInvalidArgument},
      {400, "InvalidArgument", ErrorClass::kFatal},
      {400, "InvalidPart", ErrorClass::kFatal},
      {400, "EntityTooSmall", ErrorClass::kFatal},
      {400, "MalformedXML", ErrorClass::kFatal},
      {409, "BucketAlreadyExists", ErrorClass::kFatal},
      {405, "MethodNotAllowed", ErrorClass::kFatal},
      {301, "PermanentRedirect", ErrorClass::kFatal},
      {400, "", ErrorClass::kFatal},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(ClassifyError(r.status, r.code), r.expected)
        << r.status << " " << r.code << " -> " << ErrorClassName(ClassifyError(r.status, r.code));
  }
}

TEST(ErrorFromResponse, ParsesErrorDocument) {
  const char* body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
      "<Key>a b</Key><RequestId>4442587FB7D0A2F9</RequestId><HostId>x</HostId></Error>";
  Status s = ErrorFromResponse(404, body, "");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error_class(), ErrorClass::kNotFound);
  EXPECT_EQ(s.error().code, "NoSuchKey");
  EXPECT_EQ(s.error().message, "The specified key does not exist.");
  EXPECT_EQ(s.error().http_status, 404);
  EXPECT_EQ(s.error().request_id, "4442587FB7D0A2F9");
  // The header's request id wins over the body's.
  EXPECT_EQ(ErrorFromResponse(404, body, "HDR").error().request_id, "HDR");
}

TEST(ErrorFromResponse, EmptyBodyUsesStatus) {
  Status s = ErrorFromResponse(404, "", "RID");
  EXPECT_EQ(s.error().code, "NotFound");
  EXPECT_EQ(s.error_class(), ErrorClass::kNotFound);
  EXPECT_EQ(s.error().request_id, "RID");
  EXPECT_NE(s.error().message.find("no error body"), std::string::npos);
  EXPECT_EQ(ErrorFromResponse(403, "", "").error().code, "Forbidden");
  EXPECT_EQ(ErrorFromResponse(412, "", "").error_class(), ErrorClass::kPrecondition);
  EXPECT_EQ(ErrorFromResponse(503, "", "").error_class(), ErrorClass::kThrottled);
  EXPECT_EQ(ErrorFromResponse(599, "", "").error_class(), ErrorClass::kRetryable);
}

TEST(ErrorFromResponse, NonXmlBodyIsQuotedShortly) {
  std::string html = "<html><body>\n<h1>502 Bad Gateway</h1>\n" + std::string(5000, 'x') +
                     "</body></html>";
  Status s = ErrorFromResponse(502, html, "");
  EXPECT_EQ(s.error_class(), ErrorClass::kRetryable);
  EXPECT_EQ(s.error().code, "BadGateway");
  EXPECT_NE(s.error().message.find("502 Bad Gateway"), std::string::npos);
  EXPECT_LT(s.error().message.size(), 300u);
  EXPECT_EQ(s.error().message.find('\n'), std::string::npos);
  // Truncated XML falls back the same way.
  Status t = ErrorFromResponse(500, "<Error><Code>Internal", "");
  EXPECT_EQ(t.error().code, "InternalError");
  EXPECT_EQ(t.error_class(), ErrorClass::kRetryable);
}

// Ceph RGW 16 sends most errors with an empty <Message>: the error still
// names its code and HTTP status, and is classified by the code.
TEST(ErrorFromResponse, RgwEmptyMessage) {
  Status s = ErrorFromResponse(
      400,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidLocationConstraint"
      "</Code><Message></Message><BucketName>b</BucketName><RequestId>tx0-1</RequestId>"
      "<HostId>h</HostId></Error>",
      "");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "InvalidLocationConstraint");
  EXPECT_EQ(s.error().message.rfind("HTTP 400 without an error message (", 0), 0u);
  EXPECT_NE(s.error().message.find("api_name"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().request_id, "tx0-1");
  EXPECT_EQ(s.error_class(), ErrorClass::kFatal);
  Status plain = ErrorFromResponse(404, "<Error><Code>NoSuchBucket</Code><Message/></Error>", "");
  EXPECT_EQ(plain.error().message, "HTTP 404 without an error message");
  EXPECT_EQ(plain.error_class(), ErrorClass::kNotFound);
  EXPECT_NE(s.ToString().find("InvalidLocationConstraint"), std::string::npos) << s.ToString();
}

TEST(ErrorFromResponse, SignatureMismatchKeepsOnlyCodeAndMessage) {
  const char* body =
      "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated "
      "does not match</Message><AWSAccessKeyId>AKID</AWSAccessKeyId><StringToSign>STS-SECRETISH"
      "</StringToSign><SignatureProvided>deadbeef</SignatureProvided>"
      "<CanonicalRequest>x-amz-security-token:TOKEN</CanonicalRequest></Error>";
  Status s = ErrorFromResponse(403, body, "");
  EXPECT_EQ(s.error_class(), ErrorClass::kAuth);
  std::string text = s.ToString();
  EXPECT_EQ(text.find("deadbeef"), std::string::npos);
  EXPECT_EQ(text.find("TOKEN"), std::string::npos);
  EXPECT_EQ(text.find("STS-SECRETISH"), std::string::npos);
}

}  // namespace
}  // namespace ferry::s3
