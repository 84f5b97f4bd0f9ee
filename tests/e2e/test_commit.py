"""dvc commit (behaviour.md 5)."""

import os

import dvxtest
from dvxtest import dir_manifest, dvc_file, md5_bytes

HELLO = "b1946ac92492d2347c6235b4d2611184"
WORLD = "591785b794601e212b260e25925636fd"


class TestCommit(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.foo = self.track_file("foo.txt", "foo\n")
        self.data = self.track_dir("data", {"a.txt": "hello\n", "sub/b.txt": "world\n"})
        self.commit_all("track")

    def test_nothing_changed(self):
        before = self.read("foo.txt.dvc")
        code, out, err = self.run("commit")
        self.assertEqual(code, 0, err)
        self.assertNoError(err)
        self.assertEqual(self.read("foo.txt.dvc"), before)

    def test_changed_without_force_is_refused(self):
        self.write("foo.txt", "changed\n")
        code, out, err = self.run("commit")
        self.assertEqual(code, 1)
        self.assertIn("ERROR: failed to commit - unable to commit changed stage: 'foo.txt.dvc'. "
                      "Use `-f|--force` to force.", err)
        self.assertFileBytes("foo.txt.dvc", dvc_file(self.foo, 4, "foo.txt"))
        self.assertFalse(os.path.exists(self.cache_path(md5_bytes(b"changed\n"))))

    def test_force(self):
        self.write("foo.txt", "changed\n")
        oid = md5_bytes(b"changed\n")
        code, out, err = self.run("commit", "-f")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("foo.txt.dvc", dvc_file(oid, 8, "foo.txt"))
        self.assertCacheObject(oid, b"changed\n")
        self.assertEqual(self.json_out("status", "--json"), {})

    def test_force_with_target(self):
        self.write("foo.txt", "changed\n")
        self.write("data/a.txt", "changed\n")
        code, out, err = self.run("commit", "-f", "foo.txt.dvc")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("foo.txt.dvc", dvc_file(md5_bytes(b"changed\n"), 8, "foo.txt"))
        self.assertEqual(self.json_out("status", "--json"),
                         {"data.dvc": [{"changed outs": {"data": "modified"}}]})

    def test_directory(self):
        self.write("data/new.txt", "new file\n")
        code, out, err = self.run("commit", "-f", "data.dvc")
        self.assertEqual(code, 0, err)
        manifest = dir_manifest({"a.txt": HELLO, "sub/b.txt": WORLD,
                                 "new.txt": md5_bytes(b"new file\n")})
        oid = md5_bytes(manifest) + ".dir"
        self.assertFileBytes("data.dvc", dvc_file(oid, 21, "data", nfiles=3))
        self.assertCacheObject(oid, manifest)
        self.assertCacheObject(md5_bytes(b"new file\n"), b"new file\n")

    def test_after_add_no_commit(self):
        self.write("bar.txt", "bar only\n")
        oid = md5_bytes(b"bar only\n")
        self.dvx("add", "--no-commit", "bar.txt")
        self.assertFalse(os.path.exists(self.cache_path(oid)))
        self.assertEqual(self.json_out("status", "--json"),
                         {"bar.txt.dvc": [{"changed outs": {"bar.txt": "not in cache"}}]})
        code, out, err = self.run("commit", "-f", "bar.txt.dvc")
        self.assertEqual(code, 0, err)
        self.assertCacheObject(oid, b"bar only\n")
        self.assertFileBytes("bar.txt.dvc", dvc_file(oid, 9, "bar.txt"))
        self.assertEqual(self.json_out("status", "--json"), {})

    def test_legacy_entry_unchanged_stays_legacy(self):
        content = b"line1\r\nline2\r\n"
        legacy = "4fcc82a88ee38e0aa16c17f512c685c9"
        self.write("t.txt", content)
        path = self.p(".dvc", "cache", legacy[:2], legacy[2:])
        os.makedirs(os.path.dirname(path))
        self.write(path, content, mode=0o444)
        self.write("t.txt.dvc", dvc_file(legacy, 14, "t.txt", legacy=True))
        self.commit_all("legacy")
        code, out, err = self.run("commit", "-f", "t.txt.dvc")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("t.txt.dvc", dvc_file(legacy, 14, "t.txt", legacy=True))

    def test_legacy_entry_changed_becomes_3x(self):
        content = b"line1\r\nline2\r\n"
        legacy = "4fcc82a88ee38e0aa16c17f512c685c9"
        self.write("t.txt", content)
        path = self.p(".dvc", "cache", legacy[:2], legacy[2:])
        os.makedirs(os.path.dirname(path))
        self.write(path, content, mode=0o444)
        self.write("t.txt.dvc", dvc_file(legacy, 14, "t.txt", legacy=True))
        self.commit_all("legacy")
        self.write("t.txt", b"new\r\n")
        oid = md5_bytes(b"new\r\n")
        self.dvx("commit", "-f", "t.txt.dvc")
        # round-trip update: `hash: md5` is appended after `path` (formats.md 1, 2.4)
        self.assertFileBytes("t.txt.dvc", f"outs:\n- md5: {oid}\n  size: 5\n  path: t.txt\n"
                                          "  hash: md5\n")
        self.assertCacheObject(oid, b"new\r\n")


if __name__ == "__main__":
    dvxtest.main()
