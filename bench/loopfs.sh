#!/usr/bin/env bash
# Creates and mounts a journaled ext4 file system in a sparse image file, for benchmarks whose
# work dir must not be the VM's journal-less root ext4 (see bench/README.md, "Reading the
# numbers"). Usage, as root: bench/loopfs.sh MOUNTPOINT [SIZE] [IMAGE]
#   SIZE default 60G; IMAGE default /var/tmp/dvx-bench.img. Unmount with: umount MOUNTPOINT
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
mount -o loop "$img" "$mnt"
echo "loopfs: journaled ext4 ($size, image $img) mounted at $mnt"
