"""The usual CI retraining job, unchanged, on dvx installed under the name `dvc` (issue 11).

The runner's steps as a CI script writes them: `dvc pull`, `dvc repro`, `dvc metrics show --json`,
`dvc metrics diff main --md`, `dvc push`, on a fresh clone of a small project whose data and model
live in a local remote. dvx is installed into a temp prefix the way `./dev install --dvc-alias`
lays it out (`bin/dvx` and the symlink `bin/dvc -> dvx`), and every step is run as `dvc` found on
PATH, so the job's script needs no change.
"""

import json
import os
import shutil
import subprocess
import unittest

import dvxtest

TRAIN = """\
import json
lr = float(open("params.yaml").read().split("lr:")[1].split()[0])
rows = open("data/train.csv").read().splitlines()[1:]
acc = round(0.5 + lr * len(rows) / 100.0, 4)
open("model.bin", "w").write(f"model lr={lr} rows={len(rows)}\\n")
json.dump({"accuracy": acc, "rows": len(rows)}, open("metrics.json", "w"))
"""

DVC_YAML = """\
stages:
  train:
    cmd: python3 train.py
    deps:
    - train.py
    - data/train.csv
    params:
    - train.lr
    outs:
    - model.bin
    metrics:
    - metrics.json:
        cache: false
"""


class TestCiRetrainingJob(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        if dvxtest.is_real_dvc():
            self.skipTest("installs the dvx binary under the name dvc")
        prefix = os.path.join(self.tmp, "prefix", "bin")
        os.makedirs(prefix)
        shutil.copy2(dvxtest.DVX_BIN, os.path.join(prefix, "dvx"))
        os.symlink("dvx", os.path.join(prefix, "dvc"))
        self.env["PATH"] = prefix + os.pathsep + self.env.get("PATH", "")
        self.prefix = prefix

    def step(self, *args, cwd):
        """One line of the CI script: `dvc <args>` found on PATH; returns (code, out, err)."""
        proc = subprocess.run(["dvc", *args], cwd=cwd, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=120)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    def must(self, *args, cwd):
        code, out, err = self.step(*args, cwd=cwd)
        self.assertEqual(code, 0, f"dvc {' '.join(args)} exited {code}\n{out}\n{err}")
        return out

    def test_pull_repro_report_push(self):
        # The resolved binary really is ours, under its CI name.
        which = shutil.which("dvc", path=self.env["PATH"])
        self.assertEqual(os.path.realpath(which), os.path.realpath(os.path.join(self.prefix, "dvx")))

        origin = os.path.join(self.tmp, "origin.git")
        remote = os.path.join(self.tmp, "storage")
        self.git("init", "-q", "--bare", origin, cwd=self.tmp)
        # The team's project, on main: data tracked by DVC, a train stage, a local remote.
        self.make_repo()
        proj = self.repo
        self.must("remote", "add", "-d", "storage", remote, cwd=proj)
        os.makedirs(os.path.join(proj, "data"))
        self.write(os.path.join(proj, "data", "train.csv"),
                   "x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
        self.write(os.path.join(proj, "params.yaml"), "train:\n  lr: 0.1\n")
        self.write(os.path.join(proj, "train.py"), TRAIN)
        self.write(os.path.join(proj, "dvc.yaml"), DVC_YAML)
        self.must("add", "data/train.csv", cwd=proj)
        self.must("repro", cwd=proj)
        self.must("push", cwd=proj)
        self.git("add", "-A", cwd=proj)
        self.git("commit", "-qm", "baseline", cwd=proj)
        self.git("remote", "add", "origin", origin, cwd=proj)
        self.git("push", "-q", "origin", "main", cwd=proj)
        with open(os.path.join(proj, "metrics.json")) as f:
            base = json.load(f)

        # A pull request changes the learning rate; the CI runner starts from a fresh clone.
        self.git("checkout", "-q", "-b", "lr-change", cwd=proj)
        self.write(os.path.join(proj, "params.yaml"), "train:\n  lr: 0.3\n")
        self.git("commit", "-qam", "lr 0.3", cwd=proj)
        self.git("push", "-q", "origin", "lr-change", cwd=proj)
        runner = os.path.join(self.tmp, "runner")
        self.git("clone", "-q", "-b", "lr-change", origin, runner, cwd=self.tmp)
        self.git("fetch", "-q", "origin", "main:main", cwd=runner)
        self.assertFalse(os.path.exists(os.path.join(runner, "data", "train.csv")))

        # --- the job's script ---
        self.must("pull", cwd=runner)
        self.assertTrue(os.path.exists(os.path.join(runner, "data", "train.csv")))
        out = self.must("repro", cwd=runner)
        self.assertIn("Running stage 'train'", out)
        shown = json.loads(self.must("metrics", "show", "--json", cwd=runner))
        acc = shown[""]["data"]["metrics.json"]["data"]["accuracy"]
        self.assertNotEqual(acc, base["accuracy"])
        report = self.must("metrics", "diff", "main", "--md", cwd=runner)
        self.assertIn("| Path", report)
        self.assertIn("metrics.json", report)
        self.assertIn("accuracy", report)
        self.assertIn(str(base["accuracy"]), report)
        self.assertIn(str(acc), report)
        self.assertNotIn("rows", report)  # unchanged metrics are not in the report
        self.must("push", cwd=runner)
        # --- end of the job ---

        # The retrained model is on the remote: a clone elsewhere gets it by `pull`.
        with open(os.path.join(runner, "dvc.lock")) as f:
            lock = f.read()
        later = os.path.join(self.tmp, "later")
        shutil.copytree(runner, later, ignore=shutil.ignore_patterns("cache"))
        shutil.rmtree(os.path.join(later, ".dvc", "cache"), ignore_errors=True)
        os.remove(os.path.join(later, "model.bin"))
        self.must("pull", cwd=later)
        with open(os.path.join(later, "model.bin")) as f:
            self.assertEqual(f.read(), "model lr=0.3 rows=40\n")
        self.assertIn("model.bin", lock)


if __name__ == "__main__":
    unittest.main()
