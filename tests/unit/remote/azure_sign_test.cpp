// The Shared Key signer against strings written out by hand from Azure's "Authorize with
// Shared Key" rules, and signatures computed separately (Python's hmac/base64) over those
// strings with Azurite's well-known development key. Azurite checks real signatures in
// tests/e2e/test_remote_azure.py.
#include "dvx/remote/azure_sign.h"

#include <gtest/gtest.h>

#include "dvx/base/base64.h"
#include "dvx/remote/azure_remote.h"

namespace dvx::remote::azure {
namespace {

const char* kDevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string dev_key() { return base64_decode(kDevKey).value(); }

TEST(AzureSign, PutBlockStringToSignAndSignature) {
  SignInput in;
  in.method = "PUT";
  in.path = "/devstoreaccount1/my-container/store/files/md5/ab/a%20b%C3%A9";
  in.query = {{"comp", "block"}, {"blockid", "ZHZ4LTAwMDAwMQ=="}};
  in.headers = {{"Content-Type", "application/octet-stream"},
                {"x-ms-version", "2021-08-06"},
                {"X-MS-Date", "  Fri, 04 Dec 2026   12:00:00 GMT "}};
  in.content_length = 11;
  in.account = "devstoreaccount1";
  EXPECT_EQ(string_to_sign(in),
            "PUT\n\n\n11\n\napplication/octet-stream\n\n\n\n\n\n\n"
            "x-ms-date:Fri, 04 Dec 2026 12:00:00 GMT\nx-ms-version:2021-08-06\n"
            "/devstoreaccount1/devstoreaccount1/my-container/store/files/md5/ab/a%20b%C3%A9\n"
            "blockid:ZHZ4LTAwMDAwMQ==\ncomp:block");
  EXPECT_EQ(shared_key_authorization(in, dev_key()),
            "SharedKey devstoreaccount1:9+jZdisbhIRZGBr+JVvvZ6A9w736uqAJu5rM8OJoFSo=");
}

TEST(AzureSign, ListWithEmptyContentLengthAndSortedQuery) {
  SignInput in;
  in.method = "GET";
  in.path = "/devstoreaccount1/my-container";
  in.query = {{"restype", "container"}, {"comp", "list"}, {"prefix", "store/files/md5/"}, {"maxresults", "100"}};
  in.headers = {{"x-ms-date", "Fri, 04 Dec 2026 12:00:00 GMT"}, {"x-ms-version", "2021-08-06"}};
  in.account = "devstoreaccount1";
  std::string sts = string_to_sign(in);
  EXPECT_EQ(sts.substr(0, 16), "GET\n\n\n\n\n\n\n\n\n\n\n\nx");  // 12 empty standard fields
  EXPECT_TRUE(sts.ends_with("/devstoreaccount1/devstoreaccount1/my-container\ncomp:list\nmaxresults:100\n"
                            "prefix:store/files/md5/\nrestype:container"))
      << sts;
  EXPECT_EQ(shared_key_authorization(in, dev_key()),
            "SharedKey devstoreaccount1:X/y3CJ/YoGNch4/MOYnBk5M7gOUH50fe2hBfhWtLRIU=");
  // A different key gives a different signature (the key really enters the HMAC).
  EXPECT_NE(shared_key_authorization(in, "other"), shared_key_authorization(in, dev_key()));
}

TEST(AzureSign, ConnectionString) {
  auto f = parse_connection_string(
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=abc==;"
      "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;");
  EXPECT_EQ(connection_field(f, "accountkey").value_or(""), "abc==");
  EXPECT_EQ(connection_field(f, "BlobEndpoint").value_or(""), "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_FALSE(connection_field(f, "SharedAccessSignature"));
}

std::function<std::optional<std::string>(const char*)> env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(AzureSettings, FromConnectionStringAndOptions) {
  RemoteOptions o = {{"connection_string", std::string("AccountName=devstoreaccount1;AccountKey=") + kDevKey +
                                               ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/"}};
  auto s = resolve_settings("azure://box/a/b/", o, env_of({}));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->container, "box");
  EXPECT_EQ(s->prefix, "a/b");
  EXPECT_EQ(s->endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(s->account, "devstoreaccount1");
  EXPECT_EQ(s->key, dev_key());
  // sas_token replaces the connection string's key.
  o["sas_token"] = "?sv=2019-12-12&sig=abc";
  s = resolve_settings("azure://box", o, env_of({}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sas, "sv=2019-12-12&sig=abc");
  EXPECT_TRUE(s->key.empty());
}

TEST(AzureSettings, EnvironmentAndErrorsWithoutSecrets) {
  auto s = resolve_settings("azure://c/p", {}, env_of({{"AZURE_STORAGE_ACCOUNT", "acct"}, {"AZURE_STORAGE_KEY", kDevKey}}));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->endpoint, "https://acct.blob.core.windows.net");
  EXPECT_EQ(s->key, dev_key());
  auto none = resolve_settings("azure://c/p", {{"account_name", "acct"}}, env_of({}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::auth);
  EXPECT_NE(none.error().message.find("AZURE_STORAGE_KEY"), std::string::npos);
  auto bad = resolve_settings("azure://c/p", {{"account_name", "acct"}, {"account_key", "not*base64!secret"}}, env_of({}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("secret"), std::string::npos) << bad.error().message;
  auto anon = resolve_settings("azure://c/p", {{"account_name", "acct"}, {"allow_anonymous_login", "true"}}, env_of({}));
  ASSERT_TRUE(anon);
  EXPECT_TRUE(anon->anonymous);
}

TEST(AzureList, ParsesNamesAndMarker) {
  auto page = parse_list_page(
      "<?xml version=\"1.0\"?><EnumerationResults ContainerName=\"c\"><Prefix>p/</Prefix><Blobs>"
      "<Blob><Name>p/a &amp; b</Name><Properties><Content-Length>3</Content-Length></Properties></Blob>"
      "<Blob><Name Encoded=\"false\">p/caf\xc3\xa9</Name></Blob></Blobs><NextMarker>m2</NextMarker></EnumerationResults>");
  ASSERT_EQ(page.names.size(), 2u);
  EXPECT_EQ(page.names[0], "p/a & b");
  EXPECT_EQ(page.names[1], "p/caf\xc3\xa9");
  EXPECT_EQ(page.next_marker.value_or(""), "m2");
  EXPECT_FALSE(parse_list_page("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>").next_marker);
}

}  // namespace
}  // namespace dvx::remote::azure
