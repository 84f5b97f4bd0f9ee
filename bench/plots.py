#!/usr/bin/env python3
"""Plots rows of the benchmark: `./dev bench --only plots` (or python3 bench/plots.py).

A Git repository with a top-level plot over a 10,000-row CSV (step,loss,acc) committed in three
revisions; `plots diff` of the three revisions, as --json (what the VS Code extension asks) and as
the HTML page. Each is timed for dvx and, when present (DVX_BENCH_DVC=dvc-real), for DVC.
Target: dvx >= 20x faster than DVC.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pipelines import env_for, fmt, median_times  # noqa: E402

ROWS = 10_000
DVC_YAML = "plots:\n- loss:\n    x: step\n    y:\n      train.csv: loss\n    title: Loss\n"


def write_csv(path, seed):
    rnd = random.Random(seed)
    lines = ["step,loss,acc"]
    loss, acc = 2.0, 0.1
    for i in range(ROWS):
        loss *= 0.9995 + rnd.random() * 0.0004
        acc = min(1.0, acc + rnd.random() * 0.0002)
        lines.append(f"{i},{loss:.6f},{acc:.6f}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def make_project(path, tool, env):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    run = lambda *a: subprocess.run(a, cwd=path, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: E731
    run("git", "init", "-q")
    run(tool, "init", "-q")
    with open(os.path.join(path, "dvc.yaml"), "w") as f:
        f.write(DVC_YAML)
    for rev in range(3):
        write_csv(os.path.join(path, "train.csv"), rev)
        run("git", "add", "-A")
        run("git", "commit", "-q", "-m", f"run {rev}")


def plots_rows(dvx, dvc, work, quick, reps, say=print):
    base = os.path.join(work, "plots")
    os.makedirs(base, exist_ok=True)
    env = env_for(base)
    tools = [("dvx", dvx)] + ([("dvc", dvc)] if dvc else [])
    res = {}
    ops = (("plots diff --json", ["plots", "diff", "HEAD~2", "HEAD~1", "HEAD", "--json"]),
           ("plots diff (HTML page)", ["plots", "diff", "HEAD~2", "HEAD~1", "HEAD"]))
    for tname, exe in tools:
        p = os.path.join(base, tname)
        make_project(p, exe, env)
        for op, args in ops:
            n = 1 if (tname == "dvc" and quick) else reps
            res[(tname, op)] = median_times([exe, *args], p, env, n)
            wall, cpu = res[(tname, op)]
            say(f"  {tname} {op} of 3 x {ROWS} rows: {wall:.3f} s wall, {cpu:.3f} s CPU")
    rows = []
    for op, _ in ops:
        d, c = res[("dvx", op)], res.get(("dvc", op))
        rows.append((f"3 revisions x {ROWS:,} rows", op, d, c))
    shutil.rmtree(base, ignore_errors=True)
    return rows


def render(rows) -> str:
    """Wall and CPU (user + sys) medians; the target is met when the wall-time ratio is >= 20x."""
    out = ["| plots | operation | dvx wall | dvx CPU | DVC wall | DVC CPU | speed-up (wall) | speed-up (CPU) | target | met |",
           "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for g, op, (d, dcpu), c in rows:
        c, ccpu = c if c else (None, None)
        ratio = c / d if c else None
        cratio = ccpu / dcpu if c and dcpu else None
        met = "—" if ratio is None else ("met" if ratio >= 20 else "**not met**")
        out.append(f"| {g} | {op} | {fmt(d)} | {fmt(dcpu)} | {fmt(c)} | {fmt(ccpu)} | "
                   f"{'' if ratio is None else f'{ratio:.0f}×'} | {'' if cratio is None else f'{cratio:.0f}×'} | ≥ 20× | {met} |")
    return "\n".join(out)


if __name__ == "__main__":
    from pipelines import group_main
    group_main(plots_rows, render)
