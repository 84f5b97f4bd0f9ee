// The push/fetch engine: given the set of object ids a command needs, finds what is missing on
// the other side and copies it with bounded parallelism. Objects downloaded from a remote are
// verified by hash (while they are written) before they enter the cache, unless the caller opts out.
// Thread-safety: each call uses its own worker threads; callers don't share results.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dvx/odb/object_db.h"
#include "dvx/remote/remote.h"

namespace dvx::transfer {

// The key of an object on a remote (same layout as the cache): "files/md5/ab/cd…" or "ab/cd…".
std::string remote_key(const odb::ObjectId& id);

struct TransferResult {
  size_t transferred = 0;                  // objects copied
  std::vector<odb::ObjectId> missing;      // not in the source
  std::vector<odb::ObjectId> failed;       // copy failed (errors in `errors`, same order)
  std::vector<std::string> errors;
  // Cache objects found corrupted (their bytes no longer hash to their name) and moved to the
  // cache's quarantine: also in `failed`. quarantined[i] is where corrupted[i] went.
  std::vector<odb::ObjectId> corrupted;
  std::vector<std::string> quarantined;
  // fetch: objects hashed on arrival (every object fetched with Verify::yes), now in the cache:
  // the caller may trust them (a copy checkout need not read them again), and record the large
  // ones as verified (state db) for later commands.
  std::vector<odb::ObjectId> verified;
  // fetch with Verify::no: objects streamed and stored as received (the remote trusted, as the
  // remote's `verify = false` asks); the caller may record the large ones like `verified`.
  std::vector<odb::ObjectId> received;
};

using Progress = std::function<void(size_t done, size_t total)>;

// Which of `ids` exist on the remote (parallel presence checks).
Result<std::vector<bool>> remote_contains(const remote::Remote& remote, const std::vector<odb::ObjectId>& ids,
                                          unsigned jobs);

// Uploads every id present in the cache and absent on the remote. Each object is hashed while
// it is uploaded; a cache object whose bytes do not match its name is not published on the
// remote, is moved to the cache's quarantine (see TransferResult::corrupted) and fails.
// Objects `trusted` accepts (verified before and unchanged since, e.g. recorded in the state db)
// are sent as they are, without hashing.
TransferResult push(const odb::ObjectDb& cache, const remote::Remote& remote,
                    const std::vector<odb::ObjectId>& ids, unsigned jobs, const Progress& progress = {},
                    const std::function<bool(const odb::ObjectId&)>& trusted = {});

// Downloads every id absent from the cache (each once), atomically: a temp file renamed into
// place, or, for prefix folders the cache lacks, an odb::BulkWriter staging tree published at
// the end. With verify == yes each object is hashed (while written, or small ones side by side
// with the multi-buffer kernel) and kept only when it matches its id (a mismatch is a failure
// naming the object); with no it is trusted as received.
TransferResult fetch(const odb::ObjectDb& cache, const remote::Remote& remote,
                     const std::vector<odb::ObjectId>& ids, unsigned jobs, odb::Verify verify,
                     const Progress& progress = {});

}  // namespace dvx::transfer
