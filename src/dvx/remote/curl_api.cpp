#include "dvx/remote/curl_api.h"

#include <dlfcn.h>

#include <string>
#include <type_traits>

namespace dvx::remote {

Result<const CurlApi*> curl_api() {
  static std::string error;
  static CurlApi api;
  static bool ok = [] {
    void* h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      error = std::string("cannot load libcurl (libcurl.so.4), needed for s3://, azure://, gs://, http(s):// and "
                          "webdav(s):// remotes: ") +
              (e ? e : "");
      return false;
    }
    auto sym = [&](auto& fn, const char* name) {
      void* p = dlsym(h, name);
      if (!p && error.empty()) error = std::string("libcurl lacks ") + name;
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    sym(api.easy_init, "curl_easy_init");
    sym(api.easy_setopt, "curl_easy_setopt");
    sym(api.easy_perform, "curl_easy_perform");
    sym(api.easy_getinfo, "curl_easy_getinfo");
    sym(api.easy_cleanup, "curl_easy_cleanup");
    sym(api.easy_reset, "curl_easy_reset");
    sym(api.easy_strerror, "curl_easy_strerror");
    sym(api.slist_append, "curl_slist_append");
    sym(api.slist_free_all, "curl_slist_free_all");
    sym(api.global_init, "curl_global_init");
    if (!error.empty()) return false;
    api.global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  if (!ok) return fail(ErrorCode::io, error);
  return &api;
}

}  // namespace dvx::remote
