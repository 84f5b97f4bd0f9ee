"""dvc config (formats.md 9, behaviour.md 13)."""

import os

import dvxtest


class TestConfig(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()

    def test_set_get_unset_project(self):
        code, out, err = self.run("config", "core.autostage", "true")
        self.assertEqual((code, out), (0, ""), err)
        self.assertFileBytes(".dvc/config", "[core]\n    autostage = true\n")
        self.assertEqual(self.dvx("config", "core.autostage"), "true\n")
        code, out, err = self.run("config", "-u", "core.autostage")
        self.assertEqual(code, 0, err)
        # configobj's write() of an empty config emits a single newline
        self.assertFileBytes(".dvc/config", b"\n")

    def test_explicit_project_level(self):
        self.dvx("config", "--project", "core.checksum_jobs", "2")
        self.assertFileBytes(".dvc/config", "[core]\n    checksum_jobs = 2\n")
        self.assertEqual(self.dvx("config", "--project", "core.checksum_jobs"), "2\n")

    def test_local_level(self):
        self.dvx("config", "--local", "core.autostage", "true")
        self.assertFileBytes(".dvc/config.local", "[core]\n    autostage = true\n")
        self.assertFileBytes(".dvc/config", b"")
        self.assertEqual(self.dvx("config", "core.autostage"), "true\n")
        self.assertEqual(self.dvx("config", "--local", "core.autostage"), "true\n")

    def test_global_level(self):
        self.dvx("config", "--global", "core.check_update", "false")
        self.assertFileBytes(os.path.join(self.global_config_dir, "config"),
                             "[core]\n    check_update = false\n")
        self.assertEqual(self.dvx("config", "core.check_update"), "false\n")
        self.assertEqual(self.dvx("config", "--global", "core.check_update"), "false\n")

    def test_precedence_local_over_project_over_global(self):
        self.write(os.path.join(self.global_config_dir, "config"),
                   "[core]\n    checksum_jobs = 1\n")
        self.assertEqual(self.dvx("config", "core.checksum_jobs"), "1\n")
        self.dvx("config", "core.checksum_jobs", "2")
        self.assertEqual(self.dvx("config", "core.checksum_jobs"), "2\n")
        self.dvx("config", "--local", "core.checksum_jobs", "3")
        self.assertEqual(self.dvx("config", "core.checksum_jobs"), "3\n")
        self.assertEqual(self.dvx("config", "--project", "core.checksum_jobs"), "2\n")

    def test_list(self):
        self.write(".dvc/config", "[core]\n    autostage = true\n    remote = s3r\n"
                                  "['remote \"s3r\"']\n    url = s3://bucket/path\n")
        self.write(".dvc/config.local", "[core]\n    check_update = false\n")
        code, out, err = self.run("config", "-l")
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        # repo level first, then local level (order inside a level not asserted)
        self.assertEqual(sorted(lines[:3]), ["core.autostage=true", "core.remote=s3r",
                                             "remote.s3r.url=s3://bucket/path"])
        self.assertEqual(lines[3:], ["core.check_update=false"])
        self.assertEqual(self.dvx("config", "--list", "--local"), "core.check_update=false\n")

    def test_get_missing_option(self):
        # merged read: nothing printed, success; explicit level: configuration error (251)
        code, out, err = self.run("config", "core.remote")
        self.assertEqual((code, out), (0, ""), err)
        code, out, err = self.run("config", "--project", "core.remote")
        self.assertEqual(code, 251)
        self.assertIn("option 'remote' doesn't exist in section 'core'", err)

    def test_unknown_option_rejected(self):
        code, out, err = self.run("config", "core.nonexist", "1")
        self.assertEqual(code, 251)
        self.assertIn("ERROR: configuration error - config file error: extra keys not allowed "
                      "@ data['core']['nonexist']", err)
        self.assertFileBytes(".dvc/config", b"")

    def test_invalid_config_file(self):
        self.write(".dvc/config", "[core]\n    nonexist = 1\n")
        code, out, err = self.run("status")
        self.assertEqual(code, 251)
        self.assertIn("ERROR: configuration error - config file error: extra keys not allowed "
                      "@ data['core']['nonexist']", err)

    def test_bad_name(self):
        code, out, err = self.run("config", "nodot")
        self.assertEqual(code, 254)

    def test_remote_option_via_config(self):
        self.dvx("remote", "add", "s3r", "s3://bucket/path")
        self.dvx("config", "remote.s3r.region", "us-east-1")
        self.assertFileBytes(".dvc/config", "['remote \"s3r\"']\n    url = s3://bucket/path\n"
                                            "    region = us-east-1\n")
        self.assertEqual(self.dvx("config", "remote.s3r.region"), "us-east-1\n")

    def test_cache_type_value_with_comma_is_quoted(self):
        self.dvx("config", "cache.type", "reflink,copy")
        self.assertFileBytes(".dvc/config", "[cache]\n    type = \"reflink,copy\"\n")
        self.assertEqual(self.dvx("config", "cache.type"), "reflink,copy\n")

    def test_outside_repo_global_works(self):
        d = os.path.join(self.tmp, "plain")
        os.makedirs(d)
        self.dvx("config", "--global", "core.autostage", "true", cwd=d)
        self.assertFileBytes(os.path.join(self.global_config_dir, "config"),
                             "[core]\n    autostage = true\n")
        code, out, err = self.run("config", "--project", "core.autostage", "true", cwd=d)
        self.assertEqual(code, 251)


if __name__ == "__main__":
    dvxtest.main()
