// libFuzzer entry point of one target, chosen at build time (-DDVX_FUZZ_TARGET=<name>).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return dvx::fuzz::DVX_FUZZ_TARGET(data, size);
}
