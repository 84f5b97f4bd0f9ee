#!/usr/bin/env python3
"""Metrics/params rows of the benchmark: `python3 bench/run.py --only metrics` (or
python3 bench/metrics.py). A Git repository with 50 commits, each changing params.yaml (YAML),
params.json and a metrics.json declared in dvc.yaml (a stage with params deps and a metrics
output, plus top-level metrics): `metrics show -A` (every commit read from Git) and
`params diff HEAD~49` / `metrics diff HEAD~1`; then 100 experiments made with git on HEAD
(commit-tree on the baseline + update-ref refs/exps/...): `exp show -f` (JSON and table; -f makes
DVC read every experiment rather than its exp cache) and `exp diff` of two of them; against DVC
when DVX_BENCH_DVC is set (target: >= 20x faster).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

from pipelines import env_for, fmt, median_times

HERE = os.path.dirname(os.path.abspath(__file__))

DVC_YAML = """stages:
  train:
    cmd: python3 -c pass
    params:
    - lr
    - train.epochs
    - params.json:
      - batch
    metrics:
    - metrics.json:
        cache: false
metrics:
- eval/scores.yaml
"""


def make_repo(path, tool, env, commits):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(os.path.join(path, "eval"))
    run = lambda *a: subprocess.run(a, cwd=path, env=env, check=True, stdout=subprocess.DEVNULL)
    run("git", "init", "-q")
    run(tool, "init", "-q")
    with open(os.path.join(path, "dvc.yaml"), "w") as f:
        f.write(DVC_YAML)
    for i in range(commits):
        with open(os.path.join(path, "params.yaml"), "w") as f:
            f.write(f"lr: {0.001 * (i + 1)}\ntrain:\n  epochs: {10 + i}\n  layers: [16, 8]\nname: run{i}\n")
        with open(os.path.join(path, "params.json"), "w") as f:
            json.dump({"batch": 32 + i, "flip": i % 2 == 0}, f)
        with open(os.path.join(path, "metrics.json"), "w") as f:
            json.dump({"acc": 0.5 + i / 200, "loss": {"train": 1 / (i + 1), "val": 1.5 / (i + 1)}, "epoch": i}, f)
        with open(os.path.join(path, "eval", "scores.yaml"), "w") as f:
            f.write(f"auc: {0.7 + i / 500}\nf1: {0.6 + i / 400}\n")
        run("git", "add", "-A")
        run("git", "commit", "-q", "-m", f"run {i}")


def make_experiments(path, env, n):
    """n experiments on HEAD, each one commit (parent: HEAD) with its own params and metrics."""
    out = lambda *a: subprocess.run(a, cwd=path, env=env, check=True, capture_output=True).stdout.decode().strip()
    base = out("git", "rev-parse", "HEAD")
    for i in range(n):
        with open(os.path.join(path, "params.yaml"), "w") as f:
            f.write(f"lr: {0.0005 * (i + 1)}\ntrain:\n  epochs: {5 + i % 7}\n  layers: [16, 8]\nname: exp{i}\n")
        with open(os.path.join(path, "metrics.json"), "w") as f:
            json.dump({"acc": 0.6 + i / 400, "loss": {"train": 1 / (i + 2), "val": 1.2 / (i + 2)}, "epoch": i}, f)
        out("git", "add", "-A")
        tree = out("git", "write-tree")
        commit = out("git", "commit-tree", tree, "-p", base, "-m", f"dvc: commit experiment {i}")
        out("git", "update-ref", f"refs/exps/{base[:2]}/{base[2:]}/exp-{i}", commit)
    out("git", "reset", "-q", "--hard", "HEAD")


def metrics_rows(dvx, dvc, work, quick, reps, say=print):
    commits = 50
    base = os.path.join(work, "metrics")
    os.makedirs(base, exist_ok=True)
    env = env_for(base)
    p = os.path.join(base, "repo")
    make_repo(p, dvx, env, commits)
    ops = [("metrics show -A", ["metrics", "show", "-A", "--json"]),
           ("metrics show -A (table)", ["metrics", "show", "-A"]),
           ("params diff HEAD~49", ["params", "diff", f"HEAD~{commits - 1}", "--json"]),
           ("params diff --all", ["params", "diff", "--all"]),
           ("metrics diff HEAD~1", ["metrics", "diff", "HEAD~1"])]
    experiments = 100
    exp_ops = [("exp show -f --json", ["exp", "show", "-f", "--json"]),
               ("exp show -f (table)", ["exp", "show", "-f"]),
               ("exp diff exp-1 exp-2", ["exp", "diff", "exp-1", "exp-2", "--json"])]
    rows = []
    for group, group_ops in ((f"{commits} commits", ops), (f"{experiments} experiments", exp_ops)):
        if group_ops is exp_ops:
            make_experiments(p, env, experiments)
        for title, args in group_ops:
            d = median_times([dvx, *args], p, env, reps)[0]
            c = median_times([dvc, *args], p, env, 1 if quick else min(reps, 2))[0] if dvc else None
            say(f"  {title}: dvx {fmt(d)}" + (f", dvc {fmt(c)} ({c / d:.0f}x)" if c else ""))
            rows.append((group, title, d, c))
    ops = ops + exp_ops
    if dvc:  # the same answers
        for _, args in ops:
            if "--json" in args:
                a = json.loads(subprocess.run([dvx, *args], cwd=p, env=env, capture_output=True).stdout)
                b = json.loads(subprocess.run([dvc, *args], cwd=p, env=env, capture_output=True).stdout)
                if a != b:
                    say(f"  WARNING: dvx and dvc disagree on {' '.join(args)}")
    shutil.rmtree(base, ignore_errors=True)
    return rows


def render(rows) -> str:
    out = ["| repository | operation | dvx | DVC | speed-up | target |", "|---|---|---:|---:|---:|---|"]
    for g, op, d, c in rows:
        ratio = c / d if c else None
        out.append(f"| {g} | {op} | {fmt(d)} | {fmt(c)} | {'' if ratio is None else f'{ratio:.0f}×'} | "
                   f"≥ 20× {'' if ratio is None else ('met' if ratio >= 20 else '**not met**')} |")
    return "\n".join(out)


if __name__ == "__main__":
    from pipelines import group_main
    group_main(metrics_rows, render)
