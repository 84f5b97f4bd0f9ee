#!/usr/bin/env python3
"""The experiment queue: `exp run --queue` (with -S sweeps), `queue start -j N` running the tasks
in background worker processes, each experiment in its own temporary work tree; `queue status`,
`queue logs`, `queue remove`, `queue kill`, `queue stop`; `exp run --temp`, `--run-all`, `-C`;
queued, running, failed and successful rows in `exp show`; a worker killed with SIGKILL shows its
task as failed, never as running forever. The user's workspace stays byte for byte as it was.
Messages as DVC 3.64 prints them (tests/fixtures/outputs/queue.*).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

from dvxtest import DvxTestCase, is_real_dvc, output_text

TRAIN_PY = r'''import json, os, sys, time
params = {}
for line in open("params.yaml"):
    if ":" in line:
        k, v = line.split(":", 1)
        params[k.strip()] = v.strip()
lr = float(params["lr"])
pause = float(params.get("pause", "0"))
log = params.get("log")
start = time.time()
if lr < 0:
    sys.stderr.write("train.py: lr must be positive, got %s\n" % lr)
    sys.exit(2)
secret = params.get("secret")
if secret and not os.path.exists(secret):
    sys.stderr.write("train.py: missing %s\n" % secret)
    sys.exit(3)
with open("metrics.json", "w") as f:
    json.dump({"loss": round(1.0 - lr, 6), "lr": lr}, f)
time.sleep(pause)
with open("model.txt", "w") as f:
    f.write("model lr=%s\n" % lr)
if log:
    with open(log, "a") as f:
        f.write("%s %s %s\n" % (lr, start, time.time()))
print("trained: lr=%s" % lr)
'''

DVC_YAML = (
    "stages:\n"
    "  train:\n"
    "    cmd: python3 train.py\n"
    "    deps:\n"
    "    - train.py\n"
    "    params:\n"
    "    - lr\n"
    "    outs:\n"
    "    - model.txt\n"
    "    metrics:\n"
    "    - metrics.json:\n"
    "        cache: false\n"
)


DVC_REAL = shutil.which("dvc-real")


def workspace_digest(case):
    """Digest of the work tree as the user sees it: everything but .git and the DVC cache and
    tmp folders."""
    import hashlib
    h = hashlib.sha256()
    for root, dirs, files in os.walk(case.repo):
        rel = os.path.relpath(root, case.repo)
        dirs[:] = sorted(d for d in dirs
                         if not (rel == "." and d == ".git") and not (rel == ".dvc" and d in ("tmp", "cache")))
        for name in sorted(files):
            p = os.path.join(root, name)
            h.update(os.path.relpath(p, case.repo).encode() + b"\0")
            st = os.lstat(p)
            h.update(oct(st.st_mode).encode())
            with open(p, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


@unittest.skipIf(is_real_dvc(), "DVC's queue needs Celery workers; these check dvx's own workers")
class QueueCase(DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.params("lr: 0.1\npause: 0\n")
        self.write("train.py", TRAIN_PY)
        self.write("dvc.yaml", DVC_YAML)
        self.commit_all("pipeline")
        self.dvx("repro")
        self.commit_all("first run")
        self.baseline = self.git("rev-parse", "HEAD").strip()

    def tearDown(self):
        # never leave workers behind
        self.run("queue", "stop", "--kill")
        self.wait_for(lambda: self.status()[1] == (0, 0), 20, "workers to exit")
        super().tearDown()

    def params(self, text, commit=False):
        self.write("params.yaml", text)
        if commit:
            self.commit_all("params")

    def ref(self, name):
        b = self.baseline
        return f"refs/exps/{b[:2]}/{b[2:]}/{name}"

    def exp_refs(self):
        out = self.git("for-each-ref", "--format=%(refname)", "refs/exps/")
        return sorted(r for r in out.split() if re.match(r"refs/exps/[0-9a-f]{2}/[0-9a-f]{38}/", r))

    def status(self):
        """(rows [(task, name, status)], (active, idle))."""
        out = self.dvx("queue", "status")
        rows = []
        lines = out.splitlines()
        for line in lines[1:]:
            if not line.strip():
                break
            parts = line.split()
            rows.append((parts[0], parts[1], parts[-1]))
        m = re.search(r"Worker status: (\d+) active, (\d+) idle", out)
        self.assertIsNotNone(m, out)
        return rows, (int(m.group(1)), int(m.group(2)))

    def wait_for(self, pred, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred():
                return
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}; queue status:\n{self.run('queue', 'status')[1]}")

    def drained(self):
        rows, workers = self.status()
        return workers == (0, 0) and not any(s in ("Queued", "Running") for _, _, s in rows)

    def exp_rows(self):
        """name -> (executor state, record) from exp show --json (HEAD's baseline)."""
        data = self.json_out("exp", "show", "--json")
        base = [r for r in data if r["rev"] != "workspace"][0]
        out = {}
        for exp in base["experiments"] or []:
            out[exp["name"]] = (exp["executor"]["state"] if exp["executor"] else None, exp)
        return out


class TestQueue(QueueCase):
    def test_queue_then_workers_run_each_in_its_own_tree(self):
        before = workspace_digest(self)
        out = self.dvx("exp", "run", "--queue", "-n", "q-ok", "-S", "lr=0.4")
        self.assertEqual(out, "Queueing with overrides '{'params.yaml': ['lr=0.4']}'.\n"
                              "Queued experiment 'q-ok' for future execution.\n")
        out = self.dvx("exp", "run", "--queue", "-n", "q-two", "-S", "lr=0.25")
        self.assertIn("Queued experiment 'q-two' for future execution.", out)
        self.assertEqual(workspace_digest(self), before, "queueing changed the workspace")

        rows, workers = self.status()
        self.assertEqual([(n, s) for _, n, s in rows], [("q-ok", "Queued"), ("q-two", "Queued")])
        self.assertEqual(workers, (0, 0))
        # the task id is the queue commit: HEAD's child holding the overridden params
        task = rows[0][0]
        stash = self.git("rev-parse", task).strip()
        self.assertEqual(self.git("rev-parse", f"{stash}^").strip(), self.baseline)
        self.assertIn("lr: 0.4", self.git("show", f"{stash}:params.yaml"))
        self.assertRegex(self.git("log", "-1", "--format=%s", stash),
                         rf"^dvc-exp:{self.baseline}:{self.baseline}:q-ok$")

        exps = self.exp_rows()
        state, rec = exps["q-ok"]
        self.assertEqual(state, "queued")
        rev = rec["revs"][0]
        self.assertEqual(rev["rev"], stash)
        self.assertEqual(rev["data"]["params"]["params.yaml"]["data"]["lr"], 0.4)
        self.assertEqual(rev["data"]["metrics"], {})
        self.assertEqual(rec["executor"], {"state": "queued", "name": "dvc-task", "local": {
            "root": None, "log": None, "pid": None, "returncode": None, "task_id": stash}})
        csv = self.dvx("exp", "show", "--csv").splitlines()
        header = csv[0].split(",")
        row = [r.split(",") for r in csv if r.startswith("q-ok,")][0]
        self.assertEqual(row[header.index("State")], "Queued")
        self.assertEqual(row[header.index("Executor")], "Dvc-task")

        self.assertEqual(self.dvx("queue", "start", "-j", "2"), "Started '2' new experiments task queue workers.\n")
        self.wait_for(self.drained, 60, "the queue to drain")
        rows, _ = self.status()
        self.assertEqual(sorted((n, s) for _, n, s in rows), [("q-ok", "Success"), ("q-two", "Success")])
        self.assertEqual(self.exp_refs(), sorted([self.ref("q-ok"), self.ref("q-two")]))
        exp = self.git("rev-parse", self.ref("q-ok")).strip()
        self.assertEqual(self.git("rev-parse", f"{exp}^").strip(), self.baseline)
        self.assertIn("lr: 0.4", self.git("show", f"{exp}:params.yaml"))
        self.assertEqual(json.loads(self.git("show", f"{exp}:metrics.json")), {"loss": 0.6, "lr": 0.4})

        exps = self.exp_rows()
        state, rec = exps["q-ok"]
        self.assertEqual(state, "success")
        self.assertEqual(rec["revs"][0]["rev"], exp)
        self.assertEqual(rec["revs"][0]["data"]["metrics"]["metrics.json"]["data"], {"loss": 0.6, "lr": 0.4})
        self.assertEqual(rec["executor"]["local"]["returncode"], 0)
        self.assertEqual(rec["executor"]["local"]["task_id"], stash)
        self.assertTrue(rec["executor"]["local"]["log"].endswith(f".dvc/tmp/exps/run/{stash}/{stash}.out"))
        self.assertIn("trained: lr=0.4", self.dvx("queue", "logs", "q-ok"))
        # the model went into the shared cache: applying the experiment restores it
        self.assertEqual(workspace_digest(self), before, "the workers changed the workspace")
        self.dvx("exp", "apply", "q-two")
        self.assertEqual(self.read("model.txt"), b"model lr=0.25\n")
        # temporary work trees are gone
        leftovers = [d for d in os.listdir(self.p(".dvc", "tmp", "exps")) if d.startswith("tmp")]
        self.assertEqual(leftovers, [])

        if DVC_REAL:  # DVC lists and reads the experiments the workers made
            proc = subprocess.run([DVC_REAL, "exp", "show", "--json"], cwd=self.repo, env=self.env,
                                  capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            dvc_exps = {e["name"]: e for e in json.loads(proc.stdout)[1]["experiments"]}
            self.assertEqual(dvc_exps["q-ok"]["revs"][0]["rev"], exp)
            self.assertEqual(dvc_exps["q-ok"]["revs"][0]["data"]["metrics"]["metrics.json"]["data"],
                             {"loss": 0.6, "lr": 0.4})
        self.assertEqual(self.dvx("queue", "remove", "--all"), "Removed tasks in queue: q-ok, q-two\n")
        self.assertEqual(self.dvx("queue", "status"), "No experiment tasks in the queue.\n\nWorker status: 0 active, 0 idle\n")
        self.assertEqual(len(self.exp_refs()), 2, "removing finished tasks keeps the experiments")

    def test_sweep_of_eight_through_two_workers(self):
        log = os.path.join(self.tmp, "runs.log")
        self.params(f"lr: 0.1\npause: 0.4\nlog: {log}\n", commit=True)
        self.baseline = self.git("rev-parse", "HEAD").strip()
        before = workspace_digest(self)
        values = ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"]
        out = self.dvx("exp", "run", "--queue", "-n", "sw", "-S", "lr=" + ",".join(values))
        lines = out.splitlines()
        self.assertEqual(len(lines), 16, out)
        for i, v in enumerate(values):
            self.assertEqual(lines[2 * i], f"Queueing with overrides '{{'params.yaml': ['lr={v}']}}'.")
            self.assertEqual(lines[2 * i + 1], f"Queued experiment 'sw-{i + 1}' for future execution.")
        self.assertEqual(self.dvx("queue", "start", "-j", "2"), "Started '2' new experiments task queue workers.\n")
        self.wait_for(self.drained, 90, "the sweep to finish")
        self.assertEqual(len(self.exp_refs()), 8)
        exps = self.exp_rows()
        for i, v in enumerate(values):
            state, rec = exps[f"sw-{i + 1}"]
            self.assertEqual(state, "success")
            self.assertEqual(rec["revs"][0]["data"]["metrics"]["metrics.json"]["data"]["lr"], float(v))
        self.assertEqual(workspace_digest(self), before)
        # two ran at the same time: some runs overlap
        with open(log) as f:
            spans = [tuple(map(float, line.split()[1:])) for line in f]
        self.assertEqual(len(spans), 8)
        overlaps = sum(1 for i, a in enumerate(spans) for b in spans[i + 1:] if a[0] < b[1] and b[0] < a[1])
        self.assertGreater(overlaps, 0, spans)

    def test_failed_run_logs_and_rows(self):
        self.dvx("exp", "run", "--queue", "-n", "q-fail", "-S", "lr=-1")
        code, out, err = self.run("queue", "logs", "q-fail")
        self.assertEqual(code, 255)
        self.assertIn("ERROR: Experiment 'q-fail' is in queue but has not been started", err)
        code, out, err = self.run("queue", "logs", "nope")
        self.assertEqual(code, 255)
        self.assertIn("ERROR: 'nope' is not a valid queued experiment name", err)
        self.dvx("queue", "start")
        self.wait_for(self.drained, 60, "the failing run")
        rows, _ = self.status()
        self.assertEqual([(n, s) for _, n, s in rows], [("q-fail", "Failed")])
        logs = self.dvx("queue", "logs", "q-fail")
        self.assertIn("Reproducing experiment 'q-fail'", logs)
        self.assertIn("train.py: lr must be positive, got -1.0", logs)
        self.assertIn("ERROR: failed to reproduce 'train': failed to run: python3 train.py, exited with 2", logs)
        self.assertEqual(self.exp_refs(), [])
        state, rec = self.exp_rows()["q-fail"]
        self.assertEqual(state, "failed")
        self.assertEqual(rec["revs"][0]["error"], {"msg": "Experiment run failed", "type": ""})
        self.assertIsNone(rec["executor"]["name"])
        self.assertNotEqual(rec["executor"]["local"]["returncode"], 0)
        # the failed row carries the queued params and the baseline's metrics
        self.assertEqual(rec["revs"][0]["data"]["params"]["params.yaml"]["data"]["lr"], -1)
        self.assertEqual(self.dvx("queue", "remove", "--failed"), "Removed tasks in queue: q-fail\n")
        code, out, err = self.run("queue", "remove")
        self.assertEqual(code, 255)
        self.assertIn("Either provide an `tasks` argument", err)

    def test_killed_worker_reads_as_failed_and_queue_goes_on(self):
        self.params("lr: 0.15\npause: 30\n")  # lr differs from the baseline's: the stage runs
        self.dvx("exp", "run", "--queue", "-n", "slow")
        self.params("lr: 0.1\npause: 0\n")
        self.dvx("queue", "start")
        self.wait_for(lambda: [s for _, n, s in self.status()[0] if n == "slow"] == ["Running"], 30, "the run to start")
        rows, workers = self.status()
        self.assertEqual(workers, (1, 0))
        # live progress: the running row shows the metrics the script wrote so far
        seen = {}

        def running_metrics():
            state, rec = self.exp_rows()["slow"]
            m = (rec["revs"][0].get("data") or {}).get("metrics", {})
            seen["rec"] = rec
            # the work tree starts with the baseline's metrics.json (lr 0.1), which the script then
            # rewrites (it may be caught half written once: an error entry)
            return state == "running" and m.get("metrics.json", {}).get("data", {}).get("lr") == 0.15
        self.wait_for(running_metrics, 30, "live metrics")
        rec = seen["rec"]
        self.assertEqual(rec["revs"][0]["data"]["metrics"]["metrics.json"]["data"], {"loss": 0.85, "lr": 0.15})
        self.assertEqual(rec["executor"]["state"], "running")
        self.assertTrue(rec["executor"]["local"]["root"].startswith(self.p(".dvc", "tmp", "exps", "tmp")))
        pgid = rec["executor"]["local"]["pid"]
        # a crash: the worker and the run's whole process group die at once
        worker_pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and self._cmd(p).startswith("exp\0queue-worker")]
        self.assertEqual(len(worker_pids), 1)
        for pid in worker_pids:
            os.kill(pid, signal.SIGKILL)
        os.killpg(pgid, signal.SIGKILL)
        self.wait_for(lambda: [s for _, n, s in self.status()[0] if n == "slow"] == ["Failed"], 20,
                      "the dead run to read as failed")
        # the queue still works
        self.dvx("exp", "run", "--queue", "-n", "after")
        self.dvx("queue", "start")
        self.wait_for(self.drained, 60, "the next run")
        self.assertEqual(dict((n, s) for _, n, s in self.status()[0]), {"slow": "Failed", "after": "Success"})

    def _cmd(self, pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
            if not args or not args[0].endswith(b"dvx") or len(args) < 3:
                return ""
            with open(f"/proc/{pid}/cwd/.git/HEAD", "rb"):
                pass
            if os.path.realpath(f"/proc/{pid}/cwd") != self.repo:
                return ""
            return "\0".join(a.decode() for a in args[1:3])
        except OSError:
            return ""

    def test_kill_and_stop(self):
        self.params("lr: 0.15\npause: 30\n")
        self.dvx("exp", "run", "--queue", "-n", "long")
        self.params("lr: 0.1\npause: 0\n")
        self.dvx("exp", "run", "--queue", "-n", "next")
        self.dvx("queue", "start")
        self.wait_for(lambda: [s for _, n, s in self.status()[0] if n == "long"] == ["Running"], 30, "the run to start")
        self.assertEqual(self.dvx("queue", "stop"), "Queue workers will stop after running tasks finish.\n")
        self.assertEqual(self.dvx("queue", "kill", "long"), "long has been killed.\n")
        self.wait_for(lambda: self.status()[1] == (0, 0), 30, "the worker to stop")
        self.assertEqual(dict((n, s) for _, n, s in self.status()[0]), {"long": "Failed", "next": "Queued"})
        code, out, err = self.run("queue", "kill", "next")
        self.assertEqual(code, 255)
        self.assertIn("'next' is not a valid running experiment name", err)
        self.assertEqual(self.exp_refs(), [])
        self.assertEqual(os.listdir(self.p(".dvc", "tmp", "exps")).count("tmp"), 0)

    def test_logs_follow_until_the_run_ends(self):
        self.params("lr: 0.35\npause: 1.5\n")
        self.dvx("exp", "run", "--queue", "-n", "followed")
        self.params("lr: 0.1\npause: 0\n")
        self.dvx("queue", "start")
        self.wait_for(lambda: [s for _, n, s in self.status()[0] if n == "followed"] == ["Running"], 30, "the run")
        started = time.time()
        out = self.dvx("queue", "logs", "-f", "followed")
        self.assertTrue(out.startswith("Following logs for experiment 'followed'. Use Ctrl+C to stop following logs "
                                       "(experiment execution will continue).\n"), out)
        self.assertIn("trained: lr=0.35", out)  # printed at the end of the run: -f waited for it
        self.assertEqual([s for _, n, s in self.status()[0] if n == "followed"], ["Success"])
        self.assertGreater(time.time() - started, 0.3)

    def test_run_all(self):
        self.dvx("exp", "run", "--queue", "-n", "a1", "-S", "lr=0.3")
        self.dvx("exp", "run", "--queue", "-n", "a2", "-S", "lr=0.6")
        out = self.dvx("exp", "run", "--run-all", "-j", "2")
        self.assertIn("Following logs for all queued experiments.", out)
        self.assertIn("trained: lr=0.3", out)
        self.assertIn("trained: lr=0.6", out)
        self.assertIn("\nRan experiment(s): a1, a2\nTo apply the results of an experiment to your workspace run:\n\n"
                      "\tdvc exp apply <exp>\n", out)
        self.assertEqual(self.exp_refs(), sorted([self.ref("a1"), self.ref("a2")]))


class TestTempRuns(QueueCase):
    def test_temp_run_leaves_workspace_alone(self):
        before = workspace_digest(self)
        out = self.dvx("exp", "run", "--temp", "-n", "t1", "-S", "lr=0.3")
        self.assertIn("Reproducing experiment 't1'", out)
        self.assertIn("trained: lr=0.3", out)
        self.assertTrue(out.endswith("\nRan experiment(s): t1\nTo apply the results of an experiment to your workspace run:\n\n"
                                     "\tdvc exp apply <exp>\n"), out)
        self.assertEqual(workspace_digest(self), before)
        self.assertEqual(self.exp_refs(), [self.ref("t1")])
        self.assertEqual(self.dvx("queue", "status"), "No experiment tasks in the queue.\n\nWorker status: 0 active, 0 idle\n")
        # no queue commit is kept for it
        self.assertEqual(self.git("for-each-ref", "refs/exps/temp/"), "")
        self.dvx("exp", "apply", "t1")
        self.assertEqual(self.read("model.txt"), b"model lr=0.3\n")
        self.assertIn("lr: 0.3", self.read("params.yaml").decode())

    def test_clean_removes_what_a_crash_left(self):
        self.dvx("exp", "run", "--queue", "-n", "keep", "-S", "lr=0.2")
        kept = self.git("for-each-ref", "--format=%(refname)", "refs/exps/temp/queue/").split()
        self.assertEqual(len(kept), 1)
        stale = "refs/exps/temp/queue/" + "ab" * 20  # a queue commit whose task file is gone
        self.git("update-ref", stale, self.baseline)
        exps = self.p(".dvc", "tmp", "exps")
        old_tree, new_tree = os.path.join(exps, "tmpOLDTREE"), os.path.join(exps, "tmpNEWTREE")
        for t in (old_tree, new_tree):
            os.makedirs(os.path.join(t, "sub"))
        hours_ago = time.time() - 2 * 3600
        os.utime(old_tree, (hours_ago, hours_ago))
        self.assertEqual(self.dvx("exp", "clean").splitlines(), ["Cleaning up dvc-task messages...", "Done!"])
        self.assertEqual(self.git("for-each-ref", "--format=%(refname)", "refs/exps/temp/queue/").split(), kept)
        self.assertFalse(os.path.exists(old_tree))
        self.assertTrue(os.path.exists(new_tree))  # may be a run being set up right now
        self.assertIn("keep", self.dvx("queue", "status"))

    def test_temp_failure_and_sweep_refused(self):
        code, out, err = self.run("exp", "run", "--temp", "-n", "bad", "-S", "lr=-2")
        self.assertEqual(code, 255)
        self.assertIn("failed to reproduce 'train'", err)
        self.assertEqual(self.exp_refs(), [])
        self.assertEqual(self.git("for-each-ref", "refs/exps/temp/"), "")
        code, out, err = self.run("exp", "run", "--temp", "-S", "lr=0.1,0.2")
        self.assertEqual(code, 255)
        self.assertIn("Sweep overrides can't be used without `--queue`", err)
        self.assertIn("lr: 0.1\n", self.read("params.yaml").decode())

    def test_copy_paths(self):
        self.write(".gitignore", "secret.cfg\n", mode=None) if not self.exists(".gitignore") else \
            self.write(".gitignore", self.read(".gitignore") + b"secret.cfg\n")
        self.write("secret.cfg", "key\n")
        self.params("lr: 0.2\npause: 0\nsecret: secret.cfg\n", commit=True)
        self.baseline = self.git("rev-parse", "HEAD").strip()
        code, out, err = self.run("exp", "run", "--temp", "-n", "no-copy")
        self.assertEqual(code, 255, out + err)
        self.assertIn("missing secret.cfg", out + err)
        self.dvx("exp", "run", "--temp", "-n", "with-copy", "-C", "secret.cfg")
        self.assertEqual(self.exp_refs(), [self.ref("with-copy")])

    def test_changed_tracked_data_goes_with_the_run(self):
        self.write("data.txt", "abc\n")
        self.dvx("add", "data.txt")
        self.write("dvc.yaml", DVC_YAML + "  count:\n    cmd: wc -c < data.txt > count.txt\n    deps:\n    - data.txt\n"
                                          "    outs:\n    - count.txt:\n        cache: false\n")
        self.dvx("repro")
        self.commit_all("count")
        self.baseline = self.git("rev-parse", "HEAD").strip()
        dvc_file = self.read("data.txt.dvc")
        self.write("data.txt", "abcdefgh\n")  # changed, not committed with dvx
        self.dvx("exp", "run", "--temp", "-n", "new-data")
        exp = self.git("rev-parse", self.ref("new-data")).strip()
        self.assertEqual(self.git("show", f"{exp}:count.txt").strip(), "9")
        self.assertNotEqual(self.git("show", f"{exp}:data.txt.dvc").encode(), dvc_file)
        # the workspace's .dvc file and data are as the user left them
        self.assertEqual(self.read("data.txt.dvc"), dvc_file)
        self.assertEqual(self.read("data.txt"), b"abcdefgh\n")

    def test_untracked_files_go_with_the_queued_run(self):
        # a new, untracked helper the stage needs: it is part of the queued workspace
        self.write("train.py", TRAIN_PY.replace('print("trained', 'import helper\nprint(helper.X, "trained'))
        self.write("helper.py", "X = 'helped'\n")
        self.dvx("exp", "run", "--queue", "-n", "uses-helper")
        self.dvx("queue", "start")
        self.wait_for(self.drained, 60, "the run")
        self.assertIn("helped trained: lr=0.1", self.dvx("queue", "logs", "uses-helper"))


HEX7 = re.compile(r"\b[0-9a-f]{7}\b")
HEX40 = re.compile(r"\b[0-9a-f]{40}\b")
CLOCK = re.compile(r"\b\d\d:\d\d [AP]M\b")
ISO = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\b")


def volatile(text):
    """Task ids, experiment revs and wall-clock times replaced (the recording's README lists
    them as volatile)."""
    text = HEX40.sub("<SHA>", text)
    text = HEX7.sub("<REV>", text)
    text = CLOCK.sub("<CLOCK>", text)
    return ISO.sub("<TIME>", text)


def volatile_json(obj, repo):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "pid" and isinstance(v, int):
                v = "<PID>"
            elif k == "log" and isinstance(v, str):
                v = v.replace(repo, "<REPO>")
            out[k] = volatile_json(v, repo)
        return out
    if isinstance(obj, list):
        return [volatile_json(v, repo) for v in obj]
    if isinstance(obj, str):
        return volatile(obj)
    return obj


@unittest.skipIf(is_real_dvc(), "replays DVC's own recording")
class TestRecordedQueueSession(DvxTestCase):
    """tests/fixtures/outputs/queue.*: DVC 3.64's queue session on the pipeline2 fixture
    (record_queue.sh), replayed step by step; volatile ids and times compared as placeholders."""

    def step(self, file, *args, code=0, env=None):
        got_code, out, err = self.run(*args, env=env)
        self.assertEqual(got_code, code, f"{file}: dvx {' '.join(args)}\n{out}\n{err}")
        return out, err

    def expect(self, file, *args, **kw):
        out, err = self.step(file, *args, **kw)
        self.assertEqual(volatile(out), volatile(output_text(file)), file)
        return out

    def test_session(self):
        self.extract_fixture("pipeline2")
        self.expect("queue.exp-run-queue.ok.txt", "exp", "run", "--queue", "-n", "q-ok", "-S", "train.lr=0.4")
        self.expect("queue.exp-run-queue.fail.txt", "exp", "run", "--queue", "-n", "q-fail", "-S", "train.lr=-1")
        self.expect("queue.queue-status.queued.txt", "queue", "status")
        self.expect("queue.queue-start.txt", "queue", "start", "-j", "1")
        deadline = time.time() + 90
        while time.time() < deadline:
            out = self.dvx("queue", "status")
            if "Queued" not in out and "Running" not in out and "0 active, 0 idle" in out:
                break
            time.sleep(0.1)
        self.expect("queue.queue-status.done.txt", "queue", "status")
        logs, _ = self.step("queue.queue-logs.fail.txt", "queue", "logs", "q-fail")
        want = output_text("queue.queue-logs.fail.txt").splitlines()
        # DVC prints the final ERROR line twice (a quirk of its worker); every other line the same
        self.assertEqual(logs.splitlines()[:len(want) - 2], want[:-2])
        self.assertIn(want[-2], logs.splitlines())
        self.expect("queue.exp-run-queue.later.txt", "exp", "run", "--queue", "-n", "q-later", "-S", "train.lr=0.5")
        self.expect("queue.queue-status.mixed.txt", "queue", "status")
        got = json.loads(self.dvx("exp", "show", "--json"))
        want = json.loads(output_text("queue.exp-show.json"))
        self.assertEqual(volatile_json(got, self.repo), volatile_json(want, "<REPO>"))
        self.expect("queue.exp-show.csv", "exp", "show", "--csv")
        self.expect("queue.exp-show.txt", "exp", "show", "--no-pager", env={"COLUMNS": "160"})
        self.expect("queue.exp-run.txt", "exp", "run", "-n", "ws-lr3", "-S", "train.lr=0.3")
        self.expect("queue.exp-run.fail.txt", "exp", "run", "-n", "ws-fail", "-S", "train.lr=-1", code=255)
        self.expect("queue.exp-list.txt", "exp", "list")
        self.expect("queue.queue-remove.txt", "queue", "remove", "--all")


if __name__ == "__main__":
    unittest.main()
