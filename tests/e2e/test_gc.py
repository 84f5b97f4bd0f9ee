"""dvc gc (behaviour.md 7)."""

import os

import dvxtest


class TestGc(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.v1 = self.track_file("foo.txt", "foo v1\n")
        self.commit_all("v1")
        self.v2 = self.track_file("foo.txt", "foo v2\n")
        self.dir = self.track_dir("data", {"a.txt": "hello\n", "sub/b.txt": "world\n"})
        self.commit_all("v2")
        self.used = {self.v2, self.dir, "b1946ac92492d2347c6235b4d2611184",
                     "591785b794601e212b260e25925636fd"}

    def names(self, oids):
        return {f"{o[:2]}/{o[2:]}" for o in oids}

    def test_requires_scope(self):
        code, out, err = self.run("gc", "-f")
        self.assertNotEqual(code, 0)
        self.assertIn("Either of `-w|--workspace`, `-a|--all-branches`, `-T|--all-tags` "
                      "`--all-experiments`, `--all-commits`, `--date` or `--rev` needs to be set.",
                      err)
        self.assertTrue(os.path.exists(self.cache_path(self.v1)))

    def test_workspace_force(self):
        code, out, err = self.run("gc", "-w", "-f")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.cache_objects(), self.names(self.used))
        self.assertIn("Removed 1 objects from repo cache.", out)
        self.assertIn("This will remove all cache except items used in the workspace of the "
                      "current repo.", out + err)
        self.assertEqual(self.json_out("status", "--json"), {})

    def test_second_run_has_nothing_to_remove(self):
        self.dvx("gc", "-w", "-f")
        code, out, err = self.run("gc", "-w", "-f")
        self.assertEqual(code, 0, err)
        self.assertIn("No unused 'repo' cache to remove.", out)
        self.assertEqual(self.cache_objects(), self.names(self.used))

    def test_removes_day_old_leftovers_of_killed_commands(self):
        cache = os.path.join(self.repo, ".dvc", "cache")
        md5 = os.path.join(cache, "files", "md5")
        day_old = os.path.getmtime(md5) - 2 * 86400
        tmp_name = lambda c: "." + c * 22 + ".tmp"  # noqa: E731  (platform::temp_path_beside)
        old_tmp = os.path.join(md5, self.v2[:2], tmp_name("a"))
        old_tree = os.path.join(cache, "files", tmp_name("b"))       # a BulkWriter staging tree
        old_legacy = os.path.join(cache, tmp_name("c"))              # its 2.x-layout twin
        fresh_tmp = os.path.join(md5, self.v2[:2], tmp_name("d"))    # may be a running command's
        for p in (old_tmp, fresh_tmp):
            with open(p, "wb") as f:
                f.write(b"partial")
        for t in (old_tree, old_legacy):
            os.makedirs(os.path.join(t, "ab"))
            with open(os.path.join(t, "ab", "c" * 30), "wb") as f:
                f.write(b"staged")
        for p in (old_tmp, os.path.join(old_tree, "ab", "c" * 30), os.path.join(old_tree, "ab"), old_tree,
                  os.path.join(old_legacy, "ab", "c" * 30), os.path.join(old_legacy, "ab"), old_legacy):
            os.utime(p, (day_old, day_old))
        code, out, err = self.run("gc", "-w", "--dry")
        self.assertEqual(code, 0, err)
        self.assertTrue(all(os.path.lexists(p) for p in (old_tmp, old_tree, old_legacy, fresh_tmp)))
        code, out, err = self.run("gc", "-w", "-f")
        self.assertEqual(code, 0, err)
        for p in (old_tmp, old_tree, old_legacy):
            self.assertFalse(os.path.lexists(p), p)
        self.assertTrue(os.path.exists(fresh_tmp))
        self.assertEqual(self.cache_objects(), self.names(self.used) | {f"{self.v2[:2]}/{tmp_name('d')}"})

    def test_dry(self):
        before = self.cache_objects()
        code, out, err = self.run("gc", "-w", "--dry")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.cache_objects(), before)
        self.assertIn(f"{self.v1[:2]}/{self.v1[2:]}", before)

    def test_prompt_declined_without_tty(self):
        before = self.cache_objects()
        code, out, err = self.run("gc", "-w")
        self.assertEqual(code, 1)
        self.assertEqual(self.cache_objects(), before)

    def test_all_commits_keeps_history(self):
        code, out, err = self.run("gc", "-A", "-f")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.cache_objects(), self.names(self.used | {self.v1}))

    def test_rev(self):
        self.dvx("gc", "--rev", "HEAD~1", "-f")
        self.assertEqual(self.cache_objects(), self.names(self.used | {self.v1}))

    def test_unused_dir_object_and_its_files(self):
        os.remove(self.p("data.dvc"))
        self.commit_all("drop data")
        self.dvx("gc", "-w", "-f")
        self.assertEqual(self.cache_objects(), self.names({self.v2}))

    def test_cloud(self):
        remote = os.path.join(self.tmp, "remote")
        self.write(".dvc/config", "[core]\n    remote = store\n['remote \"store\"']\n"
                                  f"    url = {remote}\n")
        # put every object on the remote, as a push of all commits would
        for name in self.cache_objects():
            src = os.path.join(self.p(".dvc/cache/files/md5"), name)
            dst = os.path.join(remote, "files", "md5", name)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(src, "rb") as f, open(dst, "wb") as g:
                g.write(f.read())
        code, out, err = self.run("gc", "-w", "-c", "-f")
        self.assertEqual(code, 0, err)
        self.assertEqual(dvxtest._objects_under(os.path.join(remote, "files", "md5")),
                         self.names(self.used))
        self.assertEqual(self.cache_objects(), self.names(self.used))

    def test_remote_needs_cloud(self):
        code, out, err = self.run("gc", "-w", "-r", "x", "-f")
        self.assertNotEqual(code, 0)
        self.assertTrue(os.path.exists(self.cache_path(self.v1)))


if __name__ == "__main__":
    dvxtest.main()
