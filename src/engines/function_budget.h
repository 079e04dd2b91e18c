// What one cloud-function invocation can hold, as configured on its engine
// (`tmp=`, `memory=`): a thunk whose declared inputs do not fit is refused up
// front, so the coordinator gives it to another engine of the force (or
// stops, naming the budget) instead of letting the function fail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"

namespace gg {

struct FunctionBudget {
  uint64_t tmp_bytes = 0;     ///< room in /tmp for the inputs; 0: unchecked
  uint64_t memory_bytes = 0;  ///< the function's memory; 0: unchecked
  /// /tmp is in memory (Google Cloud Functions): the inputs count against
  /// `memory_bytes` too. Otherwise memory must hold the largest input, which
  /// the handler holds whole while storing it.
  bool tmp_in_memory = false;

  /// Parses one engine option if it is `tmp=SIZE` or `memory=SIZE` (sets
  /// *matched); an error names the option.
  Status ParseOption(const std::string& option, bool* matched);
  /// Ok if inputs of these sizes fit; else why not, naming the budget.
  Status Check(const std::vector<Name>& inputs) const;
};

}  // namespace gg
