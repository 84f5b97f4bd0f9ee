// The SFTP backend's settings: URL forms and `remote modify` options. Transfers themselves are
// tested against a real sshd (e2e/test_remote_conformance.py, tests/servers/sshd.py).
#include "dvx/remote/sftp_remote.h"

#include <gtest/gtest.h>

namespace dvx::remote::sftp {
namespace {

// The environment of a user whose HOME is `home` ("" = no HOME at all).
std::function<std::optional<std::string>(const char*)> home(std::string dir) {
  return [dir](const char* k) -> std::optional<std::string> {
    if (dir.empty() || std::string_view(k) != "HOME") return std::nullopt;
    return dir;
  };
}

TEST(SftpSettings, UrlParts) {
  auto s = resolve_settings("ssh://alice@example.com:2222/srv/dvc/", {}, home("/home/a"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->user, "alice");
  EXPECT_EQ(s->host, "example.com");
  EXPECT_EQ(s->port, 2222);
  EXPECT_EQ(s->root, "/srv/dvc");
  EXPECT_EQ(s->ssh_dir, "/home/a/.ssh");
  EXPECT_TRUE(s->allow_agent);
  auto v6 = resolve_settings("ssh://[::1]:23/x", {}, home("/h"));
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 23);
  auto bare = resolve_settings("ssh://host", {}, home("/h"));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->port, 22);
  EXPECT_EQ(bare->root, "");
  EXPECT_FALSE(bare->user.empty());  // the local user
}

TEST(SftpSettings, OptionsOverrideTheUrl) {
  RemoteOptions o = {{"user", "bob"},          {"port", "2200"},         {"keyfile", "~/.ssh/k"},
                     {"password", "pw"},       {"allow_agent", "false"}, {"timeout", "5"},
                     {"max_sessions", "3"}};
  auto s = resolve_settings("ssh://alice@host:2222/p", o, home("/home/b"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->user, "bob");
  EXPECT_EQ(s->port, 2200);
  EXPECT_EQ(s->keyfile, "/home/b/.ssh/k");
  EXPECT_EQ(s->password, "pw");
  EXPECT_FALSE(s->allow_agent);
  EXPECT_EQ(s->timeout, 5);
  EXPECT_EQ(s->max_sessions, 3);
}

TEST(SftpSettings, BadValuesAreErrors) {
  EXPECT_FALSE(resolve_settings("ssh://host:99999/p", {}, home("")));
  EXPECT_FALSE(resolve_settings("ssh://host/p", {{"port", "x"}}, home("")));
  EXPECT_FALSE(resolve_settings("ssh:///p", {}, home("")));
  auto r = resolve_settings("ssh://host/p", {{"max_sessions", "0"}, {"password", "hunter2"}}, home(""));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos);
}

TEST(SftpSettings, RegisteredForSshUrls) {
  auto r = open_remote("ssh://user@127.0.0.1:1/srv", {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->describe(), "ssh://user@127.0.0.1:1/srv");
}

}  // namespace
}  // namespace dvx::remote::sftp
