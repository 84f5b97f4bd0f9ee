#include "dvx/base/teardown.h"

#include <atomic>

namespace dvx {

namespace {
std::atomic<bool> g_skip{false};
}  // namespace

void skip_teardown() {
#if !defined(__SANITIZE_ADDRESS__)
  g_skip.store(true, std::memory_order_relaxed);
#endif
}

bool teardown_skipped() { return g_skip.load(std::memory_order_relaxed); }

}  // namespace dvx
