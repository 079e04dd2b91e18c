// The tree format is part of the public SDK: see include/gg/tree.h.
#pragma once

#include "gg/tree.h"
