"""dvc data status (behaviour.md 12, cli.md 6.6). Lists are compared as sets: DVC prints them
in Python set order."""

import os

import dvxtest
from dvxtest import set_lists


class TestDataStatus(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.foo = self.track_file("foo.txt", "foo\n")
        self.data = self.track_dir("data", {"a.txt": "hello\n", "sub/b.txt": "world\n"})
        self.commit_all("track")

    def ds(self, *args, **kw):
        return set_lists(self.json_out("data", "status", "--json", *args, **kw))

    def test_clean(self):
        self.assertEqual(self.ds(), {})
        code, out, err = self.run("data", "status", "--json")
        self.assertEqual(out, "{}\n")

    def test_clean_unchanged_granular(self):
        self.assertEqual(self.ds("--granular", "--unchanged"), set_lists({
            "unchanged": ["foo.txt", "data/", "data/a.txt", "data/sub/b.txt"]}))
        self.assertEqual(self.ds("--unchanged"), set_lists({"unchanged": ["foo.txt", "data/"]}))

    def test_uncommitted_modified_and_deleted(self):
        self.write("foo.txt", "changed\n")
        os.remove(self.p("data/sub/b.txt"))
        self.assertEqual(self.ds(), set_lists({
            "uncommitted": {"modified": ["foo.txt", "data/"]}}))
        self.assertEqual(self.ds("--granular"), set_lists({
            "uncommitted": {"modified": ["foo.txt", "data/"], "deleted": ["data/sub/b.txt"]}}))
        self.assertEqual(self.ds("--granular", "--unchanged"), set_lists({
            "uncommitted": {"modified": ["foo.txt", "data/"], "deleted": ["data/sub/b.txt"]},
            "unchanged": ["data/a.txt"]}))

    def test_uncommitted_added_in_dir(self):
        self.write("data/new.txt", "new\n")
        self.assertEqual(self.ds("--granular"), set_lists({
            "uncommitted": {"modified": ["data/"], "added": ["data/new.txt"]}}))

    def test_deleted_file_output(self):
        os.remove(self.p("foo.txt"))
        self.assertEqual(self.ds(), {"uncommitted": {"deleted": ["foo.txt"]}})

    def test_committed_added(self):
        self.track_file("bar.txt", "bar\n")
        self.assertEqual(self.ds(), {"committed": {"added": ["bar.txt"]}})

    def test_committed_modified(self):
        self.track_file("foo.txt", "foo v2\n")
        self.assertEqual(self.ds(), {"committed": {"modified": ["foo.txt"]}})

    def test_not_in_cache(self):
        os.remove(self.cache_path(self.foo))
        self.assertEqual(self.ds(), {"not_in_cache": ["foo.txt"]})

    def test_untracked_files(self):
        self.write("new.txt", "untracked\n")
        self.assertEqual(self.ds(), {})
        self.assertEqual(self.ds("--untracked-files"), {"untracked": ["new.txt"]})
        self.assertEqual(self.ds("--untracked-files", "no"), {})

    def test_paths_relative_to_cwd(self):
        self.track_file("sub/x.txt", "x\n")
        self.commit_all("more")
        self.write("sub/x.txt", "changed\n")
        self.assertEqual(self.ds(cwd=self.p("sub")), {"uncommitted": {"modified": ["x.txt"]}})

    def test_text_no_changes(self):
        code, out, err = self.run("data", "status")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "No changes.\n")


if __name__ == "__main__":
    dvxtest.main()
