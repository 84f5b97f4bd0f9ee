"""`exp show`, `exp diff`, `exp list` (cli.md §6.5, §6.8; formats.md §12; behaviour.md §14): the
outputs DVC 3.64 recorded on the experiments fixture (two experiments made by `dvc exp run`),
then repositories whose experiment refs are made by hand with git (a commit whose parent is the
baseline, `git update-ref refs/exps/<b[:2]>/<b[2:]>/<name>`): sorting, --only-changed, -n, --rev,
several baselines, a missing metrics file, refs DVC skips.

JSON is compared as parsed data. Fields that depend on time: `data.timestamp` (commit times as
local naive times: the harness sets TZ=UTC, as when the fixture was recorded) and the table's
`Created` column (`%I:%M %p` for a commit made today, else `%b %d, %Y`): the recorded tables are
compared only when today is neither 2024-01-02 nor 2026-11-27 (the fixture's commit dates); the
tests on new repositories give their commits fixed old dates. `exp diff --json` orders files by
Python set iteration: parsed comparison ignores it.
"""

import datetime
import json
import os

import dvxtest

FIXTURE_DATES = {"2024-01-02", "2026-11-27"}

# (recorded output, dvx arguments, extra environment)
RECORDED = [
    ("experiments.exp-show.json", ["exp", "show", "--json"], {}),
    ("experiments.exp-show.csv", ["exp", "show", "--csv"], {}),
    ("experiments.exp-show.md", ["exp", "show", "--md"], {}),
    ("experiments.exp-show.txt", ["exp", "show", "--no-pager"], {"COLUMNS": "160"}),
    ("experiments.exp-diff.txt", ["exp", "diff", "exp-a", "exp-b"], {}),
    ("experiments.exp-diff.json", ["exp", "diff", "--json", "exp-a", "exp-b"], {}),
    ("experiments.exp-diff.all.json", ["exp", "diff", "--all", "--json", "exp-a", "exp-b"], {}),
    ("experiments.exp-list.txt", ["exp", "list"], {}),
    ("experiments.exp-list.name-only.txt", ["exp", "list", "--name-only"], {}),
]


NARROW_72 = """\
 ───────────────────────────────────────────────────────── 
  Experiment            C…   epochs   …   p…   …   d…   …  
 ───────────────────────────────────────────────────────── 
  workspace             -         5   …   0…   …   2…   …  
  main                  J…        5   …   0…   …   2…   …  
                        0…                                 
                        2…                                 
  ├── 3184f17 [exp-b]   N…        5   …   0…   …   2…   …  
                        2…                                 
                        2…                                 
  └── 9c6ed4b [exp-a]   N…        5   …   0…   …   2…   …  
                        2…                                 
                        2…                                 
 ───────────────────────────────────────────────────────── 
"""

NARROW_50 = """\
 ─────────────────────────────────── 
  Experiment       e…   …    …    …  
 ─────────────────────────────────── 
  workspace         5   …    …    …  
  main              5   …    …    …  
  ├── 3184f17 …     5   …    …    …  
  └── 9c6ed4b …     5   …    …    …  
 ─────────────────────────────────── 
"""


def recorded_test(name, args, env):
    def test(self):
        if name.endswith((".txt", ".md")) and "show" in args and \
                datetime.date.today().isoformat() in FIXTURE_DATES:
            self.skipTest("the Created column shows times on the day a commit was made")
        self.extract_fixture("experiments")
        code, out, err = self.run(*args, env=env)
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        expected = dvxtest.output_text(name)
        if name.endswith(".json"):
            self.assertEqual(json.loads(out), json.loads(expected))
        else:
            self.assertEqual(out, expected)
    test.__doc__ = f"{name}: dvc {' '.join(args)}"
    return test


class TestRecordedExperiments(dvxtest.DvxTestCase):
    def test_json_is_one_line_in_dvc_key_order(self):
        """The JSON text itself (keys in DVC's dataclass order, json.dumps separators)."""
        self.extract_fixture("experiments")
        out = self.dvx("exp", "show", "--json")
        self.assertEqual(out, dvxtest.output_text("experiments.exp-show.json"))

    def test_natural_width_table(self):
        """Without --no-pager (stdout not a terminal) the table is laid out at natural width: every
        column, lines of equal length starting with two spaces, metrics right-aligned."""
        self.extract_fixture("experiments")
        out = self.dvx("exp", "show")
        lines = out.splitlines()
        self.assertEqual(len(lines), 8)
        self.assertEqual(len({len(l) for l in lines}), 1)
        self.assertTrue(lines[0].startswith(" ─") and lines[0].endswith("─ "))
        header = lines[1].split()
        self.assertEqual(header[:4], ["Experiment", "Created", "epochs", "test.accuracy"])
        self.assertIn("src/train.py", header)
        self.assertIn("train.optimizer.nesterov", header)
        self.assertNotIn("…", out)
        self.assertTrue(lines[3].startswith("  workspace "))
        self.assertIn("├── 3184f17 [exp-b]", lines[5])
        self.assertIn("└── 9c6ed4b [exp-a]", lines[6])
        # metric columns right-aligned: "epochs" over "5"
        col = lines[1].index("epochs") + len("epochs") - 1
        self.assertEqual(lines[3][col], "5")

    def test_narrow_consoles(self):
        """`--no-pager` in 72 and 50 columns (recorded with dvc-real): rich's shrinking of the
        wrappable columns (Created wraps onto three lines), collapsed runs as one "…" column,
        a column squeezed to nothing, cells cut with "…"."""
        if datetime.date.today().isoformat() in FIXTURE_DATES:
            self.skipTest("the Created column shows times on the day a commit was made")
        self.extract_fixture("experiments")
        for cols, expected in (("72", NARROW_72), ("50", NARROW_50)):
            self.assertEqual(self.dvx("exp", "show", "--no-pager", env={"COLUMNS": cols}), expected, cols)

    def test_diff_defaults_to_head_and_workspace(self):
        """`exp diff` without revisions: HEAD against the workspace (exp-b's results applied)."""
        self.extract_fixture("experiments")
        out = self.json_out("exp", "diff", "--json")
        self.assertEqual(out["params"], {"params.yaml": {"train.lr": {"old": 0.05, "new": 0.2, "diff": 0.15000000000000002}}})
        self.assertEqual(set(out["metrics"]["metrics.json"]), {"test.accuracy", "test.loss", "train.accuracy", "train.loss"})
        text = self.dvx("exp", "diff", "--no-path", "--precision", "2")
        self.assertEqual(text.split("\n\n")[1], "Param     HEAD    workspace    Change\ntrain.lr  0.05    0.2          0.15000000000000002\n")
        self.assertIn("\ntest.accuracy   0.8     0.6          -0.2\n", text)

    def test_diff_md(self):
        self.extract_fixture("experiments")
        out = self.dvx("exp", "diff", "--md", "exp-a", "exp-b")
        self.assertEqual(out.split("\n\n\n")[1],
                         "| Path        | Param    | exp-a   | exp-b   | Change   |\n"
                         "|-------------|----------|---------|---------|----------|\n"
                         "| params.yaml | train.lr | 0.1     | 0.2     | 0.1      |\n\n")

    def test_quiet(self):
        """-q silences the JSON, CSV, table and list, but not the Markdown table nor `exp diff`'s
        tables (DVC writes those with force=True)."""
        self.extract_fixture("experiments")
        for args in (["exp", "show", "--json"], ["exp", "show", "--csv"], ["exp", "show"], ["exp", "list"],
                     ["exp", "diff", "--json", "exp-a", "exp-b"]):
            self.assertEqual(self.dvx(*args, "-q"), "", args)
        self.assertEqual(self.dvx("exp", "diff", "-q", "exp-a", "exp-b"), dvxtest.output_text("experiments.exp-diff.txt"))
        self.assertTrue(self.dvx("exp", "show", "-q", "--md").startswith("| Experiment "))

    def test_unknown_revision(self):
        self.extract_fixture("experiments")
        code, out, err = self.run("exp", "show", "--rev", "nope")
        self.assertEqual((code, out), (1, ""))
        self.assertEqual(err, "ERROR: failed to show experiments - unknown Git revision 'nope'\n")
        code, out, err = self.run("exp", "diff", "nope")
        self.assertEqual((code, err), (1, "ERROR: failed to show experiments diff - unknown Git revision 'nope'\n"))
        code, out, err = self.run("exp", "list", "--rev", "nope")
        self.assertEqual((code, err), (255, "ERROR: unknown Git revision 'nope'\n"))
        code, out, err = self.run("exp", "show", "--sort-by", "nope")
        self.assertEqual((code, err), (255, "ERROR: Unknown sort column 'nope'\n"))

    def test_list_sha_only_and_ls(self):
        self.extract_fixture("experiments")
        self.assertEqual(self.dvx("exp", "list", "--sha-only"),
                         "9c6ed4b7d8e8c7a1e2475167966ff9be39d99883\n3184f17d49806adcd9417bdaebbb94858a326270\n")
        self.assertEqual(self.dvx("exp", "ls"), dvxtest.output_text("experiments.exp-list.txt"))
        self.assertEqual(self.dvx("exp", "list", "--rev", "HEAD~1"), "")
        # -A: DVC lists the refs in libgit2's iteration order (file system order of loose refs)
        self.assertEqual(sorted(self.dvx("exp", "list", "-A").splitlines()),
                         sorted(dvxtest.output_text("experiments.exp-list.txt").splitlines()))


for _row in RECORDED:
    setattr(TestRecordedExperiments, "test_" + _row[0].replace(".", "_").replace("-", "_"), recorded_test(*_row))


DVC_YAML = """stages:
  train:
    cmd: python train.py
    deps:
    - train.py
    params:
    - lr
    - epochs
    outs:
    - model.bin
    metrics:
    - metrics.json:
        cache: false
"""

BASE_DATE = 1700000000  # 2023-11-14


class TestHandMadeExperiments(dvxtest.DvxTestCase):
    """Experiments made with git alone: each is one commit on top of its baseline."""

    def setUp(self):
        super().setUp()
        self.make_repo(commit=False)
        self.clock = BASE_DATE
        self.baseline = self.commit_state(lr=0.1, acc=0.5, msg="baseline")

    def date_env(self):
        self.clock += 60
        return {"GIT_AUTHOR_DATE": f"{self.clock} +0000", "GIT_COMMITTER_DATE": f"{self.clock} +0000"}

    def write_state(self, lr, acc, loss=0.25, epochs=10, metrics=True):
        self.write("params.yaml", f"lr: {lr}\nepochs: {epochs}\n")
        self.write("train.py", "print('train')\n")
        self.write("dvc.yaml", DVC_YAML)
        if metrics:
            self.write("metrics.json", json.dumps({"acc": acc, "loss": loss}))
        elif os.path.exists(self.p("metrics.json")):
            os.remove(self.p("metrics.json"))

    def commit_state(self, msg, **kw):
        self.write_state(**kw)
        self.git("add", "-A")
        env = dict(self.env, **self.date_env())
        import subprocess
        subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", msg], cwd=self.repo, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        return self.git("rev-parse", "HEAD").strip()

    def make_exp(self, name, baseline=None, **kw):
        """An experiment commit (parent: the baseline) holding the given state, its ref, and the
        workspace put back as it was."""
        import subprocess
        baseline = baseline or self.git("rev-parse", "HEAD").strip()
        self.write_state(**kw)
        self.git("add", "-A")
        tree = self.git("write-tree").strip()
        env = dict(self.env, **self.date_env())
        commit = subprocess.run(["git", "commit-tree", tree, "-p", baseline, "-m", f"dvc: commit experiment {name}"],
                                cwd=self.repo, env=env, check=True, stdout=subprocess.PIPE).stdout.decode().strip()
        self.git("update-ref", f"refs/exps/{baseline[:2]}/{baseline[2:]}/{name}", commit)
        self.git("reset", "-q", "--hard", "HEAD")
        self.git("clean", "-qfd")
        return commit

    def rows(self, *args):
        """CSV rows of `exp show --csv` as dicts."""
        import csv
        import io
        out = self.dvx("exp", "show", "--csv", *args)
        return list(csv.DictReader(io.StringIO(out)))

    def test_experiments_newest_first_with_json_shape(self):
        a = self.make_exp("exp-a", lr=0.2, acc=0.6)
        b = self.make_exp("exp-b", lr=0.3, acc=0.7)
        data = self.json_out("exp", "show", "--json")
        self.assertEqual([r["rev"] for r in data], ["workspace", self.baseline])
        self.assertEqual(data[1]["name"], "main")
        exps = data[1]["experiments"]
        self.assertEqual([e["name"] for e in exps], ["exp-b", "exp-a"])
        self.assertEqual([e["revs"][0]["rev"] for e in exps], [b, a])
        rec = exps[1]["revs"][0]
        self.assertEqual(rec["name"], "exp-a")
        self.assertEqual(rec["data"]["params"], {"params.yaml": {"data": {"lr": 0.2, "epochs": 10}}})
        self.assertEqual(rec["data"]["metrics"], {"metrics.json": {"data": {"acc": 0.6, "loss": 0.25}}})
        self.assertEqual(rec["data"]["timestamp"], "2023-11-14T22:15:20")
        self.assertEqual(rec["data"]["deps"], {"train.py": {"hash": None, "size": None, "nfiles": None}})
        self.assertEqual(rec["data"]["outs"], {"model.bin": {"hash": None, "size": None, "nfiles": None,
                                                              "use_cache": True, "is_data_source": False}})
        self.assertIsNone(rec["experiments"])
        self.assertIsNone(exps[0]["executor"])
        self.assertEqual(data[0]["data"]["timestamp"], None)
        self.assertEqual(data[0]["experiments"], None)
        rows = self.rows()
        self.assertEqual([(r["Experiment"], r["rev"], r["typ"]) for r in rows],
                         [("", "workspace", "baseline"), ("", "main", "baseline"),
                          ("exp-b", b[:7], "branch_commit"), ("exp-a", a[:7], "branch_base")])
        self.assertEqual(rows[2]["Created"], "2023-11-14T22:16:20")

    def test_sort_by(self):
        self.make_exp("low", lr=0.2, acc=0.9)
        self.make_exp("high", lr=0.5, acc=0.1)
        self.make_exp("mid", lr=0.3, acc=0.5)
        names = lambda rows: [r["Experiment"] for r in rows if r["Experiment"]]
        self.assertEqual(names(self.rows()), ["mid", "high", "low"])
        self.assertEqual(names(self.rows("--sort-by", "lr")), ["low", "mid", "high"])
        self.assertEqual(names(self.rows("--sort-by", "params.yaml:lr", "--sort-order", "desc")), ["high", "mid", "low"])
        self.assertEqual(names(self.rows("--sort-by", "metrics.json:acc")), ["high", "mid", "low"])
        typs = [r["typ"] for r in self.rows("--sort-by", "acc", "--sort-order", "desc")]
        self.assertEqual(typs, ["baseline", "baseline", "branch_commit", "branch_commit", "branch_base"])
        code, _, err = self.run("exp", "show", "--sort-by", "nope")
        self.assertEqual((code, err), (255, "ERROR: Unknown sort column 'nope'\n"))

    def test_only_changed_keep_drop(self):
        self.make_exp("e1", lr=0.2, acc=0.9)
        cols = lambda *a: self.dvx("exp", "show", "--csv", *a).splitlines()[0].split(",")
        full = cols()
        self.assertEqual(full, ["Experiment", "rev", "typ", "Created", "parent", "acc", "loss", "lr", "epochs", "train.py"])
        self.assertEqual(cols("--only-changed"), ["Experiment", "rev", "typ", "Created", "acc", "lr"])
        self.assertEqual(cols("--only-changed", "--keep", "epochs"), ["Experiment", "rev", "typ", "Created", "acc", "lr", "epochs"])
        self.assertEqual(cols("--drop", "l.*", "--drop", "train"), ["Experiment", "rev", "typ", "Created", "parent", "acc", "epochs"])
        md = self.dvx("exp", "show", "--md", "--only-changed").splitlines()[0]
        self.assertEqual(md.replace(" ", ""), "|Experiment|Created|acc|lr|")

    def test_num_rev_and_several_baselines(self):
        first = self.baseline
        self.make_exp("old-exp", lr=0.2, acc=0.6)
        second = self.commit_state(lr=0.15, acc=0.55, msg="second")
        self.make_exp("new-exp", lr=0.4, acc=0.8)
        shown = lambda *a: [(r["rev"], r["Experiment"]) for r in self.rows(*a)]
        self.assertEqual([e for _, e in shown()], ["", "", "new-exp"])
        rows = shown("-n", "2")
        self.assertEqual([r for r, _ in rows][:2], ["workspace", "main"])
        self.assertEqual(rows[2][1], "new-exp")
        self.assertEqual(rows[3], (first[:7], ""))
        self.assertEqual(rows[4][1], "old-exp")
        self.assertEqual(shown("-n", "-1"), rows)
        self.assertEqual([e for _, e in shown("--rev", "HEAD~1")], ["", "", "old-exp"])
        self.assertEqual(shown("--rev", "HEAD~1")[1][0], first[:7])
        self.assertEqual(shown("--rev", first, "--rev", second)[1:],
                         [(first[:7], ""), (rows[4][0], "old-exp"), ("main", ""), (rows[2][0], "new-exp")])
        self.assertEqual(shown("-a")[1:3], [("main", ""), (rows[2][0], "new-exp")])
        sha_rows = shown("--sha")
        self.assertEqual(sha_rows[1][0], second[:7])
        self.git("tag", "v1", first)
        self.assertEqual([r for r, _ in shown("-T")], ["workspace", "v1", rows[4][0]])
        self.assertEqual(self.dvx("exp", "list", "-n", "2", "--name-only"), "new-exp\nold-exp\n")
        listed = self.dvx("exp", "list", "-A")
        self.assertIn(listed, [f"v1:\n\t{rows[4][0]} [old-exp]\nmain:\n\t{rows[2][0]} [new-exp]\n",
                               f"main:\n\t{rows[2][0]} [new-exp]\nv1:\n\t{rows[4][0]} [old-exp]\n"])
        data = self.json_out("exp", "show", "--json", "-A")
        self.assertEqual([r["rev"] for r in data], ["workspace", second, first])
        self.assertEqual(self.json_out("exp", "show", "--json", "--hide-workspace", "-n", "0"), [])

    def test_missing_metrics_file(self):
        """An experiment without metrics.json: DVC's FileNotFoundError entry in --json, '!' in
        the table for the columns of that file."""
        self.make_exp("nometrics", lr=0.2, acc=0.6, metrics=False)
        data = self.json_out("exp", "show", "--json")
        rec = data[1]["experiments"][0]["revs"][0]
        self.assertEqual(rec["data"]["metrics"], {"metrics.json": {"error": {
            "type": "FileNotFoundError", "msg": "[Errno 2] No such file or directory: 'metrics.json'"}}})
        rows = self.rows()
        self.assertEqual((rows[2]["acc"], rows[2]["loss"], rows[2]["lr"]), ("!", "!", "0.2"))
        self.assertEqual((rows[1]["acc"], rows[1]["lr"]), ("0.5", "0.1"))

    def test_bad_refs_are_skipped(self):
        """Refs DVC skips: the queue stash and exec namespaces, names of the wrong shape, a ref
        that leads to no commit; an experiment whose commit does not descend from the baseline
        lists every commit down to the root."""
        good = self.make_exp("good", lr=0.2, acc=0.6)
        b = self.baseline
        prefix = f"refs/exps/{b[:2]}/{b[2:]}"
        blob = self.git("hash-object", "-w", "train.py").strip()
        self.git("update-ref", f"{prefix}/blobby", blob)
        self.git("update-ref", "refs/exps/stash", good)
        self.git("update-ref", "refs/exps/exec/EXEC_HEAD", good)
        self.assertEqual(self.dvx("exp", "list", "--name-only"), "blobby\ngood\n")
        self.assertEqual(self.dvx("exp", "list"), f"main:\n\t{blob[:7]} [blobby]\n\t{good[:7]} [good]\n")
        self.git("update-ref", "-d", f"{prefix}/blobby")
        if not dvxtest.is_real_dvc():
            # DVC fails on a ref to a blob ('Blob' object has no attribute 'commit_time'); dvx skips it
            self.git("update-ref", f"{prefix}/blobby", blob)
        self.git("update-ref", f"{prefix}/deep/er", good)
        data = self.json_out("exp", "show", "--json")
        self.assertEqual([e["name"] for e in data[1]["experiments"]], ["good"])
        # exp list refuses a ref name of the wrong shape
        code, out, err = self.run("exp", "list")
        self.assertEqual((code, err), (255, f"ERROR: '{prefix}/deep/er' is not a valid experiment refname.\n"))
        self.git("update-ref", "-d", f"{prefix}/deep/er")
        if not dvxtest.is_real_dvc():
            self.git("update-ref", "-d", f"{prefix}/blobby")
        # an experiment made of two commits above the baseline: both, newest first
        mid = self.make_exp("tmp", lr=0.3, acc=0.7)
        top = self.make_exp("tmp2", baseline=mid, lr=0.4, acc=0.8)
        self.git("update-ref", "-d", f"{prefix}/tmp")
        self.git("update-ref", "-d", f"refs/exps/{mid[:2]}/{mid[2:]}/tmp2")
        self.git("update-ref", f"{prefix}/stacked", top)
        data = self.json_out("exp", "show", "--json")
        names = [e["name"] for e in data[1]["experiments"]]
        self.assertEqual(names, ["stacked", "good"])
        revs = data[1]["experiments"][0]["revs"]
        self.assertEqual([r["rev"] for r in revs], [top, mid])
        self.assertEqual([r["name"] for r in revs], ["stacked", None])
        rows = self.rows()
        self.assertEqual([r["Experiment"] for r in rows], ["", "", "stacked", "good"])
        self.assertEqual(rows[2]["lr"], "0.4")

    def test_revisions_that_cannot_be_read(self):
        """An experiment whose dvc.yaml or params.yaml is broken: the record's `error` as DVC
        reports it, no data, empty cells."""
        b = self.baseline
        self.write("dvc.yaml", "stages: [\n")
        self.git("add", "-A")
        tree = self.git("write-tree").strip()
        bad = self.git("commit-tree", tree, "-p", b, "-m", "bad").strip()
        self.git("reset", "-q", "--hard", "HEAD")
        self.git("update-ref", f"refs/exps/{b[:2]}/{b[2:]}/bad-yaml", bad)
        self.write("dvc.yaml", DVC_YAML.replace("    cmd: python train.py\n", "    cmd: python train.py\n    foo: 1\n"))
        self.git("add", "-A")
        tree = self.git("write-tree").strip()
        schema = self.git("commit-tree", tree, "-p", b, "-m", "schema").strip()
        self.git("reset", "-q", "--hard", "HEAD")
        self.git("update-ref", f"refs/exps/{b[:2]}/{b[2:]}/bad-schema", schema)
        data = self.json_out("exp", "show", "--json")
        errors = {e["name"]: (e["revs"][0]["error"], e["revs"][0]["data"]) for e in data[1]["experiments"]}
        self.assertEqual(errors["bad-yaml"], ({"msg": "unable to read: 'dvc.yaml', YAML file structure is corrupted",
                                               "type": "YAMLSyntaxError"}, None))
        self.assertEqual(errors["bad-schema"], ({"msg": f"'./dvc.yaml' validation failed in revision '{schema[:7]}'",
                                                 "type": "YAMLValidationError"}, None))
        rows = {r["Experiment"]: r for r in self.rows()}
        self.assertEqual((rows["bad-yaml"]["Created"], rows["bad-yaml"]["lr"]), ("", ""))
        self.write("params.yaml", "lr: [\n")
        data = self.json_out("exp", "show", "--json")
        self.assertEqual(data[0]["error"], {"msg": "unable to read: 'params.yaml', YAML file structure is corrupted",
                                            "type": "YAMLFileCorruptedError"})

    def test_diff_of_experiment_names(self):
        self.make_exp("exp-one", lr=0.2, acc=0.6)
        self.make_exp("exp-two", lr=0.4, acc=0.6, loss=0.5)
        out = self.json_out("exp", "diff", "--json", "exp-one", "exp-two")
        self.assertEqual(out, {"metrics": {"metrics.json": {"loss": {"old": 0.25, "new": 0.5, "diff": 0.25}}},
                               "params": {"params.yaml": {"lr": {"old": 0.2, "new": 0.4, "diff": 0.2}}}})
        self.assertEqual(self.dvx("exp", "diff", "--no-path", "exp-one", "exp-two"),
                         "Metric    exp-one    exp-two    Change\nloss      0.25       0.5        0.25\n\n"
                         "Param    exp-one    exp-two    Change\nlr       0.2        0.4        0.2\n")
        # no difference: no tables, only the line between them
        self.assertEqual(self.dvx("exp", "diff", "exp-one", "exp-one"), "\n")
        self.assertEqual(self.dvx("exp", "diff", "--md", "exp-one", "exp-one"),
                         "| Path   | Metric   | exp-one   | exp-one   | Change   |\n"
                         "|--------|----------|-----------|-----------|----------|\n\n\n"
                         "| Path   | Param   | exp-one   | exp-one   | Change   |\n"
                         "|--------|---------|-----------|-----------|----------|\n\n")

    def test_table_cells(self):
        """Floats in lists print as strings in the table and --md ('0.12346'), raw in --csv."""
        self.write("params.yaml", "lr: 0.1\nepochs: 10\nlayers: [0.123456789, 2]\nname: big\n")
        self.commit_all("list param")
        md = self.dvx("exp", "show", "--md").splitlines()
        header = [c.strip() for c in md[0].strip("|").split("|")]
        cells = dict(zip(header, [c.strip() for c in md[2].strip("|").split("|")]))
        self.assertEqual(cells["layers"], "['0.12346', 2]")
        self.assertEqual(cells["name"], "big")
        self.assertEqual(self.rows()[0]["layers"], "[0.123456789, 2]")
        self.assertEqual(self.rows("--precision", "2")[0]["layers"], "['0.12', 2]")
        # --param-deps: only the params stages depend on, for the workspace and the experiments;
        # DVC reads the baselines without it
        rows = self.rows("--param-deps")
        self.assertEqual(list(rows[0]), ["Experiment", "rev", "typ", "Created", "parent", "acc", "loss", "lr", "epochs",
                                         "layers", "name", "train.py"])
        self.assertEqual([(r["lr"], r["layers"]) for r in rows], [("0.1", ""), ("0.1", "[0.123456789, 2]")])
        self.write("params.yaml", "lr: 0.1\nepochs: 10\nlayers: [0.123456789, 2]\nname: small\n")
        self.assertEqual(self.json_out("exp", "diff", "--json")["params"],
                         {"params.yaml": {"name": {"old": "big", "new": "small"}}})
        self.assertEqual(self.json_out("exp", "diff", "--json", "--param-deps"), {"metrics": {}, "params": {}})
        self.assertEqual(self.dvx("exp", "diff"), "\nPath         Param    HEAD    workspace    Change\n"
                                                  "params.yaml  name     big     small        diff not supported\n")

    def test_created_today_shows_the_time(self):
        """A commit made today: `%I:%M %p` in the table, the ISO time in --csv."""
        import re
        import subprocess
        self.write("params.yaml", "lr: 0.5\nepochs: 10\n")
        self.git("add", "-A")
        subprocess.run(["git", "commit", "-q", "-m", "today"], cwd=self.repo, env=self.env, check=True)
        md = self.dvx("exp", "show", "--md").splitlines()
        created = md[3].split("|")[2].strip()
        self.assertRegex(created, r"^(0[1-9]|1[0-2]):[0-5][0-9] (AM|PM)$")
        iso = self.rows()[1]["Created"]
        self.assertTrue(iso.startswith(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT")) or
                        re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", iso), iso)

    def test_no_commits(self):
        self.git("rm", "-rq", "--cached", ".")
        self.git("update-ref", "-d", "HEAD")
        self.assertEqual(self.json_out("exp", "show", "--json"), [])
        code, out, err = self.run("exp", "list")
        self.assertEqual((code, out, err), (255, "", "ERROR: unknown Git revision 'HEAD'\n"))


class TestWithoutGit(dvxtest.DvxTestCase):
    def test_no_scm_project(self):
        os.makedirs(self.repo)
        self.init_dvc_files(config=b"[core]\n    no_scm = True\n")
        msg = ("Only supported for Git repositories. If you're seeing this error in a Git repo, try updating "
               "the DVC configuration with `dvc config core.no_scm false`.\n")
        self.assertEqual(self.run("exp", "show")[::2], (1, "ERROR: failed to show experiments - " + msg))
        self.assertEqual(self.run("exp", "diff")[::2], (1, "ERROR: failed to show experiments diff - " + msg))
        self.assertEqual(self.run("exp", "list")[::2], (255, "ERROR: " + msg))


if __name__ == "__main__":
    dvxtest.main()
