"""dvc push / fetch / pull / status -c against local-directory remotes
(behaviour.md 3.2, 6; cli.md 6.1, 7; formats.md 5)."""

import os
import shutil

import dvxtest

HELLO = "b1946ac92492d2347c6235b4d2611184"
WORLD = "591785b794601e212b260e25925636fd"
FOO = "d3b07384d113edec49eaa6238ad5ff00"


class TransferBase(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.remote = os.path.join(self.tmp, "remote")
        self.make_repo(config=b"[core]\n    remote = store\n['remote \"store\"']\n"
                              b"    url = ../../remote\n")
        self.foo = self.track_file("foo.txt", "foo\n")
        self.dir = self.track_dir("data", {"a.txt": "hello\n", "sub/b.txt": "world\n"})
        self.commit_all("track")
        self.all = {self.foo, self.dir, HELLO, WORLD}

    def names(self, oids):
        return {f"{o[:2]}/{o[2:]}" for o in oids}

    def remote_objects(self, remote=None):
        return dvxtest._objects_under(os.path.join(remote or self.remote, "files", "md5"))

    def wipe_cache(self):
        shutil.rmtree(self.p(".dvc", "cache"))

    def wipe_workspace(self):
        os.remove(self.p("foo.txt"))
        shutil.rmtree(self.p("data"))


class TestPush(TransferBase):
    def test_push(self):
        code, out, err = self.run("push")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "4 files pushed\n")
        self.assertEqual(self.remote_objects(), self.names(self.all))
        for oid in self.all:
            path = os.path.join(self.remote, dvxtest.cache_rel(oid))
            self.assertMode(path, 0o444)
            self.assertFilesEqual(path, self.cache_path(oid))
        code, out, err = self.run("push")
        self.assertEqual((code, out), (0, "Everything is up to date.\n"), err)

    def test_push_jobs(self):
        code, out, err = self.run("push", "-j", "2")
        self.assertEqual((code, out), (0, "4 files pushed\n"), err)

    def test_push_target(self):
        code, out, err = self.run("push", "foo.txt")
        self.assertEqual((code, out), (0, "1 file pushed\n"), err)
        self.assertEqual(self.remote_objects(), self.names({self.foo}))
        code, out, err = self.run("push", "data.dvc")
        self.assertEqual((code, out), (0, "3 files pushed\n"), err)
        self.assertEqual(self.remote_objects(), self.names(self.all))

    def test_push_other_remote(self):
        other = os.path.join(self.tmp, "other")
        self.write(".dvc/config.local", f"['remote \"other\"']\n    url = {other}\n")
        code, out, err = self.run("push", "-r", "other")
        self.assertEqual((code, out), (0, "4 files pushed\n"), err)
        self.assertEqual(self.remote_objects(other), self.names(self.all))
        self.assertEqual(self.remote_objects(), set())

    def test_push_unknown_remote(self):
        code, out, err = self.run("push", "-r", "nosuch")
        self.assertNotEqual(code, 0)
        self.assertEqual(self.remote_objects(), set())

    def test_push_without_remote(self):
        self.write(".dvc/config", b"")
        code, out, err = self.run("push")
        self.assertEqual(code, 1)
        self.assertIn("ERROR: failed to push data to the cloud - config file error: no remote "
                      "specified", err)

    def test_push_missing_cache_object(self):
        os.remove(self.cache_path(self.foo))
        code, out, err = self.run("push")
        self.assertNotIn(self.names({self.foo}).pop(), self.remote_objects())


class TestFetchPull(TransferBase):
    def setUp(self):
        super().setUp()
        self.dvx("push")

    def test_fetch(self):
        self.wipe_cache()
        code, out, err = self.run("fetch")
        self.assertEqual((code, out), (0, "4 files fetched\n"), err)
        self.assertEqual(self.cache_objects(), self.names(self.all))
        for oid in self.all:
            self.assertCacheObject(oid)
        code, out, err = self.run("fetch")
        self.assertEqual((code, out), (0, "Everything is up to date.\n"), err)

    def test_fetch_target(self):
        self.wipe_cache()
        code, out, err = self.run("fetch", "foo.txt.dvc")
        self.assertEqual((code, out), (0, "1 file fetched\n"), err)
        self.assertEqual(self.cache_objects(), self.names({self.foo}))

    def test_pull_empty_cache(self):
        self.wipe_cache()
        self.wipe_workspace()
        code, out, err = self.run("pull")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "A       data/\nA       foo.txt\n4 files fetched and 3 files added\n")
        self.assertFileBytes("foo.txt", "foo\n")
        self.assertFileBytes("data/a.txt", "hello\n")
        self.assertFileBytes("data/sub/b.txt", "world\n")
        self.assertEqual(self.json_out("status", "--json"), {})
        code, out, err = self.run("pull")
        self.assertEqual((code, out), (0, "Everything is up to date.\n"), err)

    def test_pull_only_workspace_missing(self):
        self.wipe_workspace()
        code, out, err = self.run("pull", "-j", "1")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "A       data/\nA       foo.txt\n3 files added\n")

    def test_pull_target(self):
        self.wipe_cache()
        self.wipe_workspace()
        code, out, err = self.run("pull", "foo.txt")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "A       foo.txt\n1 file fetched and 1 file added\n")
        self.assertFalse(self.exists("data"))

    def test_pull_with_remote_object_missing(self):
        os.remove(os.path.join(self.remote, dvxtest.cache_rel(self.foo)))
        self.wipe_cache()
        self.wipe_workspace()
        code, out, err = self.run("pull")
        self.assertEqual(code, 1)
        self.assertIn("WARNING: Some of the cache files do not exist neither locally nor on "
                      "remote. Missing cache files:", err)
        self.assertIn(f"name: foo.txt, md5: {self.foo}", err)
        self.assertIn("ERROR: failed to pull data from the cloud - 1 files failed to download", err)
        self.assertFalse(self.exists("foo.txt"))
        # Like DVC, everything else is still fetched and checked out.
        self.assertEqual(self.cache_objects(), self.names(self.all - {self.foo}))
        self.assertFileBytes("data/a.txt", "hello\n")
        self.assertFileBytes("data/sub/b.txt", "world\n")
        self.assertEqual(out, "A       data/\n3 files fetched and 2 files added\n")

    def test_pull_with_a_file_of_a_directory_missing_on_the_remote(self):
        os.remove(os.path.join(self.remote, dvxtest.cache_rel(WORLD)))
        self.wipe_cache()
        self.wipe_workspace()
        code, out, err = self.run("pull")
        self.assertEqual(code, 1)
        self.assertIn(f"name: data/sub/b.txt, md5: {WORLD}", err)
        self.assertIn("ERROR: failed to pull data from the cloud - 1 files failed to download", err)
        self.assertFileBytes("foo.txt", "foo\n")  # the other output is pulled
        self.assertNotIn(self.names({WORLD}).pop(), self.cache_objects())

    def test_fetch_with_remote_object_missing_fetches_the_rest(self):
        os.remove(os.path.join(self.remote, dvxtest.cache_rel(HELLO)))
        self.wipe_cache()
        code, out, err = self.run("fetch")
        self.assertEqual(code, 1)
        self.assertIn(f"name: data/a.txt, md5: {HELLO}", err)
        self.assertIn("ERROR: failed to fetch data from the cloud - 1 files failed to download", err)
        self.assertEqual(self.cache_objects(), self.names(self.all - {HELLO}))

    def test_fetch_without_remote_when_nothing_to_transfer(self):
        self.write(".dvc/config", b"")
        code, out, err = self.run("fetch")
        self.assertEqual((code, out), (0, "Everything is up to date.\n"), err)
        self.assertIn("No remote provided and no default remote set.", err)

    def test_fetch_and_pull_without_remote_with_something_to_transfer(self):
        self.write(".dvc/config", b"")
        os.remove(self.cache_path(self.foo))
        for cmd in ("fetch", "pull"):
            code, out, err = self.run(cmd)
            self.assertEqual(code, 1, err)
            self.assertIn(f"ERROR: failed to {cmd} data from the cloud - config file error: no remote "
                          f"specified in {self.repo}. Create a default remote with\n"
                          "    dvc remote add -d <remote name> <remote url>\n", err)

    def corrupt_remote_foo(self, content=b"fo0\n"):
        path = os.path.join(self.remote, dvxtest.cache_rel(self.foo))
        os.chmod(path, 0o644)
        with open(path, "wb") as f:
            f.write(content)

    def test_pull_rejects_corrupted_remote_object(self):
        # dvx re-hashes every downloaded object by default (DVC's remote `verify` defaults to
        # false); a corrupted object never reaches the cache or the workspace.
        self.corrupt_remote_foo()
        self.wipe_cache()
        self.wipe_workspace()
        code, out, err = self.run("pull")
        self.assertEqual(code, 1)
        self.assertIn(f"object '{self.foo}' is corrupted", err)
        self.assertIn("failed to pull data from the cloud", err)
        self.assertFalse(self.exists("foo.txt"))
        self.assertNotIn(f"{self.foo[:2]}/{self.foo[2:]}", self.cache_objects())
        # Intact objects are fetched and, like DVC, checked out before pull fails.
        self.assertIn(f"{HELLO[:2]}/{HELLO[2:]}", self.cache_objects())
        self.assertFileBytes("data/a.txt", "hello\n")
        leftovers = [f for _, _, fs in os.walk(self.p(".dvc", "cache")) for f in fs if f.endswith(".tmp")]
        self.assertEqual(leftovers, [])

    def test_pull_without_verify_trusts_the_remote(self):
        # The remote's `verify = false` (DVC's option) skips re-hashing downloads: what the
        # remote holds enters the cache as is. The checkout (copy) hashes what it copies, so the
        # tampered object still never reaches the workspace: it is quarantined.
        self.dvx("remote", "modify", "store", "verify", "false")
        self.corrupt_remote_foo(b"tampered\n")
        self.wipe_cache()
        self.wipe_workspace()
        code, out, err = self.run("pull")
        self.assertEqual(code, 1, err)
        self.assertIn("corrupted cache file", err)
        self.assertIn("Checkout failed for following targets:\nfoo.txt\n", err)
        self.assertFalse(self.exists("foo.txt"))
        self.assertFileBytes(self.p("data", "a.txt"), "hello\n")
        self.dvx("remote", "modify", "store", "verify", "true")
        self.wipe_cache()
        code, out, err = self.run("fetch")
        self.assertEqual(code, 1)
        self.assertIn("is corrupted", err)

    def test_pull_refuses_to_overwrite_modified(self):
        self.write("foo.txt", "precious\n")
        code, out, err = self.run("pull")
        self.assertEqual(code, 1)
        self.assertIn("Can't remove the following unsaved files without confirmation.", err)
        self.assertFileBytes("foo.txt", "precious\n")
        code, out, err = self.run("pull", "-f")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("foo.txt", "foo\n")

    def test_pull_without_remote_when_all_cached(self):
        # [observed]: pull with everything in the cache succeeds without any remote
        self.write(".dvc/config", b"")
        os.remove(self.p("foo.txt"))
        code, out, err = self.run("pull")
        self.assertEqual(code, 0, err)
        self.assertFileBytes("foo.txt", "foo\n")
        self.assertIn("No remote provided and no default remote set.", err)


class TestStatusCloud(TransferBase):
    def test_everything_new(self):
        self.assertEqual(self.json_out("status", "-c", "--json"), {
            "foo.txt": "new", "data": "new", "data/a.txt": "new", "data/sub/b.txt": "new"})
        code, out, err = self.run("status", "-c")
        self.assertEqual(code, 0, err)
        self.assertEqual(sorted(out.splitlines()), sorted([
            "\tnew:                foo.txt", "\tnew:                data",
            "\tnew:                data/a.txt", "\tnew:                data/sub/b.txt"]))

    def test_in_sync(self):
        self.dvx("push")
        self.assertEqual(self.json_out("status", "-c", "--json"), {})
        self.assertEqual(self.dvx("status", "-c"), "Cache and remote 'store' are in sync.\n")
        self.assertEqual(self.dvx("status", "--cloud", "-j", "2"),
                         "Cache and remote 'store' are in sync.\n")

    def test_new_deleted_missing(self):
        self.dvx("push")
        os.remove(os.path.join(self.remote, dvxtest.cache_rel(self.foo)))      # new
        os.remove(self.cache_path(HELLO))                                         # deleted
        os.remove(self.cache_path(WORLD))                                         # missing
        os.remove(os.path.join(self.remote, dvxtest.cache_rel(WORLD)))
        self.assertEqual(self.json_out("status", "-c", "--json"), {
            "foo.txt": "new", "data/a.txt": "deleted", "data/sub/b.txt": "missing"})

    def test_remote_option_switches_to_cloud_mode(self):
        other = os.path.join(self.tmp, "other")
        self.write(".dvc/config.local", f"['remote \"other\"']\n    url = {other}\n")
        self.dvx("push")
        self.assertEqual(self.json_out("status", "-r", "store", "--json"), {})
        self.assertEqual(self.json_out("status", "-r", "other", "--json"), {
            "foo.txt": "new", "data": "new", "data/a.txt": "new", "data/sub/b.txt": "new"})
        self.assertEqual(self.dvx("status", "-c", "-r", "store"),
                         "Cache and remote 'store' are in sync.\n")

    def test_targets(self):
        self.assertEqual(self.json_out("status", "-c", "--json", "foo.txt.dvc"),
                         {"foo.txt": "new"})


if __name__ == "__main__":
    dvxtest.main()
