#include "dvx/remote/azure_sign.h"

#include <algorithm>

#include "dvx/base/base64.h"
#include "dvx/base/strings.h"
#include "dvx/hash/sha256.h"

namespace dvx::remote::azure {

namespace {

// Trimmed, inner runs of whitespace collapsed to one space.
std::string header_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : trim(v)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string string_to_sign(const SignInput& in) {
  auto get = [&](std::string_view name) -> std::string {
    for (auto& [k, v] : in.headers)
      if (to_lower(k) == name) return header_value(v);
    return "";
  };
  std::string s = in.method + "\n";
  s += get("content-encoding") + "\n";
  s += get("content-language") + "\n";
  s += (in.content_length ? std::to_string(in.content_length) : "") + "\n";
  s += get("content-md5") + "\n";
  s += get("content-type") + "\n";
  s += get("date") + "\n";
  s += get("if-modified-since") + "\n";
  s += get("if-match") + "\n";
  s += get("if-none-match") + "\n";
  s += get("if-unmodified-since") + "\n";
  s += get("range") + "\n";
  std::vector<std::pair<std::string, std::string>> ms;
  for (auto& [k, v] : in.headers) {
    std::string name = to_lower(trim(k));
    if (name.starts_with("x-ms-")) ms.emplace_back(name, header_value(v));
  }
  std::sort(ms.begin(), ms.end());
  for (auto& [k, v] : ms) s += k + ":" + v + "\n";
  s += "/" + in.account + (in.path.empty() ? "/" : in.path);
  std::map<std::string, std::vector<std::string>> params;
  for (auto& [k, v] : in.query) params[to_lower(k)].push_back(v);
  for (auto& [k, values] : params) {
    std::sort(values.begin(), values.end());
    s += "\n" + k + ":" + join(values, ",");
  }
  return s;
}

std::string shared_key_authorization(const SignInput& in, std::string_view key) {
  return "SharedKey " + in.account + ":" + base64_encode(hash::hmac_sha256(key, string_to_sign(in)));
}

std::map<std::string, std::string> parse_connection_string(std::string_view text) {
  std::map<std::string, std::string> out;
  for (auto& part : split(text, ';')) {
    std::string_view p = trim(part);
    if (p.empty()) continue;
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    out[std::string(trim(p.substr(0, eq)))] = std::string(trim(p.substr(eq + 1)));
  }
  return out;
}

std::optional<std::string> connection_field(const std::map<std::string, std::string>& fields, std::string_view key) {
  std::string want = to_lower(key);
  for (auto& [k, v] : fields)
    if (to_lower(k) == want) return v;
  return std::nullopt;
}

}  // namespace dvx::remote::azure
