// `gg report --json`: what the page shows, for scripts (docs/report.md).
#pragma once

#include <string>

#include "report/trace_reader.h"

namespace gg::report {

std::string RenderJson(const Trace& trace);

}  // namespace gg::report
