#!/usr/bin/env python3
"""S3 remote rows of the benchmark: `python3 bench/run.py --only remotes` (or python3
bench/remotes.py). N files of 10 KB (20,000; 2,000 with --quick) pushed to and pulled from a
moto_server started here on 127.0.0.1, by dvx, by `aws s3 sync` (the AWS CLI) and by DVC when
given (DVX_BENCH_DVC or a `dvc` on PATH that is not dvx), in one run. moto serves a few hundred
requests per second and bounds everyone's wall time, so each row also gives the client's own CPU
time (user + sys of the process and its children) per object and the number of HTTP requests
the server saw (counted from its log). Then a second push of the same data: only listing
requests are expected. Every run's result is checked (objects counted in the bucket; pulled
files compared with the source).

Targets (issue 13): wall <= 0.8x DVC's; client CPU per object <= 1/10 of DVC's; requests <= one
list page per 1000 keys plus one transfer per missing object; a second push lists only.
"""
from __future__ import annotations

import filecmp
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

from pipelines import env_for, fmt, timed, tracked_repo

HERE = os.path.dirname(os.path.abspath(__file__))
ACCESS, SECRET = "AKIDDVXBENCH", "bench-secret-never-printed"
REQUEST = re.compile(rb'"(GET|PUT|POST|HEAD|DELETE) ')


class Moto:
    def __init__(self, work):
        self.log = os.path.join(work, "moto.log")
        s = __import__("socket").socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([shutil.which("moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).read()
                return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.1)

    def requests(self) -> int:
        with open(self.log, "rb") as f:
            return len(REQUEST.findall(f.read()))

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def make_data(src, n, size=10_000):
    for i in range(n):
        d = os.path.join(src, f"{i // 1000:03d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:06d}.bin"), "wb") as f:
            f.write(os.urandom(size))


def same_tree(a, b):
    n = sum(len(f) for _, _, f in os.walk(a))
    m = sum(len(f) for _, _, f in os.walk(b))
    if n != m:
        return f"{m} files, expected {n}"
    for root, _, files in os.walk(a):
        for fn in files[::50]:
            p = os.path.join(root, fn)
            if not filecmp.cmp(p, os.path.join(b, os.path.relpath(p, a)), shallow=False):
                return f"{os.path.relpath(p, a)} differs"
    return None


def remote_rows(dvx, dvc, work, quick, reps, say=print):  # noqa: ARG001 (reps: one run each)
    n = 2_000 if quick else 20_000
    base = os.path.join(work, "remotes")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    # AWS_REQUEST_CHECKSUM_CALCULATION: the AWS CLI (botocore >= 1.36) adds CRC32 checksums to
    # uploads by default; DVC 3.64's botocore and dvx send none. moto's CompleteMultipartUpload
    # takes another path with them (per-part checksums) than without (one more copy of the whole
    # object, checksummed: ~5 s more of its time for 1 GiB here), so all three tools are measured
    # making the same requests.
    env = dict(env_for(base), AWS_ACCESS_KEY_ID=ACCESS, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
               AWS_REQUEST_CHECKSUM_CALCULATION="when_required")
    src = os.path.join(base, "src")
    make_data(src, n)
    moto = Moto(base)
    rows = []

    def count_keys(bucket):
        out = subprocess.run(["aws", "--endpoint-url", moto.url, "s3", "ls", "--recursive", f"s3://{bucket}/"],
                             env=env, capture_output=True, text=True, check=True).stdout
        return len(out.splitlines())

    def measure(tool, op, argv, cwd, objects, check, run_env=None, count=True):
        before = moto.requests() if count else 0
        secs, rss, cpu = timed(argv, cwd, run_env or env)
        reqs = moto.requests() - before if count else None
        problem = check()
        if problem:
            raise RuntimeError(f"{tool} {op}: result check failed: {problem}")
        say(f"  {tool} {op}: {fmt(secs)} wall, {fmt(cpu)} cpu ({cpu / max(objects, 1) * 1e6:.0f} µs/object), "
            f"{reqs if reqs is not None else '-'} requests, rss {rss / 1024:.0f} MB")
        rows.append({"tool": tool, "op": op, "wall": secs, "cpu": cpu, "objects": objects, "requests": reqs,
                     "rss_kb": rss})

    try:
        subprocess.run(["aws", "--endpoint-url", moto.url, "s3", "mb", "s3://bench"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        tools = [("dvx", dvx)] + ([("DVC", dvc)] if dvc else [])
        for name, exe in tools:
            repo = os.path.join(base, "repo-" + name)
            run = tracked_repo(repo, exe, env, src)
            run(exe, "remote", "add", "-d", "s3", f"s3://bench/{name}")
            run(exe, "remote", "modify", "s3", "endpointurl", moto.url)
            expect = n + 1  # + the .dir manifest
            got = lambda: (lambda k: None if k == expect else f"{k} objects in the bucket, expected {expect}")(
                count_keys(f"bench/{name}"))
            measure(name, "push", [exe, "push"], repo, expect, got)
            measure(name, "push again (nothing new)", [exe, "push"], repo, expect, got)
            shutil.rmtree(os.path.join(repo, ".dvc", "cache"))
            shutil.rmtree(os.path.join(repo, "data"))
            measure(name, "pull", [exe, "pull"], repo, expect, lambda: same_tree(src, os.path.join(repo, "data")))
        if shutil.which("aws"):
            dst = os.path.join(base, "aws-pull")
            aws = ["aws", "--endpoint-url", moto.url, "s3", "sync", "--only-show-errors"]
            measure("aws s3 sync", "push", aws + [src, "s3://bench/aws"], base, n,
                    lambda: (lambda k: None if k == n else f"{k} objects, expected {n}")(count_keys("bench/aws")))
            measure("aws s3 sync", "push again (nothing new)", aws + [src, "s3://bench/aws"], base, n, lambda: None)
            measure("aws s3 sync", "pull", aws + ["s3://bench/aws", dst], base, n, lambda: same_tree(src, dst))

        # One large file: streamed (memory flat) and multipart, against `aws s3 cp`.
        big_mib = 128 if quick else 1024
        big_dir = os.path.join(base, "big")
        os.makedirs(big_dir)
        big = os.path.join(big_dir, "big.bin")
        with open(big, "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(big_mib):
                f.write(block[i % 7:] + block[:i % 7])
        op = f"one {big_mib} MiB file"
        repo = os.path.join(base, "repo-big")
        run = tracked_repo(repo, dvx, env, big_dir)
        run(dvx, "remote", "add", "-d", "s3", "s3://bench/big-dvx")
        run(dvx, "remote", "modify", "s3", "endpointurl", moto.url)
        measure("dvx", f"push, {op}", [dvx, "push"], repo, 2,
                lambda: (lambda k: None if k == 2 else f"{k} objects, expected 2")(count_keys("bench/big-dvx")))
        shutil.rmtree(os.path.join(repo, ".dvc", "cache"))
        shutil.rmtree(os.path.join(repo, "data"))
        measure("dvx", f"pull, {op}", [dvx, "pull"], repo, 2, lambda: same_tree(big_dir, os.path.join(repo, "data")))
        if shutil.which("aws"):
            cp = ["aws", "--endpoint-url", moto.url, "s3", "cp", "--only-show-errors"]
            measure("aws s3 cp", f"push, {op}", cp + [big, "s3://bench/big-aws/big.bin"], base, 1,
                    lambda: (lambda k: None if k == 1 else f"{k} objects, expected 1")(count_keys("bench/big-aws")))
            got = os.path.join(base, "big-aws.bin")
            measure("aws s3 cp", f"pull, {op}", cp + ["s3://bench/big-aws/big.bin", got], base, 1,
                    lambda: None if filecmp.cmp(big, got, shallow=False) else "the file differs")
            os.remove(got)
        # The same file over SFTP (OpenSSH's sshd from tests/servers, started here), against scp.
        sftp_rows(big_dir, big, op, base, env, dvx, measure, say)
    finally:
        moto.stop()
        shutil.rmtree(base, ignore_errors=True)
    return rows


def sftp_rows(big_dir, big, op, base, env, dvx, measure, say):
    import sys
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "servers"))
    import sshd  # noqa: E402 (the test suite's server module)
    why = sshd.available()
    if why:
        say(f"  SFTP rows skipped: {why}")
        return
    with sshd.Server(os.path.join(base, "srv")) as server:
        url, opts = server.new_remote("big")
        senv = dict(env, **server.env())
        repo = os.path.join(base, "repo-big-sftp")
        run = tracked_repo(repo, dvx, senv, big_dir)
        run(dvx, "remote", "add", "-d", "ssh", url)
        for k, v in opts.items():
            run(dvx, "remote", "modify", "ssh", k, v)
        path = url[url.index(str(server.port)) + len(str(server.port)):]
        objects = lambda: sum(len(f) for _, _, f in os.walk(os.path.join(path, "files")))
        measure("dvx", f"push over SFTP, {op}", [dvx, "push"], repo, 2,
                lambda: (lambda k: None if k == 2 else f"{k} objects, expected 2")(objects()), senv, False)
        shutil.rmtree(os.path.join(repo, ".dvc", "cache"))
        shutil.rmtree(os.path.join(repo, "data"))
        measure("dvx", f"pull over SFTP, {op}", [dvx, "pull"], repo, 2,
                lambda: same_tree(big_dir, os.path.join(repo, "data")), senv, False)
        scp = ["scp", "-q", "-i", server.client_key, "-P", str(server.port), "-o", "BatchMode=yes",
               "-o", f"UserKnownHostsFile={os.path.join(server.home, '.ssh', 'known_hosts')}"]
        user = url.split("//", 1)[1].split("@", 1)[0]
        target = os.path.join(server.data, "scp-big.bin")
        measure("scp", f"push over SFTP, {op}", scp + [big, f"{user}@127.0.0.1:{target}"], base, 1,
                lambda: None if filecmp.cmp(big, target, shallow=False) else "the file differs", senv, False)
        got = os.path.join(base, "scp-got.bin")
        measure("scp", f"pull over SFTP, {op}", scp + [f"{user}@127.0.0.1:{target}", got], base, 1,
                lambda: None if filecmp.cmp(big, got, shallow=False) else "the file differs", senv, False)
        os.remove(got)


def render(rows) -> str:
    by = {(r["tool"], r["op"]): r for r in rows}
    out = ["| tool | operation | wall | client CPU | CPU per object | requests | peak RSS | dvx target |",
           "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        target = ""
        if r["tool"] == "dvx":
            checks = []
            dvc = by.get(("DVC", r["op"]))
            # One large file *to* the server (issue 13: push) <= 1.2x aws s3 cp / scp, memory
            # flat. A pull also verifies the download and copies it to the workspace: reported
            # beside the same tools' download, without a target.
            aws = by.get(("aws s3 cp", r["op"]))
            scp = by.get(("scp", r["op"]))
            if aws and r["op"].startswith("push"):
                checks.append(f"wall ≤ 1.2× aws s3 cp: {'met' if r['wall'] <= 1.2 * aws['wall'] else '**not met**'}")
            if scp and r["op"].startswith("push"):
                checks.append(f"wall ≤ 1.2× scp: {'met' if r['wall'] <= 1.2 * scp['wall'] else '**not met**'}")
            if (aws or scp) and r["op"].startswith("pull"):
                checks.append("— (reported)")
            if dvc and r["op"] != "push again (nothing new)":
                checks.append(f"wall ≤ 0.8× DVC: {'met' if r['wall'] <= 0.8 * dvc['wall'] else '**not met**'}")
                checks.append(f"CPU ≤ 1/10 DVC: {'met' if r['cpu'] <= dvc['cpu'] / 10 else '**not met**'}")
            if r["requests"] is not None and not aws:  # (a large file goes in parts: no request target)
                pages = -(-r["objects"] // 1000)
                limit = pages if r["op"] == "push again (nothing new)" else pages + r["objects"] + 2
                checks.append(f"requests ≤ {limit}: {'met' if r['requests'] <= limit else '**not met**'}")
            target = "; ".join(checks)
        out.append(f"| {r['tool']} | {r['op']} | {fmt(r['wall'])} | {fmt(r['cpu'])} | "
                   f"{r['cpu'] / max(r['objects'], 1) * 1e6:.0f} µs | {r['requests'] if r['requests'] is not None else '—'} | "
                   f"{r['rss_kb'] / 1024:.0f} MB | {target} |")
    return "\n".join(out)


if __name__ == "__main__":
    from pipelines import group_main
    group_main(remote_rows, render)
