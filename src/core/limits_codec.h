// ThunkLimits in protobuf messages with the fields memory_bytes, processes,
// tmp_bytes, file_bytes and workdir_bytes: the thunk format's Limits and the
// worker protocol's (a force's limits) share them.
#pragma once

#include "gg/thunk.h"

namespace gg {

template <typename Message>
void LimitsToProto(const ThunkLimits& l, Message* m) {
  m->set_memory_bytes(l.memory_bytes);
  m->set_processes(l.processes);
  m->set_tmp_bytes(l.tmp_bytes);
  m->set_file_bytes(l.file_bytes);
  m->set_workdir_bytes(l.workdir_bytes);
}

template <typename Message>
ThunkLimits LimitsFromProto(const Message& m) {
  return {m.memory_bytes(), m.processes(), m.tmp_bytes(), m.file_bytes(), m.workdir_bytes()};
}

}  // namespace gg
