// The fuzz targets (harnesses.cpp) and their names, shared by the libFuzzer entry points
// (fuzz_main.cpp, one binary per target) and the corpus replay (replay_main.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dvx::fuzz {

int dvc_file(const uint8_t* data, size_t size);
int manifest(const uint8_t* data, size_t size);
int dvc_yaml(const uint8_t* data, size_t size);
int dvc_lock(const uint8_t* data, size_t size);
int params(const uint8_t* data, size_t size);
int ini(const uint8_t* data, size_t size);
int dvcignore(const uint8_t* data, size_t size);
int http_answer(const uint8_t* data, size_t size);

struct Target {
  const char* name;
  int (*fn)(const uint8_t*, size_t);
};
inline constexpr Target k_targets[] = {
    {"dvc_file", dvc_file}, {"manifest", manifest}, {"dvc_yaml", dvc_yaml}, {"dvc_lock", dvc_lock},
    {"params", params},     {"ini", ini},           {"dvcignore", dvcignore}, {"http_answer", http_answer},
};

}  // namespace dvx::fuzz
