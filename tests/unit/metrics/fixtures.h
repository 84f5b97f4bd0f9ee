// Reading files of tests/fixtures in the metrics unit tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace dvx::metrics::test {

// The bytes of tests/fixtures/<rel> ("" when missing).
inline std::string read_fixture(const std::string& rel) {
  std::ifstream in(std::string(DVX_FIXTURES_DIR) + "/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace dvx::metrics::test
