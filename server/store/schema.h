/*
 * The database schema, versioned with PRAGMA user_version: one list of migrations, applied in
 * order at startup in one transaction that holds the write lock from its start. The only place in
 * parlor that defines tables. Main thread, at startup, before the workers open their connections.
 */
#ifndef PARLOR_SCHEMA_H
#define PARLOR_SCHEMA_H

#include <stddef.h>

#include <sqlite3.h>

/* The version a fully migrated database has. */
int schema_latest(void);
/* Brings `db` up to `target` (schema_latest() for the real thing; lower in tests). Refuses a
 * database newer than this program. Returns 0, or -1 with err. */
int schema_migrate(sqlite3 *db, int target, char *err, size_t errlen);
/* The database's current version, or -1 on error. */
int schema_version(sqlite3 *db);

#endif
