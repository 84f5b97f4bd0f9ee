#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ from the DVC-made fixtures
(tests/fixtures/*.tar.gz and tests/fixtures/exp_set) plus a few hostile hand-written inputs.
Files are named by the sha1 of their bytes (as libFuzzer names corpus files), so re-running adds
nothing twice. `./dev fuzz` grows the corpora; this only seeds them.
    python3 scripts/make_fuzz_seeds.py
"""
import hashlib
import os
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
MAX_BYTES = 64 << 10
PARAMS_BYTE = {".yaml": b"\x00", ".yml": b"\x00", ".json": b"\x01", ".toml": b"\x02", ".py": b"\x03"}


def put(target, data):
    if len(data) > MAX_BYTES:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def classify(name, data):
    base = os.path.basename(name)
    if base.endswith(".dvc") and "/.dvc/" not in "/" + name:
        put("dvc_file", data)
    elif base.endswith(".dir") and "/cache/" in name or "/files/md5/" in name and base.endswith(".dir"):
        put("manifest", data)
    elif base == "dvc.yaml":
        put("dvc_yaml", data)
    elif base == "dvc.lock":
        put("dvc_lock", data)
    elif base in ("config", "config.local") and "/.dvc/" in "/" + name:
        put("ini", data)
    elif base == ".dvcignore":
        put("dvcignore", data)
    else:
        ext = os.path.splitext(base)[1]
        if base.startswith("params") and ext in PARAMS_BYTE:
            put("params", PARAMS_BYTE[ext] + data)


def main():
    for tgz in sorted(f for f in os.listdir(FIX) if f.endswith(".tar.gz")):
        with tarfile.open(os.path.join(FIX, tgz)) as tar:
            yamls, params = [], []
            for m in tar.getmembers():
                if not m.isfile():
                    continue
                data = tar.extractfile(m).read()
                classify(m.name, data)
                if os.path.basename(m.name) == "dvc.yaml":
                    yamls.append((os.path.dirname(m.name), data))
                if os.path.basename(m.name).startswith("params"):
                    params.append((os.path.dirname(m.name), data))
            # dvc.yaml + NUL + the params file beside it (the dvc_yaml target's vars file)
            for d, y in yamls:
                for pd, p in params:
                    if pd == d:
                        put("dvc_yaml", y + b"\0" + p)
    exp_set = os.path.join(FIX, "exp_set")
    if os.path.isdir(exp_set):
        for dirpath, _, files in os.walk(exp_set):
            for f in files:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    classify(os.path.join(dirpath, f), fh.read())
    # hostile inputs
    put("dvc_file", b"outs:\n- md5: ../../etc/passwd\n  path: ../../x\n")
    put("dvc_file", b"outs: &a [*a]\n")
    put("manifest", b'[{"md5": "00000000000000000000000000000000", "relpath": "../escape"}]')
    put("manifest", b"[" * 10000)
    put("dvc_yaml", b"a: &a [*a, *a, *a]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\n")
    put("dvc_yaml", b"stages:\n  s:\n    foreach: ${x}\n    do:\n      cmd: ${item}\n\0x: [1, 2, 3]\n")
    put("dvc_yaml", b"vars:\n- p.yaml\nstages:\n  s:\n    cmd: echo ${a.b.c}\n\0a: {b: {c: 1}}\n")
    put("dvc_lock", b"schema: '2.0'\nstages:\n  x:\n    cmd: a\n    deps:\n    - path: ../../x\n      md5: 1\n")
    put("params", b"\x02[a]\nb = 1\n[[c]]\nd = 2020-01-01T00:00:00Z\n")
    put("params", b"\x03X = 1\nclass A:\n    y = [1, 2]\n")
    put("params", b"\x01" + b"[" * 5000)
    put("ini", b"[core]\nremote = x\n['remote \"x\"']\nurl = s3://b\n")
    put("ini", b"[\n")
    put("dvcignore", b"*.log\n!keep.log\n/dir/**\n\\#x\n[a-\n")
    for t in sorted(os.listdir(OUT)):
        print(f"{t}: {len(os.listdir(os.path.join(OUT, t)))} seeds")


if __name__ == "__main__":
    main()
