// The remote options' booleans and ssl_verify, parsed once for every backend.
#include "dvx/remote/remote.h"

#include <gtest/gtest.h>

namespace dvx::remote {
namespace {

TEST(RemoteOptions, BooleansTakeDvcsSpellingsInAnyCaseAndNothingElse) {
  for (const char* yes : {"true", "True", " YES ", "1"}) EXPECT_EQ(option_bool(yes), true) << yes;
  for (const char* no : {"false", "FALSE", "no", " 0"}) EXPECT_EQ(option_bool(no), false) << no;
  for (const char* other : {"", "y", "on", "2", "/etc/ssl/ca.pem"}) EXPECT_EQ(option_bool(other), std::nullopt) << other;
}

TEST(RemoteOptions, SslVerifyIsABooleanOrTheCaBundleToVerifyAgainst) {
  bool verify = true;
  std::string ca;
  apply_ssl_verify("False", verify, ca);
  EXPECT_FALSE(verify);
  EXPECT_EQ(ca, "");
  apply_ssl_verify("true", verify, ca);
  EXPECT_TRUE(verify);
  EXPECT_EQ(ca, "");
  apply_ssl_verify("/etc/ssl/ca.pem", verify, ca);
  EXPECT_TRUE(verify);
  EXPECT_EQ(ca, "/etc/ssl/ca.pem");
}

}  // namespace
}  // namespace dvx::remote
