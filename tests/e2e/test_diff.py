"""dvc diff (behaviour.md 11, cli.md 6.2)."""

import os

import dvxtest
from dvxtest import md5_bytes

EMPTY_WS = {"added": [], "deleted": [], "modified": [], "renamed": [], "not in cache": []}
EMPTY_REV = {"added": [], "deleted": [], "modified": [], "renamed": []}


def ws(**kw):
    d = {k: list(v) for k, v in EMPTY_WS.items()}
    for k, v in kw.items():
        d[k.replace("_", " ")] = v
    return d


def revs(**kw):
    d = {k: list(v) for k, v in EMPTY_REV.items()}
    d.update(kw)
    return d


class TestDiff(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.foo = self.track_file("foo.txt", "foo\n")
        self.data = self.track_dir("data", {"a.txt": "hello\n", "sub/b.txt": "world\n"})
        self.commit_all("track")

    def test_no_changes(self):
        code, out, err = self.run("diff", "--json")
        self.assertEqual((code, out), (0, "{}\n"), err)

    def test_workspace_modified_file(self):
        self.write("foo.txt", "changed\n")
        self.assertEqual(self.json_out("diff", "--json"), ws(modified=[{"path": "foo.txt"}]))

    def test_workspace_deleted_and_dir_changes(self):
        os.remove(self.p("foo.txt"))
        self.write("data/new.txt", "new\n")
        self.write("data/a.txt", "changed\n")
        self.assertEqual(self.json_out("diff", "--json"), ws(
            added=[{"path": "data/new.txt"}],
            deleted=[{"path": "foo.txt"}],
            modified=[{"path": "data/"}, {"path": "data/a.txt"}]))

    def test_show_hash(self):
        self.write("foo.txt", "changed\n")
        got = self.json_out("diff", "--json", "--show-hash")
        self.assertEqual(got, ws(modified=[{"path": "foo.txt", "hash": {
            "old": self.foo, "new": md5_bytes(b"changed\n")}}]))

    def test_between_revisions(self):
        self.track_file("foo.txt", "foo v2\n")
        self.track_file("bar.txt", "bar\n")
        self.commit_all("v2")
        expected = revs(added=[{"path": "bar.txt"}], modified=[{"path": "foo.txt"}])
        self.assertEqual(self.json_out("diff", "--json", "HEAD~1", "HEAD"), expected)
        # default b_rev is the workspace, which equals HEAD here: not in cache key present
        self.assertEqual(self.json_out("diff", "--json", "HEAD~1"),
                         ws(added=[{"path": "bar.txt"}], modified=[{"path": "foo.txt"}]))
        # reversed
        self.assertEqual(self.json_out("diff", "--json", "HEAD", "HEAD~1"),
                         revs(deleted=[{"path": "bar.txt"}], modified=[{"path": "foo.txt"}]))

    def test_from_commit_without_dvc_files(self):
        self.assertEqual(self.json_out("diff", "--json", "HEAD~1", "HEAD"), revs(added=[
            {"path": "data/"}, {"path": "data/a.txt"}, {"path": "data/sub/b.txt"},
            {"path": "foo.txt"}]))

    def test_renamed(self):
        os.rename(self.p("foo.txt"), self.p("moved.txt"))
        os.remove(self.p("foo.txt.dvc"))
        self.write("moved.txt.dvc", dvxtest.dvc_file(self.foo, 4, "moved.txt"))
        self.commit_all("rename")
        self.assertEqual(self.json_out("diff", "--json", "HEAD~1", "HEAD"),
                         revs(renamed=[{"path": {"old": "foo.txt", "new": "moved.txt"}}]))

    def test_targets(self):
        self.write("foo.txt", "changed\n")
        self.write("data/a.txt", "changed\n")
        self.assertEqual(self.json_out("diff", "--json", "--targets", "foo.txt"),
                         ws(modified=[{"path": "foo.txt"}]))
        self.assertEqual(self.json_out("diff", "--json", "--targets", "data"),
                         ws(modified=[{"path": "data/"}, {"path": "data/a.txt"}]))

    def test_target_inside_a_tracked_directory(self):
        # A file or folder inside a tracked directory selects only the entries below it: the
        # directory's own entry is not listed (checked against dvc 3.64).
        self.write("data/new.txt", "new\n")
        self.write("data/sub/c.txt", "c\n")
        self.write("data/a.txt", "changed\n")
        self.assertEqual(self.json_out("diff", "--json", "--targets", "data/new.txt"),
                         ws(added=[{"path": "data/new.txt"}]))
        self.assertEqual(self.json_out("diff", "--json", "--targets", "data/sub"),
                         ws(added=[{"path": "data/sub/c.txt"}]))
        self.assertEqual(self.json_out("diff", "--json", "--targets", "data/new.txt", "data/a.txt"),
                         ws(added=[{"path": "data/new.txt"}], modified=[{"path": "data/a.txt"}]))
        # the folder itself still lists its own entry
        self.assertEqual(self.json_out("diff", "--json", "--targets", "data"),
                         ws(added=[{"path": "data/new.txt"}, {"path": "data/sub/c.txt"}],
                            modified=[{"path": "data/"}, {"path": "data/a.txt"}]))
        code, out, err = self.run("diff", "--json", "--targets", "data/nonexistent")
        self.assertEqual((code, out), (0, "{}\n"), err)

    def test_not_in_cache(self):
        # recorded in HEAD, missing from the workspace and from the cache: "not in cache"
        # instead of "deleted"
        os.remove(self.cache_path(self.foo))
        os.remove(self.p("foo.txt"))
        self.assertEqual(self.json_out("diff", "--json"),
                         ws(not_in_cache=[{"path": "foo.txt"}]))
        got = self.json_out("diff", "--json", "--hide-missing")
        self.assertNotIn("not in cache", got)
        self.assertFalse(any(got.values()), got)

    def test_text_output(self):
        self.write("foo.txt", "changed\n")
        self.write("data/new.txt", "new\n")
        code, out, err = self.run("diff")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "Added:\n    data/new.txt\n\n"
                              "Modified:\n    data/\n    foo.txt\n\n"
                              "files summary: 1 added, 1 modified\n")

    def test_markdown_output(self):
        # DVC's tables: columns at least as wide as their header plus two, an empty line after.
        self.assertEqual(self.dvx("diff", "--md"), "| Status   | Path   |\n|----------|--------|\n\n")
        self.write("data/new.txt", "new\n")
        self.assertEqual(self.dvx("diff", "--md"),
                         "| Status   | Path         |\n|----------|--------------|\n"
                         "| added    | data/new.txt |\n| modified | data/        |\n\n")

    def test_repo_without_commits(self):
        self.tmp_repo = os.path.join(self.tmp, "fresh")
        self.init_git(self.tmp_repo)
        self.init_dvc_files(self.tmp_repo)
        code, out, err = self.run("diff", "--json", cwd=self.tmp_repo)
        self.assertEqual((code, out), (0, "{}\n"), err)

    def test_bad_revision(self):
        code, out, err = self.run("diff", "--json", "nosuchrev")
        self.assertEqual(code, 1)
        self.assertIn("ERROR: failed to get diff - ", err)


if __name__ == "__main__":
    dvxtest.main()
