// plugin.cpp — exports libsignals-index-sqlite.so: the one component
// "index-sqlite" (see sqlite_index.hpp). The entry point returns a static
// descriptor and is safe to call from any thread, any number of times.
#include <signals/plugin.hpp>

#include "sqlite_index.hpp"

SIGNALS_PLUGIN("index-sqlite", "0.1.0",
               "Queryable record index on SQLite in WAL mode (the pipeline's commit point).",
               signals::index_sqlite::SqliteIndex)
