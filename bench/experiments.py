#!/usr/bin/env python3
"""Experiment rows of the benchmark: `python3 bench/run.py --only experiments` (or
python3 bench/experiments.py). A one-stage training pipeline whose command (a Python script)
takes about one second and writes metrics:
- `exp run` against `repro -f` of the same stage (target: exp run <= repro -f + 50 ms: the Git work
  of an experiment is a few tree writes);
- `exp show --json` with 20 and with 1,000 experiments made with git (target: >= 30x DVC with 20,
  under 1 s with 1,000);
- a sweep of 8 experiments queued with `exp run --queue -S lr=...` and run by `queue start -j 2`,
  timed from `queue start` until every task is done (target: <= 5.5 s).
DVC runs the same steps when DVX_BENCH_DVC names it (its queue needs its Celery workers).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

from metrics import make_experiments
from pipelines import env_for, fmt, median_times

HERE = os.path.dirname(os.path.abspath(__file__))

TRAIN_PY = """import json, sys, time
lr = float([l.split(":", 1)[1] for l in open("params.yaml") if l.startswith("lr:")][0])
time.sleep(1.0)
json.dump({"loss": 1 - lr, "lr": lr}, open("metrics.json", "w"))
open("model.txt", "w").write("model %s\\n" % lr)
"""

DVC_YAML = """stages:
  train:
    cmd: python3 train.py
    deps:
    - train.py
    params:
    - lr
    outs:
    - model.txt
    metrics:
    - metrics.json:
        cache: false
"""


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def make_project(path, tool, env):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)
    run = lambda *a: subprocess.run(a, cwd=path, env=env, check=True, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    run("git", "init", "-q")
    run(tool, "init", "-q")
    for name, text in (("train.py", TRAIN_PY), ("dvc.yaml", DVC_YAML), ("params.yaml", "lr: 0.1\n")):
        with open(os.path.join(path, name), "w") as f:
            f.write(text)
    run(tool, "repro", "-q")
    run("git", "add", "-A")
    run("git", "commit", "-q", "-m", "baseline")
    return run


def exp_count(path, env):
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/exps/"], cwd=path, env=env,
                          capture_output=True, text=True).stdout
    return sum(1 for r in refs.split() if len(r.split("/")) == 5 and len(r.split("/")[2]) == 2)


def queue_sweep(tool, path, env, run, dvc_mode):
    """Seconds from `queue start -j 2` until 8 queued one-second experiments are done."""
    values = ",".join(f"0.{i}" for i in range(1, 9))
    before = exp_count(path, env)
    run(tool, "exp", "run", "--queue", "-S", f"lr={values}")
    t0 = time.monotonic()
    run(tool, "queue", "start", "-j", "2")
    deadline = t0 + 300
    while time.monotonic() < deadline:
        out = subprocess.run([tool, "queue", "status"], cwd=path, env=env, capture_output=True, text=True).stdout
        busy = any(w in out for w in ("Queued", "Running"))
        if not busy and "Success" in out:
            break
        time.sleep(0.05 if not dvc_mode else 0.2)
    secs = time.monotonic() - t0
    n = exp_count(path, env) - before
    if n != 8:
        say(f"  WARNING: {tool}: {n} experiments after the sweep, expected 8")
    subprocess.run([tool, "queue", "stop"], cwd=path, env=env, capture_output=True)
    return secs


def experiment_rows(dvx, dvc, work, quick=False, reps=3):
    base = os.path.join(work, "experiments")
    shutil.rmtree(base, ignore_errors=True)
    env = env_for(base)
    rows = []
    tools = [("dvx", dvx)] + ([("dvc", dvc)] if dvc else [])
    results = {}
    for name, tool in tools:
        p = os.path.join(base, name)
        run = make_project(p, tool, env)
        r = {}
        n = 1 if quick else reps
        r["repro -f"] = median_times([tool, "repro", "-f", "-q"], p, env, n)[0]
        r["exp run"] = median_times([tool, "exp", "run", "-q", "-f", "-n", "bench"], p, env, n)[0]
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=p, env=env)
        r["queue 8 x 1 s, -j 2"] = queue_sweep(tool, p, env, run, name == "dvc")
        say(f"  {name}: repro -f {fmt(r['repro -f'])}, exp run {fmt(r['exp run'])}, "
            f"queue sweep {fmt(r['queue 8 x 1 s, -j 2'])}")
        results[name] = r
    rows.append(("1-stage pipeline, 1 s stage", "repro -f", results["dvx"]["repro -f"],
                 results.get("dvc", {}).get("repro -f"), ""))
    d = results["dvx"]
    rows.append(("1-stage pipeline, 1 s stage", "exp run", d["exp run"], results.get("dvc", {}).get("exp run"),
                 f"≤ repro -f + 50 ms {'met' if d['exp run'] <= d['repro -f'] + 0.05 else '**not met**'} "
                 f"(+{(d['exp run'] - d['repro -f']) * 1000:.0f} ms)"))
    rows.append(("1-stage pipeline, 1 s stage", "queue 8 × 1 s, -j 2", d["queue 8 x 1 s, -j 2"],
                 results.get("dvc", {}).get("queue 8 x 1 s, -j 2"),
                 f"≤ 5.5 s {'met' if d['queue 8 x 1 s, -j 2'] <= 5.5 else '**not met**'}"))

    for count, target in ((20, "≥ 30× DVC"), (1000, "< 1 s")):
        if quick and count > 20:
            continue
        p = os.path.join(base, f"show-{count}")
        make_project(p, dvx, env)
        make_experiments(p, env, count)
        args = ["exp", "show", "-f", "--json"]
        d = median_times([dvx, *args], p, env, reps)[0]
        c = median_times([dvc, *args], p, env, 1) [0] if dvc and count <= 100 else None
        if count == 20:
            verdict = "" if c is None else ("met" if c / d >= 30 else "**not met**")
        else:
            verdict = "met" if d < 1 else "**not met**"
        say(f"  exp show --json, {count} experiments: dvx {fmt(d)}" + (f", dvc {fmt(c)}" if c else ""))
        rows.append((f"{count} experiments", "exp show --json", d, c, f"{target} {verdict}"))
    shutil.rmtree(base, ignore_errors=True)
    return rows


def render(rows) -> str:
    out = ["| setup | operation | dvx | DVC | speed-up | target |", "|---|---|---:|---:|---:|---|"]
    for g, op, d, c, target in rows:
        ratio = c / d if c else None
        out.append(f"| {g} | {op} | {fmt(d)} | {fmt(c)} | {'' if ratio is None else f'{ratio:.1f}×'} | {target} |")
    return "\n".join(out)


if __name__ == "__main__":
    from pipelines import group_main
    group_main(experiment_rows, render)
