// Every kind catalog built from the explicit registration lists of the modules.
#pragma once

#include "vigie/config/config.h"
#include "vigie/config/options.h"

namespace vigie::app {

struct KindCatalogs {
  config::KindCatalog collectors;
  config::KindCatalog actions;
  config::KindCatalog providers;

  config::Catalogs for_config() const { return {&collectors, &providers}; }
};

KindCatalogs builtin_catalogs();

}  // namespace vigie::app
