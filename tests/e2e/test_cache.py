"""dvc cache dir, dvc cache migrate (cli.md 5, formats.md 2.4, 4, 9)."""

import os
import re

import dvxtest
from dvxtest import dvc_file


class TestCacheDir(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()

    def printed_dir(self, cwd=None):
        out = self.dvx("cache", "dir", cwd=cwd)
        self.assertTrue(out.endswith("\n") and "\n" not in out[:-1], repr(out))
        return os.path.realpath(os.path.join(cwd or self.repo, out[:-1]))

    def test_default(self):
        self.assertEqual(self.printed_dir(), os.path.realpath(self.p(".dvc", "cache")))

    def test_set_relative(self):
        code, out, err = self.run("cache", "dir", "../shared-cache")
        self.assertEqual(code, 0, err)
        # resolved against the CWD, stored relative to .dvc/
        self.assertFileBytes(".dvc/config", "[cache]\n    dir = ../../shared-cache\n")
        shared = os.path.join(self.tmp, "shared-cache")
        self.assertEqual(self.printed_dir(), shared)
        self.write("foo.txt", "hello\n")
        self.dvx("add", "foo.txt")
        self.assertCacheObject("b1946ac92492d2347c6235b4d2611184", b"hello\n", cache=shared)
        self.assertFalse(os.path.exists(self.p(".dvc", "cache", "files")))

    def test_set_relative_from_subdir(self):
        sub = self.p("sub")
        os.makedirs(sub)
        self.dvx("cache", "dir", "../../elsewhere", cwd=sub)
        self.assertFileBytes(".dvc/config", "[cache]\n    dir = ../../elsewhere\n")

    def test_set_absolute_local_and_unset(self):
        target = os.path.join(self.tmp, "abs-cache")
        self.dvx("cache", "dir", "--local", target)
        self.assertFileBytes(".dvc/config.local", f"[cache]\n    dir = {target}\n")
        self.assertFileBytes(".dvc/config", b"")
        self.assertEqual(self.printed_dir(), target)
        self.dvx("cache", "dir", "--local", "-u")
        self.assertFileBytes(".dvc/config.local", b"\n")  # configobj writes "\n" when empty
        self.assertEqual(self.printed_dir(), os.path.realpath(self.p(".dvc", "cache")))


class TestCacheMigrate(dvxtest.DvxTestCase):
    """On the legacy-remote fixture (2.x cache layout)."""

    RAW = {  # raw md5 of the workspace files (formats.md 3.1)
        "notes.txt": "5fb0817dd3d5802b05a7a2d7142b354e",
        "blob.bin": "6ffb99d02d47d0865836ad9b82040591",
        "data/a.txt": "def13413482e0578305eb033fa2c760a",
        "data/b.txt": "e73ae91f6b750b8a482cf33edfc2b531",
        "data/sub-notes.txt": "baa22e3e3b7931a797e63dcbc7ca9671",
        "data/sub/c.bin": "f41ea5c8de20218ea2c37618c7bb17f7",
        "data/sub/empty.txt": "d41d8cd98f00b204e9800998ecf8427e",
    }

    def setUp(self):
        super().setUp()
        self.extract_fixture("legacy-remote")

    def test_dry(self):
        code, out, err = self.run("cache", "migrate", "--dry")
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"(?m)^\d+ files will be re-hashed and migrated to the DVC 3\.0 "
                              r"cache location\.$")
        self.assertEqual(self.cache_objects(), set())

    def test_migrate(self):
        before = {f: self.read(f) for f in ("notes.txt.dvc", "blob.bin.dvc", "data.dvc")}
        code, out, err = self.run("cache", "migrate")
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"(?m)^Migrated \d+ files to DVC 3\.0 cache location\.$")
        for path, oid in self.RAW.items():
            self.assertCacheObject(oid, self.read(path))
        # without --dvc-files the .dvc files are untouched and everything still works
        for f, content in before.items():
            self.assertFileBytes(f, content)
        self.assertEqual(self.json_out("status", "--json"), {})
        os.remove(self.p("notes.txt"))
        self.dvx("checkout")
        self.assertEqual(dvxtest.md5_file(self.p("notes.txt")), self.RAW["notes.txt"])

    def test_migrate_dvc_files(self):
        code, out, err = self.run("cache", "migrate", "--dvc-files")
        self.assertEqual(code, 0, err)
        self.assertIn("Updating DVC file 'notes.txt.dvc'", out)
        text = self.read("notes.txt.dvc").decode()
        self.assertIn(f"md5: {self.RAW['notes.txt']}\n", text)
        self.assertIn("hash: md5\n", text)
        self.assertIn("path: notes.txt\n", text)
        for f in ("blob.bin.dvc", "data.dvc"):
            self.assertIn("hash: md5\n", self.read(f).decode())
        self.assertEqual(self.json_out("status", "--json"), {})


if __name__ == "__main__":
    dvxtest.main()
