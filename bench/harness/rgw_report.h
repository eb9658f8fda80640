// The Ceph RGW pair's section of RESULTS.md ("## Ceph RGW pair"): its
// setting, rows, ferryd's probe, ratios ferry / peer and targets with
// verdicts computed from the rows.
//
// The section sits between two marker comments, so a run of the RGW pair
// alone (--rgw) can replace it in an existing report and keep the rest (the
// s3sim part takes ~25 minutes of its own).
#pragma once

#include <ostream>
#include <string>

#include "bench/harness/bench.h"

namespace ferry::bench {

inline constexpr char kRgwSectionBegin[] = "<!-- ferry-bench: Ceph RGW pair section begins -->";
inline constexpr char kRgwSectionEnd[] = "<!-- ferry-bench: Ceph RGW pair section ends -->";
inline constexpr char kRgwHeaderMark[] = "<!-- ferry-bench: RGW section run -->";

// Writes the section, markers included.
void WriteRgwSection(std::ostream& md, const BenchOptions& o, const BenchReport& r);

// `existing` (a whole RESULTS.md) with its RGW section replaced by `section`
// (inserted before "## Method" when it has none) and `header_line` put in
// its header bullets (replacing an earlier such line, found by
// kRgwHeaderMark).
std::string SpliceRgwSection(const std::string& existing, const std::string& section,
                             const std::string& header_line);
// The header line a run of the RGW pair alone adds (marked kRgwHeaderMark).
std::string RgwHeaderLine(const BenchOptions& o, const BenchReport& r);
// An earlier report's RGW section (markers included); "" when it has none.
std::string ExtractRgwSection(const std::string& md);
// A whole file; "" when it cannot be read.
std::string ReadWhole(const std::string& path);

}  // namespace ferry::bench
