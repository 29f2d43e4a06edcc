/*
 * The PostgreSQL engine (store_pg_engine): parlor's SQL for a database several parlor nodes
 * may share, through libpq. Workers, and the main thread at startup, each with a connection of
 * their own (struct pg_conn) that only they use; its hot statements are prepared the first time
 * they run and kept for the connection's life.
 *
 * Durability: --db-sync full sets synchronous_commit = on (a commit is flushed to the server's
 * disk, and to a synchronous standby if the server has one, before parlor acknowledges);
 * --db-sync normal sets synchronous_commit = off (the server may lose its last transactions in
 * a crash of PostgreSQL or its machine, never a crash of parlor).
 */
#include "pg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "log.h"
#include "proto.h"
#include "questions.h"
#include "store.h"

/* Statements each connection prepares once, named pN by their index. */
enum pg_stmt {
    PG_INSERT_MESSAGES,
    PG_SELECT_HISTORY,
    PG_DELETE_MESSAGE,
    PG_INSERT_USER,
    PG_SELECT_USER,
    PG_INSERT_GAME,
    PG_INSERT_RESULT,
    PG_ADD_POINTS,
    PG_SELECT_LEADERBOARD,
    PG_SELECT_RANK,
    PG_DELETE_BAN,
    PG_INSERT_BAN,
    PG_INSERT_QUESTION,
    PG_NSTMT
};

static const char *const stmt_sql[PG_NSTMT] = {
    /* a batch is one statement, so one round trip and one transaction: arrays, one per column */
    [PG_INSERT_MESSAGES] = "INSERT INTO messages (room, seq, sender, text, ts) "
                           "SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], "
                           "$4::text[], $5::bigint[])",
    [PG_SELECT_HISTORY] = "SELECT seq, sender, text, ts FROM messages WHERE room = $1 AND seq < $2 "
                          "ORDER BY seq DESC LIMIT $3",
    [PG_DELETE_MESSAGE] = "DELETE FROM messages WHERE room = $1 AND seq = $2",
    [PG_INSERT_USER] = "INSERT INTO users (name, pw_hash, pw_salt, pw_params, created) "
                       "VALUES ($1, $2, $3, $4, $5) RETURNING id",
    [PG_SELECT_USER] = "SELECT id, name, pw_hash, pw_salt, pw_params, coalesce(banned_until, 0) "
                       "FROM users WHERE lower(name) = lower($1)",
    [PG_INSERT_GAME] = "INSERT INTO games (room, started, ended, rounds) VALUES ($1, $2, $3, $4) "
                       "RETURNING id",
    [PG_INSERT_RESULT] = "INSERT INTO results (game_id, name, user_id, score, rank) "
                         "VALUES ($1, $2, $3, $4, $5)",
    [PG_ADD_POINTS] = "UPDATE users SET points = points + $1, games = games + 1, "
                      "wins = wins + $2 WHERE id = $3",
    [PG_SELECT_LEADERBOARD] = "SELECT name, points, games, wins FROM users WHERE games > 0 "
                              "ORDER BY points DESC, wins DESC, lower(name) LIMIT $1",
    /* an account's place in that order: those before it, counted */
    [PG_SELECT_RANK] = "SELECT u.points, u.games, u.wins, (SELECT count(*) FROM users o "
                       "WHERE o.games > 0 AND (o.points > u.points OR (o.points = u.points AND "
                       "(o.wins > u.wins OR (o.wins = u.wins AND "
                       "lower(o.name) < lower(u.name)))))) FROM users u WHERE u.id = $1",
    [PG_DELETE_BAN] = "DELETE FROM bans WHERE kind = $1 AND lower(target) = lower($2)",
    [PG_INSERT_BAN] = "INSERT INTO bans (kind, target, until, reason, created) "
                      "VALUES ($1, $2, $3, $4, $5)",
    [PG_INSERT_QUESTION] = "INSERT INTO questions (pack, category, text, choices, correct, lang) "
                           "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (pack, text) DO NOTHING "
                           "RETURNING id",
};

/* A broken connection is reset at most this often: a worker whose server is gone fails its
 * jobs quickly instead of spending each one on a reconnect. */
#define PG_RESET_INTERVAL_MS 1000

_Static_assert(PG_NSTMT <= PG_STMT_MAX, "struct pg_conn's prepared[] is too small");

#define PG_PARAMS_MAX 6

/* One statement's parameters, as text (an int64 printed into num[i]) or bytes. */
struct pg_params {
    int n;
    const char *values[PG_PARAMS_MAX];
    int lengths[PG_PARAMS_MAX];
    int formats[PG_PARAMS_MAX]; /* 1: binary (bytea) */
    char num[PG_PARAMS_MAX][24];
};

static void param_text(struct pg_params *p, const char *v)
{
    p->values[p->n++] = v;
}

static void param_int(struct pg_params *p, int64_t v)
{
    snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, v);
    p->values[p->n] = p->num[p->n];
    p->n++;
}

/* An int64 that stands for NULL when it is 0 (a ban forever, a guest's user id). */
static void param_int_or_null(struct pg_params *p, int64_t v)
{
    if (v)
        param_int(p, v);
    else
        p->values[p->n++] = NULL;
}

static void param_bytes(struct pg_params *p, const uint8_t *v, size_t len)
{
    p->values[p->n] = (const char *)v;
    p->lengths[p->n] = (int)len;
    p->formats[p->n] = 1;
    p->n++;
}

const char *pg_message(PGconn *conn, const PGresult *r)
{
    static _Thread_local char buf[STORE_ERROR_MAX];
    const char *m = r ? PQresultErrorMessage(r) : "";
    size_t n;

    if (!*m)
        m = PQerrorMessage(conn);
    if (!*m)
        m = "no message from the server";
    snprintf(buf, sizeof(buf), "%s", m);
    /* libpq ends messages with a newline and may add DETAIL lines: keep the first line */
    n = strcspn(buf, "\n");
    buf[n] = '\0';
    return buf;
}

static int set_sync(PGconn *conn, bool full, char *err, size_t errlen)
{
    PGresult *r =
        PQexec(conn, full ? "SET synchronous_commit = on" : "SET synchronous_commit = off");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

    if (!ok)
        snprintf(err, errlen, "synchronous_commit: %s", pg_message(conn, r));
    PQclear(r);
    return ok ? 0 : -1;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 when the connection can run a statement. A connection that broke (PostgreSQL restarted,
 * the network failed) is reset here, at most every PG_RESET_INTERVAL_MS, and never inside a
 * transaction: the statements before the break would be lost, and the rest would commit
 * alone. Until it is back each call fails with the reason. */
static int usable(struct pg_conn *c)
{
    char err[STORE_ERROR_MAX + 64]; /* "synchronous_commit: " and the message */
    int64_t now;

    if (PQstatus(c->conn) == CONNECTION_OK)
        return 0;
    if (c->in_tx) {
        store_fail(&c->base, "the connection to PostgreSQL broke during a transaction");
        return -1;
    }
    now = monotonic_ms();
    if (now < c->next_reset_ms) {
        store_fail(&c->base, "no connection to PostgreSQL (reconnecting at most every %d ms)",
                   PG_RESET_INTERVAL_MS);
        return -1;
    }
    c->next_reset_ms = now + PG_RESET_INTERVAL_MS;
    PQreset(c->conn);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        store_fail(&c->base, "reconnecting to PostgreSQL: %s", pg_message(c->conn, NULL));
        return -1;
    }
    if (set_sync(c->conn, c->sync_full, err, sizeof(err))) {
        store_fail(&c->base, "reconnecting to PostgreSQL: %s", err);
        return -1;
    }
    memset(c->prepared, 0, sizeof(c->prepared)); /* a new session has none */
    log_warn("worker %d: reconnected to PostgreSQL", c->base.index);
    return 0;
}

/* Runs prepared statement `which` (preparing it on this connection the first time) and
 * returns its result whatever its status; NULL with the reason logged when it cannot be
 * prepared. */
static PGresult *exec_prepared(struct pg_conn *c, enum pg_stmt which, const struct pg_params *p,
                               const char *what)
{
    char name[8];
    PGresult *r;

    if (usable(c))
        return NULL;
    snprintf(name, sizeof(name), "p%d", (int)which);
    if (!c->prepared[which]) {
        r = PQprepare(c->conn, name, stmt_sql[which], 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            store_fail(&c->base, "%s: cannot prepare: %s", what, pg_message(c->conn, r));
            PQclear(r);
            return NULL;
        }
        PQclear(r);
        c->prepared[which] = true;
    }
    return PQexecPrepared(c->conn, name, p->n, p->values, p->lengths, p->formats, 0);
}

static bool succeeded(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);

    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* exec_prepared(), and NULL with the reason logged as `what` when it failed. */
static PGresult *run(struct pg_conn *c, enum pg_stmt which, const struct pg_params *p,
                     const char *what)
{
    PGresult *r = exec_prepared(c, which, p, what);

    if (!r || succeeded(r))
        return r;
    store_fail(&c->base, "%s: %s", what, pg_message(c->conn, r));
    PQclear(r);
    return NULL;
}

/* Runs `sql` once with text parameters; the result, or NULL with the reason logged. */
static PGresult *run_sql(struct pg_conn *c, const char *sql, const struct pg_params *p,
                         const char *what)
{
    PGresult *r;

    if (usable(c))
        return NULL;
    r = PQexecParams(c->conn, sql, p ? p->n : 0, NULL, p ? p->values : NULL, p ? p->lengths : NULL,
                     p ? p->formats : NULL, 0);
    if (succeeded(r))
        return r;
    store_fail(&c->base, "%s: %s", what, pg_message(c->conn, r));
    PQclear(r);
    return NULL;
}

/* A command without results (BEGIN, COMMIT): 0 or -1, logged. */
static int exec_cmd(struct pg_conn *c, const char *sql)
{
    PGresult *r = run_sql(c, sql, NULL, sql);

    if (!strcmp(sql, "BEGIN"))
        c->in_tx = r != NULL;
    else if (!strcmp(sql, "COMMIT"))
        c->in_tx = false;
    PQclear(r);
    return r ? 0 : -1;
}

static void rollback(struct pg_conn *c)
{
    if (PQstatus(c->conn) == CONNECTION_OK)
        PQclear(PQexec(c->conn, "ROLLBACK"));
    c->in_tx = false;
}

static int64_t get_int(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* ---- connections ---- */

static PGconn *connect_to(const char *target, char *err, size_t errlen)
{
    char shown[STORE_TARGET_SHOWN_MAX];
    /* the URI's own settings win over the fallback name; the encoding is parlor's */
    const char *const keys[] = {"fallback_application_name", "dbname", "client_encoding", NULL};
    const char *const values[] = {"parlor-server", target, "UTF8", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);

    if (conn && PQstatus(conn) == CONNECTION_OK)
        return conn;
    store_target_shown(target, shown, sizeof(shown));
    snprintf(err, errlen, "database '%s': %s", shown,
             conn ? pg_message(conn, NULL) : "out of memory");
    PQfinish(conn);
    return NULL;
}

static int pg_prepare(const struct store_cfg *cfg, char *err, size_t errlen)
{
    PGconn *conn = connect_to(cfg->target, err, errlen);
    int rc;

    if (!conn)
        return -1;
    rc = pg_schema_migrate(conn, err, errlen);
    PQfinish(conn);
    return rc;
}

static struct store *pg_open(const struct store_cfg *cfg, int index, char *err, size_t errlen)
{
    struct pg_conn *c = calloc(1, sizeof(*c));

    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->sync_full = cfg->sync_full;
    c->conn = connect_to(cfg->target, err, errlen);
    if (!c->conn) {
        free(c);
        return NULL;
    }
    if (set_sync(c->conn, c->sync_full, err, errlen)) {
        PQfinish(c->conn);
        free(c);
        return NULL;
    }
    return &c->base;
}

static void pg_close(struct store *s)
{
    struct pg_conn *c = (struct pg_conn *)s;

    pg_copy_free(c); /* an import the caller never ended */
    PQfinish(c->conn);
    free(c);
}

/* ---- chat ---- */

/* An array literal ("{"a","b"}") being built: a batch's column, sent as one parameter. */
struct pg_array {
    char *buf;
    size_t len, cap;
};

/* Appends `v` as a quoted element; closes the array when `v` is NULL. 0, or -1 (memory). */
static int array_add(struct pg_array *a, const char *v)
{
    size_t need = (v ? strlen(v) * 2 : 0) + 5; /* escapes, quotes, comma, brace, NUL */

    if (a->len + need > a->cap) {
        size_t ncap = (a->cap + need) * 2;
        char *nb = realloc(a->buf, ncap);
        if (!nb)
            return -1;
        a->buf = nb;
        a->cap = ncap;
    }
    if (!v) {
        if (!a->len)
            a->buf[a->len++] = '{';
        a->buf[a->len++] = '}';
        a->buf[a->len] = '\0';
        return 0;
    }
    a->buf[a->len] = a->len ? ',' : '{';
    a->len++;
    a->buf[a->len++] = '"';
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            a->buf[a->len++] = '\\';
        a->buf[a->len++] = *v;
    }
    a->buf[a->len++] = '"';
    return 0;
}

static int pg_insert_messages(struct store *s, const struct store_msg *msgs, size_t n)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_array cols[5] = {{0}};
    struct pg_params p = {0};
    PGresult *r = NULL;
    int rc = -1;

    for (size_t i = 0; i < n; i++) {
        char seq[24], ts[24];
        snprintf(seq, sizeof(seq), "%" PRIu64, msgs[i].seq);
        snprintf(ts, sizeof(ts), "%" PRId64, msgs[i].ts);
        if (array_add(&cols[0], msgs[i].room) || array_add(&cols[1], seq) ||
            array_add(&cols[2], msgs[i].sender) || array_add(&cols[3], msgs[i].text) ||
            array_add(&cols[4], ts))
            goto out;
    }
    for (int k = 0; k < 5; k++) {
        if (array_add(&cols[k], NULL))
            goto out;
        param_text(&p, cols[k].buf);
    }
    r = run(c, PG_INSERT_MESSAGES, &p, "insert messages");
    rc = r ? 0 : -1;
    PQclear(r);
out:
    if (rc && p.n < 5)
        store_fail(s, "insert messages: out of memory");
    for (int k = 0; k < 5; k++)
        free(cols[k].buf);
    return rc;
}

/* Rows come newest first; the protocol wants oldest first. */
static json_t *history_from_rows(const PGresult *r, const char *room)
{
    json_t *events = json_array();

    for (int i = PQntuples(r) - 1; events && i >= 0; i--) {
        json_t *ev = proto_ev_chat(room, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), get_int(r, i, 3),
                                   (uint64_t)get_int(r, i, 0));
        if (!ev || json_array_append_new(events, ev)) {
            json_decref(events);
            return NULL;
        }
    }
    return events;
}

static json_t *pg_history(struct store *s, const char *room, uint64_t before, int limit)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    PGresult *r;
    json_t *events;

    param_text(&p, room);
    param_int(&p, before > INT64_MAX ? INT64_MAX : (int64_t)before);
    param_int(&p, limit);
    r = run(c, PG_SELECT_HISTORY, &p, "history");
    if (!r)
        return NULL;
    events = history_from_rows(r, room);
    PQclear(r);
    if (!events)
        store_fail(s, "history of %s: out of memory", room);
    return events;
}

static int pg_delete_message(struct store *s, const char *room, int64_t seq)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    PGresult *r;
    int n;

    param_text(&p, room);
    param_int(&p, seq);
    r = run(c, PG_DELETE_MESSAGE, &p, "delete message");
    if (!r)
        return -1;
    n = atoi(PQcmdTuples(r));
    PQclear(r);
    return n;
}

static int pg_load_room(struct store *s, const char *room, int limit, uint64_t *last_seq,
                        json_t **events)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    PGresult *r;

    *last_seq = 0;
    *events = NULL;
    param_text(&p, room);
    r = run_sql(c, "SELECT max(seq) FROM messages WHERE room = $1", &p, "loading a room");
    if (!r)
        return -1;
    *last_seq = (uint64_t)get_int(r, 0, 0);
    PQclear(r);
    param_int(&p, limit);
    r = run_sql(c,
                "SELECT seq, sender, text, ts FROM messages WHERE room = $1 "
                "ORDER BY seq DESC LIMIT $2",
                &p, "loading a room");
    if (!r)
        return -1;
    *events = history_from_rows(r, room);
    PQclear(r);
    if (!*events) {
        store_fail(s, "loading room %s: out of memory", room);
        return -1;
    }
    return 0;
}

static int pg_load_max_room_number(struct store *s, uint64_t *n)
{
    struct pg_conn *c = (struct pg_conn *)s;
    /* SQLite's CAST reads the leading digits of "r12..."; numeric cannot overflow */
    PGresult *r = run_sql(c,
                          "SELECT coalesce(max(substring(room FROM '^r([0-9]+)')::numeric), 0) "
                          "FROM (SELECT DISTINCT room FROM messages) m",
                          NULL, "the highest room number");

    if (!r)
        return -1;
    *n = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

/* ---- accounts ---- */

static int pg_create_user(struct store *s, const char *name, const uint8_t *hash, size_t hashlen,
                          const uint8_t *salt, size_t saltlen, const char *params, int64_t created,
                          int64_t *id)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    const char *state;
    PGresult *r;

    param_text(&p, name);
    param_bytes(&p, hash, hashlen);
    param_bytes(&p, salt, saltlen);
    param_text(&p, params);
    param_int(&p, created);
    r = exec_prepared(c, PG_INSERT_USER, &p, "create user");
    if (!r)
        return -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        *id = get_int(r, 0, 0);
        PQclear(r);
        return 0;
    }
    state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state && !strcmp(state, "23505")) { /* unique_violation */
        PQclear(r);
        return -EEXIST;
    }
    store_fail(s, "create user: %s", pg_message(c->conn, r));
    PQclear(r);
    return -1;
}

static void copy_bytea(const PGresult *r, int col, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = 0;
    unsigned char *b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, col), &n);

    if (!b)
        n = 0;
    if (n > cap)
        n = cap;
    if (n)
        memcpy(out, b, n);
    *len = n;
    PQfreemem(b);
}

static int pg_find_user(struct store *s, const char *name, struct store_user *u)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    PGresult *r;

    param_text(&p, name);
    r = run(c, PG_SELECT_USER, &p, "find user");
    if (!r)
        return -1;
    if (!PQntuples(r)) {
        PQclear(r);
        return 0;
    }
    u->id = get_int(r, 0, 0);
    snprintf(u->name, sizeof(u->name), "%s", PQgetvalue(r, 0, 1));
    copy_bytea(r, 2, u->hash, sizeof(u->hash), &u->hashlen);
    copy_bytea(r, 3, u->salt, sizeof(u->salt), &u->saltlen);
    snprintf(u->params, sizeof(u->params), "%s", PQgetvalue(r, 0, 4));
    u->banned_until = get_int(r, 0, 5);
    PQclear(r);
    return 1;
}

static int pg_load_users(struct store *s, store_user_fn *fn, void *arg)
{
    struct pg_conn *c = (struct pg_conn *)s;
    PGresult *r = run_sql(c, "SELECT id, name FROM users ORDER BY id", NULL, "loading accounts");

    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        if (fn(arg, get_int(r, i, 0), PQgetvalue(r, i, 1)))
            break;
    PQclear(r);
    return 0;
}

static int read_token_key(struct pg_conn *c, uint8_t *key, size_t keylen, bool *found)
{
    PGresult *r =
        run_sql(c, "SELECT value FROM settings WHERE key = 'token_key'", NULL, "token key");
    size_t n = 0;

    *found = false;
    if (!r)
        return -1;
    if (PQntuples(r)) {
        unsigned char *b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
        if (b && n == keylen) {
            memcpy(key, b, keylen);
            *found = true;
        }
        PQfreemem(b);
    }
    PQclear(r);
    return 0;
}

static int pg_load_token_key(struct store *s, uint8_t *key, size_t keylen)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    bool found;
    PGresult *r;

    if (read_token_key(c, key, keylen, &found))
        return -1;
    if (found)
        return 0;
    /* first run: a fresh key; tokens signed with it stay valid across restarts */
    if (RAND_bytes(key, (int)keylen) != 1) {
        store_fail(s, "cannot generate the token key: no randomness");
        return -1;
    }
    /* nodes starting together on a new database keep whichever key was stored first; a key of
     * the wrong length is replaced */
    param_bytes(&p, key, keylen);
    param_int(&p, (int64_t)keylen);
    r = run_sql(c,
                "INSERT INTO settings (key, value) VALUES ('token_key', $1) ON CONFLICT (key) "
                "DO UPDATE SET value = excluded.value WHERE length(settings.value) <> $2",
                &p, "token key");
    if (!r)
        return -1;
    PQclear(r);
    if (read_token_key(c, key, keylen, &found))
        return -1;
    if (!found) {
        store_fail(s, "token key: not stored");
        return -1;
    }
    return 0;
}

static int pg_load_database_id(struct store *s, char *out, size_t len)
{
    PGresult *r =
        run_sql((struct pg_conn *)s, "SELECT id FROM parlor_identity", NULL, "database identity");
    int rc = -1;

    if (!r)
        return -1;
    if (PQntuples(r) && strlen(PQgetvalue(r, 0, 0)) < len) {
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    } else {
        store_fail(s, "database identity: missing or too long");
    }
    PQclear(r);
    return rc;
}

/* ---- bans ---- */

static int pg_load_bans(struct store *s, int64_t now_ms, store_ban_fn *fn, void *arg)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    PGresult *r;

    param_int(&p, now_ms);
    r = run_sql(c,
                "SELECT kind, target, coalesce(until, 0) FROM bans "
                "WHERE until IS NULL OR until > $1 ORDER BY id",
                &p, "loading bans");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        if (fn(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), get_int(r, i, 2)))
            break;
    PQclear(r);
    return 0;
}

static int pg_ban_add(struct store *s, const char *kind, const char *target, int64_t until,
                      const char *reason, int64_t created)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params del = {0}, ins = {0};
    PGresult *r;

    param_text(&del, kind);
    param_text(&del, target);
    param_text(&ins, kind);
    param_text(&ins, target);
    param_int_or_null(&ins, until);
    param_text(&ins, reason ? reason : "");
    param_int(&ins, created);
    /* a ban replaces the target's earlier one, as it does in memory: an older row left behind
     * would come back at the next start, perhaps with a later end */
    if (exec_cmd(c, "BEGIN"))
        return -1;
    r = run(c, PG_DELETE_BAN, &del, "ban");
    if (!r)
        goto fail;
    PQclear(r);
    r = run(c, PG_INSERT_BAN, &ins, "ban");
    if (!r)
        goto fail;
    PQclear(r);
    if (exec_cmd(c, "COMMIT"))
        goto fail;
    return 0;
fail:
    rollback(c);
    return -1;
}

static int pg_ban_remove(struct store *s, const char *kind, const char *target)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    PGresult *r;

    param_text(&p, kind);
    param_text(&p, target);
    r = run(c, PG_DELETE_BAN, &p, "unban");
    PQclear(r);
    return r ? 0 : -1;
}

/* ---- games ---- */

static int pg_save_game(struct store *s, const char *room, int64_t started, int64_t ended,
                        int rounds, const struct store_result *results, int n)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    char what[96];
    int64_t game_id;
    PGresult *r;

    snprintf(what, sizeof(what), "saving a game of %s", room);
    if (exec_cmd(c, "BEGIN"))
        return -1;
    param_text(&p, room);
    param_int(&p, started);
    param_int(&p, ended);
    param_int(&p, rounds);
    r = run(c, PG_INSERT_GAME, &p, what);
    if (!r)
        goto fail;
    game_id = get_int(r, 0, 0);
    PQclear(r);
    for (int i = 0; i < n; i++) {
        p = (struct pg_params){0};
        param_int(&p, game_id);
        param_text(&p, results[i].name);
        param_int_or_null(&p, results[i].user_id);
        param_int(&p, results[i].score);
        param_int(&p, results[i].rank);
        r = run(c, PG_INSERT_RESULT, &p, what);
        if (!r)
            goto fail;
        PQclear(r);
        if (!results[i].user_id)
            continue;
        p = (struct pg_params){0};
        param_int(&p, results[i].score);
        param_int(&p, results[i].rank == 1);
        param_int(&p, results[i].user_id);
        r = run(c, PG_ADD_POINTS, &p, what);
        if (!r)
            goto fail;
        PQclear(r);
    }
    if (exec_cmd(c, "COMMIT"))
        goto fail;
    return 0;
fail:
    rollback(c);
    return -1;
}

static json_t *pg_leaderboard(struct store *s, int limit)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    json_t *entries;
    PGresult *r;

    param_int(&p, limit);
    r = run(c, PG_SELECT_LEADERBOARD, &p, "leaderboard");
    if (!r)
        return NULL;
    entries = json_array();
    for (int i = 0; entries && i < PQntuples(r); i++)
        json_array_append_new(
            entries, json_pack("{s:s, s:I, s:I, s:I}", "name", PQgetvalue(r, i, 0), "points",
                               (json_int_t)get_int(r, i, 1), "games", (json_int_t)get_int(r, i, 2),
                               "wins", (json_int_t)get_int(r, i, 3)));
    PQclear(r);
    if (!entries)
        store_fail(s, "leaderboard: out of memory");
    return entries;
}

static json_t *pg_rank(struct store *s, int64_t user_id)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_params p = {0};
    json_t *me;
    PGresult *r;

    param_int(&p, user_id);
    r = run(c, PG_SELECT_RANK, &p, "rank");
    if (!r)
        return NULL;
    if (PQntuples(r)) {
        int64_t games = get_int(r, 0, 1);
        me = json_pack("{s:o, s:I, s:I, s:I}", "rank",
                       games > 0 ? json_integer(get_int(r, 0, 3) + 1) : json_null(), "points",
                       (json_int_t)get_int(r, 0, 0), "games", (json_int_t)games, "wins",
                       (json_int_t)get_int(r, 0, 2));
    } else {
        me = json_null();
    }
    PQclear(r);
    if (!me)
        store_fail(s, "rank: out of memory");
    return me;
}

/* ---- question packs ---- */

static int import_begin(void *arg, char *why, size_t wlen)
{
    struct pg_conn *c = arg;

    if (exec_cmd(c, "BEGIN")) {
        snprintf(why, wlen, "%s", c->base.error);
        return -1;
    }
    return 0;
}

static int import_insert(void *arg, const struct question_row *q, int64_t *id, char *why,
                         size_t wlen)
{
    struct pg_conn *c = arg;
    struct pg_params p = {0};
    PGresult *r;
    int added;

    param_text(&p, q->pack);
    param_text(&p, q->category);
    param_text(&p, q->text);
    param_text(&p, q->choices);
    param_int(&p, q->correct);
    param_text(&p, q->lang); /* NULL when absent */
    r = exec_prepared(c, PG_INSERT_QUESTION, &p, "import");
    if (!r || !succeeded(r)) {
        snprintf(why, wlen, "%s", r ? pg_message(c->conn, r) : c->base.error);
        PQclear(r);
        return -1;
    }
    added = PQntuples(r) > 0; /* no row: the pack had it already */
    if (added)
        *id = get_int(r, 0, 0);
    PQclear(r);
    return added;
}

static int import_commit(void *arg, char *why, size_t wlen)
{
    struct pg_conn *c = arg;

    if (exec_cmd(c, "COMMIT")) {
        snprintf(why, wlen, "%s", c->base.error);
        return -1;
    }
    return 0;
}

static void import_rollback(void *arg)
{
    rollback(arg);
}

static const struct questions_sink pg_import_sink = {
    .begin = import_begin,
    .insert = import_insert,
    .commit = import_commit,
    .rollback = import_rollback,
};

static int pg_import_questions(struct store *s, FILE *in, const char *label, const char *pack,
                               int *added, struct qbank *added_to)
{
    return questions_import(&pg_import_sink, s, in, label, pack, added, added_to, s->error,
                            sizeof(s->error));
}

static int pg_load_questions(struct store *s, struct qbank *b)
{
    struct pg_conn *c = (struct pg_conn *)s;
    PGresult *r;

    qbank_destroy(b);
    r = run_sql(c, "SELECT id, category, text, choices, correct, lang FROM questions ORDER BY id",
                NULL, "loading questions");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        if (questions_add_stored(b, get_int(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                                 PQgetvalue(r, i, 3), (int)get_int(r, i, 4),
                                 PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5), s->error,
                                 sizeof(s->error))) {
            PQclear(r);
            return -1;
        }
    }
    PQclear(r);
    return 0;
}

static int pg_probe(struct store *s)
{
    return exec_cmd((struct pg_conn *)s, "SELECT 1");
}

const struct store_engine store_pg_engine = {
    .name = "postgresql",
    .prepare = pg_prepare,
    .open = pg_open,
    .close = pg_close,
    .insert_messages = pg_insert_messages,
    .history = pg_history,
    .delete_message = pg_delete_message,
    .create_user = pg_create_user,
    .find_user = pg_find_user,
    .save_game = pg_save_game,
    .leaderboard = pg_leaderboard,
    .rank = pg_rank,
    .ban_add = pg_ban_add,
    .ban_remove = pg_ban_remove,
    .import_questions = pg_import_questions,
    .probe = pg_probe,
    .load_room = pg_load_room,
    .load_max_room_number = pg_load_max_room_number,
    .load_users = pg_load_users,
    .load_bans = pg_load_bans,
    .load_token_key = pg_load_token_key,
    .load_database_id = pg_load_database_id,
    .load_questions = pg_load_questions,
    .export_rows = pg_export_rows,
    .import_begin = pg_import_begin,
    .count_rows = pg_count_rows,
    .import_clear = pg_import_clear,
    .import_row = pg_import_row,
    .import_end = pg_import_end,
};
