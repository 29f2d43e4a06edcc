/*
 * The SQLite engine's connections (see db.h). WAL lets the workers read while one writes;
 * synchronous=FULL makes a committed transaction survive power loss, NORMAL only a crash of
 * the process (the last transactions may be lost if the machine loses power).
 */
#include "db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "schema.h"

#define DB_BUSY_TIMEOUT_MS 5000

static const char *const stmt_sql[DB_NSTMT] = {
    [DB_INSERT_MESSAGE] =
        "INSERT INTO messages (room, seq, sender, text, ts) VALUES (?, ?, ?, ?, ?)",
    [DB_SELECT_HISTORY] = "SELECT seq, sender, text, ts FROM messages WHERE room = ? AND seq < ? "
                          "ORDER BY seq DESC LIMIT ?",
    [DB_INSERT_USER] = "INSERT INTO users (name, pw_hash, pw_salt, pw_params, created) "
                       "VALUES (?, ?, ?, ?, ?)",
    [DB_SELECT_USER] = "SELECT id, name, pw_hash, pw_salt, pw_params, banned_until FROM users "
                       "WHERE name = ?",
    [DB_INSERT_GAME] = "INSERT INTO games (room, started, ended, rounds) VALUES (?, ?, ?, ?)",
    [DB_INSERT_RESULT] = "INSERT INTO results (game_id, name, user_id, score, rank) "
                         "VALUES (?, ?, ?, ?, ?)",
    [DB_ADD_POINTS] = "UPDATE users SET points = points + ?, games = games + 1, wins = wins + ? "
                      "WHERE id = ?",
    [DB_SELECT_LEADERBOARD] = "SELECT name, points, games, wins FROM users WHERE games > 0 "
                              "ORDER BY points DESC, wins DESC, name LIMIT ?",
    /* an account's place in that order: those before it, counted */
    [DB_SELECT_RANK] = "SELECT u.points, u.games, u.wins, (SELECT COUNT(*) FROM users o "
                       "WHERE o.games > 0 AND (o.points > u.points OR (o.points = u.points AND "
                       "(o.wins > u.wins OR (o.wins = u.wins AND o.name < u.name))))) "
                       "FROM users u WHERE u.id = ?",
};

static sqlite3 *open_connection(const char *path, const char *pragmas, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc;

    /* NOMUTEX: a connection is only ever used by the thread that opened it */
    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
        rc = sqlite3_exec(db, pragmas, NULL, NULL, &msg);
    }
    if (rc == SQLITE_OK)
        return db;
    snprintf(err, errlen, "database '%s': %s", path, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return NULL;
}

int db_prepare(const struct store_cfg *cfg, char *err, size_t errlen)
{
    sqlite3 *db = open_connection(cfg->target, "PRAGMA journal_mode=WAL;", err, errlen);
    int rc;

    if (!db)
        return -1;
    rc = schema_migrate(db, schema_latest(), err, errlen);
    sqlite3_close(db);
    return rc;
}

struct store *db_open(const struct store_cfg *cfg, int index, char *err, size_t errlen)
{
    struct db_worker *w = calloc(1, sizeof(*w));

    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->db = open_connection(
        cfg->target, cfg->sync_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;",
        err, errlen);
    if (!w->db) {
        free(w);
        return NULL;
    }
    return &w->base;
}

void db_close(struct store *s)
{
    struct db_worker *w = (struct db_worker *)s;

    for (int i = 0; i < DB_NSTMT; i++)
        sqlite3_finalize(w->stmt[i]);
    sqlite3_finalize(w->copy_insert); /* an import the caller never ended */
    sqlite3_close(w->db);
    free(w);
}

sqlite3_stmt *db_stmt(struct db_worker *w, enum db_stmt which)
{
    if (!w->stmt[which] && sqlite3_prepare_v3(w->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                              &w->stmt[which], NULL) != SQLITE_OK) {
        db_error(w, "cannot prepare statement %d: %s", which, sqlite3_errmsg(w->db));
        return NULL;
    }
    sqlite3_reset(w->stmt[which]);
    sqlite3_clear_bindings(w->stmt[which]);
    return w->stmt[which];
}

int db_exec(struct db_worker *w, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(w->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        db_error(w, "%s: %s", sql, msg ? msg : sqlite3_errmsg(w->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}
