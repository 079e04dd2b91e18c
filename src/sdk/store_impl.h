// What a gg::Store holds, shared by the SDK's source files only.
#pragma once

#include <memory>

#include "core/local_store.h"
#include "gg/store.h"

namespace gg {

struct Store::Impl {
  std::unique_ptr<LocalStore> local;
};

}  // namespace gg
