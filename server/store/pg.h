/*
 * The PostgreSQL engine (store_pg_engine, pg.c): one libpq connection per struct store, owned
 * for life by the thread that opened it (a pool worker, or the main thread at startup), with
 * its statements prepared once per connection. Its schema (pg_schema.c) follows schema.c's
 * migrations version for version.
 */
#ifndef PARLOR_PG_H
#define PARLOR_PG_H

#include <libpq-fe.h>

/* The version a fully migrated database has: schema_latest(), in PostgreSQL's dialect. */
int pg_schema_latest(void);
/* Brings the database to pg_schema_latest() in one transaction; refuses one newer than this
 * program. 0, or -1 with err. */
int pg_schema_migrate(PGconn *conn, char *err, size_t errlen);
/* The database's version (0 when it has none yet), or -1 on error. */
int pg_schema_version(PGconn *conn);
/* The server's message for a failed result (or the connection's, when r is NULL or has none),
 * on one line. */
const char *pg_message(PGconn *conn, const PGresult *r);

#endif
