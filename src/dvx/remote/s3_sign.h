// AWS Signature Version 4 for S3 requests, as pure functions (no clock, no I/O): the canonical
// request, string to sign, signature and Authorization header of one request, plus the URI and
// query-string encoding AWS defines (RFC 3986 unreserved characters kept, everything else %XX).
// The caller sends exactly the path and query it signed (canonical_query() is also the query
// string of the URL), so what is signed is what goes on the wire.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dvx::remote::s3 {

// Percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and '/' unless encode_slash).
std::string uri_encode(std::string_view s, bool encode_slash);
// Parameters sorted by encoded name (then value), each `name=value` encoded, joined by '&';
// a parameter without value is written `name=` (as in `uploads=`).
std::string canonical_query(std::vector<std::pair<std::string, std::string>> params);

struct SignInput {
  std::string method;          // "GET"
  std::string path;            // the encoded path as sent: "/bucket/files/md5/ab/cd%20e"
  std::vector<std::pair<std::string, std::string>> query;  // raw (unencoded) parameters
  // Headers to sign (names in any case; "host" must be among them). Values are trimmed and
  // inner runs of spaces collapsed, as SigV4 requires.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;    // hex sha256 of the body, or "UNSIGNED-PAYLOAD"
  std::string amz_date;        // "20130524T000000Z"
  std::string region;          // "us-east-1"
  std::string service = "s3";
  std::string access_key;
  std::string secret_key;
  // The day's key from signing_key(secret_key, day, region, service), when the caller keeps it
  // (it changes once a day: 4 HMACs saved per request); empty: derived here.
  std::string signing_key;
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       // hex
  std::string authorization;   // the Authorization header value
};

// The SigV4 signing key of one day ("20130524"), region and service.
std::string signing_key(std::string_view secret_key, std::string_view day, std::string_view region,
                        std::string_view service);

Signed sign_v4(const SignInput& in);

}  // namespace dvx::remote::s3
