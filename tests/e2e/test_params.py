"""`params diff` (cli.md §6.4, §6.8): the outputs recorded with DVC 3.64 on the pipeline, pipeline2
(YAML, JSON, TOML and Python params files) and experiments fixtures, revisions, `--deps`,
`--targets`, `--no-path`, missing and invalid params files. Checked with `dvc-real`.

DVC orders the files of a diff by Python set iteration (it varies between runs of DVC itself):
tables with several files are compared with their per-file row blocks sorted, JSON as objects.
"""

import json

import dvxtest
import test_metrics

RECORDED = [
    ("pipeline.params-diff.json", "pipeline", "", ["params", "diff", "--json", "HEAD~1"]),
    ("pipeline.params-diff.all.json", "pipeline", "", ["params", "diff", "--json", "--all", "HEAD~1"]),
    ("pipeline.params-diff.txt", "pipeline", "", ["params", "diff", "HEAD~1"]),
    ("pipeline.params-diff.md", "pipeline", "", ["params", "diff", "--md", "HEAD~1"]),
    ("pipeline.params-diff.all.md", "pipeline", "", ["params", "diff", "--all", "--md", "HEAD~1"]),
    ("pipeline.params-diff.param-changed.json", "pipeline",
     "sed -i 's/^    momentum: 0.9$/    momentum: 0.8/' params.yaml", ["params", "diff", "--json"]),
    ("pipeline2.params-diff.txt", "pipeline2", "", ["params", "diff", "HEAD~1"]),
    ("pipeline2.params-diff.all.md", "pipeline2", "", ["params", "diff", "--all", "--md", "HEAD~1"]),
    ("pipeline2.params-diff.all.json", "pipeline2", "", ["params", "diff", "--all", "--json", "HEAD~1"]),
    ("pipeline2.params-diff.py-param-changed.json", "pipeline2",
     "sed -i 's/^SEED = 7$/SEED = 8/' params.py", ["params", "diff", "--json"]),
    ("experiments.params-diff.json", "experiments", "", ["params", "diff", "--json"]),
]


def file_blocks(table):
    """A table's lines with the row blocks of each file sorted (the header lines stay first)."""
    lines = table.split("\n")
    head = 2 if table.startswith("|") else 1
    rows = [l for l in lines[head:] if l]
    blocks = {}
    for r in rows:
        key = r.split("|")[1].strip() if r.startswith("|") else r.split()[0]
        blocks.setdefault(key, []).append(r)
    return lines[:head] + [r for k in sorted(blocks) for r in blocks[k]] + [l for l in lines[head:] if not l]


class TestRecordedParams(dvxtest.DvxTestCase):
    pass


for _row in RECORDED:
    setattr(TestRecordedParams, "test_" + _row[0].replace(".", "_").replace("-", "_"), test_metrics.recorded_test(*_row, normalize=file_blocks))


class TestParamsDiff(dvxtest.DvxTestCase):
    def setup_repo(self):
        self.make_repo()
        self.write("params.yaml", "lr: 0.1\ntrain:\n  epochs: 10\n  layers: [1, 2]\nname: baseline\n")
        self.write("other.json", '{"a": 1, "b": {"c": 2}, "unused": 3}')
        self.write("dvc.yaml", "stages:\n  s:\n    cmd: echo\n    params:\n    - lr\n    - other.json:\n      - b.c\n")
        self.commit_all("params")

    def test_spec_example(self):
        self.setup_repo()
        self.write("params.yaml", "lr: 0.123456789\ntrain:\n  epochs: 12\n  layers: [1, 2, 3]\n  opt: adam\n"
                                  "name: exp one\n")
        self.assertEqual(self.dvx("params", "diff"),
                         "Path         Param         HEAD      workspace\n"
                         "params.yaml  lr            0.1       0.123456789\n"
                         "params.yaml  name          baseline  exp one\n"
                         "params.yaml  train.epochs  10        12\n"
                         "params.yaml  train.layers  [1, 2]    [1, 2, 3]\n"
                         "params.yaml  train.opt     -         adam\n")
        self.assertEqual(self.dvx("params", "diff", "--md", "--no-path"),
                         "| Param        | HEAD     | workspace   |\n"
                         "|--------------|----------|-------------|\n"
                         "| lr           | 0.1      | 0.123456789 |\n"
                         "| name         | baseline | exp one     |\n"
                         "| train.epochs | 10       | 12          |\n"
                         "| train.layers | [1, 2]   | [1, 2, 3]   |\n"
                         "| train.opt    | -        | adam        |\n\n")
        out = self.json_out("params", "diff", "--json")
        self.assertEqual(out["params.yaml"]["train.layers"], {"old": "[1, 2]", "new": "[1, 2, 3]"})
        self.assertEqual(out["params.yaml"]["train.opt"], {"old": None, "new": "adam"})

    def test_deps_only_and_tracked_keys(self):
        self.setup_repo()
        self.write("other.json", '{"a": 5, "b": {"c": 4}, "unused": 9}')
        self.write("params.yaml", "lr: 0.2\ntrain:\n  epochs: 11\n  layers: [1, 2]\nname: baseline\n")
        out = self.json_out("params", "diff", "--json")
        # other.json: only the tracked key; params.yaml: the whole file (the default params file)
        self.assertEqual(out["other.json"], {"b.c": {"old": 2, "new": 4, "diff": 2}})
        self.assertEqual(set(out["params.yaml"]), {"lr", "train.epochs"})
        deps = self.json_out("params", "diff", "--deps", "--json")
        self.assertEqual(deps, {"params.yaml": {"lr": {"old": 0.1, "new": 0.2, "diff": 0.1}},
                                "other.json": {"b.c": {"old": 2, "new": 4, "diff": 2}}})
        targets = self.json_out("params", "diff", "--targets", "other.json", "--json")
        self.assertEqual(targets, {"other.json": {"a": {"old": 1, "new": 5, "diff": 4},
                                                  "b.c": {"old": 2, "new": 4, "diff": 2},
                                                  "unused": {"old": 3, "new": 9, "diff": 6}}})

    def test_toml_and_python_files_between_commits(self):
        self.setup_repo()
        self.write("p.toml", "[data]\nrows = 12\nscale = 1.5\n")
        self.write("p.py", "SEED = 7\n\nclass Eval:\n    window = 3\n")
        self.write("dvc.yaml", "params:\n- p.toml\n- p.py\nstages:\n  s:\n    cmd: echo\n    params:\n    - lr\n")
        self.commit_all("more")
        self.write("p.toml", "[data]\nrows = 14\nscale = 1.5\n")
        self.write("p.py", "SEED = 8\n\nclass Eval:\n    window = 3\n")
        self.commit_all("changed")
        out = self.json_out("params", "diff", "HEAD~1", "HEAD", "--json")
        self.assertEqual(out, {"p.toml": {"data.rows": {"old": 12, "new": 14, "diff": 2}},
                               "p.py": {"SEED": {"old": 7, "new": 8, "diff": 1}}})
        self.assertEqual(self.json_out("params", "diff", "--json"), {})
        self.assertEqual(self.dvx("params", "diff"), "")

    def test_missing_and_invalid_params_files(self):
        self.setup_repo()
        self.write("params.yaml", "lr: [\n")
        code, out, err = self.run("params", "diff", "--json")
        self.assertEqual(code, 0)
        # the broken params.yaml is also dvc.yaml's interpolation context: the revision fails
        self.assertEqual(err, "WARNING: failed to load params in revision 'workspace', unable to read: "
                              "'params.yaml', YAML file structure is corrupted\n"
                              "DVC failed to load some metrics for following revisions: 'workspace'.\n")
        self.assertEqual(json.loads(out), {"other.json": {"b.c": {"old": 2, "new": None}}, "params.yaml": {
            "lr": {"old": 0.1, "new": None}, "name": {"old": "baseline", "new": None},
            "train.epochs": {"old": 10, "new": None}, "train.layers": {"old": "[1, 2]", "new": None}}})


if __name__ == "__main__":
    import unittest
    unittest.main()
