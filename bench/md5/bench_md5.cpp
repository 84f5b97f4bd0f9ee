// Micro benchmark of MD5 hashing: OpenSSL's single stream against the multi-buffer kernels on
// many messages, and hash_files on a directory of many small page-cached files.
// Run: build/bench_md5 [--benchmark_filter=...]. Rates are bytes/s of message data per run
// (one thread unless the name says threads:N), over CPU time except for hash_files (wall time).
// DVX_MD5_KERNEL does not matter here: every case names its kernel.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dvx/hash/md5.h"
#include "dvx/hash/md5_multi.h"

namespace {

using dvx::hash::Md5Kernel;

const Md5Kernel k_kernels[] = {Md5Kernel::openssl, Md5Kernel::scalar, Md5Kernel::avx2, Md5Kernel::avx512};

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    __builtin_memcpy(&s[i], &v, 8);
  }
  return s;
}

void single_stream_openssl(benchmark::State& state) {
  std::string data = random_bytes(size_t(state.range(0)), 1);
  for (auto _ : state) benchmark::DoNotOptimize(dvx::hash::md5_hex(data));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(data.size()));
}
BENCHMARK(single_stream_openssl)->Arg(64 << 20)->Unit(benchmark::kMillisecond);

// `count` messages of `size` bytes each through one kernel (count 1: one lane busy, the
// single-stream speed of a kernel).
void many_messages(benchmark::State& state, Md5Kernel kernel, size_t size, size_t count) {
  if (!dvx::hash::md5_kernel_supported(kernel)) {
    state.SkipWithError("kernel not supported by this CPU");
    return;
  }
  std::string pool = random_bytes(size * count, 2);
  std::vector<std::string_view> msgs;
  for (size_t i = 0; i < count; ++i) msgs.emplace_back(pool.data() + i * size, size);
  for (auto _ : state) benchmark::DoNotOptimize(dvx::hash::md5_many(msgs, kernel));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(pool.size()));
  state.counters["messages"] = double(count);
}

// A directory of `count` small files (1 B .. 16 KiB, mean ~8 KiB), read once so it is page-cached.
struct SmallFiles {
  std::string dir;
  std::vector<std::string> paths;
  int64_t bytes = 0;
  explicit SmallFiles(int count) {
    char tmpl[] = "/tmp/dvx-bench-md5-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::mt19937_64 rng(3);
    for (int i = 0; i < count; ++i) {
      size_t n = 1 + rng() % (16 << 10);
      std::string p = dir + "/f" + std::to_string(i);
      std::ofstream(p, std::ios::binary) << random_bytes(n, i);
      paths.push_back(p);
      bytes += int64_t(n);
    }
  }
  ~SmallFiles() {
    for (const auto& p : paths) ::unlink(p.c_str());
    ::rmdir(dir.c_str());
  }
};

// A few large files (4 x 32 MiB): the case where lanes cannot be filled.
struct BigFiles : SmallFiles {
  BigFiles() : SmallFiles(0) {
    for (int i = 0; i < 4; ++i) {
      std::string p = dir + "/big" + std::to_string(i);
      std::ofstream(p, std::ios::binary) << random_bytes(size_t(32) << 20, 100 + i);
      paths.push_back(p);
      bytes += int64_t(32) << 20;
    }
  }
};

SmallFiles& small_files() {
  static SmallFiles files(8000);
  return files;
}

SmallFiles& big_files() {
  static BigFiles files;
  return files;
}

void hash_some_files(benchmark::State& state, SmallFiles& f, Md5Kernel kernel, unsigned threads) {
  if (!dvx::hash::md5_kernel_supported(kernel)) {
    state.SkipWithError("kernel not supported by this CPU");
    return;
  }
  for (auto _ : state) {
    auto r = dvx::hash::hash_files(f.paths, dvx::hash::Algorithm::md5, threads, {}, kernel);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * f.bytes);
  state.counters["files"] = double(f.paths.size());
}

void register_all() {
  for (Md5Kernel k : k_kernels) {
    std::string name = dvx::hash::md5_kernel_name(k);
    for (auto [size, count] : {std::pair<size_t, size_t>{4 << 10, 8192}, {100 << 10, 320}, {1 << 20, 32}})
      benchmark::RegisterBenchmark(("many_" + std::to_string(size >> 10) + "KiB/" + name).c_str(),
                                   many_messages, k, size, count)
          ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("one_lane_16MiB/" + name).c_str(), many_messages, k,
                                 size_t(16) << 20, size_t(1))
        ->Unit(benchmark::kMillisecond);
  }
  for (auto [set, files] : {std::pair<const char*, SmallFiles& (*)()>{"hash_files_8000_small", small_files},
                            {"hash_files_4x32MiB", big_files}})
    for (Md5Kernel k : k_kernels)
      for (unsigned t : {1u, 2u})
        benchmark::RegisterBenchmark(
            (std::string(set) + "/" + dvx::hash::md5_kernel_name(k) + "/threads:" + std::to_string(t)).c_str(),
            [files](benchmark::State& st, Md5Kernel kernel, unsigned threads) {
              hash_some_files(st, files(), kernel, threads);
            },
            k, t)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
