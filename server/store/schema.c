/*
 * Schema migrations (see schema.h). Runs once at startup on the main thread, before the loop
 * serves anyone and before the workers open their connections.
 *
 * Append new migrations; never edit one that has shipped. Version N is migrations[N - 1].
 */
#include "schema.h"

#include <stdio.h>

static const char *const migrations[] = {
    /* 1: accounts, chat history, settings (the token key) */
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  pw_hash BLOB NOT NULL,"
    "  pw_salt BLOB NOT NULL,"
    "  pw_params TEXT NOT NULL," /* e.g. "scrypt:N=131072,r=8,p=1": raise later, rehash on login */
    "  created INTEGER NOT NULL,"
    "  banned_until INTEGER"
    ");"
    "CREATE TABLE messages ("
    "  room TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  PRIMARY KEY (room, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value BLOB NOT NULL);",

    /* 2: moderation and the quiz: bans and mutes, questions, games and their results */
    "CREATE TABLE bans ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('name', 'address', 'mute')),"
    "  target TEXT NOT NULL COLLATE NOCASE,"
    "  until INTEGER," /* ms since the epoch; NULL = forever */
    "  reason TEXT,"
    "  created INTEGER NOT NULL"
    ");"
    "CREATE INDEX bans_target ON bans (kind, target);"
    "ALTER TABLE users ADD COLUMN points INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN games INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN wins INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE questions ("
    "  id INTEGER PRIMARY KEY,"
    "  pack TEXT NOT NULL,"
    "  category TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  choices TEXT NOT NULL," /* JSON array of 4 strings */
    "  correct INTEGER NOT NULL CHECK (correct BETWEEN 0 AND 3),"
    "  UNIQUE (pack, text)"
    ");"
    "CREATE TABLE games ("
    "  id INTEGER PRIMARY KEY,"
    "  room TEXT NOT NULL,"
    "  started INTEGER NOT NULL,"
    "  ended INTEGER NOT NULL,"
    "  rounds INTEGER NOT NULL"
    ");"
    "CREATE TABLE results ("
    "  game_id INTEGER NOT NULL REFERENCES games (id),"
    "  name TEXT NOT NULL,"
    "  user_id INTEGER REFERENCES users (id)," /* NULL for a guest */
    "  score INTEGER NOT NULL,"
    "  rank INTEGER NOT NULL,"
    "  PRIMARY KEY (game_id, name)"
    ");",

    /* 3: a question may say which language it is in (a BCP 47 tag); NULL = the pack does not say */
    "ALTER TABLE questions ADD COLUMN lang TEXT;",

    /* 4: the database's identity, drawn once when this migration runs: the nodes of a cluster
     * compare it at startup (server/cluster/startup.c). Not a row `migrate` copies: a copy is
     * another database. */
    ("CREATE TABLE parlor_identity (id TEXT NOT NULL);"
     "INSERT INTO parlor_identity (id) VALUES (lower(hex(randomblob(16))));"),
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int schema_latest(void)
{
    return NMIGRATIONS;
}

int schema_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Applies the migrations after the version found, up to `target`, in one transaction that
 * takes the write lock first (BEGIN IMMEDIATE) and only then reads the version: a process that
 * starts at the same moment on the same file waits on the lock (the connection's busy timeout)
 * and then finds the schema migrated, instead of running the same migration again. */
int schema_migrate(sqlite3 *db, int target, char *err, size_t errlen)
{
    char *msg = NULL, set[64];
    int v;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE;", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "schema migration: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    v = schema_version(db);
    if (v < 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (v > NMIGRATIONS) {
        snprintf(err, errlen,
                 "the database has schema version %d, newer than this parlor-server (%d)", v,
                 NMIGRATIONS);
        goto fail;
    }
    for (int next = v + 1; next <= target && next <= NMIGRATIONS; next++) {
        snprintf(set, sizeof(set), "PRAGMA user_version = %d;", next);
        if (sqlite3_exec(db, migrations[next - 1], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, set, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "schema migration to version %d: %s", next,
                     msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            goto fail;
        }
    }
    if (sqlite3_exec(db, "COMMIT;", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "schema migration: commit: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        goto fail;
    }
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
    return -1;
}
