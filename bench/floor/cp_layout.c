/* Floor for adding many files into a DVC-layout cache: copies every regular file under SRC into
 * DST/xx/<30 hex chars> (256 prefix folders, as .dvc/cache/files/md5/), one file at a time like
 * cp -r, with names from a hash of the relative path (no content hashing: that is measured by the
 * md5sum floors). It shows what the file system alone charges for the cache's directory shape:
 * a few thousand entries per folder at 1M files, where cp -r writes ~100 per folder.
 * With -l it hard-links each file there instead and makes it read-only (what an add with
 * cache.type hardlink must do per file besides hashing it).
 * Usage: cp_layout [-l] SRC DST    (built by bench/run.py with the system C compiler) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dst_root;
static size_t src_len;
static int link_mode;
static char buf[1 << 20];

static uint64_t fnv1a(const char *s, uint64_t h) {
  for (; *s; ++s) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h;
}

static void die(const char *what, const char *path) {
  fprintf(stderr, "cp_layout: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st; (void)ftw;
  if (type != FTW_F) return 0;
  const char *rel = path + src_len;
  uint64_t a = fnv1a(rel, 0xcbf29ce484222325ULL), b = fnv1a(rel, a ^ 0x9e3779b97f4a7c15ULL);
  char out[4096];
  snprintf(out, sizeof out, "%s/%02x/%014llx%016llx", dst_root, (unsigned)(a >> 56),
           (unsigned long long)(a & 0xffffffffffffffULL), (unsigned long long)b);
  if (link_mode) {
    if (link(path, out) != 0) die("link", out);
    if (chmod(out, 0444) != 0) die("chmod", out);
    return 0;
  }
  int in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0) die("open", path);
  int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) die("create", out);
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0) die("read", path);
    if (n == 0) break;
    if (write(fd, buf, (size_t)n) != n) die("write", out);
  }
  close(in);
  if (close(fd) != 0) die("close", out);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "-l") == 0) {
    link_mode = 1;
    ++argv;
    --argc;
  }
  if (argc != 3) {
    fprintf(stderr, "usage: cp_layout [-l] SRC DST\n");
    return 2;
  }
  dst_root = argv[2];
  src_len = strlen(argv[1]);
  if (mkdir(dst_root, 0755) != 0) die("mkdir", dst_root);
  for (int i = 0; i < 256; ++i) {
    char d[4096];
    snprintf(d, sizeof d, "%s/%02x", dst_root, i);
    if (mkdir(d, 0755) != 0) die("mkdir", d);
  }
  if (nftw(argv[1], visit, 64, FTW_PHYS) != 0) die("walk", argv[1]);
  return 0;
}
