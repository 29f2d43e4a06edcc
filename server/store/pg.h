/*
 * The PostgreSQL engine (store_pg_engine, pg.c): one libpq connection per struct store, owned
 * for life by the thread that opened it (a pool worker, or the main thread at startup), with
 * its statements prepared once per connection. Its schema (pg_schema.c) follows schema.c's
 * migrations version for version.
 */
#ifndef PARLOR_PG_H
#define PARLOR_PG_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store.h"

/* statements a connection prepares once (pg.c's enum pg_stmt), at most */
#define PG_STMT_MAX 16

/* A PostgreSQL connection: the engine's struct store. */
struct pg_conn {
    struct store base; /* first: the store hands it around */
    PGconn *conn;
    bool sync_full;
    bool prepared[PG_STMT_MAX]; /* on this session of the server: cleared by a reset */
    bool in_tx;                 /* between BEGIN and COMMIT or ROLLBACK */
    int64_t next_reset_ms;      /* monotonic: the earliest time for the next reset */
    struct pg_copy *copy;       /* migrate's import in progress (pg_copy.c), or NULL */
};

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

/* The engine's side of `parlor-server migrate` (pg_copy.c): see struct store_engine. */
int pg_export_rows(struct store *s, store_row_fn *fn, void *arg);
int pg_import_begin(struct store *s);
int pg_count_rows(struct store *s, const struct store_table *t, int64_t *n);
int pg_import_clear(struct store *s);
int pg_import_row(struct store *s, const struct store_table *t, const struct store_value *row);
int pg_import_end(struct store *s, bool commit);
/* Drops an import's state without ending it (the connection is closing). */
void pg_copy_free(struct pg_conn *c);

#endif
