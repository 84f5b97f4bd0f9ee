"""gc keeps everything the selected revisions may reference (behaviour.md 7), and stops rather
than shrink that set: unreadable manifests, invalid .dvc files in history, Git errors. Also the
scopes of push/fetch (-a/-T) and leftovers of killed commands."""

import fcntl
import os
import shutil

import dvxtest

HELLO = "b1946ac92492d2347c6235b4d2611184"
WORLD = "591785b794601e212b260e25925636fd"


def obj(oid):
    return f"{oid[:2]}/{oid[2:]}"


class History(dvxtest.DvxTestCase):
    """main: c1 (foo = H, history only) -> c2 (foo = T, tagged t1) -> c3 (foo = M, data/);
    branch feature: c4 (foo = F). An object U is referenced nowhere."""

    def setUp(self):
        super().setUp()
        self.remote = os.path.join(self.tmp, "remote")
        self.make_repo()
        self.H = self.track_file("foo.txt", "foo history\n")
        self.commit_all("c1")
        self.T = self.track_file("foo.txt", "foo tagged\n")
        self.commit_all("c2")
        self.git("tag", "t1")
        self.M = self.track_file("foo.txt", "foo main\n")
        self.dir = self.track_dir("data", {"a.txt": "hello\n", "sub/b.txt": "world\n"})
        self.commit_all("c3")
        self.git("checkout", "-q", "-b", "feature")
        self.F = self.track_file("foo.txt", "foo feature\n")
        self.commit_all("c4")
        self.git("checkout", "-q", "main")
        self.write("foo.txt", "foo main\n")
        self.U = self.put_object("unreferenced\n")
        self.workspace = {self.M, self.dir, HELLO, WORLD}
        self.everything = self.workspace | {self.H, self.T, self.F, self.U}
        self.assertEqual(self.cache_objects(), self.names(self.everything))

    def names(self, oids):
        return {obj(o) for o in oids}

    def use_remote(self):
        self.write(".dvc/config", "[core]\n    remote = store\n['remote \"store\"']\n"
                                  f"    url = {self.remote}\n")

    def copy_to_remote(self, oids):
        for o in oids:
            dst = os.path.join(self.remote, dvxtest.cache_rel(o))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(self.cache_path(o), dst)

    def remote_objects(self):
        return dvxtest._objects_under(os.path.join(self.remote, "files", "md5"))

    def gc(self, *args):
        code, out, err = self.run("gc", "-f", *args)
        self.assertEqual(code, 0, err)
        return out


class TestGcScopes(History):
    def test_workspace(self):
        self.gc("-w")
        self.assertEqual(self.cache_objects(), self.names(self.workspace))

    def test_all_branches_keeps_other_branch_tips_only(self):
        self.gc("-a")
        self.assertEqual(self.cache_objects(), self.names(self.workspace | {self.F}))

    def test_all_branches_is_not_fooled_by_a_tag_named_like_a_branch(self):
        first = self.git("rev-list", "--max-parents=0", "HEAD").strip()
        self.git("tag", "feature", first)  # "feature" alone would name this tag before the branch
        self.gc("-a")
        self.assertEqual(self.cache_objects(), self.names(self.workspace | {self.F}))

    def test_all_tags(self):
        self.gc("-T")
        self.assertEqual(self.cache_objects(), self.names(self.workspace | {self.T}))

    def test_all_branches_and_tags(self):
        self.gc("-a", "-T")
        self.assertEqual(self.cache_objects(), self.names(self.workspace | {self.F, self.T}))

    def test_all_commits(self):
        self.gc("--all-commits")
        self.assertEqual(self.cache_objects(), self.names(self.everything - {self.U}))

    def test_rev_with_num(self):
        self.gc("--rev", "main~1", "-n", "2")  # c2 and c1, plus the workspace
        self.assertEqual(self.cache_objects(), self.names(self.workspace | {self.T, self.H}))

    def test_rev_num_beyond_the_first_commit(self):
        self.gc("--rev", "feature", "-n", "50")
        self.assertEqual(self.cache_objects(), self.names(self.everything - {self.U}))

    def test_not_in_remote_removes_only_what_the_remote_has(self):
        self.use_remote()
        self.copy_to_remote({self.H, self.T, HELLO})
        before = self.outside_digest()
        self.gc("-A", "--not-in-remote")
        # Backed up (H, T, HELLO) or unused (U): removed; used and not on the remote: kept.
        self.assertEqual(self.cache_objects(), self.names({self.M, self.F, self.dir, WORLD}))
        self.assertEqual(self.outside_digest(), before)

    def test_cloud_removes_unused_objects_from_the_remote_too(self):
        self.use_remote()
        self.copy_to_remote(self.everything)
        self.gc("-a", "-c")
        kept = self.names(self.workspace | {self.F})
        self.assertEqual(self.cache_objects(), kept)
        self.assertEqual(self.remote_objects(), kept)


class TestTransferScopes(History):
    def setUp(self):
        super().setUp()
        self.use_remote()
        self.commit_all("remote")

    def test_push_all_branches(self):
        code, out, err = self.run("push", "-a")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.remote_objects(), self.names(self.workspace | {self.F}))

    def test_push_all_tags(self):
        code, out, err = self.run("push", "-T")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.remote_objects(), self.names(self.workspace | {self.T}))

    def test_fetch_all_branches_and_all_tags(self):
        self.copy_to_remote(self.everything)
        shutil.rmtree(self.p(".dvc", "cache"))
        code, out, err = self.run("fetch", "-a")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.cache_objects(), self.names(self.workspace | {self.F}))
        code, out, err = self.run("fetch", "-T")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.cache_objects(), self.names(self.workspace | {self.F, self.T}))


class TestGcStopsRatherThanShrink(History):
    """Whatever makes the keep-set uncertain stops gc before it deletes anything."""

    def assertRefused(self, *args, needle=None):
        before_cache = self.cache_objects()
        before = self.outside_digest()
        code, out, err = self.run("gc", "-f", *args)
        self.assertNotEqual(code, 0, out + err)
        if needle:
            self.assertIn(needle, err)
        self.assertEqual(self.cache_objects(), before_cache)
        self.assertEqual(self.outside_digest(), before)
        return err

    def break_old_dvc_file(self):
        # A commit whose foo.txt.dvc is invalid, in the history of main only.
        self.git("checkout", "-q", "-b", "broken", "main~1")
        self.write("foo.txt.dvc", "outs:\n- md5: [unclosed\n")
        self.commit_all("broken .dvc file")
        self.git("checkout", "-q", "main")

    def test_invalid_dvc_file_at_an_old_commit(self):
        self.break_old_dvc_file()
        err = self.assertRefused("-A", needle="foo.txt.dvc' at commit ")
        err = self.assertRefused("-a", needle="foo.txt.dvc' at commit ")
        self.assertRefused("-w", "--rev", "broken")

    def test_push_stops_on_an_invalid_dvc_file_at_an_old_commit(self):
        self.break_old_dvc_file()
        self.use_remote()
        before = self.outside_digest()
        code, out, err = self.run("push", "-A")
        self.assertEqual(code, 1, err)
        self.assertIn("foo.txt.dvc' at commit ", err)
        self.assertEqual(self.outside_digest(), before)

    def test_unreadable_branch(self):
        # A branch whose commit object is missing (a damaged or partial clone): resolving it
        # fails, and gc must not go on as if the branch did not exist.
        self.write(".git/refs/heads/broken", "1" * 40 + "\n")
        self.assertRefused("-a", needle="'refs/heads/broken'")
        code, out, err = self.run("push", "-a")
        self.assertNotEqual(code, 0)

    def test_missing_manifest_without_remote(self):
        os.remove(self.cache_path(self.dir))
        err = self.assertRefused("-w", needle="'data': manifest '" + self.dir + "' is missing from the cache")
        self.assertIn("gc removed nothing", err)
        self.assertRefused("-w", "--dry")

    def test_malformed_manifest(self):
        path = self.cache_path(self.dir)
        os.chmod(path, 0o644)
        self.write(path, b"this is not json")
        os.chmod(path, 0o444)
        self.assertRefused("-w", needle="'data': manifest '" + self.dir + "' is corrupted")
        status = self.json_out("status", "--json")
        self.assertEqual(status, {"data.dvc": [{"changed outs": {"data": "corrupted"}}]})

    def test_manifest_missing_at_an_old_commit(self):
        os.remove(self.cache_path(self.dir))
        self.git("rm", "-q", "data.dvc")
        self.commit_all("drop data")  # data/ is now referenced only by main~1
        self.assertRefused("-A", needle="'data' (at commit ")

    def test_missing_manifest_not_on_the_remote(self):
        self.use_remote()
        self.copy_to_remote({self.M})
        os.remove(self.cache_path(self.dir))
        self.assertRefused("-w", needle="remote 'store' does not have it")

    def test_missing_manifest_is_fetched_from_the_default_remote(self):
        self.use_remote()
        self.copy_to_remote({self.dir})
        os.remove(self.cache_path(self.dir))
        before = self.outside_digest()
        self.gc("-w")
        self.assertEqual(self.cache_objects(), self.names(self.workspace))
        self.assertEqual(self.outside_digest(), before)

    def test_corrupted_manifest_is_replaced_from_the_remote(self):
        self.use_remote()
        self.copy_to_remote({self.dir})
        path = self.cache_path(self.dir)
        os.chmod(path, 0o644)
        self.write(path, b'[{"md5": "' + HELLO.encode() + b'", "relpath": "a.txt"}]')  # parses, lies
        os.chmod(path, 0o444)
        self.gc("-w")
        self.assertEqual(self.cache_objects(), self.names(self.workspace))
        with open(path, "rb") as f:
            self.assertEqual(dvxtest.md5_bytes(f.read()) + ".dir", self.dir)


class TestLeftovers(History):
    """Staging trees of killed commands (odb::BulkWriter): removed by the next gc or bulk
    writer as soon as their writer is gone, never while it runs."""

    def staging_tree(self, name, marker=True):
        tree = os.path.join(self.p(".dvc", "cache", "files"), "." + name * 22 + ".tmp")
        os.makedirs(os.path.join(tree, "ab"))
        self.write(os.path.join(tree, "ab", "c" * 30), b"staged")
        if marker:
            self.write(os.path.join(tree, ".flock"), b"")
        return tree

    def test_tree_of_a_gone_writer_is_removed_at_once(self):
        tree = self.staging_tree("a")
        self.gc("-w")
        self.assertFalse(os.path.lexists(tree))

    def test_add_removes_it_too(self):
        tree = self.staging_tree("a")
        shutil.rmtree(self.p(".dvc", "cache", "files", "md5"))  # a fresh cache: add stages
        self.write("new.txt", "new\n")
        code, out, err = self.run("add", "new.txt")
        self.assertEqual(code, 0, err)
        self.assertFalse(os.path.lexists(tree))

    def test_tree_of_a_running_writer_is_kept(self):
        tree = self.staging_tree("b")
        fd = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            old = os.path.getmtime(tree) - 3 * 86400  # even when old
            os.utime(tree, (old, old))
            self.gc("-w")
            self.assertTrue(os.path.exists(os.path.join(tree, "ab", "c" * 30)))
        finally:
            os.close(fd)
        self.gc("-w")
        self.assertFalse(os.path.lexists(tree))

    def test_tree_that_cannot_tell_is_kept_for_a_day(self):
        tree = self.staging_tree("c", marker=False)
        self.gc("-w")
        self.assertTrue(os.path.exists(tree))


if __name__ == "__main__":
    dvxtest.main()
