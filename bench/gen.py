#!/usr/bin/env python3
"""Deterministic benchmark data sets for bench/run.py.

Two shapes:

- many files: N files of S bytes each, nested two folders deep
  (``d{top:03}/d{mid:02}/f{i:07}.bin``, at most 100 files per leaf folder and 100 leaf folders per
  top folder), so 10k files make 1 top folder, 100k make 10 and 1M make 100;
- one large file of S bytes (``big.bin``).

Every file's bytes depend only on (seed, index, size): a per-file text header followed by a slice
of one pseudo-random block made by ``random.Random(seed)``. No two files are equal, so neither
dvx's cache nor any baseline can deduplicate. Running the generator twice gives the same bytes.

A data set is written to ``<dest>.tmp`` and renamed to ``<dest>`` when complete; a stamp file
``<dest>.json`` records the parameters, so a later run reuses a complete data set and regenerates
one whose parameters changed.

Usage: python3 bench/gen.py DEST --files N --size S [--seed K]
       python3 bench/gen.py DEST --large S [--seed K]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys

GEN_VERSION = 1
FAN = 100  # files per leaf folder, leaf folders per top folder
BLOCK = 16 << 20  # bytes of the shared pseudo-random block
CHUNK = 4 << 20  # write size for the large file


def _block(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def file_relpath(i: int) -> str:
    """Relative path of file i in a many-files data set."""
    return f"d{i // (FAN * FAN):03d}/d{(i // FAN) % FAN:02d}/f{i:07d}.bin"


def file_bytes(block: bytes, seed: int, i: int, size: int) -> bytes:
    """The content of file i (deterministic)."""
    header = f"dvx-bench seed={seed} file={i} size={size}\n".encode()
    if size <= len(header):
        return header[:size]
    need = size - len(header)
    span = len(block) - need
    off = (i * 7919 * 64) % span if span > 0 else 0
    body = block[off : off + need]
    while len(body) < need:  # only when size > BLOCK
        body += block[: need - len(body)]
    return header + body


def stamp_for(kind: str, files: int, size: int, seed: int) -> dict:
    return {"gen_version": GEN_VERSION, "kind": kind, "files": files, "size": size, "seed": seed}


def is_current(dest: str, stamp: dict) -> bool:
    try:
        with open(dest + ".json", encoding="utf-8") as f:
            return json.load(f) == stamp and os.path.exists(dest)
    except (OSError, ValueError):
        return False


def _finish(dest: str, tmp: str, stamp: dict) -> None:
    if os.path.lexists(dest):
        shutil.rmtree(dest) if os.path.isdir(dest) and not os.path.islink(dest) else os.unlink(dest)
    os.replace(tmp, dest)
    with open(dest + ".json", "w", encoding="utf-8") as f:
        json.dump(stamp, f)
        f.write("\n")


def _clear(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def gen_many(dest: str, files: int, size: int, seed: int = 1) -> None:
    """Write N files of S bytes under the folder dest (replacing it)."""
    stamp = stamp_for("many", files, size, seed)
    if is_current(dest, stamp):
        return
    _clear(dest + ".json")
    tmp = dest + ".tmp"
    _clear(tmp)
    block = _block(seed, max(BLOCK, min(size, 64 << 20) + 1))
    made: set[str] = set()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    for i in range(files):
        rel = file_relpath(i)
        parent = os.path.join(tmp, os.path.dirname(rel))
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        fd = os.open(os.path.join(tmp, rel), flags, 0o644)
        try:
            os.write(fd, file_bytes(block, seed, i, size))
        finally:
            os.close(fd)
    _finish(dest, tmp, stamp)


def gen_large(dest: str, size: int, seed: int = 1) -> None:
    """Write one file of S bytes at dest (replacing it)."""
    stamp = stamp_for("large", 1, size, seed)
    if is_current(dest, stamp):
        return
    _clear(dest + ".json")
    tmp = dest + ".tmp"
    _clear(tmp)
    block = _block(seed, BLOCK)
    with open(tmp, "wb") as f:
        done, k = 0, 0
        while done < size:
            n = min(CHUNK, size - done)
            head = k.to_bytes(8, "little")
            off = (k * 1_048_573) % (len(block) - CHUNK)
            chunk = (head + block[off : off + CHUNK])[:n]
            f.write(chunk)
            done += n
            k += 1
    _finish(dest, tmp, stamp)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dest")
    ap.add_argument("--files", type=int, help="number of files (many-files data set)")
    ap.add_argument("--size", type=int, help="bytes per file (many-files data set)")
    ap.add_argument("--large", type=int, metavar="BYTES", help="one file of this many bytes")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    if a.large is not None:
        gen_large(a.dest, a.large, a.seed)
    elif a.files is not None and a.size is not None:
        gen_many(a.dest, a.files, a.size, a.seed)
    else:
        ap.error("give --files and --size, or --large")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
