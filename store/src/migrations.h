// Internal: schema migrations.
#pragma once

#include "sqlite.h"

namespace vigie::store::detail {

Result<int> user_version(Database& db);
// The error for a file at `version` > kSchemaVersion.
StoreError too_new(int version);
// Applies the migrations from the file's version up to `target`.
Result<bool> migrate(Database& db, int target);

}  // namespace vigie::store::detail
