"""`metrics show` / `metrics diff` (cli.md §6.3, §6.4, §6.8): the outputs recorded with DVC 3.64 on
the pipeline, pipeline2 and experiments fixtures, revisions (-a/-T/-A, a_rev b_rev), a metrics file
that is a cached output read from the cache (and fetched from the default remote) at an old
revision, and missing/invalid files. Every expectation was checked with `dvc-real`.

JSON is compared as parsed objects (DVC's diff orders files and keys by Python set iteration);
text tables byte for byte where DVC recorded them.
"""

import json
import os
import shutil

import dvxtest

# (recorded output, fixture, setup shell line, dvx arguments)
RECORDED = [
    ("pipeline.metrics-show.json", "pipeline", "", ["metrics", "show", "--json"]),
    ("pipeline.metrics-show.txt", "pipeline", "", ["metrics", "show"]),
    ("pipeline.metrics-show.md", "pipeline", "", ["metrics", "show", "--md"]),
    ("pipeline.metrics-diff.json", "pipeline", "", ["metrics", "diff", "--json", "HEAD~1"]),
    ("pipeline.metrics-diff.txt", "pipeline", "", ["metrics", "diff", "HEAD~1"]),
    ("pipeline.metrics-diff.precision3.md", "pipeline", "", ["metrics", "diff", "--md", "--precision", "3", "HEAD~1"]),
    ("pipeline2.metrics-show.json", "pipeline2", "", ["metrics", "show", "--json"]),
    ("pipeline2.metrics-show.txt", "pipeline2", "", ["metrics", "show"]),
    ("pipeline2.metrics-show.md", "pipeline2", "", ["metrics", "show", "--md"]),
    ("pipeline2.metrics-diff.json", "pipeline2", "", ["metrics", "diff", "--json", "HEAD~1"]),
    ("pipeline2.metrics-diff.precision3.md", "pipeline2", "", ["metrics", "diff", "--md", "--precision", "3", "HEAD~1"]),
    ("experiments.metrics-show.json", "experiments", "", ["metrics", "show", "--json"]),
]


def recorded_test(name, fixture, setup, args, normalize=lambda text: text):
    """A test running `dvx <args>` on a fixture (after `setup`) against DVC's recorded output:
    JSON as objects, text after `normalize`."""
    def test(self):
        self.extract_fixture(fixture)
        if setup:
            self.sh(setup)
        code, out, err = self.run(*args)
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        expected = dvxtest.output_text(name)
        if name.endswith(".json"):
            self.assertEqual(json.loads(out), json.loads(expected))
        else:
            self.assertEqual(normalize(out), normalize(expected))
            self.assertEqual(len(out), len(expected))
    test.__doc__ = f"{name}: dvc {' '.join(args)}"
    return test


class TestRecordedMetrics(dvxtest.DvxTestCase):
    pass


for _row in RECORDED:
    setattr(TestRecordedMetrics, "test_" + _row[0].replace(".", "_").replace("-", "_"), recorded_test(*_row))


METRICS_JSON = ('{"acc": 0.123456789, "loss": {"train": 0.1, "val": 12345.678912}, "auc": 1, '
                '"flag": true, "label": "abc", "big": 123456789.123}')


class MetricsRepoCase(dvxtest.DvxTestCase):
    def setup_repo(self):
        self.make_repo()
        self.write("dvc.yaml", "metrics:\n- metrics.json\n- eval/m.yaml\n")
        self.write("metrics.json", METRICS_JSON)
        self.write("eval/m.yaml", "score: 0.5\nlst: [1, 2]\nnone: null\nnested: {deep: {x: 3}}\n")
        self.commit_all("metrics")


class TestMetricsShow(MetricsRepoCase):
    def test_table_and_precision_match_spec(self):
        self.setup_repo()
        self.assertEqual(self.dvx("metrics", "show"),
                         "Path          acc      auc    big            flag    label    loss.train    "
                         "loss.val     nested.deep.x    score\n"
                         "metrics.json  0.12346  1      123456789.123  True    abc      0.1           "
                         "12345.67891  -                -\n"
                         "eval/m.yaml   -        -      -              -       -        -             "
                         "-            3                0.5\n")
        out = self.dvx("metrics", "show", "--precision", "2")
        self.assertIn("metrics.json  0.12   1      123456789.12  True    abc      0.1           12345.68", out)
        self.assertEqual(self.json_out("metrics", "show", "--json"), {"": {"data": {
            "metrics.json": {"data": json.loads(METRICS_JSON)},
            "eval/m.yaml": {"data": {"score": 0.5, "nested": {"deep": {"x": 3}}}}}}})

    def test_all_branches_hides_unchanged_workspace(self):
        self.setup_repo()
        self.assertEqual(list(self.json_out("metrics", "show", "-a", "--json")), ["main"])
        self.git("tag", "v1")
        self.assertEqual(list(self.json_out("metrics", "show", "-a", "-T", "--json")), ["workspace", "main,v1"])
        self.write("metrics.json", '{"acc": 0.9, "new": 7}')
        out = self.json_out("metrics", "show", "-a", "--json")
        self.assertEqual(list(out), ["workspace", "main"])
        self.assertEqual(out["workspace"]["data"]["metrics.json"]["data"], {"acc": 0.9, "new": 7})
        table = self.dvx("metrics", "show", "-a")
        self.assertTrue(table.startswith("Revision    Path          acc      auc    big"), table)
        self.assertIn("\nworkspace   metrics.json  0.9      -", table)

    def test_all_commits_names_revisions_by_sha(self):
        self.setup_repo()
        first = self.git("rev-parse", "HEAD").strip()
        self.write("metrics.json", '{"acc": 0.5}')
        self.commit_all("second")
        second = self.git("rev-parse", "HEAD").strip()
        init = self.git("rev-parse", "HEAD~2").strip()
        out = self.json_out("metrics", "show", "-A", "--json")
        # newest first; commits made within one second may come in either order
        self.assertEqual(list(out)[0], "workspace")
        self.assertEqual(sorted(list(out)[1:]), sorted([second, first, init]))
        self.assertEqual(out[first]["data"]["metrics.json"]["data"]["acc"], 0.123456789)
        self.assertEqual(out[second]["data"]["metrics.json"]["data"], {"acc": 0.5})
        # the first commit has no dvc.yaml: no metrics
        self.assertEqual(out[init], {"data": {}})

    def test_targets_and_missing_and_invalid_files(self):
        self.setup_repo()
        self.write("bad.json", '{"a": ')
        code, out, err = self.run("metrics", "show", "--json", "bad.json", "nope.json", "eval/m.yaml")
        self.assertEqual(code, 0)
        self.assertEqual(err, "DVC failed to load some metrics for following revisions: ''.\n")
        depth = self.repo.count("/")
        self.assertEqual(json.loads(out), {"": {"data": {
            "bad.json": {"error": {"type": "JSONFileCorruptedError",
                                   "msg": "unable to read: '" + "../" * depth + "bad.json', "
                                          "JSON file structure is corrupted"}},
            "nope.json": {"error": {"type": "FileNotFoundError",
                                    "msg": "[Errno 2] No such file or directory: 'nope.json'"}},
            "eval/m.yaml": {"data": {"score": 0.5, "nested": {"deep": {"x": 3}}}}}}})
        code, out, err = self.run("metrics", "show", "nope.json", "eval/m.yaml")
        self.assertEqual(out, "Path         nested.deep.x    score\nnope.json    -                -\n"
                              "eval/m.yaml  3                0.5\n")

    def test_directory_target_is_expanded(self):
        self.setup_repo()
        self.write("sub/a.json", '{"z": 2}')
        self.write("sub/b.yaml", "q: 3\n")
        out = self.json_out("metrics", "show", "--json", "sub")
        self.assertEqual(out, {"": {"data": {"sub/a.json": {"data": {"z": 2}}, "sub/b.yaml": {"data": {"q": 3}}}}})

    def test_paths_relative_to_cwd(self):
        self.setup_repo()
        out = self.json_out("metrics", "show", "--json", cwd=self.p("eval"))
        self.assertEqual(list(out[""]["data"]), ["../metrics.json", "m.yaml"])

    def test_no_metrics(self):
        self.make_repo()
        self.assertEqual(self.json_out("metrics", "show", "--json"), {"": {"data": {}}})
        self.assertEqual(self.dvx("metrics", "show"), "")
        self.assertEqual(self.dvx("metrics", "show", "--md"), "| Path   |\n|--------|\n\n")

    def test_unknown_revision(self):
        self.setup_repo()
        code, out, err = self.run("metrics", "diff", "nosuch")
        self.assertEqual(code, 255)
        self.assertEqual(err, "ERROR: unknown Git revision 'nosuch'\n")

    def test_not_a_repo(self):
        os.makedirs(self.repo)
        code, _, err = self.run("metrics", "show")
        self.assertEqual(code, 253)


class TestMetricsDiff(MetricsRepoCase):
    def test_diff_against_head(self):
        self.setup_repo()
        self.write("metrics.json", '{"acc": 0.9, "loss": {"train": 0.05, "val": 12345.678912}, "auc": 1, '
                                   '"flag": false, "label": "xyz", "big": 123456789.123, "new": 7}')
        self.assertEqual(self.dvx("metrics", "diff"),
                         "Path          Metric      HEAD     workspace    Change\n"
                         "metrics.json  acc         0.12346  0.9          0.77654\n"
                         "metrics.json  flag        True     False        -1\n"
                         "metrics.json  label       abc      xyz          -\n"
                         "metrics.json  loss.train  0.1      0.05         -0.05\n"
                         "metrics.json  new         -        7            -\n")
        self.assertEqual(self.json_out("metrics", "diff", "--json"), {"metrics.json": {
            "acc": {"old": 0.123456789, "new": 0.9, "diff": 0.9 - 0.123456789},
            "flag": {"old": True, "new": False, "diff": -1},
            "label": {"old": "abc", "new": "xyz"},
            "loss.train": {"old": 0.1, "new": 0.05, "diff": 0.05 - 0.1},
            "new": {"old": None, "new": 7}}})
        out = self.dvx("metrics", "diff", "--md", "--no-path")
        self.assertTrue(out.startswith("| Metric     | HEAD    | workspace   | Change   |\n"), out)
        self.assertTrue(out.endswith("|\n\n"))
        everything = self.json_out("metrics", "diff", "--all", "--json")
        self.assertEqual(everything["eval/m.yaml"]["score"], {"old": 0.5, "new": 0.5, "diff": 0.0})
        self.assertEqual(everything["metrics.json"]["auc"], {"old": 1, "new": 1, "diff": 0})

    def test_no_changes(self):
        self.setup_repo()
        self.assertEqual(self.dvx("metrics", "diff"), "")
        self.assertEqual(self.json_out("metrics", "diff", "--json"), {})
        self.assertEqual(self.dvx("metrics", "diff", "--md"),
                         "| Path   | Metric   | HEAD   | workspace   | Change   |\n"
                         "|--------|----------|--------|-------------|----------|\n\n")

    def test_two_commits_and_targets(self):
        self.setup_repo()
        self.write("metrics.json", '{"acc": 0.5}')
        self.write("eval/m.yaml", "score: 0.75\nnested: {deep: {x: 3}}\n")
        self.commit_all("second")
        out = self.json_out("metrics", "diff", "HEAD~1", "HEAD", "--targets", "eval/m.yaml", "--json")
        self.assertEqual(out, {"eval/m.yaml": {"score": {"old": 0.5, "new": 0.75, "diff": 0.25}}})
        out = self.dvx("metrics", "diff", "HEAD~1", "HEAD", "--targets", "eval/m.yaml", "--no-path")
        self.assertEqual(out, "Metric    HEAD~1    HEAD    Change\nscore     0.5       0.75    0.25\n")

    def test_repository_without_commits(self):
        self.make_repo(commit=False)
        self.write("dvc.yaml", "metrics:\n- m.json\n")
        self.write("m.json", '{"a": 1}')
        self.assertEqual(self.json_out("metrics", "diff", "--json"), {})


class TestCachedMetrics(dvxtest.DvxTestCase):
    """A metrics file that is a cached stage output: at an old revision it is only in the cache."""

    def commit_metrics(self, content, msg):
        oid = self.put_object(content)
        self.write("dvc.lock", "schema: '2.0'\nstages:\n  train:\n    cmd: echo\n    outs:\n"
                               f"    - path: m.json\n      hash: md5\n      md5: {oid}\n      size: {len(content)}\n")
        self.write("m.json", content)
        self.commit_all(msg)
        return oid

    def setup_repo(self):
        self.make_repo()
        self.write("dvc.yaml", "stages:\n  train:\n    cmd: echo\n    metrics:\n    - m.json\n")
        self.write(".gitignore", "/m.json\n")
        first = self.commit_metrics('{"acc": 0.5}', "first")
        self.commit_metrics('{"acc": 0.75}', "second")
        return first

    def test_old_revision_read_from_cache(self):
        self.setup_repo()
        self.assertNotIn("m.json", self.git("ls-files"))
        out = self.json_out("metrics", "diff", "HEAD~1", "--json")
        self.assertEqual(out, {"m.json": {"acc": {"old": 0.5, "new": 0.75, "diff": 0.25}}})
        # the workspace copy gone: read from the cache too
        os.remove(self.p("m.json"))
        self.assertEqual(self.json_out("metrics", "show", "--json"), {"": {"data": {"m.json": {"data": {"acc": 0.75}}}}})

    def test_missing_from_cache_is_fetched_from_default_remote(self):
        first = self.setup_repo()
        remote = os.path.join(self.tmp, "remote")
        self.write(".dvc/config", f"[core]\n    remote = store\n['remote \"store\"']\n    url = {remote}\n")
        os.makedirs(os.path.join(remote, "files", "md5", first[:2]))
        shutil.copy(self.cache_path(first), os.path.join(remote, "files", "md5", first[:2], first[2:]))
        os.chmod(self.cache_path(first), 0o644)
        os.remove(self.cache_path(first))
        out = self.json_out("metrics", "show", "-A", "--json")
        old = self.git("rev-parse", "HEAD~1").strip()
        self.assertEqual(out[old]["data"]["m.json"], {"data": {"acc": 0.5}})
        self.assertTrue(os.path.exists(self.cache_path(first)))

    def test_missing_everywhere(self):
        first = self.setup_repo()
        os.chmod(self.cache_path(first), 0o644)
        os.remove(self.cache_path(first))
        code, out, err = self.run("metrics", "show", "-A", "--json")
        self.assertEqual(code, 0)
        old = self.git("rev-parse", "HEAD~1").strip()
        self.assertEqual(json.loads(out)[old]["data"]["m.json"], {"error": {
            "type": "FileNotFoundError", "msg": "[Errno 2] No storage files available: 'm.json'"}})
        self.assertIn(f"DVC failed to load some metrics for following revisions: '{old}'.", err)


if __name__ == "__main__":
    import unittest
    unittest.main()
