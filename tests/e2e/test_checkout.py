"""dvc checkout (behaviour.md 2, cli.md 7 'checkout').

Change lines are `A<TAB>path` in DVC's source, but DVC prints them through rich, which expands
the TAB to column 8: the recorded golden outputs (basic.checkout.after-delete.txt) hold
"A" + 7 spaces. These tests follow the recorded bytes."""

import os

import dvxtest

UNSAVED = ("ERROR: Can't remove the following unsaved files without confirmation. "
           "Use `--force` to force.\n")


class TestCheckout(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.foo = self.track_file("foo.txt", "foo\n")
        self.data = self.track_dir("data", {"a.txt": "hello\n", "sub/b.txt": "world\n"})
        self.commit_all("track")

    def test_nothing_to_do(self):
        code, out, err = self.run("checkout")
        self.assertEqual((code, out), (0, ""), err)
        code, out, err = self.run("checkout", "--summary")
        self.assertEqual((code, out), (0, "No changes.\n"), err)

    def test_restores_deleted_file(self):
        os.remove(self.p("foo.txt"))
        code, out, err = self.run("checkout")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "A       foo.txt\n")
        self.assertFileBytes("foo.txt", "foo\n")
        self.assertFalse(os.path.islink(self.p("foo.txt")))
        self.assertMode("foo.txt", 0o644)
        self.assertEqual(self.json_out("status", "--json"), {})

    def test_restores_deleted_dir_and_file_order(self):
        import shutil
        shutil.rmtree(self.p("data"))
        os.remove(self.p("foo.txt"))
        code, out, err = self.run("checkout")
        self.assertEqual(code, 0, err)
        # directories first, then files
        self.assertEqual(out, "A       data/\nA       foo.txt\n")
        self.assertFileBytes("data/a.txt", "hello\n")
        self.assertFileBytes("data/sub/b.txt", "world\n")
        self.assertMode("data/a.txt", 0o644)

    def test_summary(self):
        os.remove(self.p("foo.txt"))
        code, out, err = self.run("checkout", "--summary")
        self.assertEqual((code, out), (0, "1 file added\n"), err)
        self.assertFileBytes("foo.txt", "foo\n")

    def test_file_inside_dir_deleted(self):
        os.remove(self.p("data/sub/b.txt"))
        code, out, err = self.run("checkout")
        self.assertEqual((code, out), (0, "M       data/\n"), err)
        self.assertFileBytes("data/sub/b.txt", "world\n")

    def test_refuses_to_overwrite_modified_file(self):
        self.write("foo.txt", "precious\n")
        code, out, err = self.run("checkout")
        self.assertEqual(code, 255)
        self.assertIn(UNSAVED + self.p("foo.txt") + "\n", err)
        self.assertFileBytes("foo.txt", "precious\n")
        # --force overwrites
        code, out, err = self.run("checkout", "--force")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "M       foo.txt\n")
        self.assertFileBytes("foo.txt", "foo\n")

    def test_modified_file_with_cached_content_is_not_blocking(self):
        # A workspace file whose content is another cached version is replaced without -f.
        self.put_object("other version\n")
        self.write("foo.txt", "other version\n")
        code, out, err = self.run("checkout")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "M       foo.txt\n")
        self.assertFileBytes("foo.txt", "foo\n")

    def test_untracked_file_in_tracked_dir_blocks(self):
        self.write("data/extra.txt", "extra\n")
        code, out, err = self.run("checkout")
        self.assertEqual(code, 255)
        self.assertIn(UNSAVED + self.p("data", "extra.txt") + "\n", err)
        self.assertTrue(self.exists("data/extra.txt"))
        code, out, err = self.run("checkout", "-f")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "M       data/\n")
        self.assertFalse(self.exists("data/extra.txt"))
        self.assertEqual(self.json_out("status", "--json"), {})

    def test_relink(self):
        code, out, err = self.run("checkout", "--relink")
        self.assertEqual(code, 0, err)
        self.assertIn("Relinked successfully", out)
        self.assertFileBytes("foo.txt", "foo\n")
        self.assertFileBytes("data/a.txt", "hello\n")

    def test_relink_with_symlink_cache_type(self):
        self.write(".dvc/config", "[cache]\n    type = symlink\n")
        code, out, err = self.run("checkout", "--relink")
        self.assertEqual(code, 0, err)
        self.assertTrue(os.path.islink(self.p("foo.txt")))
        self.assertEqual(os.path.realpath(self.p("foo.txt")),
                         os.path.realpath(self.cache_path(self.foo)))
        self.assertFileBytes("foo.txt", "foo\n")
        self.assertEqual(self.json_out("status", "--json"), {})

    def test_hardlink_cache_type(self):
        self.write(".dvc/config", "[cache]\n    type = hardlink\n")
        os.remove(self.p("foo.txt"))
        code, out, err = self.run("checkout")
        self.assertEqual(code, 0, err)
        st = os.stat(self.p("foo.txt"))
        self.assertEqual(st.st_ino, os.stat(self.cache_path(self.foo)).st_ino)
        self.assertMode("foo.txt", 0o444)

    def test_targets(self):
        os.remove(self.p("foo.txt"))
        os.remove(self.p("data/a.txt"))
        code, out, err = self.run("checkout", "foo.txt.dvc")
        self.assertEqual((code, out), (0, "A       foo.txt\n"), err)
        self.assertFalse(self.exists("data/a.txt"))
        code, out, err = self.run("checkout", "data")
        self.assertEqual((code, out), (0, "M       data/\n"), err)
        self.assertFileBytes("data/a.txt", "hello\n")

    def test_granular_target_inside_dir(self):
        os.remove(self.p("data/a.txt"))
        os.remove(self.p("data/sub/b.txt"))
        code, out, err = self.run("checkout", "data/a.txt")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("data/a.txt", "hello\n")
        self.assertFalse(self.exists("data/sub/b.txt"))

    def test_recursive(self):
        self.track_file("sub/x.txt", "x\n")
        self.track_file("sub/deeper/y.txt", "y\n")
        self.commit_all("more")
        for f in ("sub/x.txt", "sub/deeper/y.txt", "foo.txt"):
            os.remove(self.p(f))
        code, out, err = self.run("checkout", "-R", "sub")
        self.assertEqual(code, 0, err)
        self.assertEqual(sorted(out.splitlines()), ["A       sub/deeper/y.txt", "A       sub/x.txt"])
        self.assertFileBytes("sub/x.txt", "x\n")
        self.assertFileBytes("sub/deeper/y.txt", "y\n")
        self.assertFalse(self.exists("foo.txt"))

    def test_paths_relative_to_cwd(self):
        self.track_file("sub/x.txt", "x\n")
        self.commit_all("more")
        os.remove(self.p("sub/x.txt"))
        code, out, err = self.run("checkout", cwd=self.p("sub"))
        self.assertEqual((code, out), (0, "A       x.txt\n"), err)

    def test_unknown_target(self):
        code, out, err = self.run("checkout", "nothere")
        self.assertEqual(code, 255)
        self.assertIn("Did you mean `git checkout nothere`?", err)

    def test_missing_cache_object(self):
        os.remove(self.p("foo.txt"))
        os.remove(self.cache_path(self.foo))
        code, out, err = self.run("checkout")
        self.assertEqual(code, 255)
        self.assertIn("ERROR: Checkout failed for following targets:\n", err)
        self.assertIn("foo.txt", err)
        self.assertIn("Is your cache up to date?\n<https://error.dvc.org/missing-files>", err)
        self.assertFalse(self.exists("foo.txt"))

    def test_allow_missing(self):
        os.remove(self.p("foo.txt"))
        os.remove(self.cache_path(self.foo))
        os.remove(self.p("data/a.txt"))
        code, out, err = self.run("checkout", "--allow-missing")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("data/a.txt", "hello\n")
        self.assertFalse(self.exists("foo.txt"))

    def test_exec_bit_not_restored_for_dir_entries(self):
        # The exec bit is not part of a .dir manifest (basic fixture, README): a file of a
        # tracked directory comes back 0644 and status stays clean.
        self.write("data/a.txt", "hello\n", mode=0o755)
        self.assertEqual(self.json_out("status", "--json"), {})
        os.remove(self.p("data/a.txt"))
        self.dvx("checkout")
        self.assertMode("data/a.txt", 0o644)


if __name__ == "__main__":
    dvxtest.main()
