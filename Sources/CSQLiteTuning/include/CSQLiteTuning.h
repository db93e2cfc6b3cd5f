#ifndef CSQLITE_TUNING_H
#define CSQLITE_TUNING_H

/// Turns SQLite's memory statistics off for the whole process: every allocation SQLite makes then skips a global
/// mutex. `sqlite3_config` is variadic, which Swift cannot call, hence this C function. It only takes effect
/// before SQLite initializes (the first connection opened); returns SQLite's result code (SQLITE_MISUSE after).
int tollgate_sqlite_disable_memory_statistics(void);

#endif
