#!/usr/bin/env python3
"""Experiments that write: `exp run` in the workspace, `exp save`, `exp apply`, `exp branch`,
`exp remove`, `exp rename`, as DVC 3.64 makes them (refs/exps/<b[:2]>/<b[2:]>/<name>, a commit
whose parent is the baseline, HEAD and the work tree left as they are, the index reset to HEAD).
Checked with the git CLI; against real DVC (`dvc-real`) when it is installed: it must list and
show an experiment dvx made, and a run by both on identical repositories must commit the same tree.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import unittest

from dvxtest import DvxTestCase, is_real_dvc, md5_bytes

TRAIN_SH = (
    "lr=$(sed -n 's/^lr: //p' params.yaml)\n"
    "echo \"model lr=$lr\" > model.txt\n"
    "printf '{\"lr\": %s}' \"$lr\" > metrics.json\n"
)
DVC_YAML = (
    "stages:\n"
    "  train:\n"
    "    cmd: sh train.sh\n"
    "    deps:\n"
    "    - train.sh\n"
    "    params:\n"
    "    - lr\n"
    "    outs:\n"
    "    - model.txt\n"
    "    metrics:\n"
    "    - metrics.json:\n"
    "        cache: false\n"
)
NAME_RE = re.compile(r"^[a-z]+-[a-z]+$")
DVC_REAL = shutil.which("dvc-real")


class ExpCase(DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.write("params.yaml", "lr: 0.1\nepochs: 3\n")
        self.write("train.sh", TRAIN_SH)
        self.write("dvc.yaml", DVC_YAML)
        self.commit_all("pipeline")
        self.dvx("repro")
        self.commit_all("first run")
        self.baseline = self.git("rev-parse", "HEAD").strip()

    def ref(self, name, baseline=None):
        b = baseline or self.baseline
        return f"refs/exps/{b[:2]}/{b[2:]}/{name}"

    def ref_target(self, ref):
        out = self.git("for-each-ref", "--format=%(objectname)", ref)
        return out.strip() or None

    def exp_refs(self):
        out = self.git("for-each-ref", "--format=%(refname)", "refs/exps/")
        return [r for r in out.split() if "/exec/" not in r and "/apply/" not in r]

    def tree_files(self, rev):
        return self.git("ls-tree", "-r", "--name-only", rev).split()

    def show(self, rev, path):
        return self.git("show", f"{rev}:{path}")

    def index_is_head(self):
        # No staged change: every status line starts with a blank or '?' column.
        for line in self.git("status", "--porcelain").splitlines():
            if line[0] not in " ?":
                return False
        return True


class TestExpRun(ExpCase):
    def test_named_run_ref_commit_and_workspace(self):
        code, out, err = self.run("exp", "run", "-n", "fast", "-S", "lr=0.2")
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "Reproducing experiment 'fast'")
        self.assertIn("Running stage 'train':", lines)
        self.assertEqual(lines[-3:], ["", "Ran experiment(s): fast",
                                      "Experiment results have been applied to your workspace."])
        ref = self.ref("fast")
        commit = self.ref_target(ref)
        self.assertIsNotNone(commit)
        # parent is the baseline; HEAD and the branch did not move
        self.assertEqual(self.git("rev-parse", f"{commit}^").strip(), self.baseline)
        self.assertEqual(self.git("rev-parse", "HEAD").strip(), self.baseline)
        self.assertEqual(self.git("symbolic-ref", "HEAD").strip(), "refs/heads/main")
        self.assertEqual(self.ref_target("refs/exps/exec/EXEC_HEAD"), self.baseline)
        self.assertIsNone(self.ref_target("refs/exps/exec/EXEC_BASELINE"))
        # the commit holds the new params, dvc.lock and the uncached metric; the cached output not
        files = self.tree_files(commit)
        self.assertIn("dvc.lock", files)
        self.assertIn("metrics.json", files)
        self.assertNotIn("model.txt", files)
        self.assertEqual(self.show(commit, "params.yaml"), "lr: 0.2\nepochs: 3\n")
        self.assertEqual(self.show(commit, "metrics.json"), '{"lr": 0.2}')
        self.assertEqual(self.show(commit, "dvc.lock").encode(), self.read("dvc.lock"))
        # the work tree keeps the results, the index matches HEAD again
        self.assertEqual(self.read("params.yaml"), b"lr: 0.2\nepochs: 3\n")
        self.assertEqual(self.read("model.txt"), b"model lr=0.2\n")
        self.assertTrue(self.index_is_head())

    def test_message_is_dvc_experiment_hash(self):
        self.dvx("exp", "run", "-n", "h", "-S", "lr=0.2")
        commit = self.ref_target(self.ref("h"))
        train = self.read("train.sh")
        metrics = self.read("metrics.json")
        model = self.read("model.txt")
        entry = {"train": {
            "cmd": "sh train.sh",
            "deps": [{"path": "train.sh", "hash": "md5", "md5": md5_bytes(train), "size": len(train)}],
            "params": {"params.yaml": {"lr": 0.2}},
            "outs": [{"path": "metrics.json", "hash": "md5", "md5": md5_bytes(metrics), "size": len(metrics)},
                     {"path": "model.txt", "hash": "md5", "md5": md5_bytes(model), "size": len(model)}],
        }}
        want = hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()
        self.assertEqual(self.git("log", "-1", "--format=%B", commit).rstrip("\n"),
                         f"dvc: commit experiment {want}")

    def test_custom_message(self):
        self.dvx("exp", "run", "-n", "m", "-m", "my message", "-S", "lr=0.3")
        commit = self.ref_target(self.ref("m"))
        self.assertEqual(self.git("log", "-1", "--format=%B", commit).rstrip("\n"), "my message")

    def test_generated_name(self):
        out = self.dvx("exp", "run", "-S", "lr=0.4")
        name = out.splitlines()[0][len("Reproducing experiment '"):-1]
        self.assertRegex(name, NAME_RE)
        self.assertIn(f"Ran experiment(s): {name}", out)
        self.assertEqual(self.exp_refs(), [self.ref(name)])

    def test_unchanged_run_still_commits(self):
        out = self.dvx("exp", "run", "-n", "same")
        self.assertIn("Stage 'train' didn't change, skipping", out)
        commit = self.ref_target(self.ref("same"))
        self.assertEqual(self.git("rev-parse", f"{commit}^{{tree}}").strip(),
                         self.git("rev-parse", "HEAD^{tree}").strip())
        # nothing ran: the hash of no stages
        self.assertEqual(self.git("log", "-1", "--format=%B", commit).rstrip("\n"),
                         "dvc: commit experiment " + hashlib.sha256(b"{}").hexdigest())

    def test_duplicate_name_and_force(self):
        self.dvx("exp", "run", "-n", "dup", "-S", "lr=0.2")
        first = self.ref_target(self.ref("dup"))
        code, out, err = self.run("exp", "run", "-n", "dup", "-S", "lr=0.3")
        self.assertEqual(code, 255)
        self.assertEqual(err, "ERROR: Experiment conflicts with existing experiment 'dup'. To overwrite the "
                              "existing experiment run:\n\n\tdvc exp run -f ...\n\n\n")
        self.assertEqual(self.read("params.yaml"), b"lr: 0.2\nepochs: 3\n")  # untouched
        self.dvx("exp", "run", "-f", "-n", "dup", "-S", "lr=0.3")
        second = self.ref_target(self.ref("dup"))
        self.assertNotEqual(first, second)
        self.assertEqual(self.show(second, "params.yaml"), "lr: 0.3\nepochs: 3\n")

    def test_invalid_names(self):
        for bad in ("a b", "a/b", "x.lock", ".hidden", "a..b", "a~1"):
            code, out, err = self.run("exp", "run", "-n", bad)
            self.assertEqual(code, 255, bad)
            self.assertEqual(err, f"ERROR: Invalid exp name {bad}, the exp name must follow rules in "
                                  "https://git-scm.com/docs/git-check-ref-format\n")
        self.assertEqual(self.exp_refs(), [])

    def test_set_param_errors_change_nothing(self):
        code, out, err = self.run("exp", "run", "-n", "x", "-S", "nokey=1")
        self.assertEqual(code, 255)
        self.assertTrue(err.startswith("ERROR: Invalid `--set-param` value: Could not override 'nokey'."), err)
        code, out, err = self.run("exp", "run", "-S", "lr")
        self.assertEqual(code, 255)
        self.assertTrue(err.startswith("ERROR: unexpected error - Error parsing override 'lr'\n"), err)
        code, out, err = self.run("exp", "run", "-S", "lr=0.1,0.2")
        self.assertEqual(code, 255)
        self.assertEqual(err, "ERROR: Sweep overrides can't be used without `--queue`\n")
        self.assertEqual(self.read("params.yaml"), b"lr: 0.1\nepochs: 3\n")
        self.assertEqual(self.exp_refs(), [])

    def test_failing_stage_makes_no_experiment(self):
        self.write("train.sh", "exit 3\n")
        code, out, err = self.run("exp", "run", "-n", "bad")
        self.assertEqual(code, 255)
        self.assertIn("ERROR: failed to reproduce 'train': failed to run: sh train.sh, exited with 3", err)
        self.assertEqual(self.exp_refs(), [])
        self.assertIsNone(self.ref_target("refs/exps/exec/EXEC_BASELINE"))
        self.assertEqual(self.git("rev-parse", "HEAD").strip(), self.baseline)

    def test_untracked_staged_and_modified_files(self):
        self.write("notes.txt", "untracked\n")
        self.write("staged.txt", "staged\n")
        self.git("add", "staged.txt")
        self.write("train.sh", TRAIN_SH + "# changed\n")
        self.dvx("exp", "run", "-n", "ws")
        commit = self.ref_target(self.ref("ws"))
        files = self.tree_files(commit)
        self.assertIn("staged.txt", files)          # the index is the starting point
        self.assertNotIn("notes.txt", files)        # untracked files stay out
        self.assertEqual(self.show(commit, "train.sh"), TRAIN_SH + "# changed\n")  # add -u
        self.assertTrue(self.index_is_head())        # staged.txt is untracked again, as DVC leaves it
        self.assertEqual(self.read("staged.txt"), b"staged\n")

    def test_params_file_of_other_format(self):
        self.write("params.json", '{"threshold": 1}')
        self.commit_all("json params")
        baseline = self.git("rev-parse", "HEAD").strip()
        self.dvx("exp", "run", "-n", "js", "-S", "params.json:threshold=3")
        commit = self.ref_target(self.ref("js", baseline))
        self.assertEqual(self.show(commit, "params.json"), '{"threshold": 3}')

    def test_targets_and_repro_flags_pass_through(self):
        out = self.dvx("exp", "run", "-n", "forced", "-f", "train")
        self.assertIn("Running stage 'train':", out)
        code, out, err = self.run("exp", "run", "-n", "nosuch", "nosuchstage")
        self.assertEqual(code, 255)
        self.assertIsNone(self.ref_target(self.ref("nosuch")))

    def test_empty_repository(self):
        shutil.rmtree(self.repo)
        self.make_repo(commit=False)
        code, out, err = self.run("exp", "run")
        self.assertEqual(code, 255)
        self.assertTrue(err.startswith("ERROR: unexpected error - Empty git repo\n"), err)


class TestExpManage(ExpCase):
    def setUp(self):
        super().setUp()
        self.dvx("exp", "run", "-n", "xa", "-S", "lr=0.2")
        self.dvx("exp", "run", "-n", "xb", "-S", "lr=0.3")
        self.a = self.ref_target(self.ref("xa"))
        self.b = self.ref_target(self.ref("xb"))

    def test_apply(self):
        self.write("notes.txt", "mine\n")
        out = self.dvx("exp", "apply", "xa")
        self.assertEqual(out, "Changes for experiment 'xa' have been applied to your current workspace.\n")
        self.assertEqual(self.read("params.yaml"), b"lr: 0.2\nepochs: 3\n")
        self.assertEqual(self.read("metrics.json"), b'{"lr": 0.2}')
        self.assertEqual(self.read("model.txt"), b"model lr=0.2\n")  # checked out from the cache
        self.assertEqual(self.ref_target("refs/exps/exec/EXEC_APPLY"), self.a)
        self.assertEqual(self.git("rev-parse", "HEAD").strip(), self.baseline)
        self.assertTrue(self.index_is_head())
        # the work tree before (b's results) is kept at refs/exps/apply/stash
        stash = self.ref_target("refs/exps/apply/stash")
        self.assertEqual(self.show(stash, "params.yaml"), "lr: 0.3\nepochs: 3\n")
        self.assertEqual(self.read("notes.txt"), b"mine\n")  # files the experiment lacks stay
        # shaped as `git stash` shapes it: DVC's revert hint works
        self.assertEqual(len(self.git("log", "-1", "--format=%P", stash).split()), 3)
        self.git("reset", "-q", "--hard")
        self.git("clean", "-q", "-f", "-d", "-e", ".dvc")
        self.git("stash", "apply", "refs/exps/apply/stash")
        self.assertEqual(self.read("params.yaml"), b"lr: 0.3\nepochs: 3\n")
        self.assertEqual(self.read("notes.txt"), b"mine\n")

    def test_apply_by_sha_and_unknown(self):
        self.dvx("exp", "apply", self.b[:7])
        self.assertEqual(self.read("params.yaml"), b"lr: 0.3\nepochs: 3\n")
        code, out, err = self.run("exp", "apply", "nosuch")
        self.assertEqual(code, 255)
        self.assertEqual(err, "ERROR: 'nosuch' does not appear to be an experiment commit.: "
                              "unknown Git revision 'nosuch'\n")

    def test_branch(self):
        out = self.dvx("exp", "branch", "xa")
        self.assertEqual(out, "Git branch 'xa-branch' has been created from experiment 'xa'.\n"
                              "To switch to the new branch run:\n\n\tgit checkout xa-branch\n")
        self.assertEqual(self.ref_target("refs/heads/xa-branch"), self.a)
        code, out, err = self.run("exp", "branch", "xa")
        self.assertEqual((code, err), (255, "ERROR: Git branch 'xa-branch' already exists.\n"))
        self.dvx("exp", "branch", "xb", "promoted")
        self.assertEqual(self.ref_target("refs/heads/promoted"), self.b)
        code, out, err = self.run("exp", "branch", "nosuch")
        self.assertEqual((code, err), (255, "ERROR: nosuch\n"))
        self.assertEqual(self.git("symbolic-ref", "HEAD").strip(), "refs/heads/main")

    def test_remove_by_name(self):
        out = self.dvx("exp", "remove", "xa")
        self.assertEqual(out, "Removed experiments: 'xa'\n")
        self.assertEqual(self.exp_refs(), [self.ref("xb")])
        code, out, err = self.run("exp", "remove", "xa")
        self.assertEqual((code, err), (255, "ERROR: 'xa' is not a valid experiment name\n"))
        code, out, err = self.run("exp", "rm", "x", "y")
        self.assertEqual((code, err), (255, "ERROR: 'x; y' are not valid experiment names\n"))

    def test_remove_selection(self):
        code, out, err = self.run("exp", "remove")
        self.assertEqual((code, err), (255, "ERROR: Either provide an `experiment` argument, or use the "
                                            "`--rev` or `--all-commits` or `--queue` flag.\n"))
        out = self.dvx("exp", "remove", "--rev", "HEAD", "--keep")
        self.assertEqual(out, "No experiments to remove.\n")
        self.assertEqual(len(self.exp_refs()), 2)
        out = self.dvx("exp", "remove", "--rev", "HEAD")
        self.assertEqual(out, "Removed experiments: 'xa' and 'xb'\n")
        self.assertEqual(self.exp_refs(), [])

    def test_remove_all_and_keep(self):
        self.dvx("exp", "run", "-n", "xc", "-S", "lr=0.5")
        out = self.dvx("exp", "remove", "--keep", "xb")
        # DVC takes the order from a Python set
        self.assertTrue(out.startswith("Removed experiments: "), out)
        self.assertEqual(sorted(out[len("Removed experiments: "):].strip().split(" and ")), ["'xa'", "'xc'"])
        self.assertEqual(self.exp_refs(), [self.ref("xb")])
        self.dvx("exp", "apply", "xb")
        out = self.dvx("exp", "remove", "-A")
        self.assertEqual(out, "Removed experiments: 'xb'\n")
        self.assertEqual(self.exp_refs(), [])
        self.assertIsNone(self.ref_target("refs/exps/exec/EXEC_APPLY"))

    def test_rename(self):
        out = self.dvx("exp", "rename", "xa", "renamed")
        self.assertEqual(out, "Renamed experiments: 'xa'\n")
        self.assertEqual(self.ref_target(self.ref("renamed")), self.a)
        self.assertIsNone(self.ref_target(self.ref("xa")))
        self.assertEqual(self.dvx("exp", "rename", "xb", "xb"), "No experiments to rename.\n")
        code, out, err = self.run("exp", "rename", "nosuch", "x")
        self.assertEqual((code, err), (255, "ERROR: 'nosuch' is not a valid experiment name\n"))
        code, out, err = self.run("exp", "rename", "xb", "renamed")
        self.assertEqual(code, 255)
        self.assertIn("Experiment conflicts with existing experiment 'renamed'", err)
        code, out, err = self.run("exp", "rename", "xb", "bad name")
        self.assertEqual(code, 255)
        self.assertIn("Invalid exp name bad name", err)
        self.dvx("exp", "rename", "-f", "xb", "renamed")
        self.assertEqual(self.ref_target(self.ref("renamed")), self.b)

    def test_ambiguous_name_across_baselines(self):
        self.commit_all("second baseline")  # HEAD moves: 'xa' of the old baseline stays
        new_base = self.git("rev-parse", "HEAD").strip()
        self.dvx("exp", "run", "-n", "xa", "-S", "lr=0.6")
        # the current baseline's experiment wins
        self.dvx("exp", "branch", "xa", "newa")
        self.assertEqual(self.ref_target("refs/heads/newa"), self.ref_target(self.ref("xa", new_base)))
        self.git("checkout", "-q", "-f", "--detach", self.baseline + "~1")  # neither baseline
        code, out, err = self.run("exp", "remove", "xa")
        self.assertEqual(code, 255)
        self.assertTrue(err.startswith("ERROR: Ambiguous name 'xa' refers to multiple experiments. Use one of "
                                       "the following full refnames instead:\n\n\trefs/exps/"), err)


class TestExpSave(ExpCase):
    def test_save(self):
        self.write("params.yaml", "lr: 0.7\nepochs: 3\n")
        self.write("extra.txt", "extra\n")
        out = self.dvx("exp", "save", "-n", "s1")
        self.assertTrue(out.endswith("Experiment has been saved as: s1\n"), out)
        commit = self.ref_target(self.ref("s1"))
        self.assertEqual(self.git("rev-parse", f"{commit}^").strip(), self.baseline)
        self.assertEqual(self.show(commit, "params.yaml"), "lr: 0.7\nepochs: 3\n")
        self.assertNotIn("extra.txt", self.tree_files(commit))
        self.assertTrue(self.index_is_head())

    def test_save_json_include_untracked_and_duplicate(self):
        self.write("extra.txt", "extra\n")
        res = self.json_out("exp", "save", "-n", "s2", "-I", "extra.txt", "--json")
        self.assertEqual(res, {"ref": self.ref_target(self.ref("s2"))})
        self.assertIn("extra.txt", self.tree_files(res["ref"]))
        code, out, err = self.run("exp", "save", "-n", "s2")
        self.assertEqual(code, 1)
        self.assertTrue(err.startswith("ERROR: failed to save experiment - Experiment conflicts with existing "
                                       "experiment 's2'."), err)
        self.dvx("exp", "save", "-f", "-n", "s2")


@unittest.skipUnless(DVC_REAL and not is_real_dvc(), "dvc-real is not installed (or is the binary under test)")
class TestDvcReadsDvxExperiments(ExpCase):
    def dvc(self, *args, cwd=None):
        proc = subprocess.run([DVC_REAL, *args], cwd=cwd or self.repo, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=self.env, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return proc.stdout.decode()

    def test_exp_list_and_show(self):
        self.dvx("exp", "run", "-n", "fast", "-S", "lr=0.2")
        self.assertEqual(self.dvc("exp", "list", "--name-only").split(), ["fast"])
        show = json.loads(self.dvc("exp", "show", "--json"))
        baseline = [r for r in show if r["rev"] == self.baseline][0]
        exps = baseline["experiments"]
        self.assertEqual([g["name"] for g in exps], ["fast"])
        rev = exps[0]["revs"][0]
        self.assertEqual(rev["rev"], self.ref_target(self.ref("fast")))
        self.assertEqual(rev["data"]["params"]["params.yaml"]["data"]["lr"], 0.2)
        self.assertEqual(rev["data"]["metrics"]["metrics.json"]["data"], {"lr": 0.2})

    def test_dvc_applies_and_removes_dvx_experiment(self):
        self.dvx("exp", "run", "-n", "fast", "-S", "lr=0.2")
        self.git("checkout", "-q", "--", "params.yaml", "dvc.lock", "metrics.json")
        self.dvc("exp", "apply", "fast")
        self.assertEqual(self.read("params.yaml"), b"lr: 0.2\nepochs: 3\n")
        self.dvc("exp", "remove", "fast")
        self.assertEqual(self.exp_refs(), [])

    def test_same_tree_as_dvc(self):
        other = os.path.join(self.tmp, "dvc-copy")
        shutil.copytree(self.repo, other, symlinks=True)
        self.write("notes.txt", "untracked\n")
        self.write(os.path.join(other, "notes.txt"), "untracked\n")
        self.dvx("exp", "run", "-n", "same", "-S", "lr=0.2")
        self.dvc("exp", "run", "-n", "same", "-S", "lr=0.2", cwd=other)
        ours = self.git("ls-tree", "-r", self.ref("same"))
        theirs = self.git("ls-tree", "-r", self.ref("same"), cwd=other)
        self.assertEqual(ours, theirs)
        ours_msg = self.git("log", "-1", "--format=%B", self.ref("same"))
        theirs_msg = self.git("log", "-1", "--format=%B", self.ref("same"), cwd=other)
        self.assertEqual(ours_msg, theirs_msg)


if __name__ == "__main__":
    unittest.main()
