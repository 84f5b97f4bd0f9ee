// Leaving big structures to the end of the process. A CLI command that is about to exit need
// not walk and free thousands of nodes (a pipeline index, parsed dvc.lock documents): the
// kernel takes the whole heap back at once. Only memory is left behind this way; whatever
// must be flushed or released (files, the state db, the repository lock) is still closed by
// its owner as usual.
// Thread-safety: skip_teardown() is called once at start-up, before any thread; retire() may
// then be called from any thread.
#pragma once

#include <utility>

namespace dvx {

// Called by the CLI's main: from now on retire() leaves its argument's memory to the process
// exit. Libraries and tests never call it, so for them retire() destroys as usual. A build
// with AddressSanitizer ignores it (LeakSanitizer would report the memory left behind).
void skip_teardown();
bool teardown_skipped();

// Destroys `value` now, or, once skip_teardown() was called, moves it to a heap object that is
// never destroyed (a move: no copy of the structure is made).
template <class T>
void retire(T&& value) {
  if (teardown_skipped()) {
    (void)new T(std::move(value));  // left to the process exit on purpose
    return;
  }
  T gone(std::move(value));
}

}  // namespace dvx
