// Fuzz targets for every reader of user-controlled bytes (issue "Integrity you can prove"):
// .dvc files, .dir manifests, dvc.yaml, dvc.lock, params files (YAML/JSON/TOML/Python),
// .dvc/config INI and .dvcignore; and what a server answers over plain HTTP. Each is built twice: with libFuzzer under ASan+UBSan by
// `./dev fuzz` (clang), and with replay_main.cpp into `fuzz_replay`, which ctest runs over the
// committed corpora in tests/fuzz/corpus/<target>/ as a regression test.
// A target returns normally for any input: a parse error is a value, never a crash.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dvx/formats/dvc_file.h"
#include "dvx/formats/dvc_lock.h"
#include "dvx/formats/dvc_yaml.h"
#include "dvx/formats/ini.h"
#include "dvx/formats/manifest.h"
#include "dvx/formats/params.h"
#include "dvx/fs/ignore.h"
#include "dvx/remote/http_wire.h"
#include "fuzz_targets.h"

namespace dvx::fuzz {

namespace {
std::string_view view(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }
}  // namespace

int dvc_file(const uint8_t* data, size_t size) {
  auto r = formats::parse_dvc_file(view(data, size), "fuzz.dvc");
  if (r) (void)formats::update_dvc_file(*r, *r);
  return 0;
}

int manifest(const uint8_t* data, size_t size) {
  auto r = formats::decode_manifest(view(data, size), "fuzz.dir");
  if (r) (void)formats::encode_manifest(*r);
  return 0;
}

int dvc_yaml(const uint8_t* data, size_t size) {
  // The input's first half-split at a NUL byte: dvc.yaml, then a vars/params file it may load.
  std::string_view all = view(data, size);
  size_t nul = all.find('\0');
  std::string_view text = all.substr(0, nul);
  std::string vars = nul == std::string_view::npos ? std::string() : std::string(all.substr(nul + 1));
  formats::VarsLoader load = [&](const std::string& rel) -> Result<yaml::Node> {
    if (vars.empty()) return fail(ErrorCode::not_found, "no " + rel);
    return formats::parse_params(vars, rel, formats::params_format(rel));
  };
  (void)formats::parse_dvc_yaml(text, "./dvc.yaml", load);
  return 0;
}

int dvc_lock(const uint8_t* data, size_t size) {
  (void)formats::DvcLock::parse(view(data, size), "dvc.lock");
  return 0;
}

int params(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the format.
  static const formats::ParamsFormat formats_[] = {formats::ParamsFormat::yaml, formats::ParamsFormat::json,
                                                    formats::ParamsFormat::toml, formats::ParamsFormat::python};
  static const char* names[] = {"params.yaml", "params.json", "params.toml", "params.py"};
  size_t k = data[0] % 4;
  (void)formats::parse_params(view(data + 1, size - 1), names[k], formats_[k]);
  return 0;
}

int ini(const uint8_t* data, size_t size) {
  auto r = formats::parse_ini(view(data, size), ".dvc/config");
  if (r) (void)formats::emit_ini(*r);
  return 0;
}

int dvcignore(const uint8_t* data, size_t size) {
  auto f = fs::parse_ignore_file(view(data, size), ".dvcignore", 0);
  (void)f;
  return 0;
}

int http_answer(const uint8_t* data, size_t size) {
  // The first byte picks the request (GET with a sink that stops after 64 KB, GET without a
  // sink, HEAD); the rest is what the server sent before it closed the connection (at most
  // 64 KB, which a socket pair holds without a reader).
  if (size == 0) return 0;
  size_t n = std::min<size_t>(size - 1, 64 * 1024);
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  for (size_t off = 0; off < n;) {
    ssize_t w = ::write(fds[1], data + 1 + off, n - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  ::shutdown(fds[1], SHUT_WR);
  remote::http::Request req;
  req.method = data[0] % 3 == 2 ? "HEAD" : "GET";
  req.what = req.method + " fuzz";
  std::string body;
  if (data[0] % 3 == 0)
    req.sink = [&](std::string_view bytes) {
      body.append(bytes);
      return body.size() < 64 * 1024;
    };
  bool reusable = false, answered = false;
  (void)remote::http::read_answer(req, fds[0], "fuzz", reusable, answered);
  ::close(fds[0]);
  ::close(fds[1]);
  return 0;
}

}  // namespace dvx::fuzz
