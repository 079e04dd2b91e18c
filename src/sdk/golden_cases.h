// The golden cases: a few thunks and trees whose bytes and names are pinned
// in testdata/golden.txt. The Python SDK's tests (python/tests) build the
// same cases and must produce the same bytes.
#pragma once

#include <map>
#include <string>

#include "gg/thunk.h"
#include "gg/tree.h"

namespace gg::golden {

inline Name Exe() { return Name::ForContent("#!/bin/sh\necho hi\n"); }
inline Name Val() { return Name::ForContent("hello"); }

inline Tree SampleTree() {
  Tree t;
  // Deliberately unsorted: Serialize sorts by path.
  t.entries.push_back({"d/run", TreeEntry::Kind::kFile, true, Exe(), ""});
  t.entries.push_back({"a.txt", TreeEntry::Kind::kFile, false, Val(), ""});
  t.entries.push_back({"d", TreeEntry::Kind::kDir, false, Name(), ""});
  t.entries.push_back({"d/link", TreeEntry::Kind::kSymlink, false, Name(), "../a.txt"});
  return t;
}

inline Thunk MinimalThunk() {
  Thunk t;
  t.SetFunction(Exe(), "sh");
  t.args = {"sh"};
  t.outputs = {"out", "log"};
  return t;
}

inline Thunk FullThunk() {
  Name dep = MinimalThunk().name();
  Name tree = SampleTree().name();
  Thunk t;
  t.SetFunction(Exe(), "bin/prog")
      .AddInput(Val(), "in/hello.txt")
      .AddInput(tree, "/opt/tree")
      .AddInput(dep, "dep.out")
      .AddInput(dep.WithTag("log"), "dep.log");
  t.args = {"prog", "--in=" + Thunk::Placeholder(Val()), "", "caf\xc3\xa9"};
  t.env = {"LANG=C", "TREE=" + Thunk::Placeholder(tree)};
  t.outputs = {"out", "logs/err"};
  t.timeout_ms = 5000;
  t.workdir = "/src";
  return t;
}

/// MinimalThunk with limits of its own (they are part of its name).
inline Thunk LimitedThunk() {
  Thunk t = MinimalThunk();
  t.limits.memory_bytes = 4ull << 30;
  t.limits.processes = 64;
  t.limits.workdir_bytes = 1ull << 20;
  return t;
}

/// id -> serialized bytes.
inline std::map<std::string, std::string> Cases() {
  return {{"tree-empty", Tree{}.Serialize()},
          {"tree-sample", SampleTree().Serialize()},
          {"thunk-minimal", MinimalThunk().Serialize()},
          {"thunk-full", FullThunk().Serialize()},
          {"thunk-limits", LimitedThunk().Serialize()}};
}

}  // namespace gg::golden
