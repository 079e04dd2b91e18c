// The seccomp filter every sandboxed program runs under: it refuses, with
// EPERM, system calls a build step never needs and that widen what a
// hostile program can reach (docs/sandbox.md, "Security").
#pragma once

#include <linux/filter.h>

#include <vector>

namespace gg::sandbox {

/// The filter program, built once in the server (the child between clone
/// and exec only loads it). Hand-written BPF rather than libseccomp:
/// libseccomp allocates while loading, which the pre-exec child must not.
const std::vector<sock_filter>& SeccompFilter();

/// Loads `filter` for the calling thread; no_new_privs must be set.
/// Returns 0 or an errno. Async-signal-safe.
int LoadSeccomp(const std::vector<sock_filter>& filter);

}  // namespace gg::sandbox
