// SigV4 against AWS's published S3 examples ("Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk", docs.aws.amazon.com/AmazonS3/latest/API/
// sig-v4-header-based-auth.html): same credentials, date and requests, same signatures.
#include "dvx/remote/s3_sign.h"

#include <gtest/gtest.h>

#include "dvx/hash/sha256.h"

namespace dvx::remote::s3 {
namespace {

const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SignInput example(const std::string& method, const std::string& path) {
  SignInput in;
  in.method = method;
  in.path = path;
  in.amz_date = "20130524T000000Z";
  in.region = "us-east-1";
  in.access_key = "AKIAIOSFODNN7EXAMPLE";
  in.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  return in;
}

// AWS's "GET Object" example request.
SignInput get_object_example() {
  SignInput in = example("GET", "/test.txt");
  in.payload_hash = kEmptySha;
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"Range", "bytes=0-9"},
                {"x-amz-content-sha256", kEmptySha},
                {"x-amz-date", "20130524T000000Z"}};
  return in;
}

TEST(SigV4, AwsExampleGetObject) {
  SignInput in = get_object_example();
  Signed s = sign_v4(in);
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// A kept signing key (S3Remote derives it once a day) signs exactly as the derived one; a key of
// another day does not.
TEST(SigV4, KeptSigningKeySignsTheSame) {
  SignInput in = get_object_example();
  in.signing_key = signing_key(in.secret_key, "20130524", "us-east-1", "s3");
  EXPECT_EQ(in.signing_key.size(), 32u);
  EXPECT_EQ(sign_v4(in).signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  in.signing_key = signing_key(in.secret_key, "20130525", "us-east-1", "s3");
  EXPECT_NE(sign_v4(in).signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, AwsExamplePutObject) {
  std::string body = "Welcome to Amazon S3.";
  std::string sha = hash::sha256_hex(body);
  EXPECT_EQ(sha, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SignInput in = example("PUT", "/" + uri_encode("test$file.text", false));
  EXPECT_EQ(in.path, "/test%24file.text");
  in.payload_hash = sha;
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"x-amz-date", "20130524T000000Z"},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                {"x-amz-content-sha256", sha}};
  EXPECT_EQ(sign_v4(in).signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, AwsExampleGetBucketLifecycle) {
  SignInput in = example("GET", "/");
  in.query = {{"lifecycle", ""}};
  in.payload_hash = kEmptySha;
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-date", "20130524T000000Z"},
                {"x-amz-content-sha256", kEmptySha}};
  EXPECT_EQ(sign_v4(in).signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, AwsExampleListObjects) {
  SignInput in = example("GET", "/");
  in.query = {{"prefix", "J"}, {"max-keys", "2"}};  // unsorted on purpose
  in.payload_hash = kEmptySha;
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-date", "20130524T000000Z"},
                {"x-amz-content-sha256", kEmptySha}};
  Signed s = sign_v4(in);
  EXPECT_NE(s.canonical_request.find("\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, HeaderValuesTrimmedAndNamesLowered) {
  SignInput a = example("GET", "/k");
  a.payload_hash = "UNSIGNED-PAYLOAD";
  a.headers = {{"Host", "h"}, {"X-Amz-Meta-A", "  one   two  "}};
  SignInput b = a;
  b.headers = {{"x-amz-meta-a", "one two"}, {"host", "h"}};
  EXPECT_EQ(sign_v4(a).signature, sign_v4(b).signature);
  EXPECT_NE(sign_v4(a).canonical_request.find("x-amz-meta-a:one two\n"), std::string::npos);
  b.secret_key += "x";
  EXPECT_NE(sign_v4(a).signature, sign_v4(b).signature);
}

TEST(S3Encoding, UriEncode) {
  EXPECT_EQ(uri_encode("files/md5/ab/cd", false), "files/md5/ab/cd");
  EXPECT_EQ(uri_encode("a b+c/d", false), "a%20b%2Bc/d");
  EXPECT_EQ(uri_encode("a b+c/d", true), "a%20b%2Bc%2Fd");
  EXPECT_EQ(uri_encode("Az09-_.~", true), "Az09-_.~");
  EXPECT_EQ(uri_encode("\xc3\xa9*=&", true), "%C3%A9%2A%3D%26");
}

TEST(S3Encoding, CanonicalQuerySortedEncodedValueless) {
  EXPECT_EQ(canonical_query({}), "");
  EXPECT_EQ(canonical_query({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(canonical_query({{"uploadId", "a/b+c="}, {"partNumber", "2"}}), "partNumber=2&uploadId=a%2Fb%2Bc%3D");
  EXPECT_EQ(canonical_query({{"prefix", "files/md5/"}, {"list-type", "2"}, {"continuation-token", "x y"}}),
            "continuation-token=x%20y&list-type=2&prefix=files%2Fmd5%2F");
  // Sorted by byte value: upper case before lower case.
  EXPECT_EQ(canonical_query({{"b", "1"}, {"B", "2"}, {"a", ""}}), "B=2&a=&b=1");
}

}  // namespace
}  // namespace dvx::remote::s3
