#include "dvx/scm/git2_loader.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#ifndef DVX_LIBGIT2_SONAME
#define DVX_LIBGIT2_SONAME "libgit2.so"
#endif

namespace dvx::scm {

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "ERROR: %s\n", what.c_str());
  std::exit(255);
}

void* library() {
  static void* handle = [] {
    void* h = dlopen(DVX_LIBGIT2_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) die(std::string("cannot load libgit2 (") + DVX_LIBGIT2_SONAME + "): " + dlerror() +
                " - install it (Debian: apt-get install libgit2-1.5)");
    return h;
  }();
  return handle;
}

}  // namespace

void* git2_lookup(const char* name) {
  void* p = dlsym(library(), name);
  if (!p) die(std::string("libgit2 (") + DVX_LIBGIT2_SONAME + ") has no function " + name);
  return p;
}

}  // namespace dvx::scm
