#include "dvx/config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>

#include "dvx/config/keys.h"
#include "dvx/platform/files.h"

using dvx::ErrorCode;
using dvx::config::Config;
using dvx::config::Level;
using dvx::config::PathValues;
using dvx::config::Validate;
namespace platform = dvx::platform;

namespace {

const std::string kFixtureConfig = "[core]\n    remote = local\n['remote \"local\"']\n    url = ../../remote\n";

// A temp dir with <root>/.dvc, fake global/system config dirs (via DVC_GLOBAL_CONFIG_DIR and
// DVC_SYSTEM_CONFIG_DIR), and the CWD set to <root>; everything restored afterwards.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dvx-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp = tmpl;
    root = tmp + "/repo";
    dvc_dir = root + "/.dvc";
    global_dir = tmp + "/global";
    system_dir = tmp + "/system";
    ASSERT_TRUE(platform::make_dirs(dvc_dir));
    old_cwd = platform::current_dir();
    ASSERT_EQ(chdir(root.c_str()), 0);
    setenv("DVC_GLOBAL_CONFIG_DIR", global_dir.c_str(), 1);
    setenv("DVC_SYSTEM_CONFIG_DIR", system_dir.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("DVC_GLOBAL_CONFIG_DIR");
    unsetenv("DVC_SYSTEM_CONFIG_DIR");
    ASSERT_EQ(chdir(old_cwd.c_str()), 0);
    if (!HasFailure()) (void)platform::remove_all(tmp);
  }

  void write(const std::string& path, const std::string& text) {
    ASSERT_TRUE(platform::make_dirs(platform::parent_dir(path)));
    ASSERT_TRUE(platform::write_file_atomic(path, text));
  }
  std::string read(const std::string& path) {
    auto r = platform::read_file(path);
    return r ? *r : "<missing>";
  }
  Config load() {
    auto c = Config::load(dvc_dir);
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
    return c ? std::move(*c) : *Config::load("", Validate::no);
  }

  std::string tmp, root, dvc_dir, global_dir, system_dir, old_cwd;
};

}  // namespace

TEST_F(ConfigTest, FilePathsFollowEnvironment) {
  Config c = load();
  EXPECT_EQ(c.file_path(Level::system), system_dir + "/config");
  EXPECT_EQ(c.file_path(Level::global), global_dir + "/config");
  EXPECT_EQ(c.file_path(Level::repo), dvc_dir + "/config");
  EXPECT_EQ(c.file_path(Level::local), dvc_dir + "/config.local");
}

TEST_F(ConfigTest, XdgDirsWhenNoOverride) {
  unsetenv("DVC_GLOBAL_CONFIG_DIR");
  unsetenv("DVC_SYSTEM_CONFIG_DIR");
  setenv("XDG_CONFIG_HOME", (tmp + "/xdg-home").c_str(), 1);
  setenv("XDG_CONFIG_DIRS", (tmp + "/xdg1:" + tmp + "/xdg2").c_str(), 1);
  auto c = Config::load("");
  unsetenv("XDG_CONFIG_HOME");
  unsetenv("XDG_CONFIG_DIRS");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->file_path(Level::global), tmp + "/xdg-home/dvc/config");
  EXPECT_EQ(c->file_path(Level::system), tmp + "/xdg1/dvc/config");
  EXPECT_EQ(c->file_path(Level::repo), "");
}

TEST_F(ConfigTest, RealFixtureConfigReadsAndRewritesIdentically) {
  const std::string fixture = std::string(DVX_FIXTURES_DIR) + "/basic.tar.gz";
  std::string cmd = "tar -xzf '" + fixture + "' -C '" + tmp + "' basic/repo/.dvc/config";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string fdvc = tmp + "/basic/repo/.dvc";
  const std::string original = read(fdvc + "/config");
  EXPECT_EQ(original, kFixtureConfig);

  auto c = Config::load(fdvc);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->get("core.remote"), "local");
  EXPECT_EQ(c->default_remote(), "local");
  EXPECT_EQ(c->get("remote.local.url"), "../../remote");
  EXPECT_EQ(c->remote_url("local").value(), tmp + "/basic/remote");
  EXPECT_EQ(c->remote_names(), std::vector<std::string>{"local"});
  EXPECT_EQ(c->cache_dir(), fdvc + "/cache");

  ASSERT_TRUE(c->set(Level::repo, "core.remote", "local"));  // a rewrite with the same content
  EXPECT_EQ(read(fdvc + "/config"), original);
}

TEST_F(ConfigTest, RemoteAddFromRepoRootStoresPathRelativeToDvcDir) {
  Config c = load();
  write(dvc_dir + "/config", "");
  auto stored = c.path_for_storage(Level::repo, "../remote", root);
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, "../../remote");
  ASSERT_TRUE(c.set(Level::repo, "remote.local.url", *stored));
  ASSERT_TRUE(c.set(Level::repo, "core.remote", "local"));
  // DVC writes [core] before the named sections whatever order they were created in.
  EXPECT_EQ(read(dvc_dir + "/config"), kFixtureConfig);
  EXPECT_EQ(c.remote_url("local").value(), tmp + "/remote");
  // Reloading sees the same.
  Config again = load();
  EXPECT_EQ(again.remote_url("LOCAL").value(), tmp + "/remote");
}

TEST_F(ConfigTest, PathForStorageKeepsUrlsAbsoluteAndHome) {
  Config c = load();
  EXPECT_EQ(c.path_for_storage(Level::repo, "s3://bucket/x", root).value(), "s3://bucket/x");
  EXPECT_EQ(c.path_for_storage(Level::repo, "/srv/store", root).value(), "/srv/store");
  EXPECT_EQ(c.path_for_storage(Level::repo, "~/store", root).value(), "~/store");
  EXPECT_EQ(c.path_for_storage(Level::repo, "cache2", root + "/sub").value(), "../sub/cache2");
  EXPECT_EQ(c.path_for_storage(Level::global, "../x", tmp + "/a/b").value(), "../a/x");
}

TEST_F(ConfigTest, PrecedenceLocalRepoGlobalSystem) {
  write(system_dir + "/config", "[core]\n    checksum_jobs = 1\n    autostage = true\n    analytics = false\n");
  write(global_dir + "/config", "[core]\n    checksum_jobs = 2\n    autostage = false\n");
  write(dvc_dir + "/config", "[core]\n    checksum_jobs = 3\n");
  write(dvc_dir + "/config.local", "[core]\n    checksum_jobs = 4\n");
  Config c = load();
  EXPECT_EQ(c.get("core.checksum_jobs"), "4");
  EXPECT_EQ(c.checksum_jobs(), 4u);
  EXPECT_EQ(c.get(Level::repo, "core.checksum_jobs"), "3");
  EXPECT_EQ(c.get(Level::global, "core.checksum_jobs"), "2");
  EXPECT_EQ(c.get(Level::system, "core.checksum_jobs"), "1");
  EXPECT_EQ(c.get("core.autostage"), "false");  // global over system
  EXPECT_FALSE(c.autostage());
  EXPECT_FALSE(c.analytics());                  // only system sets it
  EXPECT_EQ(c.get("core.no_scm"), std::nullopt);
  EXPECT_FALSE(c.no_scm());
}

TEST_F(ConfigTest, OutsideARepoOnlySystemAndGlobal) {
  write(global_dir + "/config", "[core]\n    autostage = true\n");
  auto c = Config::load("");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->autostage());
  EXPECT_EQ(c->cache_dir(), "");
  auto st = c->set(Level::repo, "core.autostage", "true");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "config file error: Not inside a DVC repo");
  ASSERT_TRUE(c->set(Level::global, "core.no_scm", "true"));
  EXPECT_EQ(read(global_dir + "/config"), "[core]\n    autostage = true\n    no_scm = true\n");
}

TEST_F(ConfigTest, BrokenIniReportsFileAndLine) {
  write(dvc_dir + "/config", "[core]\n    remote = x\nthis is not ini\n");
  auto c = Config::load(dvc_dir);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(c.error().message,
            "config file error: '.dvc/config':3: invalid line 'this is not ini' (matched as neither section nor keyword)");
}

TEST_F(ConfigTest, UnknownKeyIsRejectedAndFileUntouched) {
  write(dvc_dir + "/config", kFixtureConfig);
  Config c = load();
  auto st = c.set(Level::repo, "core.nonexist", "1");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(st.error().message, "config file error: extra keys not allowed @ data['core']['nonexist']");
  EXPECT_EQ(read(dvc_dir + "/config"), kFixtureConfig);

  st = c.set(Level::repo, "foo.bar", "1");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "config file error: extra keys not allowed @ data['foo']");

  st = c.set(Level::repo, "remote.local.keyfile", "k");  // an ssh option on a local remote
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "config file error: extra keys not allowed @ data['remote']['local']['keyfile']");

  st = c.set(Level::repo, "core", "1");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message,
            "name argument should look like remote.name.option or db.name.option or section.option");
}

TEST_F(ConfigTest, UnknownKeyInFileFailsValidatedLoad) {
  write(dvc_dir + "/config", "[core]\n    nonexist = 1\n");
  auto c = Config::load(dvc_dir);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "config file error: extra keys not allowed @ data['core']['nonexist']");
  auto lenient = Config::load(dvc_dir, Validate::no);
  ASSERT_TRUE(lenient);
  ASSERT_TRUE(lenient->unset(Level::repo, "core.nonexist"));  // `dvc config -u` can repair it
  EXPECT_EQ(read(dvc_dir + "/config"), "\n");                 // configobj's bytes for no sections
}

TEST_F(ConfigTest, ValueValidation) {
  Config c = load();
  auto msg = [&](const char* key, const char* value) {
    auto st = c.set(Level::repo, key, value);
    return st ? std::string("ok") : st.error().message;
  };
  EXPECT_EQ(msg("core.autostage", "maybe"),
            "config file error: expected true or false for dictionary value @ data['core']['autostage']");
  EXPECT_EQ(msg("core.autostage", "TRUE"), "ok");
  EXPECT_EQ(msg("core.checksum_jobs", "0"),
            "config file error: value must be at least 1 for dictionary value @ data['core']['checksum_jobs']");
  EXPECT_EQ(msg("core.checksum_jobs", "x"),
            "config file error: expected int for dictionary value @ data['core']['checksum_jobs']");
  EXPECT_EQ(msg("cache.type", "reflink,foo"),
            "config file error: Unsupported cache type(s): foo for dictionary value @ data['cache']['type']");
  EXPECT_EQ(msg("cache.type", "hardlink,symlink"), "ok");
  EXPECT_EQ(msg("cache.shared", "world"),
            "config file error: expected one of group for dictionary value @ data['cache']['shared']");
  EXPECT_EQ(msg("cache.shared", "Group"), "ok");
  EXPECT_TRUE(c.cache_shared_group());
  EXPECT_EQ(msg("remote.r.jobs", "4"), "config file error: expected 'url' for dictionary value @ data['remote']['r']");
  EXPECT_EQ(msg("remote.r.url", "foo://bucket/x"),
            "config file error: Unsupported URL type foo:// for dictionary value @ data['remote']['r']");
  EXPECT_EQ(msg("remote.r.url", "s3://bucket/x"), "ok");
  EXPECT_EQ(msg("remote.r.region", "us-east-1"), "ok");
  EXPECT_EQ(msg("remote.r.jobs", "0"),
            "config file error: value must be at least 1 for dictionary value @ data['remote']['r']['jobs']");
  EXPECT_EQ(msg("remote.h.url", "https://example.com/dvc"), "ok");
  EXPECT_EQ(msg("remote.h.auth", "digest"), "ok");
  EXPECT_EQ(msg("remote.h.auth", "oauth"),
            "config file error: expected one of basic, digest, custom for dictionary value @ data['remote']['h']['auth']");
  EXPECT_EQ(msg("remote.h.read_timeout", "2.5"), "ok");
  EXPECT_EQ(msg("remote.s.url", "ssh://host/path"), "ok");
  EXPECT_EQ(msg("remote.s.keyfile", "id_rsa"), "ok");
  EXPECT_EQ(msg("remote.ref.url", "remote://s/sub"), "ok");
  EXPECT_EQ(msg("remote.ref.anything", "goes"), "ok");  // remote:// accepts any option
  EXPECT_EQ(msg("db.pg.url", "postgresql://x"), "ok");
  EXPECT_EQ(msg("hydra.config_dir", "conf"), "ok");
  EXPECT_EQ(msg("hydra.config_module", "m"),
            "config file error: two or more values in the same group of exclusion 'config_source' @ "
            "data['hydra']['config_module']");
}

TEST_F(ConfigTest, UnsetErrorsLikeDvc) {
  write(dvc_dir + "/config", kFixtureConfig);
  Config c = load();
  auto err = [&](const char* key) {
    auto st = c.unset(Level::repo, key);
    EXPECT_FALSE(st);
    return st ? std::string() : st.error().message;
  };
  EXPECT_EQ(err("core.autostage"), "config file error: option 'autostage' doesn't exist in section 'core'");
  EXPECT_EQ(err("cache.dir"), "config file error: option 'dir' doesn't exist in section 'cache'");
  EXPECT_EQ(err("foo.bar"), "config file error: section 'foo' doesn't exist");
  EXPECT_EQ(err("remote.nope.url"), "config file error: remote 'nope' doesn't exist");
  EXPECT_EQ(err("remote.local.jobs"), "config file error: option 'jobs' doesn't exist in remote 'local'");
  EXPECT_EQ(c.unset(Level::repo, "core.autostage").error().code, ErrorCode::not_found);
  // Removing the url of a remote leaves an invalid remote: refused.
  auto st = c.unset(Level::repo, "remote.local.url");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "config file error: expected 'url' for dictionary value @ data['remote']['local']");
  ASSERT_TRUE(c.unset(Level::repo, "core.remote"));
  EXPECT_EQ(read(dvc_dir + "/config"), "['remote \"local\"']\n    url = ../../remote\n");
}

TEST_F(ConfigTest, RewriteDropsCommentsLowercasesAndReordersLikeDvc) {
  write(dvc_dir + "/config",
        "# my comment\n['remote \"A\"']\nURL = /x   # where\n[core]\nremote = a # c\n[cache]\ntype = reflink,copy\n"
        "dir = ./a/../shared\n");
  Config c = load();
  EXPECT_EQ(c.cache_types(), (std::vector<std::string>{"reflink", "copy"}));
  EXPECT_EQ(c.get("cache.type"), "reflink,copy");
  EXPECT_EQ(c.cache_dir(), dvc_dir + "/shared");
  ASSERT_TRUE(c.set(Level::repo, "core.autostage", "true"));
  EXPECT_EQ(read(dvc_dir + "/config"),
            "[core]\n    remote = a\n    autostage = true\n[cache]\n    type = reflink, copy\n    dir = shared\n"
            "['remote \"a\"']\n    url = /x\n");
}

TEST_F(ConfigTest, ValuesNeedingQuotesAreQuoted) {
  Config c = load();
  ASSERT_TRUE(c.set(Level::repo, "cache.type", "reflink,copy"));
  ASSERT_TRUE(c.set(Level::repo, "remote.my remote.url", "/srv/with space #1"));
  EXPECT_EQ(read(dvc_dir + "/config"),
            "[cache]\n    type = \"reflink,copy\"\n['remote \"my remote\"']\n    url = \"/srv/with space #1\"\n");
  Config again = load();
  EXPECT_EQ(again.get("cache.type"), "reflink,copy");
  EXPECT_EQ(again.remote_url("my remote").value(), "/srv/with space #1");
}

TEST_F(ConfigTest, ListInDvcOrder) {
  write(global_dir + "/config", "[core]\n    analytics = false\n");
  write(dvc_dir + "/config",
        "[core]\n    remote = local\n[cache]\n    type = reflink,copy\n['remote \"local\"']\n    url = ../../remote\n"
        "['remote \"s3\"']\n    url = s3://b/p\n    region = eu\n");
  write(dvc_dir + "/config.local", "['remote \"s3\"']\n    access_key_id = k\n");
  Config c = load();
  using Lines = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(c.list(Level::repo, PathValues::as_stored),
            (Lines{{"remote.local.url", "../../remote"},
                   {"remote.s3.url", "s3://b/p"},
                   {"remote.s3.region", "eu"},
                   {"core.remote", "local"},
                   {"cache.type", "['reflink', 'copy']"}}));
  auto all = c.list(std::nullopt);  // resolved paths, levels in order
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[0], (std::pair<std::string, std::string>{"core.analytics", "false"}));
  EXPECT_EQ(all[1], (std::pair<std::string, std::string>{"remote.local.url", tmp + "/remote"}));
  EXPECT_EQ(all[6], (std::pair<std::string, std::string>{"remote.s3.access_key_id", "k"}));
  EXPECT_EQ(c.remote_names(), (std::vector<std::string>{"local", "s3"}));
  EXPECT_EQ(c.remote_names(Level::local), (std::vector<std::string>{"s3"}));
  EXPECT_EQ(c.remote_option("s3", "region"), "eu");
  EXPECT_EQ(c.remote_option("s3", "access_key_id"), "k");
  EXPECT_EQ(c.remote_option("s3", "profile"), std::nullopt);
}

TEST_F(ConfigTest, RemoteUrlResolution) {
  write(global_dir + "/config",
        "['remote \"g\"']\n    url = store\n['remote \"gs\"']\n    url = ssh://h/p\n    keyfile = keys/id\n");
  write(dvc_dir + "/config",
        "['remote \"ssh\"']\n    url = ssh://host/base\n    user = bob\n"
        "['remote \"ref\"']\n    url = remote://ssh/sub/dir\n    port = 2222\n"
        "['remote \"abs\"']\n    url = /srv/abs\n"
        "['remote \"home\"']\n    url = ~/store\n"
        "['remote \"reflocal\"']\n    url = remote://g/x\n");
  Config c = load();
  EXPECT_EQ(c.remote_url("g").value(), global_dir + "/store");
  EXPECT_EQ(c.remote_option("gs", "keyfile"), global_dir + "/keys/id");
  EXPECT_EQ(c.get("remote.gs.keyfile"), "keys/id");
  EXPECT_EQ(c.get("remote.gs.keyfile", PathValues::resolved), global_dir + "/keys/id");
  EXPECT_EQ(c.remote_url("ssh").value(), "ssh://host/base");
  EXPECT_EQ(c.remote_url("ref").value(), "ssh://host/base/sub/dir");
  EXPECT_EQ(c.remote_option("ref", "user"), "bob");      // from the base remote
  EXPECT_EQ(c.remote_option("ref", "port"), "2222");     // its own
  EXPECT_EQ(c.remote_url("abs").value(), "/srv/abs");
  const char* home = std::getenv("HOME");
  if (home) {
    EXPECT_EQ(c.remote_url("home").value(), std::string(home) + "/store");
  }
  EXPECT_EQ(c.remote_url("reflocal").value(), global_dir + "/store/x");
  auto missing = c.remote_url("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_EQ(missing.error().message, "config file error: remote 'nope' doesn't exist");
}

TEST_F(ConfigTest, RemoteOverriddenInLocalMergesKeyByKey) {
  write(dvc_dir + "/config", "['remote \"r\"']\n    url = s3://bucket/a\n    region = us\n");
  Config c = load();
  ASSERT_TRUE(c.set(Level::local, "remote.r.secret_access_key", "sekrit"));  // validated against merged url
  EXPECT_EQ(read(dvc_dir + "/config.local"), "['remote \"r\"']\n    secret_access_key = sekrit\n");
  EXPECT_EQ(c.remote_option("r", "secret_access_key"), "sekrit");
  EXPECT_EQ(c.remote_option("r", "region"), "us");
}

TEST_F(ConfigTest, CacheDirAndTypes) {
  Config c = load();
  EXPECT_EQ(c.cache_dir(), dvc_dir + "/cache");
  EXPECT_EQ(c.cache_types(), (std::vector<std::string>{"reflink", "copy"}));
  auto stored = c.path_for_storage(Level::repo, "../shared-cache", root);
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, "../../shared-cache");
  ASSERT_TRUE(c.set(Level::repo, "cache.dir", *stored));
  EXPECT_EQ(c.cache_dir(), tmp + "/shared-cache");
  ASSERT_TRUE(c.set(Level::local, "cache.dir", "/abs/cache"));
  EXPECT_EQ(c.cache_dir(), "/abs/cache");
  ASSERT_TRUE(c.set(Level::repo, "cache.type", "symlink"));
  EXPECT_EQ(c.cache_types(), std::vector<std::string>{"symlink"});
  EXPECT_EQ(read(dvc_dir + "/config"), "[cache]\n    dir = ../../shared-cache\n    type = symlink\n");
}

TEST_F(ConfigTest, RemoveAndRenameRemote) {
  write(dvc_dir + "/config",
        "[core]\n    remote = a\n['remote \"a\"']\n    url = /a\n['remote \"b\"']\n    url = /b\n");
  Config c = load();
  ASSERT_TRUE(c.rename_remote(Level::repo, "a", "c"));
  EXPECT_EQ(read(dvc_dir + "/config"),
            "[core]\n    remote = a\n['remote \"b\"']\n    url = /b\n['remote \"c\"']\n    url = /a\n");
  EXPECT_EQ(c.rename_remote(Level::repo, "b", "c").error().code, ErrorCode::conflict);
  EXPECT_EQ(c.rename_remote(Level::repo, "zz", "y").error().message, "config file error: remote 'zz' doesn't exist");
  ASSERT_TRUE(c.remove_remote(Level::repo, "b"));
  EXPECT_EQ(c.remote_names(), std::vector<std::string>{"c"});
  EXPECT_EQ(c.remove_remote(Level::repo, "b").error().code, ErrorCode::not_found);
}

TEST_F(ConfigTest, FeatureUnknownKeysWarnOnly) {
  write(dvc_dir + "/config", "[feature]\n    machine = true\n    old_thing = 1\n");
  Config c = load();
  ASSERT_EQ(c.warnings().size(), 1u);
  EXPECT_EQ(c.warnings()[0], "'feature.old_thing' config option is unsupported");
}

TEST_F(ConfigTest, ChecksumJobsDefault) {
  Config c = load();
  unsigned jobs = c.checksum_jobs();
  EXPECT_GE(jobs, 1u);
  EXPECT_LE(jobs, 4u);
}

TEST(ConfigKeys, TableAndSchemes) {
  using namespace dvx::config;
  EXPECT_EQ(remote_scheme("../remote"), scheme::local);
  EXPECT_EQ(remote_scheme("/abs"), scheme::local);
  EXPECT_EQ(remote_scheme("S3://bucket"), scheme::s3);
  EXPECT_EQ(remote_scheme("https://h/x"), scheme::http);
  EXPECT_EQ(remote_scheme("webdavs://h/x"), scheme::webdav);
  EXPECT_EQ(remote_scheme("remote://base/x"), 0u);
  EXPECT_EQ(remote_scheme("s3:///nohost"), scheme::local);
  std::string name;
  EXPECT_EQ(remote_scheme("foo://x", &name), std::nullopt);
  EXPECT_EQ(name, "foo");
  const KeyInfo* verify_oss = find_key("remote", "verify", scheme::oss);
  ASSERT_NE(verify_oss, nullptr);
  EXPECT_EQ(verify_oss->default_value, "true");
  EXPECT_EQ(find_key("remote", "verify", scheme::local)->default_value, "false");
  EXPECT_EQ(find_key("remote", "verify", scheme::hdfs), nullptr);
  EXPECT_EQ(find_key("remote", "connect_timeout", scheme::http)->type, ValueType::non_negative_number);
  EXPECT_EQ(find_key("remote", "connect_timeout", scheme::s3)->type, ValueType::integer);
  EXPECT_TRUE(find_key("cache", "dir")->is_path);
  EXPECT_EQ(find_key("cache", "type")->default_value, "reflink,copy");
  for (const auto& k : key_table()) {
    EXPECT_FALSE(k.doc.empty()) << k.section << "." << k.name;
    if (k.section == "remote") {
      EXPECT_NE(k.schemes, 0u) << k.name;
    }
  }
  EXPECT_EQ(parse_int(" 12 "), 12);
  EXPECT_EQ(parse_int("1.5"), std::nullopt);
  EXPECT_EQ(parse_bool("False"), false);
}
