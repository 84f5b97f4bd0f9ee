#include "dvx/base/base64.h"

#include <gtest/gtest.h>

namespace dvx {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (auto& [plain, enc] : cases) {
    EXPECT_EQ(base64_encode(plain), enc) << plain;
    EXPECT_EQ(base64_decode(enc).value_or("<none>"), plain) << enc;
  }
}

TEST(Base64, UrlSafeWithoutPadding) {
  std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(base64_encode(bytes), "+/+/");
  EXPECT_EQ(base64_encode(bytes, true), "-_-_");
  EXPECT_EQ(base64_encode("fo", true), "Zm8");
  EXPECT_EQ(base64_decode("-_-_").value_or(""), bytes);
  EXPECT_EQ(base64_decode("Zm8").value_or(""), "fo");
}

TEST(Base64, RejectsWhatIsNotBase64) {
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Zg==Zg"));
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_EQ(base64_decode("Zm9v\nYmFy").value_or(""), "foobar");
}

}  // namespace
}  // namespace dvx
