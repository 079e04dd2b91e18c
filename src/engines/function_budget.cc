#include "engines/function_budget.h"

#include <algorithm>

#include "core/byte_size.h"

namespace gg {

Status FunctionBudget::ParseOption(const std::string& option, bool* matched) {
  *matched = false;
  uint64_t* target = nullptr;
  if (option.starts_with("tmp=")) target = &tmp_bytes;
  if (option.starts_with("memory=")) target = &memory_bytes;
  if (target == nullptr) return Status::Ok();
  *matched = true;
  auto bytes = ParseByteSize(option.substr(option.find('=') + 1));
  if (!bytes.ok()) return Status::Invalid("bad size in '" + option + "': " + bytes.status().message());
  *target = *bytes;
  return Status::Ok();
}

Status FunctionBudget::Check(const std::vector<Name>& inputs) const {
  uint64_t total = 0, largest = 0;
  for (const Name& n : inputs) {
    total += n.size();
    largest = std::max<uint64_t>(largest, n.size());
  }
  if (tmp_bytes != 0 && total > tmp_bytes) {
    return Status::Invalid("its inputs (" + FormatBytes(total) +
                           ") do not fit the function's /tmp budget (tmp=" + FormatBytes(tmp_bytes) + ")");
  }
  uint64_t in_memory = tmp_in_memory ? total : largest;
  if (memory_bytes != 0 && in_memory > memory_bytes) {
    return Status::Invalid(std::string(tmp_in_memory ? "its inputs (" : "its largest input (") +
                           FormatBytes(in_memory) + (tmp_in_memory ? ") do" : ") does") +
                           " not fit the function's memory budget (memory=" + FormatBytes(memory_bytes) +
                           (tmp_in_memory ? ", which holds /tmp" : "") + ")");
  }
  return Status::Ok();
}

}  // namespace gg
