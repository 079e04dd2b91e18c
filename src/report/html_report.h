// `gg report`'s page: one self-contained HTML file (inline SVG, CSS and a
// little JS; nothing fetched) with the timeline, the critical path,
// utilisation, the slowest thunks and totals per function.
#pragma once

#include <string>

#include "report/trace_reader.h"

namespace gg::report {

/// Runs up to this many are drawn one by one with full details; beyond it,
/// runs narrower than a few pixels are merged per row (see docs/report.md).
inline constexpr size_t kDetailedRuns = 5000;

std::string RenderHtml(const Trace& trace, const std::string& title);

}  // namespace gg::report
