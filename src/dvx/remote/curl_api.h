// libcurl for the HTTP-based remotes (S3, Azure, GCS, HTTP/WebDAV), loaded with dlopen on the
// first request: commands that never talk to a remote pay nothing for it.
// Thread-safety: curl_api() may be called from many threads (loaded once).
#pragma once

#include <curl/curl.h>

#include "dvx/base/result.h"

namespace dvx::remote {

struct CurlApi {
  CURL* (*easy_init)() = nullptr;
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
  CURLcode (*easy_perform)(CURL*) = nullptr;
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
  void (*easy_cleanup)(CURL*) = nullptr;
  void (*easy_reset)(CURL*) = nullptr;
  const char* (*easy_strerror)(CURLcode) = nullptr;
  curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
  void (*slist_free_all)(curl_slist*) = nullptr;
  CURLcode (*global_init)(long) = nullptr;
};

// The loaded library (curl_global_init done), or why it cannot be loaded.
Result<const CurlApi*> curl_api();

}  // namespace dvx::remote
