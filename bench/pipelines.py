#!/usr/bin/env python3
"""Pipeline rows of the benchmark: `./dev bench --only pipelines` (or python3 bench/pipelines.py).

- foreach of N small copy stages plus a collector: first repro vs the same N+1 commands through
  `sh -c` in a loop (target <= 1.3x); no-op status and no-op repro vs a `find` over deps and outs
  (target <= 3x find + 5 ms), and vs DVC when present (target >= 50x faster).
- repro -j 4 of 8 independent `sleep 1` stages plus a join: absolute (target <= 2.5 s); -j 1 too.
- foreach of 3,000 stages (300 in --quick... scaled): no-op status wall time (< 1 s), peak RSS.
Stage commands run through $SHELL -c: SHELL=/bin/sh for fairness with the floor.
"""
from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(argv, cwd, env):
    """Wall time, peak RSS (KB) and CPU time (user + sys seconds) of one child."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {err[-500:]}")
    return secs, ru.ru_maxrss, ru.ru_utime + ru.ru_stime


def median_times(argv, cwd, env, n):
    """Median wall and median CPU seconds of n runs of one child (CPU time is what a loaded
    machine disturbs least)."""
    runs = [timed(argv, cwd, env) for _ in range(max(n, 1))]
    return med([r[0] for r in runs]), med([r[2] for r in runs])


def med(xs):
    return statistics.median(xs) if xs else None


def env_for(base):
    home = os.path.join(base, "home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ)
    env.update({"HOME": home, "SHELL": "/bin/sh", "NO_COLOR": "1", "LC_ALL": "C",
                "DVC_NO_ANALYTICS": "1", "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.invalid",
                "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.invalid"})
    return env


def foreach_yaml(n: int) -> str:
    items = "\n".join(f"      - s{i}" for i in range(n))
    return (
        "stages:\n"
        "  copy:\n"
        "    foreach:\n" + items + "\n"
        "    do:\n"
        "      cmd: cp in/${item}.txt out/${item}.txt\n"
        "      deps:\n      - in/${item}.txt\n"
        "      outs:\n      - out/${item}.txt\n"
        "  collect:\n"
        "    cmd: cat out/*.txt > all.txt\n"
        "    deps:\n    - out\n"
        "    outs:\n    - all.txt\n")


def sleep_yaml() -> str:
    s = "stages:\n"
    for i in range(8):
        s += f"  sleep{i}:\n    cmd: sleep 1 && echo {i} > s{i}.txt\n    outs:\n    - s{i}.txt\n"
    s += "  join:\n    cmd: cat " + " ".join(f"s{i}.txt" for i in range(8)) + " > join.txt\n    deps:\n"
    s += "".join(f"    - s{i}.txt\n" for i in range(8)) + "    outs:\n    - join.txt\n"
    return s


def make_project(path, tool, env, yaml_text, n_inputs=0):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)
    subprocess.run(["git", "init", "-q"], cwd=path, env=env, check=True)
    subprocess.run([tool, "init", "-q"], cwd=path, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    if n_inputs:
        os.makedirs(os.path.join(path, "in"))
        os.makedirs(os.path.join(path, "out"))
        for i in range(n_inputs):
            with open(os.path.join(path, "in", f"s{i}.txt"), "w") as f:
                f.write(f"input {i}\n")
    with open(os.path.join(path, "dvc.yaml"), "w") as f:
        f.write(yaml_text)


def floor_loop(path, n, env, reps):
    """The same n+1 commands through sh -c in a loop (one fork+exec of sh each)."""
    script = ("import subprocess,sys\n"
              f"for i in range({n}):\n"
              "    subprocess.run(['/bin/sh','-c',f'cp in/s{i}.txt out/s{i}.txt'],check=True)\n"
              "subprocess.run(['/bin/sh','-c','cat out/*.txt > all.txt'],check=True)\n")
    ts = []
    for _ in range(reps):
        shutil.rmtree(os.path.join(path, "out"), ignore_errors=True)
        os.makedirs(os.path.join(path, "out"))
        ts.append(timed([sys.executable, "-S", "-c", script], path, env)[0])
    # python start-up is part of the loop's time: subtract it for a fair floor
    py = med([timed([sys.executable, "-S", "-c", "pass"], path, env)[0] for _ in range(3)])
    return max(med(ts) - py, 1e-4)


def floor_find(path, env, reps):
    return med([timed(["find", "in", "out", "all.txt", "dvc.yaml", "dvc.lock"], path, env)[0]
                for _ in range(reps)])


def pipeline_rows(dvx, dvc, work, quick, reps, say=print):
    n = 50 if quick else 300
    big = 300 if quick else 3000
    rows = []   # (group, op, dvx_s, floor_label, floor_s, ratio, target, met, dvc_s, extra)
    base = os.path.join(work, "pipelines")
    os.makedirs(base, exist_ok=True)
    env = env_for(base)
    tools = [("dvx", dvx)] + ([("dvc", dvc)] if dvc else [])
    res: dict = {}
    for tname, exe in tools:
        p = os.path.join(base, f"{tname}-foreach{n}")
        make_project(p, exe, env, foreach_yaml(n), n)
        first = []
        for r in range(1 if tname == "dvc" else reps):
            if r:
                make_project(p, exe, env, foreach_yaml(n), n)
            first.append(timed([exe, "repro"], p, env)[0])
            say(f"  {tname} first repro of {n}+1 stages: {first[-1]:.3f} s")
        res[(tname, "first")] = med(first)
        # No-op runs are timed in a steady state, as the main table's status: after the state
        # db's racy window (files written in the last moments are hashed again, as git does)
        # and one untimed status.
        time.sleep(1.0)
        timed([exe, "status"], p, env)
        for op, argv in (("status", [exe, "status"]), ("noop", [exe, "repro"])):
            ts = [timed(argv, p, env)[0] for _ in range(reps)]
            res[(tname, op)] = med(ts)
            say(f"  {tname} no-op {op}: {med(ts):.3f} s")
        if tname == "dvx":
            res["loop"] = floor_loop(p, n, env, reps)
            # restore the outputs the loop rewrote (same contents: no-op stays no-op)
            res["find"] = floor_find(p, env, reps)
            say(f"  floors: sh -c loop {res['loop']:.3f} s, find {res['find']:.4f} s")
    g = f"foreach {n}+1"
    d = res[("dvx", "first")]
    rows.append((g, "first repro", d, "sh -c loop", res["loop"], d / res["loop"], "≤ 1.3×",
                 d / res["loop"] <= 1.3, res.get(("dvc", "first")), ""))
    for op, title in (("status", "status, no-op"), ("noop", "repro, no-op")):
        d = res[("dvx", op)]
        lim = 3 * res["find"] + 0.005
        rows.append((g, title, d, "find", res["find"], d / res["find"], "≤ 3× find + 5 ms",
                     d <= lim, res.get(("dvc", op)), ""))
    # -j
    p = os.path.join(base, "sleep8")
    for j in (4, 1):
        ts = []
        for _ in range(min(reps, 2)):
            make_project(p, dvx, env, sleep_yaml())
            ts.append(timed([dvx, "repro", "-j", str(j)], p, env)[0])
        d = med(ts)
        say(f"  repro -j {j} of 8 x sleep 1 + join: {d:.3f} s")
        rows.append(("8× sleep 1 + join", f"repro -j {j}", d, "absolute", None, None,
                     "≤ 2.5 s" if j == 4 else "—", (d <= 2.5) if j == 4 else None,
                     None, "DVC: serial ≈ -j 1"))
    # scale: status wall time and RSS at n and big
    for cnt in (n, big):
        p = os.path.join(base, f"foreach{cnt}")
        make_project(p, dvx, env, foreach_yaml(cnt), cnt)
        timed([dvx, "repro"], p, env)
        time.sleep(1.0)
        timed([dvx, "status"], p, env)
        ms = [timed([dvx, "status"], p, env) for _ in range(reps)]
        d = med([m[0] for m in ms])
        rss = max(m[1] for m in ms)
        say(f"  status of {cnt}+1 stages: {d:.3f} s, rss {rss / 1024:.1f} MB")
        rows.append((f"foreach {cnt}+1", "status, no-op (scale)", d, "absolute", None, None,
                     "< 1 s" if cnt == big else "—", (d < 1.0) if cnt == big else None, None,
                     f"peak RSS {rss / 1024:.1f} MB"))
    shutil.rmtree(base, ignore_errors=True)
    return rows


def fmt(s):
    if s is None:
        return "-"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def render(rows) -> str:
    out = ["| pipeline | operation | dvx | floor | ratio | target | met | DVC | note |",
           "|---|---|---:|---|---:|---|---|---:|---|"]
    for g, op, d, fl, fs, ratio, tgt, met, dvc, extra in rows:
        out.append(f"| {g} | {op} | {fmt(d)} | {fl + ': ' + fmt(fs) if fs else fl} | "
                   f"{'' if ratio is None else f'{ratio:.2f}×'} | {tgt} | "
                   f"{'—' if met is None else ('met' if met else '**not met**')} | "
                   f"{fmt(dvc)}{'' if dvc is None or d is None else f' ({dvc / d:.0f}× slower)'} | {extra} |")
    return "\n".join(out)


def tracked_repo(repo, exe, env, src):
    """A fresh Git + DVC repository at `repo` (emptied first) with a copy of `src` as `data`,
    tracked by `exe add`; returns run(*argv) for more commands in it."""
    shutil.rmtree(repo, ignore_errors=True)
    os.makedirs(repo)
    run = lambda *a: subprocess.run(a, cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: E731
    run("git", "init", "-q")
    run(exe, "init", "-q")
    shutil.copytree(src, os.path.join(repo, "data"))
    run(exe, "add", "data")
    return run


def group_main(rows_of, render) -> None:
    """The command line of a bench group run on its own (python3 bench/<group>.py): --quick,
    --reps, --work; dvx from DVX_BIN (default build/dvx), DVC from DVX_BENCH_DVC or a `dvc` on
    PATH that is not dvx."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    a = ap.parse_args()
    dvx = os.path.abspath(os.environ.get("DVX_BIN") or os.path.join(HERE, "..", "build", "dvx"))
    dvc = os.environ.get("DVX_BENCH_DVC") or shutil.which("dvc")
    if dvc and (os.path.realpath(dvc) == os.path.realpath(dvx) or "dvx" in os.path.basename(os.path.realpath(dvc))):
        dvc = None
    print(render(rows_of(dvx, dvc, a.work, a.quick, a.reps)))


if __name__ == "__main__":
    group_main(pipeline_rows, render)
