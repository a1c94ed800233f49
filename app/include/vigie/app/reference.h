// Markdown reference of every vigie.toml section and kind, generated from the option tables so the
// docs cannot drift from what the loader accepts (docs/configuration.md embeds it; a test compares).
#pragma once

#include <string>

namespace vigie::app {

std::string configuration_reference_markdown();
// Every key of the rule file tables ([[rule]], [[action]], [[command]], [[macro]], [[list]] and
// their sub-tables), for docs/rules.md.
std::string rules_reference_markdown();

// Replaces the text between `<!-- generated:begin -->` and `<!-- generated:end -->` in `doc`
// with `generated`. Returns the document unchanged when the markers are missing.
std::string splice_generated(const std::string& doc, const std::string& generated);

}  // namespace vigie::app
