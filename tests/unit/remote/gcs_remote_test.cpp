// The GCS remote's pure parts: the service-account JWT (RS256) against a signature made with
// `openssl dgst -sha256 -sign` over a signing input written out by hand, credentials files,
// settings and list pages. The protocol itself is tested against tests/servers/gcs_fake.py
// (tests/e2e/test_remote_gcs.py), which verifies the JWT with the public key.
#include "dvx/remote/gcs_remote.h"

#include <gtest/gtest.h>

#include <map>

#include "dvx/base/base64.h"

namespace dvx::remote::gcs {
namespace {

// A throwaway 1024-bit test key (made for this test only).
const char* kPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdQIBADANBgkqhkiG9w0BAQEFAASCAl8wggJbAgEAAoGBALVZdHyastFU6Srr\n"
    "utOdwAxiMhJBQ7N8FJbb18mJktbfaLwg7fV6HbYWetgid2Sq/0aFHqz6KnuQ/v+M\n"
    "gBDkf12egOq7DCkkzK1V6/UVxCgYfdKF2l57qO+wMjhFpLkzxEibYuObhjY1ysLP\n"
    "55yTwcIroRo8KzZiOys/OjusvRc/AgMBAAECgYAlrsrnwXV6zfwNcSJHKrZnXFgv\n"
    "NuSMfTICDviN5kpe39lxjh4kLhXSamVoV/EbN/UHgE3Zf7ooJv71two9eF2Giwc2\n"
    "gKlmeAGf+Xo8NQQ8Ezf9IQtI7OAWaut34VgS+yxzHu/g65S0keMylXiu2Y6a9ctl\n"
    "xxwkqmXdFxVCAGulcQJBANivC/9rpjuNIMom6tlZM2Q5WSB+0j3naBfBrNytgKJl\n"
    "T49tdcTKeijzmS2sn/Q63146NopG/rcvdw7VUgV5yhsCQQDWQSEYMYC92/RBlhY+\n"
    "XVM76tXw6TcK8WeBi4Y+catUNfx6xtlDsoU43wyYlOnbityNvjLKQYnFPbfH1F5J\n"
    "RrmtAkAy4+nNc1r3YY3x7HH72hdX0qA8IYz/PPoVmkcfDSDJA0JMTUj7jxJhy9SO\n"
    "BZ0Ln0gWuVVV5JauL1enBDLfVltBAkBFvE8cQ8iGg1f+HO7Cf7e+sdHOpunOewJY\n"
    "jOQ14OOF9khmYeCHg0yPVTIRW66+UXU2AWkgobJI66yssve5W/bFAkBH+orBg4Ai\n"
    "cN+CKG1bR1J4dQe1uRg7RmL9Zdys6P5FTmm/3pPlDbX2esNkyWrsylSrajuupfKJ\n"
    "GBX+KtClnDe0\n"
    "-----END PRIVATE KEY-----\n";

const char* kSigningInput = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJhdWQiOiJodHRwOi8vMTI3LjAuMC4xOjkvdG9rZW4iLCJleHAiOjE3MDAwMDM2MDAsImlhdCI6MTcwMDAwMDAwMCwiaXNzIjoic2FAZHZ4LXRlc3QuaWFtLmdzZXJ2aWNlYWNjb3VudC5jb20iLCJzY29wZSI6Imh0dHBzOi8vd3d3Lmdvb2dsZWFwaXMuY29tL2F1dGgvZGV2c3RvcmFnZS5yZWFkX3dyaXRlIn0";
const char* kSignature = "mfVifoTagfXHAiZRylJzF6cRLEuBx3BUl506RAfBpOCFPOnWVhdVxxLShUl9cfSaCIDyMPl7vRXudIa77igd5SutYK3zRlgIaYS86kiH64hAeCSd52dC6WoXokLag7nxX8AY9qFxXg138nj1i3omW6t1_PoKZvyzxTBIXEsks4U";

Credentials test_credentials() {
  Credentials c;
  c.kind = Credentials::Kind::service_account;
  c.origin = "sa.json";
  c.client_email = "sa@dvx-test.iam.gserviceaccount.com";
  c.private_key = kPem;
  c.private_key_id = "k1";
  c.token_uri = "http://127.0.0.1:9/token";
  return c;
}

TEST(GcsJwt, MatchesOpensslSignature) {
  auto jwt = service_account_jwt(test_credentials(), 1700000000, kScope);
  ASSERT_TRUE(jwt) << jwt.error().message;
  EXPECT_EQ(*jwt, std::string(kSigningInput) + "." + kSignature);
  // The parts decode to the JSON Google expects.
  auto header = base64_decode(jwt->substr(0, jwt->find('.')));
  ASSERT_TRUE(header);
  EXPECT_EQ(*header, R"({"alg":"RS256","kid":"k1","typ":"JWT"})");
}

TEST(GcsJwt, BadKeyIsAnErrorWithoutTheKey) {
  auto c = test_credentials();
  c.private_key = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n";
  auto jwt = service_account_jwt(c, 1700000000, kScope);
  ASSERT_FALSE(jwt);
  EXPECT_EQ(jwt.error().code, ErrorCode::auth);
  EXPECT_EQ(jwt.error().message.find("c2VjcmV0"), std::string::npos);
  EXPECT_NE(jwt.error().message.find("sa.json"), std::string::npos);
}

TEST(GcsCredentials, ServiceAccountAndAuthorizedUser) {
  auto sa = parse_credentials(R"({"type": "service_account", "client_email": "a@b", "private_key": "k",
                                  "token_uri": "http://127.0.0.1:1/token"})", "f.json");
  ASSERT_TRUE(sa) << sa.error().message;
  EXPECT_EQ(sa->kind, Credentials::Kind::service_account);
  EXPECT_EQ(sa->token_uri, "http://127.0.0.1:1/token");
  auto user = parse_credentials(R"({"type": "authorized_user", "client_id": "i", "client_secret": "s",
                                    "refresh_token": "r"})", "adc.json");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->kind, Credentials::Kind::authorized_user);
  EXPECT_EQ(user->token_uri, "https://oauth2.googleapis.com/token");
  EXPECT_FALSE(parse_credentials("{", "x.json"));
  EXPECT_FALSE(parse_credentials(R"({"type": "external_account"})", "x.json"));
  EXPECT_FALSE(parse_credentials(R"({"type": "service_account", "client_email": "a@b"})", "x.json"));
}

std::function<std::optional<std::string>(const char*)> env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(GcsSettings, EndpointCredentialsAndErrors) {
  auto anon = resolve_settings("gs://bkt/a/b/", {{"allow_anonymous_login", "true"}},
                               env_of({{"STORAGE_EMULATOR_HOST", "127.0.0.1:4443"}, {"HOME", "/nonexistent"}}));
  ASSERT_TRUE(anon) << anon.error().message;
  EXPECT_EQ(anon->bucket, "bkt");
  EXPECT_EQ(anon->prefix, "a/b");
  EXPECT_EQ(anon->endpoint, "http://127.0.0.1:4443");
  EXPECT_EQ(anon->credentials.kind, Credentials::Kind::anonymous);
  auto def = resolve_settings("gs://bkt", {{"allow_anonymous_login", "true"}}, env_of({}));
  ASSERT_TRUE(def);
  EXPECT_EQ(def->endpoint, "https://storage.googleapis.com");
  EXPECT_EQ(def->chunk_size % (256 << 10), 0u);
  auto none = resolve_settings("gs://bkt", {}, env_of({{"HOME", "/nonexistent"}}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::auth);
  EXPECT_NE(none.error().message.find("GOOGLE_APPLICATION_CREDENTIALS"), std::string::npos);
  auto missing = resolve_settings("gs://bkt", {{"credentialpath", "/nonexistent/sa.json"}}, env_of({}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/sa.json"), std::string::npos);
  EXPECT_FALSE(resolve_settings("gs://", {{"allow_anonymous_login", "true"}}, env_of({})));
}

TEST(GcsList, Page) {
  auto page = parse_list_page(R"({"kind": "storage#objects", "items": [{"name": "p/a b"}, {"name": "p/caf\u00e9"}],
                                  "nextPageToken": "t2"})");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->names.size(), 2u);
  EXPECT_EQ(page->names[1], "p/caf\xc3\xa9");
  EXPECT_EQ(page->next_token.value_or(""), "t2");
  auto last = parse_list_page(R"({"kind": "storage#objects"})");
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->names.empty());
  EXPECT_FALSE(last->next_token);
  EXPECT_FALSE(parse_list_page("<html>"));
}

}  // namespace
}  // namespace dvx::remote::gcs
