// Python's repr() of a float, as used by DVC's YAML and JSON writers.
// Thread-safety: pure functions.
#pragma once

#include <string>

namespace dvx::formats {

// Shortest round-trip repr exactly as CPython prints it: 0.1, 3.0, 1e-07, 1e+16, 1.5e+300;
// non-finite values as Python does: nan, inf, -inf.
std::string py_float_repr(double v);

}  // namespace dvx::formats
