// The gg C++ SDK in one include. See docs/sdk_cpp.md.
#pragma once

#include "gg/hash.h"
#include "gg/name.h"
#include "gg/status.h"
#include "gg/store.h"
#include "gg/thunk.h"
#include "gg/tree.h"
