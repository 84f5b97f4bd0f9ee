"""dvc status, local mode (behaviour.md 3.1, 3.3; cli.md 6.1)."""

import os
import time

import dvxtest

WORLD = "591785b794601e212b260e25925636fd"
UP_TO_DATE = "Data and pipelines are up to date.\n"
NOTHING_TRACKED = ("There are no data or pipelines tracked in this project yet.\n"
                   "See <https://dvc.org/doc/start> to get started!\n")


class TestStatus(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()

    def setup_tracked(self):
        self.foo = self.track_file("foo.txt", "foo\n")
        self.data = self.track_dir("data", {"a.txt": "hello\n", "sub/b.txt": "world\n"})
        self.commit_all("track")

    def test_nothing_tracked(self):
        code, out, err = self.run("status")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, NOTHING_TRACKED)

    def test_clean(self):
        self.setup_tracked()
        code, out, err = self.run("status")
        self.assertEqual((code, out), (0, UP_TO_DATE), err)
        self.assertEqual(self.json_out("status", "--json"), {})
        code, out, err = self.run("status", "--json")
        self.assertEqual(out, "{}\n")

    def test_json_prefix_abbreviation(self):
        self.setup_tracked()
        code, out, err = self.run("status", "--jso")
        self.assertEqual((code, out), (0, "{}\n"), err)

    def test_modified_file(self):
        self.setup_tracked()
        self.write("foo.txt", "changed\n")
        self.assertEqual(self.json_out("status", "--json"),
                         {"foo.txt.dvc": [{"changed outs": {"foo.txt": "modified"}}]})
        code, out, err = self.run("status")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "foo.txt.dvc:\n\tchanged outs:\n\t\tmodified:           foo.txt\n")

    def test_deleted_file(self):
        self.setup_tracked()
        os.remove(self.p("foo.txt"))
        self.assertEqual(self.json_out("status", "--json"),
                         {"foo.txt.dvc": [{"changed outs": {"foo.txt": "deleted"}}]})
        self.assertEqual(self.dvx("status"),
                         "foo.txt.dvc:\n\tchanged outs:\n\t\tdeleted:            foo.txt\n")

    def test_not_in_cache(self):
        self.setup_tracked()
        os.remove(self.cache_path(self.foo))
        self.assertEqual(self.json_out("status", "--json"),
                         {"foo.txt.dvc": [{"changed outs": {"foo.txt": "not in cache"}}]})
        self.assertEqual(self.dvx("status"),
                         "foo.txt.dvc:\n\tchanged outs:\n\t\tnot in cache:       foo.txt\n")

    def test_dir_file_removed_from_cache_after_a_clean_status(self):
        # A clean status remembers that every file of data/ is in the cache (keyed by the
        # cache folders' stat); removing one object must still be noticed afterwards.
        self.setup_tracked()
        time.sleep(1.1)  # older than the racy window, so the memory is trusted
        self.assertEqual(self.json_out("status", "--json"), {})
        self.assertEqual(self.json_out("status", "--json"), {})
        os.chmod(self.cache_path(WORLD), 0o644)
        os.remove(self.cache_path(WORLD))
        self.assertEqual(self.json_out("status", "--json"),
                         {"data.dvc": [{"changed outs": {"data": "not in cache"}}]})

    def test_not_in_cache_takes_priority_over_deleted(self):
        self.setup_tracked()
        os.remove(self.cache_path(self.foo))
        os.remove(self.p("foo.txt"))
        self.assertEqual(self.json_out("status", "--json"),
                         {"foo.txt.dvc": [{"changed outs": {"foo.txt": "not in cache"}}]})

    def test_directory_changes(self):
        self.setup_tracked()
        self.write("data/new.txt", "new\n")
        self.assertEqual(self.json_out("status", "--json"),
                         {"data.dvc": [{"changed outs": {"data": "modified"}}]})
        os.remove(self.p("data/new.txt"))
        self.assertEqual(self.json_out("status", "--json"), {})
        os.remove(self.p("data/sub/b.txt"))
        self.assertEqual(self.json_out("status", "--json"),
                         {"data.dvc": [{"changed outs": {"data": "modified"}}]})

    def test_several_stages_and_targets(self):
        self.setup_tracked()
        self.write("foo.txt", "changed\n")
        self.write("data/a.txt", "changed\n")
        self.assertEqual(self.json_out("status", "--json"), {
            "foo.txt.dvc": [{"changed outs": {"foo.txt": "modified"}}],
            "data.dvc": [{"changed outs": {"data": "modified"}}],
        })
        self.assertEqual(self.json_out("status", "--json", "foo.txt.dvc"),
                         {"foo.txt.dvc": [{"changed outs": {"foo.txt": "modified"}}]})
        self.assertEqual(self.json_out("status", "--json", "data"),
                         {"data.dvc": [{"changed outs": {"data": "modified"}}]})

    def test_recursive_target(self):
        self.track_file("sub/x.txt", "x\n")
        self.track_file("y.txt", "y\n")
        self.commit_all("track")
        self.write("sub/x.txt", "changed\n")
        self.write("y.txt", "changed\n")
        self.assertEqual(self.json_out("status", "--json", "-R", "sub"),
                         {"sub/x.txt.dvc": [{"changed outs": {"sub/x.txt": "modified"}}]})

    def test_paths_relative_to_cwd(self):
        self.track_file("sub/x.txt", "x\n")
        self.commit_all("track")
        self.write("sub/x.txt", "changed\n")
        self.assertEqual(self.json_out("status", "--json"),
                         {"sub/x.txt.dvc": [{"changed outs": {"sub/x.txt": "modified"}}]})
        self.assertEqual(self.json_out("status", "--json", cwd=self.p("sub")),
                         {"x.txt.dvc": [{"changed outs": {"x.txt": "modified"}}]})

    def test_quiet_exit_codes(self):
        self.setup_tracked()
        code, out, err = self.run("status", "-q")
        self.assertEqual((code, out), (0, ""), err)
        self.write("foo.txt", "changed\n")
        code, out, err = self.run("status", "-q")
        self.assertEqual((code, out), (1, ""), err)

    def test_changes_exit_zero_without_quiet(self):
        self.setup_tracked()
        self.write("foo.txt", "changed\n")
        code, out, err = self.run("status")
        self.assertEqual(code, 0)
        code, out, err = self.run("status", "--json")
        self.assertEqual(code, 0)

    def test_legacy_entry_clean(self):
        # A 2.x entry (no `hash:`) is read with md5-dos2unix: CRLF text hashes as LF.
        content = b"line1\r\nline2\r\n"
        self.write("t.txt", content)
        legacy = "4fcc82a88ee38e0aa16c17f512c685c9"
        path = self.p(".dvc", "cache", legacy[:2], legacy[2:])
        os.makedirs(os.path.dirname(path))
        self.write(path, content, mode=0o444)
        self.write("t.txt.dvc", dvxtest.dvc_file(legacy, 14, "t.txt", legacy=True))
        self.write(".gitignore", "/t.txt\n")
        self.commit_all("legacy")
        self.assertEqual(self.json_out("status", "--json"), {})
        self.assertFileBytes("t.txt.dvc", dvxtest.dvc_file(legacy, 14, "t.txt", legacy=True))

    def test_local_options_rejected(self):
        self.setup_tracked()
        code, out, err = self.run("status", "-a")
        self.assertNotEqual(code, 0)
        self.assertIn("The following options are meaningless for local status: --all-branches",
                      err)


if __name__ == "__main__":
    dvxtest.main()
