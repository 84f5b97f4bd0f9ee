// The HTTP/WebDAV backend's pure parts: settings from URL and options, percent-encoding, and
// the PROPFIND multistatus parser. Requests are tested against nginx (e2e/test_remote_webdav.py).
#include "dvx/remote/http_remote.h"

#include <gtest/gtest.h>

#include "dvx/remote/remote.h"

namespace dvx::remote::dav {
namespace {

TEST(HttpRemoteSettings, WebdavMapsToHttpOnTheWire) {
  auto s = resolve_settings("webdav://example.com:8080/dav/store/", {});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->webdav);
  EXPECT_EQ(s->origin, "http://example.com:8080");
  EXPECT_EQ(s->root, "/dav/store");
  EXPECT_EQ(s->display, "webdav://example.com:8080/dav/store");

  auto t = resolve_settings("webdavs://example.com/x", {});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->origin, "https://example.com");
  EXPECT_TRUE(t->webdav);

  auto h = resolve_settings("https://example.com", {});
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->webdav);
  EXPECT_EQ(h->root, "");
  EXPECT_EQ(h->method, "POST");  // DVC's default upload method
}

TEST(HttpRemoteSettings, UserInfoNeverShown) {
  auto s = resolve_settings("webdavs://alice:s3cret@host/p", {});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->user, "alice");
  EXPECT_EQ(s->password, "s3cret");
  EXPECT_EQ(s->auth, "basic");
  EXPECT_EQ(s->display.find("s3cret"), std::string::npos);
  EXPECT_EQ(s->display.find("alice"), std::string::npos);
  HttpRemote r(*s);
  EXPECT_EQ(r.describe(), "webdavs://host/p");
}

TEST(HttpRemoteSettings, Options) {
  auto s = resolve_settings("http://h/p", {{"auth", "digest"}, {"user", "u"}, {"password", "pw"}, {"method", "put"},
                                           {"ssl_verify", "false"}, {"read_timeout", "5"}});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->auth, "digest");
  EXPECT_EQ(s->method, "PUT");
  EXPECT_FALSE(s->ssl_verify);
  EXPECT_EQ(s->read_timeout, 5);
  auto ca = resolve_settings("https://h", {{"ssl_verify", "/etc/ca.pem"}});
  ASSERT_TRUE(ca);
  EXPECT_TRUE(ca->ssl_verify);
  EXPECT_EQ(ca->ca_bundle, "/etc/ca.pem");
  EXPECT_FALSE(resolve_settings("http://h", {{"auth", "kerberos"}}));
  EXPECT_FALSE(resolve_settings("http://h", {{"auth", "custom"}}));  // needs custom_auth_header
  EXPECT_FALSE(resolve_settings("http://h", {{"method", "PATCH"}}));
  EXPECT_FALSE(resolve_settings("http://h", {{"connect_timeout", "soon"}}));
  auto tok = resolve_settings("webdav://h", {{"token", "abc"}});
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->token, "abc");
  EXPECT_EQ(tok->auth, "");
}

TEST(HttpRemoteSettings, EncodedUrlPathIsDecodedOnce) {
  auto a = resolve_settings("webdav://h/my%20data/%C3%BC", {});
  auto b = resolve_settings("webdav://h/my data/ü", {});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->root, "/my data/ü");
  EXPECT_EQ(b->root, "/my data/ü");
}

TEST(HttpRemoteEncoding, PerSegment) {
  EXPECT_EQ(encode_path("/a b/ü/c+d/e%f"), "/a%20b/%C3%BC/c%2Bd/e%25f");
  EXPECT_EQ(encode_path("/files/md5/ab/cd.dir"), "/files/md5/ab/cd.dir");
  EXPECT_EQ(percent_decode("a%20b%2fc%C3%BC"), "a b/cü");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode(encode_path("/x y/ä€/%")), "/x y/ä€/%");
}

TEST(HttpRemotePropfind, NginxStyle) {
  const char* xml = R"(<?xml version="1.0" encoding="utf-8" ?>
<D:multistatus xmlns:D="DAV:">
<D:response>
<D:href>/dav/r/files/md5/</D:href>
<D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop>
<D:status>HTTP/1.1 200 OK</D:status></D:propstat>
</D:response>
<D:response>
<D:href>/dav/r/files/md5/ab/</D:href>
<D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop></D:propstat>
</D:response>
<D:response>
<D:href>/dav/r/files/md5/a%20b%C3%BC&amp;c</D:href>
<D:propstat><D:prop><D:getcontentlength>3</D:getcontentlength><D:resourcetype></D:resourcetype></D:prop></D:propstat>
</D:response>
</D:multistatus>)";
  auto e = parse_multistatus(xml);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].path, "/dav/r/files/md5");
  EXPECT_TRUE(e[0].collection);
  EXPECT_EQ(e[1].path, "/dav/r/files/md5/ab");
  EXPECT_TRUE(e[1].collection);
  EXPECT_EQ(e[2].path, "/dav/r/files/md5/a bü&c");
  EXPECT_FALSE(e[2].collection);
}

TEST(HttpRemotePropfind, OtherPrefixesAndAbsoluteHrefs) {
  const char* xml = R"(<?xml version="1.0"?><multistatus xmlns="DAV:" xmlns:lp1="DAV:">
<response><href>https://host:8443/root/x.txt</href><propstat><prop><lp1:resourcetype/>
<lp1:getcontentlength>1</lp1:getcontentlength></prop></propstat></response>
<response><href>https://host:8443/root/sub/</href><propstat><prop><lp1:resourcetype><lp1:collection /></lp1:resourcetype></prop></propstat></response>
<response><href>https://host:8443/</href><propstat><prop><resourcetype><collection/></resourcetype></prop></propstat></response>
</multistatus>)";
  auto e = parse_multistatus(xml);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].path, "/root/x.txt");
  EXPECT_FALSE(e[0].collection);
  EXPECT_EQ(e[1].path, "/root/sub");
  EXPECT_TRUE(e[1].collection);
  EXPECT_EQ(e[2].path, "");
  EXPECT_TRUE(e[2].collection);
  EXPECT_TRUE(parse_multistatus("").empty());
  EXPECT_TRUE(parse_multistatus("<html>not dav</html>").empty());
}

TEST(HttpRemoteRegistry, Schemes) {
  for (const char* url : {"http://h/p", "https://h/p", "webdav://h/p", "webdavs://h/p"}) {
    auto r = open_remote(url, {});
    ASSERT_TRUE(r) << url << ": " << r.error().message;
    EXPECT_EQ((*r)->describe(), url);
  }
}

TEST(HttpRemoteList, PlainHttpCannotList) {
  auto s = resolve_settings("http://127.0.0.1:1/p", {});
  ASSERT_TRUE(s);
  HttpRemote r(*s);
  auto l = r.list("files/md5");
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("cannot be listed"), std::string::npos);
}

}  // namespace
}  // namespace dvx::remote::dav
