// Replays the committed fuzz corpora: `fuzz_replay <corpus root>` runs every file of
// <root>/<target>/ through its target; a crash fails the test (ctest `fuzz.replay`). Prints how
// many inputs each target ran; fails when a target has no corpus (nothing would be tested).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_targets.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_replay <corpus root>\n");
    return 2;
  }
  namespace fs = std::filesystem;
  int rc = 0;
  for (const auto& t : dvx::fuzz::k_targets) {
    fs::path dir = fs::path(argv[1]) / t.name;
    size_t n = 0;
    if (fs::is_directory(dir)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file()) files.push_back(e.path());
      for (const auto& p : files) {
        std::ifstream in(p, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        t.fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
        ++n;
      }
    }
    std::printf("%s: %zu inputs\n", t.name, n);
    if (n == 0) rc = 1;
  }
  return rc;
}
