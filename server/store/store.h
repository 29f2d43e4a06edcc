/*
 * The store: everything durable (accounts and the tokens' key, bans, chat history, game
 * results and the leaderboard, question packs) behind one ops table, so an engine is one
 * implementation of `struct store_engine`. Two engines: SQLite (store_sqlite_engine, sqlite.c),
 * which `--db` picks for a path, and PostgreSQL (store_pg_engine, pg.c), which it picks for a
 * postgresql:// or postgres:// URI.
 *
 * A `struct store` is one connection, owned for life by the thread that opened it: each pool
 * worker opens its own when it starts (store_worker_open, the pool's worker_open), and the
 * main thread opens one at startup to load what the loop keeps in memory. Nothing here runs
 * on the loop thread. Each failing call returns -1 (or NULL) and leaves its reason in
 * store->error, which store_job_result() hands to the job for the operators' log.
 */
#ifndef PARLOR_STORE_H
#define PARLOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "pool.h"
#include "qbank.h"

#define STORE_ERROR_MAX 200
/* store_target_shown()'s output, at most */
#define STORE_TARGET_SHOWN_MAX 512
/* a database's identity (store_load_database_id), NUL included */
#define STORE_DATABASE_ID_MAX 33

struct store_engine;

/* Where the database is and how to write to it: what the pool's workers open. */
struct store_cfg {
    const char *target; /* --db: a file path for SQLite, a URI for PostgreSQL */
    bool sync_full;     /* --db-sync full (commits survive power loss) or normal */
};

/* One connection. Engines embed it as the first member of their own connection struct. */
struct store {
    const struct store_engine *engine;
    int index; /* the worker's, or -1 for the main thread's */
    char error[STORE_ERROR_MAX];
};

struct store_msg {
    const char *room;
    uint64_t seq;
    const char *sender;
    const char *text;
    int64_t ts;
};

struct store_user {
    int64_t id;
    char name[65];
    uint8_t hash[64], salt[64];
    size_t hashlen, saltlen;
    char params[64];
    int64_t banned_until; /* 0 when not banned */
};

struct store_result {
    const char *name;
    int64_t user_id; /* 0 for a guest */
    int score, rank;
};

typedef int store_user_fn(void *arg, int64_t id, const char *name);
typedef int store_ban_fn(void *arg, const char *kind, const char *target, int64_t until);

/* ---- every durable row, for `parlor-server migrate` (migrate.h) ---- */

enum store_col_kind { STORE_COL_INT, STORE_COL_TEXT, STORE_COL_BLOB };

struct store_column {
    const char *name;
    enum store_col_kind kind;
};

/* A table as both engines' schemas define it (schema.c, pg_schema.c): the same name and
 * columns on both. store_tables lists every one. */
struct store_table {
    const char *name;
    const char *what;     /* for people: "accounts" */
    const char *key;      /* the export's ORDER BY */
    const char *identity; /* the column PostgreSQL numbers by itself, or NULL */
    int ncols;
    const struct store_column *cols;
};

/* One column's value: NULL, or `i` (INT), or `p` and `len` (TEXT, without a NUL; BLOB). */
struct store_value {
    bool null;
    int64_t i;
    const void *p;
    size_t len;
};

/* Every table of the schema, parents before the tables that refer to them (migrate.c). */
enum store_table_id {
    STORE_T_SETTINGS,
    STORE_T_USERS,
    STORE_T_BANS,
    STORE_T_MESSAGES,
    STORE_T_QUESTIONS,
    STORE_T_GAMES,
    STORE_T_RESULTS,
    STORE_NTABLES
};
/* the most columns a table has */
#define STORE_COLS_MAX 12
extern const struct store_table store_tables[STORE_NTABLES];
/* "a, b, c": t's columns, for the engines' SQL. -1 when len is too small. */
int store_table_columns(const struct store_table *t, char *out, size_t len);

/* One exported row of `t` (t->ncols values), valid until it returns; non-zero stops the export,
 * which returns that value. */
typedef int store_row_fn(void *arg, const struct store_table *t, const struct store_value *row);

struct store_engine {
    const char *name;
    /* Brings the database to the latest schema, creating it if needed; refuses one written by
     * a newer parlor. Once, at startup, before any connection is opened. */
    int (*prepare)(const struct store_cfg *cfg, char *err, size_t errlen);
    struct store *(*open)(const struct store_cfg *cfg, int index, char *err, size_t errlen);
    void (*close)(struct store *s);

    /* chat: a batch in one transaction; a page of history before `before`, oldest first */
    int (*insert_messages)(struct store *s, const struct store_msg *msgs, size_t n);
    json_t *(*history)(struct store *s, const char *room, uint64_t before, int limit);
    /* the number of rows deleted (0 or 1), or -1 */
    int (*delete_message)(struct store *s, const char *room, int64_t seq);
    /* accounts: -EEXIST when the name is registered; find: 1 found, 0 not, -1 failed */
    int (*create_user)(struct store *s, const char *name, const uint8_t *hash, size_t hashlen,
                       const uint8_t *salt, size_t saltlen, const char *params, int64_t created,
                       int64_t *id);
    int (*find_user)(struct store *s, const char *name, struct store_user *u);
    /* games: results and points in one transaction; the top `limit`; one account's place */
    int (*save_game)(struct store *s, const char *room, int64_t started, int64_t ended, int rounds,
                     const struct store_result *results, int n);
    json_t *(*leaderboard)(struct store *s, int limit);
    json_t *(*rank)(struct store *s, int64_t user_id);
    /* bans and mutes: a ban replaces the target's earlier one */
    int (*ban_add)(struct store *s, const char *kind, const char *target, int64_t until,
                   const char *reason, int64_t created);
    int (*ban_remove)(struct store *s, const char *kind, const char *target);
    /* question packs: one transaction, all or nothing; the new questions are appended to
     * `added_to` too when it is not NULL */
    int (*import_questions)(struct store *s, FILE *in, const char *label, const char *pack,
                            int *added, struct qbank *added_to);
    /* 0 when the database answers */
    int (*probe)(struct store *s);

    /* startup, on the main thread: what the loop keeps in memory */
    int (*load_room)(struct store *s, const char *room, int limit, uint64_t *last_seq,
                     json_t **events);
    int (*load_max_room_number)(struct store *s, uint64_t *n);
    int (*load_users)(struct store *s, store_user_fn *fn, void *arg);
    int (*load_bans)(struct store *s, int64_t now_ms, store_ban_fn *fn, void *arg);
    /* the tokens' MAC key, made and stored on first use */
    int (*load_token_key)(struct store *s, uint8_t *key, size_t keylen);
    int (*load_questions)(struct store *s, struct qbank *b);
    /* the database's identity (hex, drawn by the schema's migration 4): the nodes of a cluster
     * must all find the same one */
    int (*load_database_id)(struct store *s, char *out, size_t len);

    /* `parlor-server migrate`, on the main thread (migrate.c). export_rows: every row of
     * store_tables, table after table in that order, each in its key's order, all from one
     * snapshot. The import is one transaction on the target: import_begin, then count_rows
     * and import_clear (every table emptied, in the same transaction) as the caller decides,
     * then import_row for each row, then import_end: commit (after advancing what numbers new
     * rows past the copied ids) or roll back. */
    int (*export_rows)(struct store *s, store_row_fn *fn, void *arg);
    int (*import_begin)(struct store *s);
    int (*count_rows)(struct store *s, const struct store_table *t, int64_t *n);
    int (*import_clear)(struct store *s);
    int (*import_row)(struct store *s, const struct store_table *t, const struct store_value *row);
    int (*import_end)(struct store *s, bool commit);
};

extern const struct store_engine store_sqlite_engine;
extern const struct store_engine store_pg_engine;

/* The engine for a --db value: PostgreSQL for a postgresql:// or postgres:// URI, else SQLite. */
const struct store_engine *store_engine_for(const char *target);
/* `target` as it may be shown in a log or a reply: a URI's password (user:PASSWORD@ or
 * password=) replaced by "***". Truncated to `len`. */
void store_target_shown(const char *target, char *out, size_t len);

int store_prepare(const struct store_cfg *cfg, char *err, size_t errlen);
/* A connection for the calling thread (index -1: the main thread's). NULL with err. */
struct store *store_open(const struct store_cfg *cfg, int index, char *err, size_t errlen);
void store_close(struct store *s);
/* The pool's worker_open and worker_close: `arg` is the struct store_cfg. */
void *store_worker_open(void *arg, int index, char *err, size_t errlen);
void store_worker_close(void *arg, void *worker);

/* Records why the current call failed, for store_job_result(), and logs it. */
void store_fail(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets job->status, and job->error from the store's last failure when status is not 0. */
void store_job_result(struct pool_job *job, struct store *s, int status);

/* The operations, for jobs' run() on workers: see struct store_engine. */
int store_insert_messages(struct store *s, const struct store_msg *msgs, size_t n);
json_t *store_history(struct store *s, const char *room, uint64_t before, int limit);
int store_delete_message(struct store *s, const char *room, int64_t seq);
int store_create_user(struct store *s, const char *name, const uint8_t *hash, size_t hashlen,
                      const uint8_t *salt, size_t saltlen, const char *params, int64_t created,
                      int64_t *id);
int store_find_user(struct store *s, const char *name, struct store_user *u);
int store_save_game(struct store *s, const char *room, int64_t started, int64_t ended, int rounds,
                    const struct store_result *results, int n);
json_t *store_leaderboard(struct store *s, int limit);
json_t *store_rank(struct store *s, int64_t user_id);
int store_ban_add(struct store *s, const char *kind, const char *target, int64_t until,
                  const char *reason, int64_t created);
int store_ban_remove(struct store *s, const char *kind, const char *target);
int store_import_questions(struct store *s, FILE *in, const char *label, const char *pack,
                           int *added, struct qbank *added_to);
int store_probe(struct store *s);

/* Startup, on the main thread's connection. */
int store_load_room(struct store *s, const char *room, int limit, uint64_t *last_seq,
                    json_t **events);
int store_load_max_room_number(struct store *s, uint64_t *n);
int store_load_users(struct store *s, store_user_fn *fn, void *arg);
int store_load_bans(struct store *s, int64_t now_ms, store_ban_fn *fn, void *arg);
int store_load_token_key(struct store *s, uint8_t *key, size_t keylen);
int store_load_questions(struct store *s, struct qbank *b);
int store_load_database_id(struct store *s, char *out, size_t len);

/* migrate (see struct store_engine) */
int store_export_rows(struct store *s, store_row_fn *fn, void *arg);
int store_import_begin(struct store *s);
int store_count_rows(struct store *s, const struct store_table *t, int64_t *n);
int store_import_clear(struct store *s);
int store_import_row(struct store *s, const struct store_table *t, const struct store_value *row);
int store_import_end(struct store *s, bool commit);

#endif
