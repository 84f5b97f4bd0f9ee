// Fuzz targets for every reader of user-controlled bytes (issue "Integrity you can prove"):
// .dvc files, .dir manifests, dvc.yaml, dvc.lock, params files (YAML/JSON/TOML/Python),
// .dvc/config INI and .dvcignore. Each is built twice: with libFuzzer under ASan+UBSan by
// `./dev fuzz` (clang), and with replay_main.cpp into `fuzz_replay`, which ctest runs over the
// committed corpora in tests/fuzz/corpus/<target>/ as a regression test.
// A target returns normally for any input: a parse error is a value, never a crash.
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

}  // namespace dvx::fuzz
