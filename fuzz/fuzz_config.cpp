// vigie.toml loading: TOML syntax, option tables, kind sections, secrets references, rule globs.
// Any input must end in a Config or diagnostics that render as text and JSON, never a crash.
#include "fuzz_support.h"
#include "vigie/app/catalogs.h"
#include "vigie/config/config.h"
#include <nlohmann/json.hpp>

#include "vigie/config/diagnostics.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = vigie::fuzz::as_text(data, size);
  if (vigie::fuzz::names_device_files(text)) return 0;
  static const auto catalogs = vigie::app::builtin_catalogs();
  vigie::config::Diagnostics diags;
  auto cfg = vigie::config::load_config(vigie::fuzz::as_file(text, "vigie.toml"), catalogs.for_config(), diags);
  (void)diags.render_text();
  (void)diags.to_json().dump();
  return 0;
}
