#!/usr/bin/env python3
"""Checkout (copy) by layout: `python3 bench/run.py --only layouts` (or python3 bench/layouts.py).
Creating files in one folder takes that folder's lock, so workers that share a folder mostly wait
on each other: dvx spreads its workers across folders and goes file by file only for large files
(workspace.cpp). Rows: one flat folder of 5,000 × 1 KiB, the same files in 50 folders, and 8 ×
32 MiB in one folder; dvx as it chooses, dvx on one thread (`core.checksum_jobs 1`), DVC when
given, and `cp -r` as the floor; every run creates its files in a fresh folder (a fresh clone
sharing the project's cache), as ext4 is slow to create files where many were just deleted. Wall and CPU (user + sys) time: a layout where more threads only
add kernel time shows it in the CPU column. Each run's result is checked (every file's bytes).
Target: dvx wall ≤ 1.5× `cp -r` (issue 14) and never slower than dvx on one thread by more than
10%.
"""
from __future__ import annotations

import filecmp
import os
import shutil
import subprocess

from pipelines import env_for, fmt, med, timed, tracked_repo

HERE = os.path.dirname(os.path.abspath(__file__))

LAYOUTS = [  # title, folders, files per folder, bytes per file
    ("5,000 × 1 KiB, one folder", 1, 5000, 1024),
    ("5,000 × 1 KiB, 50 folders", 50, 100, 1024),
    ("8 × 32 MiB, one folder", 1, 8, 32 << 20),
]


def make_data(src, folders, per, size):
    for d in range(folders):
        base = os.path.join(src, f"d{d:02}") if folders > 1 else src
        os.makedirs(base, exist_ok=True)
        for i in range(per):
            with open(os.path.join(base, f"f{i:05}.bin"), "wb") as f:
                f.write(os.urandom(size) if size <= 1 << 20 else os.urandom(1 << 20) * (size >> 20))


def same_tree(a, b):
    n = 0
    for root, _, files in os.walk(a):
        for fn in files:
            p = os.path.join(root, fn)
            q = os.path.join(b, os.path.relpath(p, a))
            if not os.path.exists(q) or not filecmp.cmp(p, q, shallow=False):
                return f"{os.path.relpath(p, a)} differs"
            n += 1
    m = sum(len(f) for _, _, f in os.walk(b))
    return None if m == n else f"{m} files, expected {n}"


def layout_rows(dvx, dvc, work, quick, reps, say=print):
    top = os.path.join(work, "layouts")
    if os.path.exists(top):  # an earlier run's files go at the end: deleting them now would slow this run
        os.rename(top, f"{top}.old-{os.getpid()}")
    os.makedirs(top)
    env = env_for(top)
    rows = []
    for title, folders, per, size in LAYOUTS:
        if quick and size > 1 << 20:
            continue
        base = os.path.join(top, f"layout-{len(rows)}")  # nothing is deleted until the end
        os.makedirs(base)
        src = os.path.join(base, "src")
        make_data(src, folders, per, size)
        # ext4 skips inodes freed in the last minute when it allocates new ones (recently_deleted),
        # which makes creating files where many were just deleted several times slower. So no run
        # deletes and re-creates in one place: each checks out in a fresh clone of the project
        # (sharing its cache) and the floor copies into a fresh folder, as after a `git clone`.
        result = {}
        floor = []
        tools = [("dvx", dvx, None), ("dvx, 1 thread", dvx, "1")] + ([("DVC", dvc, None)] if dvc else [])
        for name, exe, jobs in tools:
            origin = os.path.join(base, "repo-" + name.replace(" ", "").replace(",", ""))
            run = tracked_repo(origin, exe, env, src)
            run("git", "add", "-A")
            run("git", "commit", "-q", "-m", "data")
            ts = []
            for r in range(reps):
                if name == "dvx":  # the floor: cp -r of the same tree into a fresh folder
                    dst = os.path.join(base, f"floor-{r}")
                    os.makedirs(dst)
                    subprocess.run(["sync"])
                    floor.append(timed(["cp", "-r", src, os.path.join(dst, "data")], dst, env))
                clone = os.path.join(base, f"clone-{len(result)}-{r}")
                subprocess.run(["git", "clone", "-q", origin, clone], env=env, check=True)
                subprocess.run([exe, "config", "--local", "cache.dir", os.path.join(origin, ".dvc", "cache")],
                               cwd=clone, env=env, check=True, stdout=subprocess.DEVNULL)
                if jobs:
                    subprocess.run([exe, "config", "--local", "core.checksum_jobs", jobs], cwd=clone, env=env,
                                   check=True, stdout=subprocess.DEVNULL)
                subprocess.run(["sync"])
                ts.append(timed([exe, "checkout"], clone, env))
                problem = same_tree(src, os.path.join(clone, "data"))
                if problem:
                    raise RuntimeError(f"{name} checkout of {title}: {problem}")
            result[name] = (med([t[0] for t in ts]), med([t[2] for t in ts]))
            say(f"  {title}: {name} checkout {fmt(result[name][0])} (cpu {fmt(result[name][1])})")
        result["floor"] = (med([t[0] for t in floor]), med([t[2] for t in floor]))
        rows.append((title, result))
    for e in os.listdir(work):
        if e == "layouts" or e.startswith("layouts.old-"):
            shutil.rmtree(os.path.join(work, e), ignore_errors=True)
    return rows


def render(rows) -> str:
    out = ["| layout | cp -r (wall / cpu) | dvx | dvx, 1 thread | DVC | dvx / cp -r | target |",
           "|---|---:|---:|---:|---:|---:|---|"]
    for title, r in rows:
        cell = lambda k: "—" if not r.get(k) else f"{fmt(r[k][0])} / {fmt(r[k][1])}"
        ratio = r["dvx"][0] / r["floor"][0]
        serial_ok = r["dvx"][0] <= 1.1 * r["dvx, 1 thread"][0]
        met = ratio <= 1.5 and serial_ok
        out.append(f"| {title} | {cell('floor')} | {cell('dvx')} | {cell('dvx, 1 thread')} | {cell('DVC')} | "
                   f"{ratio:.2f}× | ≤ 1.5× and ≤ 1.1× 1 thread: {'met' if met else '**not met**'} |")
    return "\n".join(out)


if __name__ == "__main__":
    from pipelines import group_main
    group_main(layout_rows, render)
