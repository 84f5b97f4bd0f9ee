#include "dvx/remote/s3_sign.h"

#include <algorithm>

#include "dvx/base/strings.h"
#include "dvx/hash/sha256.h"

namespace dvx::remote::s3 {

std::string uri_encode(std::string_view s, bool encode_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                c == '.' || c == '~' || (c == '/' && !encode_slash);
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string canonical_query(std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [k, v] : params) {
    k = uri_encode(k, true);
    v = uri_encode(v, true);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

namespace {

// Trimmed, with runs of spaces inside collapsed to one.
std::string header_value(std::string_view v) {
  v = trim(v);
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string signing_key(std::string_view secret_key, std::string_view day, std::string_view region,
                        std::string_view service) {
  std::string key = hash::hmac_sha256("AWS4" + std::string(secret_key), day);
  key = hash::hmac_sha256(key, region);
  key = hash::hmac_sha256(key, service);
  return hash::hmac_sha256(key, "aws4_request");
}

Signed sign_v4(const SignInput& in) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (auto& [k, v] : in.headers) headers.emplace_back(to_lower(trim(k)), header_value(v));
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers, signed_headers;
  for (auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += k;
  }
  Signed s;
  s.canonical_request = in.method + "\n" + in.path + "\n" + canonical_query(in.query) + "\n" + canonical_headers +
                        "\n" + signed_headers + "\n" + in.payload_hash;
  std::string day = in.amz_date.substr(0, 8);
  std::string scope = day + "/" + in.region + "/" + in.service + "/aws4_request";
  s.string_to_sign = "AWS4-HMAC-SHA256\n" + in.amz_date + "\n" + scope + "\n" + hash::sha256_hex(s.canonical_request);
  std::string sig = hash::hmac_sha256(
      in.signing_key.empty() ? signing_key(in.secret_key, day, in.region, in.service) : in.signing_key,
      s.string_to_sign);
  s.signature = to_hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
  s.authorization = "AWS4-HMAC-SHA256 Credential=" + in.access_key + "/" + scope +
                    ", SignedHeaders=" + signed_headers + ", Signature=" + s.signature;
  return s;
}

}  // namespace dvx::remote::s3
