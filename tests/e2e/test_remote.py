"""dvc remote add/list/default/modify/remove/rename (behaviour.md 13, formats.md 9)."""

import os

import dvxtest


class TestRemote(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()

    def test_add_default_relative_exact_bytes(self):
        # The basic fixture's .dvc/config was written by `dvc remote add -d local ../remote`.
        code, out, err = self.run("remote", "add", "-d", "local", "../remote")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "Setting 'local' as a default remote.\n")
        self.assertFileBytes(".dvc/config", "[core]\n    remote = local\n"
                                            "['remote \"local\"']\n    url = ../../remote\n")

    def test_add_absolute(self):
        url = os.path.join(self.tmp, "store")
        code, out, err = self.run("remote", "add", "store", url)
        self.assertEqual((code, out), (0, ""), err)
        self.assertFileBytes(".dvc/config", f"['remote \"store\"']\n    url = {url}\n")

    def test_add_existing_requires_force(self):
        self.dvx("remote", "add", "r", "s3://bucket/a")
        code, out, err = self.run("remote", "add", "r", "s3://bucket/b")
        self.assertEqual(code, 251)
        self.assertIn("remote 'r' already exists. Use `-f|--force` to overwrite it.", err)
        self.assertFileBytes(".dvc/config", "['remote \"r\"']\n    url = s3://bucket/a\n")
        self.dvx("remote", "add", "-f", "r", "s3://bucket/b")
        self.assertFileBytes(".dvc/config", "['remote \"r\"']\n    url = s3://bucket/b\n")

    def test_add_local_level(self):
        self.dvx("remote", "add", "--local", "r", "s3://bucket/a")
        self.assertFileBytes(".dvc/config.local", "['remote \"r\"']\n    url = s3://bucket/a\n")
        self.assertFileBytes(".dvc/config", b"")

    def test_list(self):
        a = os.path.join(self.tmp, "a")
        self.dvx("remote", "add", "first", a)
        self.dvx("remote", "add", "-d", "second", "s3://bucket/path")
        code, out, err = self.run("remote", "list")
        self.assertEqual(code, 0, err)
        # `name<TAB>url[<TAB>(default)]`, printed through rich, which expands TABs to 8 columns
        # (as in the recorded checkout outputs)
        self.assertEqual(out, f"first\t{a}\n".expandtabs(8) +
                         "second\ts3://bucket/path\t(default)\n".expandtabs(8))

    def test_list_empty(self):
        self.assertEqual(self.dvx("remote", "list"), "")

    def test_default(self):
        self.dvx("remote", "add", "a", "s3://bucket/a")
        self.dvx("remote", "add", "b", "s3://bucket/b")
        code, out, err = self.run("remote", "default")
        self.assertEqual(code, 1)
        self.assertEqual(out, "No default remote set\n")
        self.dvx("remote", "default", "b")
        self.assertEqual(self.dvx("remote", "default"), "b\n")
        self.assertIn("[core]\n    remote = b\n", self.read(".dvc/config").decode())
        code, out, err = self.run("remote", "default", "nosuch")
        self.assertEqual(code, 251)
        self.assertIn("default remote must be present in remote list.", err)
        self.dvx("remote", "default", "-u")
        self.assertNotIn("[core]", self.read(".dvc/config").decode())

    def test_modify_and_unset(self):
        self.dvx("remote", "add", "s3r", "s3://bucket/path")
        self.dvx("remote", "modify", "s3r", "region", "us-east-1")
        self.assertFileBytes(".dvc/config", "['remote \"s3r\"']\n    url = s3://bucket/path\n"
                                            "    region = us-east-1\n")
        self.dvx("remote", "modify", "s3r", "-u", "region")
        self.assertFileBytes(".dvc/config", "['remote \"s3r\"']\n    url = s3://bucket/path\n")

    def test_modify_unknown_option(self):
        self.dvx("remote", "add", "s3r", "s3://bucket/path")
        code, out, err = self.run("remote", "modify", "s3r", "nonexist", "x")
        self.assertEqual(code, 251)
        self.assertFileBytes(".dvc/config", "['remote \"s3r\"']\n    url = s3://bucket/path\n")

    def test_modify_unknown_remote(self):
        code, out, err = self.run("remote", "modify", "nosuch", "url", "s3://x/y")
        self.assertEqual(code, 251)
        self.assertIn("remote 'nosuch' doesn't exist.", err)

    def test_remove_clears_default(self):
        self.dvx("remote", "add", "-d", "a", "s3://bucket/a")
        self.dvx("remote", "add", "b", "s3://bucket/b")
        code, out, err = self.run("remote", "remove", "a")
        self.assertEqual(code, 0, err)
        self.assertFileBytes(".dvc/config", "['remote \"b\"']\n    url = s3://bucket/b\n")
        code, out, err = self.run("remote", "remove", "a")
        self.assertEqual(code, 251)
        self.assertIn("remote 'a' doesn't exist.", err)

    def test_rename(self):
        self.dvx("remote", "add", "-d", "old", "s3://bucket/a")
        code, out, err = self.run("remote", "rename", "old", "new")
        self.assertEqual(code, 0, err)
        self.assertFileBytes(".dvc/config", "[core]\n    remote = new\n"
                                            "['remote \"new\"']\n    url = s3://bucket/a\n")
        self.assertEqual(self.dvx("remote", "list"),
                         "new\ts3://bucket/a\t(default)\n".expandtabs(8))

    def test_rename_to_existing(self):
        self.dvx("remote", "add", "a", "s3://bucket/a")
        self.dvx("remote", "add", "b", "s3://bucket/b")
        code, out, err = self.run("remote", "rename", "a", "b")
        self.assertEqual(code, 251)
        self.assertIn("Rename failed. Remote name 'b' already exists.", err)

    def test_names_are_lowercased(self):
        self.dvx("remote", "add", "MyRemote", "s3://bucket/a")
        self.assertFileBytes(".dvc/config", "['remote \"myremote\"']\n    url = s3://bucket/a\n")



class TestRemoteHostileNames(dvxtest.DvxTestCase):
    """Names and values that configobj cannot quote are refused (exit 251, config untouched);
    the rest are written so that they read back the same."""

    def setUp(self):
        super().setUp()
        self.make_repo()
        self.dvx("remote", "add", "-d", "r", "s3://bucket/x")

    def test_unwritable_names_and_values_refused(self):
        before = self.read(".dvc/config")
        for args in (["remote", "add", "a\nb", "s3://b/x"],
                     ["remote", "rename", "r", "new\nname"],
                     ["config", "core.remote", "x'''y\"\"\"\nz"]):
            with self.subTest(args=args):
                code, out, err = self.run(*args)
                self.assertEqual(code, 251, err)
                self.assertIn("cannot be written to '.dvc/config'", err)
                self.assertFileBytes(".dvc/config", before)

    def test_awkward_names_and_values_round_trip(self):
        for name in ('a"b', "a]b", "#x", "x y", "a'b"):
            with self.subTest(name=name):
                self.dvx("remote", "add", name, "s3://b/" + name)
                self.assertEqual(self.dvx("config", f"remote.{name}.url"), f"s3://b/{name}\n")
        for value in ("s3://b/ lead", "s3://b/trail ", "s3://b/#hash", "s3://b/x'y\"z", "s3://b/a,b",
                      "s3://b/a\nb"):
            with self.subTest(value=value):
                self.dvx("remote", "modify", "r", "url", value)
                self.assertEqual(self.dvx("config", "remote.r.url"), value + "\n")
        self.assertEqual(self.dvx("remote", "default"), "r\n")

    def test_list_resolves_local_paths_like_dvc(self):
        # DVC's loader joins a relative path to the config file's folder without normalising it.
        self.dvx("remote", "add", "loc", "../store")
        self.dvx("remote", "add", "--local", "loc2", "store2")
        self.dvx("remote", "add", "abs", "/srv/x")
        out = self.dvx("remote", "list")
        dvc_dir = os.path.join(self.repo, ".dvc")
        self.assertEqual(out, ("r\ts3://bucket/x\t(default)\n" + f"loc\t{dvc_dir}/../../store\n" +
                               "abs\t/srv/x\n" + f"loc2\t{dvc_dir}/../store2\n").expandtabs(8))
        self.assertEqual(self.dvx("remote", "list", "--project").splitlines()[1],
                         f"loc\t{dvc_dir}/../../store".expandtabs(8))


if __name__ == "__main__":
    dvxtest.main()
