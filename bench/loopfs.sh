#!/usr/bin/env bash
# Creates and mounts a journaled ext4 file system in a sparse image file, for benchmarks whose
# work dir must not be the VM's journal-less root ext4 (see bench/README.md, "Reading the
# numbers"). Usage, as root: bench/loopfs.sh MOUNTPOINT [SIZE] [IMAGE]
#   SIZE default 60G; IMAGE default /var/tmp/dvx-bench.img.
#   Unmount with: umount MOUNTPOINT && losetup -d /dev/loopN (losetup -l lists it)
set -euo pipefail
mnt="${1:?usage: bench/loopfs.sh MOUNTPOINT [SIZE] [IMAGE]}"
size="${2:-60G}"
img="${3:-/var/tmp/dvx-bench.img}"
if mountpoint -q "$mnt"; then
  echo "loopfs: $mnt is already mounted" >&2
  exit 0
fi
mkdir -p "$mnt"
truncate -s "$size" "$img"
# One inode per 4 KiB (the 1M-file preset keeps several copies of a million small files);
# inode tables and journal written now, so no background initialisation disturbs the timings.
mkfs.ext4 -q -F -i 4096 -E lazy_itable_init=0,lazy_journal_init=0 "$img"
# Direct I/O: without it every page of the benchmark's files is cached twice (in the mounted
# file system and as a page of the image file), which halves what stays warm: at 1M files the
# runs' inputs were then read back from disk while the floors' were not.
dev="$(losetup --find --show --direct-io=on "$img")"
mount "$dev" "$mnt"
echo "loopfs: journaled ext4 ($size, image $img on $dev, direct I/O) mounted at $mnt"
