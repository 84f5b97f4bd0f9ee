"""dvc remove, dvc move, dvc unprotect (behaviour.md 9, formats.md 4.4, 10.2)."""

import os

import dvxtest
from dvxtest import dvc_file

FOO = "d3b07384d113edec49eaa6238ad5ff00"  # md5("foo\n")


class TestRemove(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.track_file("foo.txt", "foo\n")
        self.track_file("bar.txt", "bar\n")
        self.commit_all("track")

    def test_remove_keeps_data(self):
        code, out, err = self.run("remove", "foo.txt.dvc")
        self.assertEqual(code, 0, err)
        self.assertFalse(self.exists("foo.txt.dvc"))
        self.assertFileBytes("foo.txt", "foo\n")
        self.assertTrue(self.mode("foo.txt") & 0o200, "data left as a writable copy")
        self.assertFileBytes(".gitignore", "/bar.txt\n")
        # cache is untouched
        self.assertCacheObject(FOO, b"foo\n")

    def test_remove_last_entry_deletes_gitignore(self):
        self.dvx("remove", "foo.txt.dvc", "bar.txt.dvc")
        self.assertFalse(self.exists(".gitignore"))
        self.assertFalse(self.exists("bar.txt.dvc"))

    def test_remove_outs(self):
        code, out, err = self.run("remove", "--outs", "foo.txt.dvc")
        self.assertEqual(code, 0, err)
        self.assertFalse(self.exists("foo.txt"))
        self.assertFalse(self.exists("foo.txt.dvc"))
        self.assertFileBytes("bar.txt", "bar\n")

    def test_rm_alias(self):
        self.dvx("rm", "foo.txt.dvc")
        self.assertFalse(self.exists("foo.txt.dvc"))

    def test_remove_data_path_is_refused(self):
        code, out, err = self.run("remove", "foo.txt")
        self.assertNotEqual(code, 0)
        self.assertIn("'foo.txt' is not a .dvc file. Do you mean 'foo.txt.dvc'?", err)
        self.assertTrue(self.exists("foo.txt.dvc"))

    def test_remove_directory_output(self):
        self.track_dir("data", {"a.txt": "hello\n"})
        self.commit_all("dir")
        self.dvx("remove", "--outs", "data.dvc")
        self.assertFalse(self.exists("data"))
        self.assertFalse(self.exists("data.dvc"))
        self.assertFileBytes(".gitignore", "/foo.txt\n/bar.txt\n")


class TestMove(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.track_file("foo.txt", "foo\n")
        self.commit_all("track")

    def test_rename(self):
        code, out, err = self.run("move", "foo.txt", "bar.txt")
        self.assertEqual(code, 0, err)
        self.assertFalse(self.exists("foo.txt"))
        self.assertFalse(self.exists("foo.txt.dvc"))
        self.assertFileBytes("bar.txt", "foo\n")
        self.assertFileBytes("bar.txt.dvc", dvc_file(FOO, 4, "bar.txt"))
        self.assertFileBytes(".gitignore", "/bar.txt\n")
        self.assertEqual(self.json_out("status", "--json"), {})

    def test_into_existing_directory(self):
        os.makedirs(self.p("sub"))
        code, out, err = self.run("mv", "foo.txt", "sub")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("sub/foo.txt", "foo\n")
        self.assertFileBytes("sub/foo.txt.dvc", dvc_file(FOO, 4, "foo.txt"))
        self.assertFileBytes("sub/.gitignore", "/foo.txt\n")
        self.assertFalse(self.exists("foo.txt.dvc"))
        self.assertFalse(self.exists(".gitignore"))

    def test_directory(self):
        oid = self.track_dir("data", {"a.txt": "hello\n", "sub/b.txt": "world\n"})
        self.commit_all("dir")
        self.dvx("move", "data", "renamed")
        self.assertFileBytes("renamed.dvc", dvc_file(oid, 12, "renamed", nfiles=2))
        self.assertFileBytes("renamed/sub/b.txt", "world\n")
        self.assertFalse(self.exists("data"))
        self.assertFalse(self.exists("data.dvc"))
        self.assertFileBytes(".gitignore", "/foo.txt\n/renamed\n")

    def test_untracked_source(self):
        self.write("plain.txt", "x\n")
        code, out, err = self.run("move", "plain.txt", "other.txt")
        self.assertNotEqual(code, 0)
        self.assertTrue(self.exists("plain.txt"))
        self.assertFalse(self.exists("other.txt"))


class TestUnprotect(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.oid = self.track_file("foo.txt", "foo\n")
        self.commit_all("track")

    def test_copy_is_made_writable(self):
        os.chmod(self.p("foo.txt"), 0o444)
        code, out, err = self.run("unprotect", "foo.txt")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("foo.txt", "foo\n")
        self.assertMode("foo.txt", 0o644)

    def test_symlink_replaced_by_copy(self):
        self.write(".dvc/config", "[cache]\n    type = symlink\n")
        os.remove(self.p("foo.txt"))
        self.dvx("checkout")
        self.assertTrue(os.path.islink(self.p("foo.txt")))
        self.dvx("unprotect", "foo.txt")
        self.assertFalse(os.path.islink(self.p("foo.txt")))
        self.assertFileBytes("foo.txt", "foo\n")
        self.assertMode("foo.txt", 0o644)
        self.assertCacheObject(self.oid, b"foo\n")

    def test_hardlink_replaced_by_copy(self):
        self.write(".dvc/config", "[cache]\n    type = hardlink\n")
        os.remove(self.p("foo.txt"))
        self.dvx("checkout")
        self.assertEqual(os.stat(self.p("foo.txt")).st_ino, os.stat(self.cache_path(self.oid)).st_ino)
        self.dvx("unprotect", "foo.txt")
        self.assertNotEqual(os.stat(self.p("foo.txt")).st_ino,
                            os.stat(self.cache_path(self.oid)).st_ino)
        self.assertMode("foo.txt", 0o644)
        self.write("foo.txt", "edited\n")
        self.assertCacheObject(self.oid, b"foo\n")

    def test_missing_path(self):
        code, out, err = self.run("unprotect", "nothere")
        self.assertNotEqual(code, 0)
        self.assertIn("can't unprotect non-existing data 'nothere'", err)


if __name__ == "__main__":
    dvxtest.main()
