"""dvc add (behaviour.md 1, formats.md 2-4, 10.2)."""

import os

import dvxtest
from dvxtest import dir_manifest, dvc_file, md5_bytes

HELLO = "b1946ac92492d2347c6235b4d2611184"   # md5("hello\n")
WORLD = "591785b794601e212b260e25925636fd"   # md5("world\n")
V1_DIR = "5369cb520f35f5d77e793cf181884a27.dir"
V1_MANIFEST = (b'[{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "a.txt"}, '
               b'{"md5": "591785b794601e212b260e25925636fd", "relpath": "sub/b.txt"}]')


class TestAddFile(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()

    def test_add_file(self):
        self.write("foo.txt", "hello\n")
        code, out, err = self.run("add", "foo.txt")
        self.assertEqual(code, 0, err)
        self.assertNoError(err)
        self.assertFileBytes("foo.txt.dvc", dvc_file(HELLO, 6, "foo.txt"))
        self.assertFileBytes(".gitignore", "/foo.txt\n")
        self.assertCacheObject(HELLO, b"hello\n")
        self.assertEqual(self.cache_objects(),
                         {"b1/946ac92492d2347c6235b4d2611184"})
        # workspace keeps the data, as a writable file (copy; ext4 has no reflink)
        self.assertFileBytes("foo.txt", "hello\n")
        self.assertFalse(os.path.islink(self.p("foo.txt")))
        self.assertTrue(self.mode("foo.txt") & 0o200, "workspace file must be writable")
        self.assertGitHint(out, {"foo.txt.dvc", ".gitignore"})

    def test_hint_exact_layout(self):
        self.write("foo.txt", "hello\n")
        out = self.dvx("add", "foo.txt")
        files = dvxtest.parse_git_hint(out)
        self.assertIsNotNone(files)
        line = " ".join(out.split("\tgit add ", 1)[1].split("\n", 1)[0].split(" "))
        self.assertEqual(out, "\nTo track the changes with git, run:\n\n"
                              f"\tgit add {line}\n\n"
                              "To enable auto staging, run:\n\n"
                              "\tdvc config core.autostage true\n")

    def test_quiet_prints_nothing(self):
        self.write("foo.txt", "hello\n")
        code, out, err = self.run("add", "-q", "foo.txt")
        self.assertEqual((code, out), (0, ""), err)
        self.assertTrue(self.exists("foo.txt.dvc"))

    def test_autostage(self):
        self.write(".dvc/config", "[core]\n    autostage = true\n")
        self.write("foo.txt", "hello\n")
        code, out, err = self.run("add", "foo.txt")
        self.assertEqual(code, 0, err)
        self.assertIsNone(dvxtest.parse_git_hint(out))
        staged = set(self.git("diff", "--cached", "--name-only").split())
        self.assertEqual(staged, {"foo.txt.dvc", ".gitignore"})

    def test_add_in_subfolder(self):
        self.write("models/model.pkl", b"\x80\x04model")
        oid = md5_bytes(b"\x80\x04model")
        code, out, err = self.run("add", "models/model.pkl")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("models/model.pkl.dvc", dvc_file(oid, 7, "model.pkl"))
        self.assertFileBytes("models/.gitignore", "/model.pkl\n")
        self.assertFalse(self.exists(".gitignore"))
        self.assertCacheObject(oid, b"\x80\x04model")
        self.assertGitHint(out, {"models/model.pkl.dvc", "models/.gitignore"})

    def test_add_from_subdir_cwd(self):
        self.write("sub/f.txt", "hello\n")
        code, out, err = self.run("add", "f.txt", cwd=self.p("sub"))
        self.assertEqual(code, 0, err)
        self.assertFileBytes("sub/f.txt.dvc", dvc_file(HELLO, 6, "f.txt"))
        self.assertFileBytes("sub/.gitignore", "/f.txt\n")

    def test_several_targets(self):
        self.write("a.txt", "hello\n")
        self.write("b.txt", "world\n")
        code, out, err = self.run("add", "a.txt", "b.txt")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("a.txt.dvc", dvc_file(HELLO, 6, "a.txt"))
        self.assertFileBytes("b.txt.dvc", dvc_file(WORLD, 6, "b.txt"))
        self.assertFileBytes(".gitignore", "/a.txt\n/b.txt\n")
        self.assertCacheObject(HELLO)
        self.assertCacheObject(WORLD)
        self.assertGitHint(out, {"a.txt.dvc", "b.txt.dvc", ".gitignore"})

    def test_gitignore_appended_in_add_order(self):
        self.write("b.txt", "world\n")
        self.write("a.txt", "hello\n")
        self.dvx("add", "b.txt")
        self.dvx("add", "a.txt")
        self.assertFileBytes(".gitignore", "/b.txt\n/a.txt\n")

    def test_gitignore_existing_without_newline(self):
        self.write(".gitignore", "*.log")
        self.write("a.txt", "hello\n")
        self.dvx("add", "a.txt")
        self.assertFileBytes(".gitignore", "*.log\n/a.txt\n")

    def test_gitignore_not_duplicated_on_readd(self):
        self.write("a.txt", "hello\n")
        self.dvx("add", "a.txt")
        self.dvx("add", "a.txt")
        self.assertFileBytes(".gitignore", "/a.txt\n")

    def test_gitignore_metachars_escaped(self):
        name = "f[1]*.txt"
        self.write(name, "hello\n")
        code, out, err = self.run("add", name)
        self.assertEqual(code, 0, err)
        self.assertFileBytes(".gitignore", "/f\\[1\\]\\*.txt\n")
        self.assertTrue(self.exists(name + ".dvc"))

    def test_already_git_ignored_gets_no_entry(self):
        self.write(".gitignore", "*.bin\n")
        self.write("x.bin", "hello\n")
        self.dvx("add", "x.bin")
        self.assertFileBytes(".gitignore", "*.bin\n")

    def test_readd_unchanged_and_modified(self):
        self.write("foo.txt", "hello\n")
        self.dvx("add", "foo.txt")
        before = self.read("foo.txt.dvc")
        self.dvx("add", "foo.txt")
        self.assertEqual(self.read("foo.txt.dvc"), before)
        self.write("foo.txt", "world\n")
        self.dvx("add", "foo.txt")
        self.assertFileBytes("foo.txt.dvc", dvc_file(WORLD, 6, "foo.txt"))
        self.assertCacheObject(HELLO)
        self.assertCacheObject(WORLD)

    def test_empty_file_is_silent(self):
        self.write("empty.txt", b"")
        code, out, err = self.run("add", "empty.txt")
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        self.assertFileBytes("empty.txt.dvc",
                             dvc_file("d41d8cd98f00b204e9800998ecf8427e", 0, "empty.txt"))
        self.assertCacheObject("d41d8cd98f00b204e9800998ecf8427e", b"")

    def test_executable_file(self):
        content = b"#!/bin/sh\necho hi\n"
        self.write("run.sh", content, mode=0o755)
        self.dvx("add", "run.sh")
        self.assertFileBytes("run.sh.dvc",
                             dvc_file(md5_bytes(content), len(content), "run.sh", isexec=True))
        oid = md5_bytes(content)
        self.assertCacheObject(oid)
        self.assertTrue(self.mode("run.sh") & 0o100, "exec bit kept in the workspace")

    def test_no_commit(self):
        self.write("foo.txt", "hello\n")
        code, out, err = self.run("add", "--no-commit", "foo.txt")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("foo.txt.dvc", dvc_file(HELLO, 6, "foo.txt"))
        self.assertFileBytes(".gitignore", "/foo.txt\n")
        self.assertFalse(os.path.exists(self.cache_path(HELLO)))
        self.assertFileBytes("foo.txt", "hello\n")

    def test_glob(self):
        self.write("x1.txt", "hello\n")
        self.write("x2.txt", "world\n")
        self.write("y.txt", "other\n")
        code, out, err = self.run("add", "--glob", "x*.txt")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("x1.txt.dvc", dvc_file(HELLO, 6, "x1.txt"))
        self.assertFileBytes("x2.txt.dvc", dvc_file(WORLD, 6, "x2.txt"))
        self.assertFalse(self.exists("y.txt.dvc"))

    def test_glob_no_match(self):
        code, out, err = self.run("add", "--glob", "zz*")
        self.assertEqual(code, 1)
        self.assertIn("ERROR: Glob ['zz*'] has no matches.", err)

    def test_out_option(self):
        src = self.write(os.path.join(self.tmp, "ext", "source.txt"), "hello\n")
        code, out, err = self.run("add", src, "-o", "local.txt")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("local.txt", "hello\n")
        self.assertFileBytes("local.txt.dvc", dvc_file(HELLO, 6, "local.txt"))
        self.assertCacheObject(HELLO)
        self.assertFileBytes(".gitignore", "/local.txt\n")
        self.assertFileBytes(src, "hello\n")

    def test_out_existing_requires_force(self):
        src = self.write(os.path.join(self.tmp, "ext", "source.txt"), "hello\n")
        self.write("local.txt", "old\n")
        code, out, err = self.run("add", src, "-o", "local.txt")
        self.assertEqual(code, 1)
        self.assertIn("The file 'local.txt' already exists locally.", err)
        self.assertIn("To override it, re-run with '--force'.", err)
        self.assertFileBytes("local.txt", "old\n")
        code, out, err = self.run("add", src, "-o", "local.txt", "-f")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("local.txt", "hello\n")

    def test_symlink_to_file_is_added_as_file(self):
        self.write("file.txt", "hello\n")
        os.symlink("file.txt", self.p("link.txt"))
        code, out, err = self.run("add", "link.txt")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("link.txt.dvc", dvc_file(HELLO, 6, "link.txt"))
        self.assertFalse(os.path.islink(self.p("link.txt")))
        self.assertFileBytes("link.txt", "hello\n")
        self.assertFileBytes("file.txt", "hello\n")


class TestAddDirectory(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.write("data/a.txt", "hello\n")
        self.write("data/sub/b.txt", "world\n")

    def test_add_dir_v1(self):
        code, out, err = self.run("add", "data")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("data.dvc", dvc_file(V1_DIR, 12, "data", nfiles=2))
        self.assertCacheObject(V1_DIR, V1_MANIFEST)
        self.assertCacheObject(HELLO, b"hello\n")
        self.assertCacheObject(WORLD, b"world\n")
        self.assertEqual(self.cache_objects(), {
            "53/69cb520f35f5d77e793cf181884a27.dir",
            "b1/946ac92492d2347c6235b4d2611184",
            "59/1785b794601e212b260e25925636fd",
        })
        self.assertFileBytes(".gitignore", "/data\n")
        self.assertFileBytes("data/a.txt", "hello\n")
        self.assertFileBytes("data/sub/b.txt", "world\n")
        self.assertGitHint(out, {"data.dvc", ".gitignore"})

    def test_trailing_slash_target(self):
        code, out, err = self.run("add", "data/")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("data.dvc", dvc_file(V1_DIR, 12, "data", nfiles=2))

    def test_empty_dir(self):
        os.makedirs(self.p("empty"))
        code, out, err = self.run("add", "empty")
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        self.assertFileBytes("empty.dvc", dvc_file("d751713988987e9331980363e24189ce.dir", 0,
                                                   "empty", nfiles=0))
        self.assertCacheObject("d751713988987e9331980363e24189ce.dir", b"[]")

    def test_ordering_and_escaping_v3(self):
        for name in ("B.txt", "Z.txt", "a-b.txt", "a.txt", "a/b.txt", "\u00e9.txt"):
            self.write(os.path.join("v3", name), "x")
        code, out, err = self.run("add", "v3")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("v3.dvc", dvc_file("ebbdead6437aefcf304da3b0c6bd17a9.dir", 6, "v3",
                                                nfiles=6))
        x = "9dd4e461268c8034f5c8564e155c67a6"
        manifest = dir_manifest({n: x for n in ("B.txt", "Z.txt", "a-b.txt", "a.txt", "a/b.txt",
                                                "\u00e9.txt")})
        self.assertCacheObject("ebbdead6437aefcf304da3b0c6bd17a9.dir", manifest)

    def test_symlinks_inside_directory(self):
        # formats.md 3.3 [observed]: file symlinks followed, directory symlinks skipped.
        self.write(os.path.join(self.tmp, "file.txt"), "target\n")
        self.write(os.path.join(self.tmp, "other", "x.txt"), "x\n")
        self.write("d/a.txt", "hello\n")
        os.symlink("../../file.txt", self.p("d", "f"))
        os.symlink("../../other", self.p("d", "sub"))
        code, out, err = self.run("add", "d")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("d.dvc", dvc_file("1b06ccb785ce0287edbdd77e929b184e.dir", 13, "d",
                                               nfiles=2))
        self.assertFalse(os.path.islink(self.p("d", "f")))
        self.assertFileBytes("d/f", "target\n")
        self.assertTrue(os.path.islink(self.p("d", "sub")))

    def test_dvcignored_files_excluded(self):
        self.write(".dvcignore", dvxtest.DVCIGNORE + b"*.log\n")
        self.write("data/debug.log", "noise\n")
        self.dvx("add", "data")
        self.assertFileBytes("data.dvc", dvc_file(V1_DIR, 12, "data", nfiles=2))

    def test_granular_add_new_file(self):
        self.dvx("add", "data")
        self.write("data/new.txt", "new file\n")  # 9 bytes
        code, out, err = self.run("add", "data/new.txt")
        self.assertEqual(code, 0, err)
        manifest = dir_manifest({"a.txt": HELLO, "sub/b.txt": WORLD,
                                 "new.txt": md5_bytes(b"new file\n")})
        oid = md5_bytes(manifest) + ".dir"
        self.assertFileBytes("data.dvc", dvc_file(oid, 21, "data", nfiles=3))
        self.assertCacheObject(oid, manifest)
        self.assertFalse(self.exists("data/new.txt.dvc"))


class TestAddHardlinkCache(dvxtest.DvxTestCase):
    """cache.type hardlink: every workspace file ends as a read-only link to its object, the
    ones hard-linked into the cache in place and a duplicate whose object another file became."""

    def setUp(self):
        super().setUp()
        self.make_repo()
        self.write(".dvc/config", "[cache]\n    type = hardlink\n")
        self.write("data/a.txt", "hello\n")
        self.write("data/dup.txt", "hello\n")
        self.write("data/sub/b.txt", "world\n")
        self.write("one.txt", "world\n")

    def test_every_file_is_its_object(self):
        code, out, err = self.run("add", "data", "one.txt")
        self.assertEqual(code, 0, err)
        for rel, oid in (("data/a.txt", HELLO), ("data/dup.txt", HELLO), ("data/sub/b.txt", WORLD),
                         ("one.txt", WORLD)):
            st, obj = os.stat(self.p(rel)), os.stat(self.cache_path(oid))
            self.assertEqual(st.st_ino, obj.st_ino, rel)
            self.assertMode(rel, 0o444)
        self.assertEqual(os.stat(self.cache_path(HELLO)).st_nlink, 3)
        self.assertEqual(os.stat(self.cache_path(WORLD)).st_nlink, 3)
        self.assertEqual(self.json_out("status", "--json"), {})
        code, out, err = self.run("fsck", "--json")
        self.assertEqual(code, 0, err + out)


class TestAddErrors(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()

    def test_missing_target(self):
        code, out, err = self.run("add", "nothere")
        self.assertEqual(code, 1)
        self.assertIn("ERROR: output 'nothere' does not exist: [Errno 2] No such file or "
                      f"directory: '{self.p('nothere')}'", err)
        self.assertFalse(self.exists("nothere.dvc"))
        self.assertFalse(self.exists(".gitignore"))

    def test_already_tracked_by_git(self):
        self.write("tracked.txt", "hello\n")
        self.git("add", "tracked.txt")
        self.git("commit", "-q", "-m", "track")
        code, out, err = self.run("add", "tracked.txt")
        self.assertEqual(code, 1)
        self.assertIn(
            "ERROR:  output 'tracked.txt' is already tracked by SCM (e.g. Git).\n"
            "    You can remove it from Git, then add to DVC.\n"
            "        To stop tracking from Git:\n"
            "            git rm -r --cached 'tracked.txt'\n"
            "            git commit -m \"stop tracking tracked.txt\" \n", err)
        self.assertFalse(self.exists("tracked.txt.dvc"))
        self.assertFalse(self.exists(".gitignore"))

    def test_outside_repo(self):
        outside = self.write(os.path.join(self.tmp, "outside.txt"), "hello\n")
        code, out, err = self.run("add", outside)
        self.assertEqual(code, 1)
        self.assertIn(f"ERROR: Cached output(s) outside of DVC project: {outside}. See "
                      "<https://dvc.org/doc/user-guide/data-management/importing-external-data> "
                      "for more info.", err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "outside.txt.dvc")))

    def test_outside_repo_relative(self):
        self.write(os.path.join(self.tmp, "outside.txt"), "hello\n")
        code, out, err = self.run("add", "../outside.txt")
        self.assertEqual(code, 1)
        self.assertIn("Cached output(s) outside of DVC project:", err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "outside.txt.dvc")))

    def test_symlinked_directory(self):
        msg = ("ERROR: Cannot add files inside symlinked directories to DVC. See "
               "<https://dvc.org/doc/user-guide/troubleshooting#add-symlink> for more information.")
        self.write("realdir/o.txt", "hello\n")
        os.symlink("realdir", self.p("linkdir"))
        for target in ("linkdir", "linkdir/o.txt"):
            with self.subTest(target=target):
                code, out, err = self.run("add", target)
                self.assertEqual(code, 1)
                self.assertIn(msg, err)
        self.assertFalse(self.exists("linkdir.dvc"))
        self.assertFalse(self.exists("realdir/o.txt.dvc"))
        self.assertFalse(self.exists("linkdir/o.txt.dvc"))

    def test_dvc_file_cannot_be_output(self):
        self.write("foo.txt", "hello\n")
        self.dvx("add", "foo.txt")
        code, out, err = self.run("add", "foo.txt.dvc")
        self.assertEqual(code, 1)
        self.assertIn("DVC file 'foo.txt.dvc' cannot be an output.", err)

    def test_dvcignored_target(self):
        self.write(".dvcignore", "ign*\n")
        self.write("ignored.txt", "hello\n")
        code, out, err = self.run("add", "ignored.txt")
        self.assertEqual(code, 1)
        self.assertIn(f"ERROR: Path '{self.p('ignored.txt')}' is ignored by .dvcignore:1:ign*", err)
        self.assertFalse(self.exists("ignored.txt.dvc"))

    def test_overlap_with_tracked_output_inside(self):
        self.write("d1/a.txt", "hello\n")
        self.dvx("add", "d1/a.txt")
        code, out, err = self.run("add", "d1")
        self.assertEqual(code, 1)
        self.assertIn("Cannot add 'd1', because it is overlapping with other DVC tracked output: "
                      "'d1/a.txt'.\nTo include 'd1/a.txt' in 'd1', run 'dvc remove "
                      "d1/a.txt.dvc' and then 'dvc add d1'", err)
        self.assertFalse(self.exists("d1.dvc"))


if __name__ == "__main__":
    dvxtest.main()
