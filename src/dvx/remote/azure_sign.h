// Azure Storage request authorization as pure functions (no clock, no I/O): the Shared Key
// string-to-sign and Authorization header of a Blob service request (version 2015-02-21 and
// later: Content-Length is empty when 0), and the fields of a storage connection string.
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dvx::remote::azure {

struct SignInput {
  std::string method;  // "PUT"
  std::string path;    // the encoded URL path as sent: "/container/dir/a%20b" (path-style
                       // endpoints include the account: "/devstoreaccount1/container/blob")
  std::vector<std::pair<std::string, std::string>> query;    // raw (decoded) parameters
  std::vector<std::pair<std::string, std::string>> headers;  // every header sent (any case)
  uint64_t content_length = 0;
  std::string account;
};

// The string to sign, as the Shared Key scheme defines it: the verb, eleven standard header
// values (Content-Length empty when 0, Date empty as x-ms-date is sent), the x-ms-* headers
// lower-cased and sorted, then "/<account><path>" and the query parameters sorted by name.
std::string string_to_sign(const SignInput& in);
// "SharedKey <account>:<base64 HMAC-SHA256 of string_to_sign under the decoded key>".
std::string shared_key_authorization(const SignInput& in, std::string_view key);

// The `Key=Value;...` fields of a connection string (keys as written; values may hold '=').
std::map<std::string, std::string> parse_connection_string(std::string_view text);
// A field looked up without regard to case.
std::optional<std::string> connection_field(const std::map<std::string, std::string>& fields, std::string_view key);

}  // namespace dvx::remote::azure
