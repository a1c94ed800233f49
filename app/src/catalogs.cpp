// Builds the kind catalogs from each module's registration list.
#include "vigie/app/catalogs.h"

#include "vigie/actions/kinds.h"
#include "vigie/collectors/kinds.h"

namespace vigie::app {

KindCatalogs builtin_catalogs() {
  KindCatalogs c;
  collectors::register_builtin_collectors(c.collectors);
  actions::register_builtin_actions(c.actions);
  actions::register_builtin_providers(c.providers);
  return c;
}

}  // namespace vigie::app
