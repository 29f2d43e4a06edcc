/*
 * The SQLite engine's connections: each worker opens its own connection to the same file when
 * it starts and closes it when it stops, with its prepared statements cached beside it. The
 * thread that opened a connection is the only one using it.
 */
#ifndef PARLOR_DB_H
#define PARLOR_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "store.h"

/* Statements a worker keeps prepared; store.c owns their SQL. */
enum db_stmt {
    DB_INSERT_MESSAGE,
    DB_SELECT_HISTORY,
    DB_INSERT_USER,
    DB_SELECT_USER,
    DB_INSERT_GAME,
    DB_INSERT_RESULT,
    DB_ADD_POINTS,
    DB_SELECT_LEADERBOARD,
    DB_SELECT_RANK,
    DB_NSTMT
};

/* A SQLite connection: the engine's struct store. */
struct db_worker {
    struct store base; /* first: the store hands it around */
    sqlite3 *db;
    sqlite3_stmt *stmt[DB_NSTMT];
    /* migrate's import (sqlite_copy.c): the INSERT of the table being copied into */
    const struct store_table *copy_table;
    sqlite3_stmt *copy_insert;
};

/* Logs a failure and keeps its text in the store's error (store_fail). */
#define db_error(w, ...) store_fail(&(w)->base, __VA_ARGS__)

/* The engine's prepare: creates the file if needed, switches it to WAL once (connections
 * switching concurrently can see "database is locked") and migrates the schema. */
int db_prepare(const struct store_cfg *cfg, char *err, size_t errlen);
/* The engine's open and close: a connection with the configured durability. */
struct store *db_open(const struct store_cfg *cfg, int index, char *err, size_t errlen);
void db_close(struct store *s);
/* The worker's prepared statement, reset and unbound; NULL if it cannot be prepared. */
sqlite3_stmt *db_stmt(struct db_worker *w, enum db_stmt which);
/* Runs a statement without results ("BEGIN IMMEDIATE", "COMMIT"...). 0 or -1 (logged). */
int db_exec(struct db_worker *w, const char *sql);

/* The engine's side of `parlor-server migrate` (sqlite_copy.c): see struct store_engine. */
int sqlite_export_rows(struct store *s, store_row_fn *fn, void *arg);
int sqlite_import_begin(struct store *s);
int sqlite_count_rows(struct store *s, const struct store_table *t, int64_t *n);
int sqlite_import_clear(struct store *s);
int sqlite_import_row(struct store *s, const struct store_table *t, const struct store_value *row);
int sqlite_import_end(struct store *s, bool commit);

#endif
