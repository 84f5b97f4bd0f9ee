#include "dvx/hash/sha256.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "dvx/base/strings.h"

namespace dvx::hash {
namespace {

std::string hex(const std::string& raw) { return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size()); }

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string(1000, 'a')), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

// RFC 4231 test cases 1, 2 and 6 (a key longer than the block size), in a row on one thread:
// each call takes its own key, not the one before.
TEST(HmacSha256, Rfc4231VectorsOneAfterAnother) {
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(hex(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  }
}

TEST(HmacSha256, SameOnEveryThread) {
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) got[t] = hex(hmac_sha256("key" + std::to_string(i), "data"));
    });
  for (auto& t : threads) t.join();
  for (auto& g : got) EXPECT_EQ(g, got[0]);
  EXPECT_EQ(got[0], hex(hmac_sha256("key99", "data")));
}

}  // namespace
}  // namespace dvx::hash
