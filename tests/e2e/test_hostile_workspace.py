"""Hostile or odd workspaces: tracked outputs replaced by symlinks (out of the repository, into
.git/hooks, dangling), symlinked parent folders, FIFOs and sockets where data belongs, leftovers
of killed checkouts, unsaved edits inside tracked folders, link types that don't work here.
dvx must never read through such a symlink into a write, never write outside the repository or
into .git, and replace an obstacle only with --force (the link itself, never its target)."""

import os
import shutil
import socket
import stat

import dvxtest

FILES = {
    "a.txt": "tracked a\n",
    "sub/b.txt": "tracked b\n",
    "-rf odd name.txt": "odd\n",
    "\u00fcml\u00e4ut \u00e9.txt": "unicode\n",
}
HOOK = "#!/bin/sh\necho owned > /dev/null\n"
TEMP_NAME = ".AbCdEfGhIjKlMnOpQrStUv.tmp"  # what a killed checkout leaves (22 chars)
STAGING_NAME = ".ZyXwVuTsRqPoNmLkJiHg-_.tmp"


def reflink_supported(path):
    """True when the file system at `path` can FICLONE."""
    import fcntl
    src, dst = os.path.join(path, ".probe-src"), os.path.join(path, ".probe-dst")
    with open(src, "wb") as f:
        f.write(b"probe")
    try:
        with open(src, "rb") as s, open(dst, "wb") as d:
            fcntl.ioctl(d.fileno(), 0x40049409, s.fileno())  # FICLONE
        return True
    except OSError:
        return False
    finally:
        for p in (src, dst):
            if os.path.lexists(p):
                os.unlink(p)


class HostileCase(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.sentinel = self.make_sentinel()
        self.track_dir("data", FILES)
        self.track_file("f.txt", "tracked f\n")
        self.commit_all("track data")

    def assertTrackedDir(self, rel="data", files=FILES):
        self.assertFalse(os.path.islink(self.p(rel)), f"{rel} is still a symlink")
        self.assertTrue(os.path.isdir(self.p(rel)))
        for name, content in files.items():
            self.assertFalse(os.path.islink(self.p(rel, name)))
            self.assertFileBytes(os.path.join(rel, name), content.encode())

    def assertRefused(self, code, err, *words):
        self.assertEqual(code, 255, err)
        for w in words:
            self.assertIn(w, err)

    def add_remote(self):
        remote = os.path.join(self.tmp, "remote")
        shutil.copytree(self.p(".dvc", "cache"), remote)
        with open(self.p(".dvc", "config"), "a") as f:
            f.write(f"['remote \"r\"']\n    url = {remote}\n")
        return remote

    def no_temp_names(self):
        found = []
        for root, dirs, files in os.walk(self.repo):
            if os.path.join(self.repo, ".git") in root or os.path.join(self.repo, ".dvc") in root:
                continue
            found += [os.path.join(root, n) for n in dirs + files if n.endswith(".tmp")]
        return found


class TestSymlinkedOutput(HostileCase):
    def replace_by_link(self, rel, target):
        path = self.p(rel)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
        os.symlink(target, path)

    def test_folder_output_linked_out_of_the_repository(self):
        self.replace_by_link("data", "../sentinel")
        before = self.outside_digest()
        for cmd in (["checkout"], ["checkout", "data"], ["checkout", "data.dvc"]):
            with self.subTest(cmd=cmd):
                code, out, err = self.run(*cmd)
                self.assertRefused(code, err, "symlink", "--force")
                self.assertEqual(self.outside_digest(), before)
                self.assertTrue(os.path.islink(self.p("data")))
        code, out, err = self.run("checkout", "-f")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.outside_digest(), before)  # precious.txt, sub/deep.bin untouched
        self.assertTrackedDir()
        self.assertEqual(self.read(os.path.join(self.sentinel, "precious.txt")),
                         b"precious data outside the repo\n")
        self.assertIn("data/", out)
        code, out, err = self.run("status")
        self.assertEqual(code, 0, err)
        self.assertIn("up to date", out)

    def test_pull_through_a_symlinked_output(self):
        self.add_remote()
        shutil.rmtree(self.p(".dvc", "cache"))
        self.replace_by_link("data", "../sentinel")
        before = self.outside_digest()
        code, out, err = self.run("pull", "-r", "r")
        # DVC's pull reports any checkout failure as "failed to pull data from the cloud", exit 1.
        self.assertEqual(code, 1, err)
        self.assertIn("failed to pull data from the cloud", err)
        self.assertIn("symlink", err)
        self.assertIn("--force", err)
        self.assertEqual(self.outside_digest(), before)
        code, out, err = self.run("pull", "-f", "-r", "r")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.outside_digest(), before)
        self.assertTrackedDir()

    def test_folder_output_linked_into_git_hooks(self):
        # A cloned repository whose tracked folder holds `pre-commit` and whose workspace puts
        # a symlink to .git/hooks in its place must never install the hook.
        self.track_dir("hooks", {"pre-commit": HOOK})
        self.commit_all("hooks")
        self.replace_by_link("hooks", ".git/hooks")
        before = self.outside_digest()
        code, out, err = self.run("checkout")
        self.assertRefused(code, err, "symlink", "--force")
        self.assertFalse(os.path.exists(self.p(".git", "hooks", "pre-commit")))
        self.assertEqual(self.outside_digest(), before)
        code, out, err = self.run("checkout", "-f", "hooks")
        self.assertEqual(code, 0, err)
        self.assertFalse(os.path.exists(self.p(".git", "hooks", "pre-commit")))
        self.assertEqual(self.outside_digest(), before)
        self.assertTrackedDir("hooks", {"pre-commit": HOOK})

    def test_file_output_linked_out_of_the_repository(self):
        self.replace_by_link("f.txt", "../sentinel/precious.txt")
        before = self.outside_digest()
        code, out, err = self.run("checkout", "f.txt")
        self.assertRefused(code, err, "symlink", "--force")
        self.assertEqual(self.outside_digest(), before)
        code, out, err = self.run("checkout", "--force", "f.txt")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.outside_digest(), before)
        self.assertFalse(os.path.islink(self.p("f.txt")))
        self.assertFileBytes("f.txt", b"tracked f\n")

    def test_file_output_linked_to_a_folder_outside(self):
        self.replace_by_link("f.txt", "../sentinel")
        before = self.outside_digest()
        code, out, err = self.run("checkout", "-f")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.outside_digest(), before)
        self.assertFileBytes("f.txt", b"tracked f\n")

    def test_link_holding_the_recorded_data_is_left_alone(self):
        # Nothing has to be written: no refusal, the link stays, its target is not touched.
        target = os.path.join(self.tmp, "copy-of-f.txt")
        self.write(target, "tracked f\n")
        self.replace_by_link("f.txt", target)
        before = self.outside_digest()
        code, out, err = self.run("checkout", "f.txt")
        self.assertEqual(code, 0, err)
        self.assertTrue(os.path.islink(self.p("f.txt")))
        self.assertEqual(self.outside_digest(), before)

    def test_dangling_symlink_output(self):
        self.replace_by_link("data", "../no-such-folder")
        before = self.outside_digest()
        code, out, err = self.run("status")
        self.assertEqual(code, 0, err)
        self.assertIn("deleted:", out)
        self.assertIn("data", out)
        code, out, err = self.run("checkout")
        self.assertRefused(code, err, "symlink", "--force")
        code, out, err = self.run("checkout", "-f")
        self.assertEqual(code, 0, err)
        self.assertTrackedDir()
        self.assertFalse(os.path.lexists(os.path.join(self.tmp, "no-such-folder")))
        self.assertEqual(self.outside_digest(), before)

    def track_outside_its_folder(self, rel, content):
        """A .dvc file at the root whose output lies in a subfolder (so replacing the folder
        keeps the .dvc file)."""
        oid = self.put_object(content)
        self.write(rel, content)
        self.write(rel.replace("/", "-") + ".dvc", dvxtest.dvc_file(oid, len(content), rel))
        self.commit_all("nested output")

    def test_symlinked_parent_folder_leading_out(self):
        # deep/x.txt is tracked; `deep` is then a symlink out of the repository.
        self.track_outside_its_folder("deep/x.txt", "x\n")
        shutil.rmtree(self.p("deep"))
        os.makedirs(os.path.join(self.sentinel, "deep-target"))
        os.symlink("../sentinel/deep-target", self.p("deep"))
        before = self.outside_digest()
        for cmd in (["checkout"], ["checkout", "-f"], ["status"]):
            with self.subTest(cmd=cmd):
                code, out, err = self.run(*cmd)
                self.assertRefused(code, err, "symlink")
                self.assertEqual(self.outside_digest(), before)
        self.assertEqual(os.listdir(os.path.join(self.sentinel, "deep-target")), [])

    def test_symlinked_parent_folder_into_git(self):
        # `deep -> .git/hooks` stays inside the root, but writing there installs a hook.
        self.track_outside_its_folder("deep/pre-commit", HOOK)
        shutil.rmtree(self.p("deep"))
        os.symlink(".git/hooks", self.p("deep"))
        before = self.outside_digest()
        for cmd in (["checkout"], ["checkout", "-f"]):
            with self.subTest(cmd=cmd):
                code, out, err = self.run(*cmd)
                self.assertRefused(code, err, "symlink")
                self.assertFalse(os.path.exists(self.p(".git", "hooks", "pre-commit")))
                self.assertEqual(self.outside_digest(), before)

    def test_symlinked_subfolder_inside_a_tracked_folder(self):
        # data/sub -> the sentinel; data/extra.txt would be deleted by a checkout: refused
        # before anything is deleted or written, even with --force.
        shutil.rmtree(self.p("data", "sub"))
        os.symlink("../../sentinel/sub", self.p("data", "sub"))
        self.write("data/extra.txt", "untracked\n")
        before = self.outside_digest()
        code, out, err = self.run("checkout", "-f")
        self.assertRefused(code, err, "symlinked folder")
        self.assertEqual(self.outside_digest(), before)
        self.assertTrue(self.exists("data/extra.txt"))
        self.assertFalse(os.path.exists(os.path.join(self.sentinel, "sub", "b.txt")))

    def test_granular_checkout_through_a_symlinked_output(self):
        self.replace_by_link("data", "../sentinel")
        before = self.outside_digest()
        for cmd in (["checkout", "data/a.txt"], ["checkout", "-f", "data/sub/b.txt"]):
            with self.subTest(cmd=cmd):
                code, out, err = self.run(*cmd)
                self.assertRefused(code, err, "symlinked folder")
                self.assertEqual(self.outside_digest(), before)

    def test_granular_file_replaced_by_a_symlink(self):
        os.unlink(self.p("data", "a.txt"))
        os.symlink("../../sentinel/precious.txt", self.p("data", "a.txt"))
        before = self.outside_digest()
        code, out, err = self.run("checkout", "data/a.txt")
        self.assertRefused(code, err, "symlink", "--force")
        self.assertEqual(self.outside_digest(), before)
        code, out, err = self.run("checkout", "-f", "data/a.txt")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.outside_digest(), before)
        self.assertFalse(os.path.islink(self.p("data", "a.txt")))
        self.assertFileBytes("data/a.txt", b"tracked a\n")


class TestAddCommitThroughLinks(HostileCase):
    def test_add_file_symlink_with_hardlink_cache_never_touches_the_target(self):
        # DVC records the target's content and replaces the link by a file; hardlinking the
        # link into the cache would make the target read-only (chmod 0444 of the object).
        self.write(".dvc/config", "[cache]\n    type = hardlink\n")
        os.symlink("../sentinel/precious.txt", self.p("link.txt"))
        before = self.outside_digest()
        code, out, err = self.run("add", "link.txt")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.outside_digest(), before)
        self.assertFalse(os.path.islink(self.p("link.txt")))
        self.assertFileBytes("link.txt", b"precious data outside the repo\n")
        oid = dvxtest.md5_bytes(b"precious data outside the repo\n")
        self.assertFalse(os.path.islink(self.cache_path(oid)))
        self.assertNotEqual(os.stat(self.cache_path(oid)).st_ino,
                            os.stat(os.path.join(self.sentinel, "precious.txt")).st_ino)

    def test_add_folder_with_file_symlinks_and_hardlink_cache(self):
        self.write(".dvc/config", "[cache]\n    type = hardlink\n")
        self.write("d/own.txt", "own\n")
        os.symlink("../../sentinel/precious.txt", self.p("d", "p.txt"))
        before = self.outside_digest()
        code, out, err = self.run("add", "d")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.outside_digest(), before)
        self.assertFalse(os.path.islink(self.p("d", "p.txt")))

    def test_commit_of_an_output_that_became_a_symlink(self):
        # commit hashes what the link leads to (as DVC) but writes nothing there.
        self.write(".dvc/config", "[cache]\n    type = hardlink\n")
        shutil.rmtree(self.p("data"))
        os.symlink("../sentinel", self.p("data"))
        before = self.outside_digest()
        code, out, err = self.run("commit", "-f", "data.dvc")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.outside_digest(), before)
        self.assertTrue(os.path.islink(self.p("data")))


    def test_commit_relinks_per_cache_type(self):
        # behaviour.md 5: commit saves, then relinks (unless --no-relink).
        self.write(".dvc/config", "[cache]\n    type = symlink\n")
        self.write("f.txt", "new f\n")
        code, out, err = self.run("commit", "-f", "--no-relink", "f.txt.dvc")
        self.assertEqual(code, 0, err)
        self.assertFalse(os.path.islink(self.p("f.txt")))
        # A symlink out of the repository: its target's content is committed, the link is
        # replaced by a link into the cache, the target is left alone.
        os.unlink(self.p("f.txt"))
        os.symlink("../sentinel/precious.txt", self.p("f.txt"))
        before = self.outside_digest()
        code, out, err = self.run("commit", "-f", "f.txt.dvc")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.outside_digest(), before)
        oid = dvxtest.md5_bytes(b"precious data outside the repo\n")
        self.assertEqual(os.readlink(self.p("f.txt")), self.cache_path(oid))
        self.assertFileBytes("f.txt", b"precious data outside the repo\n")


class TestSpecialFiles(HostileCase):
    def put_special(self, rel, kind):
        path = self.p(rel)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)
        if kind == "fifo":
            os.mkfifo(path)
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.close()

    def test_fifo_and_socket_where_outputs_belong(self):
        for kind in ("fifo", "socket"):
            for rel in ("data", "f.txt"):
                with self.subTest(kind=kind, rel=rel):
                    self.put_special(rel, kind)
                    code, out, err = self.run("status", timeout=30)
                    self.assertEqual(code, 0, err)
                    self.assertIn("modified:", out)
                    code, out, err = self.run("checkout", timeout=30)
                    self.assertRefused(code, err, "not a file or directory", "--force")
                    mode = os.lstat(self.p(rel)).st_mode
                    self.assertFalse(stat.S_ISREG(mode) or stat.S_ISDIR(mode))
                    code, out, err = self.run("checkout", "-f", timeout=30)
                    self.assertEqual(code, 0, err)
                    if rel == "data":
                        self.assertTrackedDir()
                    else:
                        self.assertFileBytes("f.txt", b"tracked f\n")

    def test_fifo_inside_a_tracked_folder_is_never_opened(self):
        os.unlink(self.p("data", "a.txt"))
        os.mkfifo(self.p("data", "a.txt"))
        code, out, err = self.run("status", timeout=30)
        self.assertEqual(code, 0, err)
        self.assertIn("modified:", out)
        code, out, err = self.run("checkout", "-f", timeout=30)
        self.assertEqual(code, 0, err)
        self.assertTrackedDir()


    def test_dangling_symlinks_inside_a_tracked_folder(self):
        # One where a tracked file belongs, one extra: status reports the folder, checkout -f
        # puts the file back and removes the extra link (never creating its target).
        os.unlink(self.p("data", "a.txt"))
        os.symlink("../../nowhere-a", self.p("data", "a.txt"))
        os.symlink("../../nowhere-x", self.p("data", "sub", "x.txt"))
        before = self.outside_digest()
        code, out, err = self.run("status")
        self.assertEqual(code, 0, err)
        self.assertIn("modified:", out)
        code, out, err = self.run("checkout", "-f")
        self.assertEqual(code, 0, err)
        self.assertTrackedDir()
        self.assertFalse(os.path.lexists(self.p("data", "sub", "x.txt")))
        self.assertEqual(self.outside_digest(), before)
        code, out, err = self.run("status")
        self.assertIn("up to date", out)
        # add still fails on a dangling link, as DVC does.
        os.symlink("nowhere", self.p("data", "y.txt"))
        code, out, err = self.run("add", "data")
        self.assertNotEqual(code, 0)


class TestLeftovers(HostileCase):
    def test_leftovers_of_a_killed_checkout_are_removed(self):
        self.write(TEMP_NAME, "half a file")                            # beside f.txt
        self.write(os.path.join(STAGING_NAME, "a.txt"), "staged")        # a staging folder
        self.write(os.path.join("data", TEMP_NAME), "half a data file")  # inside an output
        code, out, err = self.run("checkout")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.no_temp_names(), [])
        self.assertTrackedDir()

    def test_failed_checkout_cleans_up_after_itself(self):
        if reflink_supported(self.repo):
            self.skipTest("file system supports reflinks")
        self.write(".dvc/config", "[cache]\n    type = reflink\n")
        shutil.rmtree(self.p("data"))
        code, out, err = self.run("checkout")
        self.assertEqual(code, 255, err)
        self.assertIn("No possible cache link types for '", err)
        self.assertIn("<https://dvc.org/doc/user-guide/troubleshooting#cache-types>", err)
        self.assertFalse(self.exists("data"))
        self.assertEqual(self.no_temp_names(), [])


class TestUnsavedInsideTrackedFolder(HostileCase):
    def test_modified_file_inside_a_folder_is_not_lost(self):
        self.write("data/a.txt", "my unsaved edit\n")
        for cmd in (["checkout", "data/a.txt"], ["checkout", "data"], ["checkout"],
                    ["checkout", "--relink", "data/a.txt"]):
            with self.subTest(cmd=cmd):
                code, out, err = self.run(*cmd)
                self.assertRefused(code, err, "unsaved files", "--force", self.p("data", "a.txt"))
                self.assertFileBytes("data/a.txt", b"my unsaved edit\n")
        code, out, err = self.run("checkout", "-f", "data/a.txt")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("data/a.txt", b"tracked a\n")

    def test_modified_file_in_a_subfolder_target(self):
        self.write("data/sub/b.txt", "my unsaved edit\n")
        code, out, err = self.run("checkout", "data/sub")
        self.assertRefused(code, err, "unsaved files", self.p("data", "sub", "b.txt"))
        self.assertFileBytes("data/sub/b.txt", b"my unsaved edit\n")


class TestLinkTypes(HostileCase):
    def test_reflink_then_hardlink_gives_hardlinks_without_reflink(self):
        if reflink_supported(self.repo):
            self.skipTest("file system supports reflinks")
        self.write(".dvc/config", "[cache]\n    type = reflink,hardlink\n")
        shutil.rmtree(self.p("data"))
        os.unlink(self.p("f.txt"))
        code, out, err = self.run("checkout")
        self.assertEqual(code, 0, err)
        for rel in ("f.txt", "data/a.txt", "data/sub/b.txt"):
            self.assertEqual(os.stat(self.p(rel)).st_nlink, 2, rel)
        # add relinks the same way (DVC drops the type it can't make, then hardlinks).
        self.write("new.txt", "new\n")
        code, out, err = self.run("add", "new.txt")
        self.assertEqual(code, 0, err)
        self.assertEqual(os.stat(self.p("new.txt")).st_nlink, 2)

    def test_reflink_alone_fails_instead_of_copying(self):
        if reflink_supported(self.repo):
            self.skipTest("file system supports reflinks")
        self.write(".dvc/config", "[cache]\n    type = reflink\n")
        os.unlink(self.p("f.txt"))
        code, out, err = self.run("checkout", "f.txt")
        self.assertEqual(code, 255, err)
        self.assertIn("ERROR: No possible cache link types for '" + self.p("f.txt") + "'. See "
                      "<https://dvc.org/doc/user-guide/troubleshooting#cache-types> for more "
                      "information.", err)
        self.assertFalse(self.exists("f.txt"))
        self.assertEqual(self.no_temp_names(), [])


if __name__ == "__main__":
    dvxtest.main()
