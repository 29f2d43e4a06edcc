/*
 * The SQLite engine (store_sqlite_engine): parlor's SQL for one file shared by every worker's
 * connection (WAL). Workers, and the main thread at startup, each with its own connection.
 */
#include "db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "log.h"
#include "proto.h"
#include "questions.h"
#include "schema.h"
#include "store.h"

static int sqlite_insert_messages(struct store *s, const struct store_msg *msgs, size_t n)
{
    struct db_worker *w = (struct db_worker *)s;
    sqlite3_stmt *st;

    if (db_exec(w, "BEGIN IMMEDIATE"))
        return -1;
    for (size_t i = 0; i < n; i++) {
        st = db_stmt(w, DB_INSERT_MESSAGE);
        if (!st)
            goto fail;
        sqlite3_bind_text(st, 1, msgs[i].room, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)msgs[i].seq);
        sqlite3_bind_text(st, 3, msgs[i].sender, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, msgs[i].text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, msgs[i].ts);
        if (sqlite3_step(st) != SQLITE_DONE) {
            db_error(w, "insert message %s/%llu: %s", msgs[i].room, (unsigned long long)msgs[i].seq,
                     sqlite3_errmsg(w->db));
            goto fail;
        }
    }
    if (db_exec(w, "COMMIT"))
        goto fail;
    return 0;
fail:
    db_exec(w, "ROLLBACK");
    return -1;
}

/* Rows come newest first; the protocol wants oldest first. */
static json_t *history_from_rows(sqlite3_stmt *st, const char *room, json_t *events)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *ev =
            proto_ev_chat(room, (const char *)sqlite3_column_text(st, 1),
                          (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3),
                          (uint64_t)sqlite3_column_int64(st, 0));
        if (!ev || json_array_insert_new(events, 0, ev))
            goto fail;
    }
    if (rc == SQLITE_DONE)
        return events;
fail:
    json_decref(events);
    return NULL;
}

static json_t *sqlite_history(struct store *s, const char *room, uint64_t before, int limit)
{
    struct db_worker *w = (struct db_worker *)s;
    sqlite3_stmt *st = db_stmt(w, DB_SELECT_HISTORY);
    json_t *events;

    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, before > INT64_MAX ? INT64_MAX : (sqlite3_int64)before);
    sqlite3_bind_int(st, 3, limit);
    events = history_from_rows(st, room, json_array());
    if (!events)
        db_error(w, "history of %s: %s", room, sqlite3_errmsg(w->db));
    sqlite3_reset(st);
    return events;
}

static int sqlite_load_room(struct store *s, const char *room, int limit, uint64_t *last_seq,
                            json_t **events)
{
    sqlite3 *db = ((struct db_worker *)s)->db;
    sqlite3_stmt *st = NULL;

    *last_seq = 0;
    *events = NULL;
    if (sqlite3_prepare_v2(db, "SELECT max(seq) FROM messages WHERE room = ?", -1, &st, NULL))
        goto fail;
    sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    *last_seq = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);

    if (sqlite3_prepare_v2(db,
                           "SELECT seq, sender, text, ts FROM messages WHERE room = ? "
                           "ORDER BY seq DESC LIMIT ?",
                           -1, &st, NULL))
        goto fail;
    sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    *events = history_from_rows(st, room, json_array());
    if (!*events)
        goto fail;
    sqlite3_finalize(st);
    return 0;
fail:
    store_fail(s, "loading room %s: %s", room, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
}

static int sqlite_load_max_room_number(struct store *s, uint64_t *n)
{
    sqlite3 *db = ((struct db_worker *)s)->db;
    sqlite3_stmt *st;

    /* DISTINCT room walks the primary key once per room, not once per message */
    if (sqlite3_prepare_v2(db,
                           "SELECT max(CAST(substr(room, 2) AS INTEGER)) FROM "
                           "(SELECT DISTINCT room FROM messages) WHERE room GLOB 'r[0-9]*'",
                           -1, &st, NULL)) {
        store_fail(s, "the highest room number: %s", sqlite3_errmsg(db));
        return -1;
    }
    *n = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

static int sqlite_create_user(struct store *s, const char *name, const uint8_t *hash,
                              size_t hashlen, const uint8_t *salt, size_t saltlen,
                              const char *params, int64_t created, int64_t *id)
{
    struct db_worker *w = (struct db_worker *)s;
    sqlite3_stmt *st = db_stmt(w, DB_INSERT_USER);
    int rc;

    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, (int)hashlen, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, salt, (int)saltlen, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, params, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, created);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(w->db);
        return 0;
    }
    if (sqlite3_extended_errcode(w->db) == SQLITE_CONSTRAINT_UNIQUE)
        return -EEXIST;
    db_error(w, "create user: %s", sqlite3_errmsg(w->db));
    return -1;
}

static void copy_blob(sqlite3_stmt *st, int col, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = (size_t)sqlite3_column_bytes(st, col);

    if (n > cap)
        n = cap;
    memcpy(out, sqlite3_column_blob(st, col), n);
    *len = n;
}

static int sqlite_find_user(struct store *s, const char *name, struct store_user *u)
{
    struct db_worker *w = (struct db_worker *)s;
    sqlite3_stmt *st = db_stmt(w, DB_SELECT_USER);
    int rc;

    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW) {
        db_error(w, "find user: %s", sqlite3_errmsg(w->db));
        return -1;
    }
    u->id = sqlite3_column_int64(st, 0);
    snprintf(u->name, sizeof(u->name), "%s", (const char *)sqlite3_column_text(st, 1));
    copy_blob(st, 2, u->hash, sizeof(u->hash), &u->hashlen);
    copy_blob(st, 3, u->salt, sizeof(u->salt), &u->saltlen);
    snprintf(u->params, sizeof(u->params), "%s", (const char *)sqlite3_column_text(st, 4));
    u->banned_until = sqlite3_column_int64(st, 5); /* NULL reads as 0 */
    sqlite3_reset(st);
    return 1;
}

static int sqlite_load_users(struct store *s, store_user_fn *fn, void *arg)
{
    sqlite3 *db = ((struct db_worker *)s)->db;
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT id, name FROM users", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(arg, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1)))
            break;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
fail:
    store_fail(s, "loading accounts: %s", sqlite3_errmsg(db));
    return -1;
}

static int sqlite_load_token_key(struct store *s, uint8_t *key, size_t keylen)
{
    sqlite3 *db = ((struct db_worker *)s)->db;
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = 'token_key'", -1, &st,
                           NULL) != SQLITE_OK)
        goto fail;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) == keylen) {
        memcpy(key, sqlite3_column_blob(st, 0), keylen);
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_finalize(st);
    st = NULL;
    /* first run: a fresh key; tokens signed with it stay valid across restarts */
    if (RAND_bytes(key, (int)keylen) != 1) {
        store_fail(s, "cannot generate the token key: no randomness");
        return -1;
    }
    /* nodes starting together on a new file keep whichever key was stored first (as pg.c's);
     * a key of the wrong length is replaced */
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO settings (key, value) VALUES ('token_key', ?1) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value "
                           "WHERE length(settings.value) <> ?2",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_blob(st, 1, key, (int)keylen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)keylen);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = 'token_key'", -1, &st,
                           NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_step(st) != SQLITE_ROW || (size_t)sqlite3_column_bytes(st, 0) != keylen)
        goto fail;
    memcpy(key, sqlite3_column_blob(st, 0), keylen);
    sqlite3_finalize(st);
    return 0;
fail:
    store_fail(s, "token key: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
}

static int sqlite_load_database_id(struct store *s, char *out, size_t len)
{
    sqlite3 *db = ((struct db_worker *)s)->db;
    sqlite3_stmt *st;
    const unsigned char *id;
    int rc = -1;

    if (sqlite3_prepare_v2(db, "SELECT id FROM parlor_identity", -1, &st, NULL) != SQLITE_OK) {
        store_fail(s, "database identity: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW && (id = sqlite3_column_text(st, 0)) &&
        strlen((const char *)id) < len) {
        snprintf(out, len, "%s", (const char *)id);
        rc = 0;
    } else {
        store_fail(s, "database identity: missing or too long");
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqlite_load_bans(struct store *s, int64_t now_ms, store_ban_fn *fn, void *arg)
{
    sqlite3 *db = ((struct db_worker *)s)->db;
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT kind, target, coalesce(until, 0) FROM bans "
                           "WHERE until IS NULL OR until > ?",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, now_ms);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(arg, (const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2)))
            break;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
fail:
    store_fail(s, "loading bans: %s", sqlite3_errmsg(db));
    return -1;
}

static int sqlite_save_game(struct store *s, const char *room, int64_t started, int64_t ended,
                            int rounds, const struct store_result *results, int n)
{
    struct db_worker *w = (struct db_worker *)s;
    sqlite3_stmt *st;
    int64_t game_id;

    if (db_exec(w, "BEGIN IMMEDIATE"))
        return -1;
    st = db_stmt(w, DB_INSERT_GAME);
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, started);
    sqlite3_bind_int64(st, 3, ended);
    sqlite3_bind_int(st, 4, rounds);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    game_id = sqlite3_last_insert_rowid(w->db);
    for (int i = 0; i < n; i++) {
        st = db_stmt(w, DB_INSERT_RESULT);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, game_id);
        sqlite3_bind_text(st, 2, results[i].name, -1, SQLITE_STATIC);
        if (results[i].user_id)
            sqlite3_bind_int64(st, 3, results[i].user_id);
        sqlite3_bind_int(st, 4, results[i].score);
        sqlite3_bind_int(st, 5, results[i].rank);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto fail;
        if (!results[i].user_id)
            continue;
        st = db_stmt(w, DB_ADD_POINTS);
        if (!st)
            goto fail;
        sqlite3_bind_int(st, 1, results[i].score);
        sqlite3_bind_int(st, 2, results[i].rank == 1);
        sqlite3_bind_int64(st, 3, results[i].user_id);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto fail;
    }
    if (db_exec(w, "COMMIT"))
        goto fail;
    return 0;
fail:
    db_error(w, "saving a game of %s: %s", room, sqlite3_errmsg(w->db));
    db_exec(w, "ROLLBACK");
    return -1;
}

static json_t *sqlite_leaderboard(struct store *s, int limit)
{
    struct db_worker *w = (struct db_worker *)s;
    sqlite3_stmt *st = db_stmt(w, DB_SELECT_LEADERBOARD);
    json_t *entries;
    int rc;

    if (!st)
        return NULL;
    sqlite3_bind_int(st, 1, limit);
    entries = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(entries, json_pack("{s:s, s:I, s:I, s:I}", "name",
                                                 (const char *)sqlite3_column_text(st, 0), "points",
                                                 (json_int_t)sqlite3_column_int64(st, 1), "games",
                                                 (json_int_t)sqlite3_column_int64(st, 2), "wins",
                                                 (json_int_t)sqlite3_column_int64(st, 3)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        db_error(w, "leaderboard: %s", sqlite3_errmsg(w->db));
        json_decref(entries);
        return NULL;
    }
    return entries;
}

static json_t *sqlite_rank(struct store *s, int64_t user_id)
{
    struct db_worker *w = (struct db_worker *)s;
    sqlite3_stmt *st = db_stmt(w, DB_SELECT_RANK);
    json_t *me;
    int rc;

    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, user_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t games = sqlite3_column_int64(st, 1);
        me = json_pack("{s:o, s:I, s:I, s:I}", "rank",
                       games > 0 ? json_integer(sqlite3_column_int64(st, 3) + 1) : json_null(),
                       "points", (json_int_t)sqlite3_column_int64(st, 0), "games",
                       (json_int_t)games, "wins", (json_int_t)sqlite3_column_int64(st, 2));
    } else {
        me = rc == SQLITE_DONE ? json_null() : NULL;
    }
    sqlite3_reset(st);
    if (!me)
        db_error(w, "rank: %s", sqlite3_errmsg(w->db));
    return me;
}

/* Runs one statement with text/integer parameters: "t" binds a string, "i" an int64, "n" an
 * int64 or NULL when 0. */
static int run_once(struct db_worker *w, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int rc;

    if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_error(w, "%s: %s", sql, sqlite3_errmsg(w->db));
        return -1;
    }
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't') {
            const char *v = va_arg(ap, const char *);
            sqlite3_bind_text(st, i + 1, v, -1, SQLITE_STATIC);
        } else {
            int64_t v = va_arg(ap, int64_t);
            if (types[i] == 'n' && !v)
                sqlite3_bind_null(st, i + 1);
            else
                sqlite3_bind_int64(st, i + 1, v);
        }
    }
    va_end(ap);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        db_error(w, "%s: %s", sql, sqlite3_errmsg(w->db));
        return -1;
    }
    return 0;
}

static int sqlite_ban_add(struct store *s, const char *kind, const char *target, int64_t until,
                          const char *reason, int64_t created)
{
    struct db_worker *w = (struct db_worker *)s;
    /* a ban replaces the target's earlier one, as it does in memory: an older row left behind
     * would come back at the next start, perhaps with a later end */
    if (run_once(w, "DELETE FROM bans WHERE kind = ? AND target = ?", "tt", kind, target))
        return -1;
    return run_once(
        w, "INSERT INTO bans (kind, target, until, reason, created) VALUES (?, ?, ?, ?, ?)",
        "ttnti", kind, target, until, reason ? reason : "", created);
}

static int sqlite_ban_remove(struct store *s, const char *kind, const char *target)
{
    struct db_worker *w = (struct db_worker *)s;
    return run_once(w, "DELETE FROM bans WHERE kind = ? AND target = ?", "tt", kind, target);
}

static int sqlite_delete_message(struct store *s, const char *room, int64_t seq)
{
    struct db_worker *w = (struct db_worker *)s;
    if (run_once(w, "DELETE FROM messages WHERE room = ? AND seq = ?", "ti", room, seq))
        return -1;
    return sqlite3_changes(w->db);
}

/* An import's transaction: questions.c parses, this inserts. */
struct sqlite_import {
    sqlite3 *db;
    sqlite3_stmt *st;
};

static int import_begin(void *arg, char *why, size_t wlen)
{
    struct sqlite_import *im = arg;

    if (sqlite3_exec(im->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(im->db,
                           "INSERT INTO questions (pack, category, text, choices, correct, lang) "
                           "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (pack, text) DO NOTHING",
                           -1, &im->st, NULL) != SQLITE_OK) {
        snprintf(why, wlen, "%s", sqlite3_errmsg(im->db));
        return -1;
    }
    return 0;
}

static int import_insert(void *arg, const struct question_row *q, int64_t *id, char *why,
                         size_t wlen)
{
    struct sqlite_import *im = arg;
    sqlite3_stmt *st = im->st;

    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, q->pack, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->category, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, q->choices, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, q->correct);
    if (q->lang)
        sqlite3_bind_text(st, 6, q->lang, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    if (sqlite3_step(st) != SQLITE_DONE) {
        snprintf(why, wlen, "%s", sqlite3_errmsg(im->db));
        return -1;
    }
    sqlite3_reset(st); /* the bound strings are the caller's until the next call */
    if (!sqlite3_changes(im->db))
        return 0;
    *id = sqlite3_last_insert_rowid(im->db);
    return 1;
}

static int import_commit(void *arg, char *why, size_t wlen)
{
    struct sqlite_import *im = arg;

    sqlite3_finalize(im->st);
    im->st = NULL;
    if (sqlite3_exec(im->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(why, wlen, "%s", sqlite3_errmsg(im->db));
        return -1;
    }
    return 0;
}

static void import_rollback(void *arg)
{
    struct sqlite_import *im = arg;

    sqlite3_finalize(im->st);
    im->st = NULL;
    sqlite3_exec(im->db, "ROLLBACK", NULL, NULL, NULL);
}

static const struct questions_sink sqlite_import_sink = {
    .begin = import_begin,
    .insert = import_insert,
    .commit = import_commit,
    .rollback = import_rollback,
};

static int sqlite_import_questions(struct store *s, FILE *in, const char *label, const char *pack,
                                   int *added, struct qbank *added_to)
{
    struct sqlite_import im = {.db = ((struct db_worker *)s)->db};

    return questions_import(&sqlite_import_sink, &im, in, label, pack, added, added_to, s->error,
                            sizeof(s->error));
}

static int sqlite_load_questions(struct store *s, struct qbank *b)
{
    sqlite3 *db = ((struct db_worker *)s)->db;
    sqlite3_stmt *st;
    int rc;

    qbank_destroy(b);
    if (sqlite3_prepare_v2(db, "SELECT id, category, text, choices, correct, lang FROM questions",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (questions_add_stored(
                b, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
                sqlite3_column_int(st, 4), (const char *)sqlite3_column_text(st, 5), s->error,
                sizeof(s->error))) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
fail:
    snprintf(s->error, sizeof(s->error), "loading questions: %s", sqlite3_errmsg(db));
    return -1;
}

static int sqlite_probe(struct store *s)
{
    struct db_worker *w = (struct db_worker *)s;

    return db_exec(w, "SELECT 1");
}

const struct store_engine store_sqlite_engine = {
    .name = "sqlite",
    .prepare = db_prepare,
    .open = db_open,
    .close = db_close,
    .insert_messages = sqlite_insert_messages,
    .history = sqlite_history,
    .delete_message = sqlite_delete_message,
    .create_user = sqlite_create_user,
    .find_user = sqlite_find_user,
    .save_game = sqlite_save_game,
    .leaderboard = sqlite_leaderboard,
    .rank = sqlite_rank,
    .ban_add = sqlite_ban_add,
    .ban_remove = sqlite_ban_remove,
    .import_questions = sqlite_import_questions,
    .probe = sqlite_probe,
    .load_room = sqlite_load_room,
    .load_max_room_number = sqlite_load_max_room_number,
    .load_users = sqlite_load_users,
    .load_bans = sqlite_load_bans,
    .load_token_key = sqlite_load_token_key,
    .load_database_id = sqlite_load_database_id,
    .load_questions = sqlite_load_questions,
    .export_rows = sqlite_export_rows,
    .import_begin = sqlite_import_begin,
    .count_rows = sqlite_count_rows,
    .import_clear = sqlite_import_clear,
    .import_row = sqlite_import_row,
    .import_end = sqlite_import_end,
};
