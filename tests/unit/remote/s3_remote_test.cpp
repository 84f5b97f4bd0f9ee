// The S3 backend's pure parts: settings from URL/options/environment/AWS files, and the XML
// answers it reads. Requests themselves are tested against moto_server (e2e/test_remote_s3.py).
#include "dvx/remote/s3_remote.h"

#include <gtest/gtest.h>

#include "../platform/test_temp_dir.h"
#include "dvx/remote/remote.h"

namespace dvx::remote::s3 {
namespace {

using dvx::testing::TempDir;
using Env = std::map<std::string, std::string>;

std::function<std::optional<std::string>(const char*)> env_of(const Env& e) {
  return [e](const char* k) -> std::optional<std::string> {
    auto it = e.find(k);
    if (it == e.end()) return std::nullopt;
    return it->second;
  };
}

TEST(S3Settings, UrlAndOptionsWin) {
  Env env = {{"AWS_ACCESS_KEY_ID", "envid"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_REGION", "eu-west-1"}};
  RemoteOptions o = {{"access_key_id", "optid"}, {"secret_access_key", "optsecret"}, {"session_token", "tok"},
                     {"endpointurl", "http://127.0.0.1:5000/"}, {"region", "us-west-2"}, {"acl", "private"}};
  auto s = resolve_settings("s3://bucket/some/prefix/", o, env_of(env));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->bucket, "bucket");
  EXPECT_EQ(s->prefix, "some/prefix");
  EXPECT_EQ(s->endpoint, "http://127.0.0.1:5000");
  EXPECT_EQ(s->region, "us-west-2");
  EXPECT_EQ(s->credentials.access_key, "optid");
  EXPECT_EQ(s->credentials.secret_key, "optsecret");
  EXPECT_EQ(s->credentials.session_token, "tok");
  ASSERT_EQ(s->upload_headers.size(), 1u);
  EXPECT_EQ(s->upload_headers[0].first, "x-amz-acl");
}

TEST(S3Settings, EnvironmentThenDefaults) {
  Env env = {{"AWS_ACCESS_KEY_ID", "envid"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_SESSION_TOKEN", "t"},
             {"AWS_DEFAULT_REGION", "eu-west-1"}, {"HOME", "/nonexistent"}};
  auto s = resolve_settings("s3://b", {}, env_of(env));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->prefix, "");
  EXPECT_EQ(s->credentials.access_key, "envid");
  EXPECT_EQ(s->credentials.session_token, "t");
  EXPECT_EQ(s->region, "eu-west-1");
  EXPECT_EQ(s->endpoint, "https://s3.eu-west-1.amazonaws.com");
  auto plain = resolve_settings("s3://b", {{"use_ssl", "false"}}, env_of(env));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->endpoint, "http://s3.eu-west-1.amazonaws.com");
}

TEST(S3Settings, ProfileFromAwsFiles) {
  TempDir dir;
  dvx::testing::write_file(dir / ".aws/credentials",
                           "[default]\naws_access_key_id = defid\naws_secret_access_key = defsecret\n"
                           "[work]\naws_access_key_id = workid\naws_secret_access_key = worksecret\n");
  dvx::testing::write_file(dir / ".aws/config", "[default]\nregion = ap-south-1\n[profile work]\nregion = sa-east-1\n");
  Env env = {{"HOME", dir.path()}};
  auto d = resolve_settings("s3://b/p", {}, env_of(env));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->credentials.access_key, "defid");
  EXPECT_EQ(d->region, "ap-south-1");
  auto w = resolve_settings("s3://b/p", {{"profile", "work"}}, env_of(env));
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->credentials.access_key, "workid");
  EXPECT_EQ(w->credentials.secret_key, "worksecret");
  EXPECT_EQ(w->region, "sa-east-1");
  env["AWS_PROFILE"] = "work";
  auto e = resolve_settings("s3://b/p", {}, env_of(env));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->credentials.access_key, "workid");
  // credentialpath points elsewhere.
  dvx::testing::write_file(dir / "creds", "[default]\naws_access_key_id = fileid\naws_secret_access_key = filesecret\n");
  auto c = resolve_settings("s3://b/p", {{"credentialpath", dir / "creds"}, {"profile", "default"}}, env_of({{"HOME", dir.path()}}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->credentials.access_key, "fileid");
}

TEST(S3Settings, MissingCredentialsSayWhereToSetThemWithoutSecrets) {
  auto s = resolve_settings("s3://b/p", {}, env_of({{"HOME", "/nonexistent"}}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::auth);
  EXPECT_NE(s.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  auto half = resolve_settings("s3://b/p", {{"secret_access_key", "TOPSECRET"}}, env_of({}));
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().message.find("TOPSECRET"), std::string::npos);
  auto anon = resolve_settings("s3://b/p", {{"allow_anonymous_login", "true"}}, env_of({{"HOME", "/nonexistent"}}));
  ASSERT_TRUE(anon);
  EXPECT_TRUE(anon->credentials.anonymous);
  EXPECT_FALSE(resolve_settings("s3:///p", {{"allow_anonymous_login", "true"}}, env_of({})));
}

TEST(S3Settings, SslVerifyAndMultipartKnobs) {
  Env env = {{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}, {"DVX_S3_MULTIPART_THRESHOLD", "4096"},
             {"DVX_S3_MULTIPART_CHUNKSIZE", "1024"}};
  auto s = resolve_settings("s3://b", {{"ssl_verify", "False"}}, env_of(env));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->ssl_verify);
  EXPECT_EQ(s->multipart_threshold, 4096u);
  EXPECT_EQ(s->part_size, 1024u);
  auto ca = resolve_settings("s3://b", {{"ssl_verify", "/etc/ca.pem"}}, env_of(env));
  ASSERT_TRUE(ca);
  EXPECT_TRUE(ca->ssl_verify);
  EXPECT_EQ(ca->ca_bundle, "/etc/ca.pem");
}

TEST(S3Xml, ListPageKeysAndContinuation) {
  std::string xml =
      "<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount>"
      "<IsTruncated>true</IsTruncated><Contents><Key>p/a &amp; b.txt</Key><Size>1</Size></Contents>"
      "<Contents><Key>p/caf&#233;/x</Key></Contents><NextContinuationToken>tok+/=</NextContinuationToken>"
      "</ListBucketResult>";
  auto page = parse_list_page(xml);
  ASSERT_EQ(page.keys.size(), 2u);
  EXPECT_EQ(page.keys[0], "p/a & b.txt");
  EXPECT_EQ(page.keys[1], "p/caf\xc3\xa9/x");
  ASSERT_TRUE(page.next_token);
  EXPECT_EQ(*page.next_token, "tok+/=");
  auto last = parse_list_page("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  EXPECT_TRUE(last.keys.empty());
  EXPECT_FALSE(last.next_token);
}

TEST(S3Xml, ErrorBody) {
  EXPECT_EQ(parse_error("<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>"),
            "NoSuchBucket: The specified bucket does not exist");
  EXPECT_EQ(parse_error(""), "");
  EXPECT_EQ(xml_text("<InitiateMultipartUploadResult><UploadId>a&lt;b</UploadId></InitiateMultipartUploadResult>",
                     "UploadId"),
            std::optional<std::string>("a<b"));
}

TEST(S3Registry, OpenRemoteBuildsS3AndRejectsUnknown) {
  auto r = open_remote("s3://bucket/x", {{"access_key_id", "a"}, {"secret_access_key", "b"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->describe(), "s3://bucket/x");
  EXPECT_FALSE(open_remote("nosuch://x", {}));
}

}  // namespace
}  // namespace dvx::remote::s3
