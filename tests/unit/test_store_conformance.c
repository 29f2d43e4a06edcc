/*
 * The store's conformance suite: every operation of struct store_engine, with the same
 * assertions, against both engines: SQLite in a temporary file and PostgreSQL in the database
 * PARLOR_TEST_PG names (a postgresql:// URI; ctest starts a throwaway cluster for it, see
 * scripts/pg-test-cluster). Without PARLOR_TEST_PG the PostgreSQL half fails: it never skips.
 * Each test starts from an empty database.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "migrate.h"
#include "pg.h"
#include "qbank.h"
#include "schema.h"
#include "store.h"

struct fixture {
    const struct store_engine *engine;
    char target[512];
    struct store_cfg cfg;
    struct store *s;
};

/* Runs raw SQL on a database of either engine, behind the store's back; with `out`, the rows,
 * one a line, columns split by '|' (NULL as "-"). */
static void raw_query(const char *target, const char *sql, char *out, size_t len)
{
    size_t used = 0;

    if (out)
        out[0] = '\0';
    if (store_engine_for(target) == &store_sqlite_engine) {
        sqlite3 *db;
        sqlite3_stmt *st;
        const char *tail = sql;
        assert_int_equal(sqlite3_open(target, &db), SQLITE_OK);
        while (*tail) {
            int rc;
            if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK)
                fail_msg("%s: %s", sql, sqlite3_errmsg(db));
            if (!st)
                break;
            while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                for (int i = 0; out && i < sqlite3_column_count(st); i++) {
                    const char *v = (const char *)sqlite3_column_text(st, i);
                    used += (size_t)snprintf(out + used, len - used, "%s%s", v ? v : "-",
                                             i + 1 < sqlite3_column_count(st) ? "|" : "\n");
                }
            if (rc != SQLITE_DONE)
                fail_msg("%s: %s", sql, sqlite3_errmsg(db));
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
    } else {
        PGconn *c = PQconnectdb(target);
        PGresult *r;
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        for (int row = 0; out && row < PQntuples(r); row++)
            for (int i = 0; i < PQnfields(r); i++)
                used += (size_t)snprintf(out + used, len - used, "%s%s",
                                         PQgetisnull(r, row, i) ? "-" : PQgetvalue(r, row, i),
                                         i + 1 < PQnfields(r) ? "|" : "\n");
        PQclear(r);
        PQfinish(c);
    }
    assert_true(!out || used < len);
}

static void raw_exec(struct fixture *f, const char *sql)
{
    raw_query(f->target, sql, NULL, 0);
}

static int open_store(struct fixture *f)
{
    char err[256];

    f->cfg = (struct store_cfg){.target = f->target, .sync_full = true};
    if (store_prepare(&f->cfg, err, sizeof(err))) {
        fprintf(stderr, "store_prepare: %s\n", err);
        return -1;
    }
    f->s = store_open(&f->cfg, -1, err, sizeof(err));
    if (!f->s)
        fprintf(stderr, "store_open: %s\n", err);
    return f->s ? 0 : -1;
}

static int setup_sqlite(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    int fd;

    f->engine = &store_sqlite_engine;
    snprintf(f->target, sizeof(f->target), "/tmp/parlor-conformance-XXXXXX");
    fd = mkstemp(f->target);
    if (fd < 0)
        return -1;
    close(fd);
    *state = f;
    return open_store(f);
}

static int setup_pg(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *uri = getenv("PARLOR_TEST_PG");

    *state = f;
    f->engine = &store_pg_engine;
    if (!uri || !*uri) {
        fprintf(stderr, "PARLOR_TEST_PG is not set: it names the PostgreSQL database these tests "
                        "use (ctest sets it; see scripts/pg-test-cluster)\n");
        return -1;
    }
    snprintf(f->target, sizeof(f->target), "%s", uri);
    raw_exec(f,
             "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    return open_store(f);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->s);
    if (f->engine == &store_sqlite_engine) {
        char side[600];
        unlink(f->target);
        snprintf(side, sizeof(side), "%s-wal", f->target);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", f->target);
        unlink(side);
    }
    free(f);
    return 0;
}

static struct store_msg msg(const char *room, uint64_t seq, const char *sender, const char *text)
{
    return (struct store_msg){
        .room = room, .seq = seq, .sender = sender, .text = text, .ts = 1000 + (int64_t)seq};
}

static void assert_event(json_t *ev, const char *room, uint64_t seq, const char *from,
                         const char *text)
{
    assert_string_equal(json_string_value(json_object_get(ev, "type")), "chat");
    assert_string_equal(json_string_value(json_object_get(ev, "room")), room);
    assert_int_equal(json_integer_value(json_object_get(ev, "seq")), seq);
    assert_string_equal(json_string_value(json_object_get(ev, "from")), from);
    assert_string_equal(json_string_value(json_object_get(ev, "text")), text);
    assert_int_equal(json_integer_value(json_object_get(ev, "ts")), 1000 + seq);
}

/* ---- schema ---- */

static void test_store_schema_is_latest_and_newer_is_refused(void **state)
{
    struct fixture *f = *state;
    char err[256];

    /* the two dialects keep one history */
    assert_int_equal(pg_schema_latest(), schema_latest());
    /* preparing again changes nothing */
    assert_int_equal(store_prepare(&f->cfg, err, sizeof(err)), 0);
    raw_exec(f, f->engine == &store_sqlite_engine ? "PRAGMA user_version = 99"
                                                  : "UPDATE parlor_schema SET version = 99");
    assert_int_equal(store_prepare(&f->cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "the database has schema version 99, newer than this"));
}

/* ---- chat ---- */

static void test_store_messages_round_trip_and_page_by_seq(void **state)
{
    struct fixture *f = *state;
    /* what an array literal or a quoted string could get wrong */
    const char *odd = "a \"quoted\", {brace}, \\back\\slash, NULL, 'single', é ✓";
    struct store_msg batch[] = {
        msg("lobby", 1, "ann", "one"),       msg("lobby", 2, "bob", odd),
        msg("r7", 1, "ann", "side"),         msg("lobby", 3, "ann", "NULL"),
        msg("lobby", 4, "cy", "four"),       msg("r12", 1, "bob", "twelve"),
        msg("rx", 1, "bob", "not a number"),
    };
    json_t *h, *events;
    uint64_t last, rooms;

    assert_int_equal(store_insert_messages(f->s, batch, 7), 0);
    assert_int_equal(store_insert_messages(f->s, batch, 0), 0);

    /* the newest `limit` before `before`, oldest first */
    h = store_history(f->s, "lobby", 4, 2);
    assert_non_null(h);
    assert_int_equal(json_array_size(h), 2);
    assert_event(json_array_get(h, 0), "lobby", 2, "bob", odd);
    assert_event(json_array_get(h, 1), "lobby", 3, "ann", "NULL");
    json_decref(h);
    h = store_history(f->s, "lobby", UINT64_MAX, 50);
    assert_int_equal(json_array_size(h), 4);
    assert_event(json_array_get(h, 3), "lobby", 4, "cy", "four");
    json_decref(h);
    h = store_history(f->s, "nowhere", 10, 50);
    assert_non_null(h);
    assert_int_equal(json_array_size(h), 0);
    json_decref(h);

    /* startup: the last seq and the newest events; the highest rN */
    assert_int_equal(store_load_room(f->s, "lobby", 3, &last, &events), 0);
    assert_int_equal(last, 4);
    assert_int_equal(json_array_size(events), 3);
    assert_event(json_array_get(events, 0), "lobby", 2, "bob", odd);
    json_decref(events);
    assert_int_equal(store_load_room(f->s, "empty", 3, &last, &events), 0);
    assert_int_equal(last, 0);
    assert_int_equal(json_array_size(events), 0);
    json_decref(events);
    assert_int_equal(store_load_max_room_number(f->s, &rooms), 0);
    assert_int_equal(rooms, 12);

    /* delete: the count of rows */
    assert_int_equal(store_delete_message(f->s, "lobby", 2), 1);
    assert_int_equal(store_delete_message(f->s, "lobby", 2), 0);
    h = store_history(f->s, "lobby", UINT64_MAX, 50);
    assert_int_equal(json_array_size(h), 3);
    json_decref(h);
}

static void test_store_a_failing_batch_saves_nothing(void **state)
{
    struct fixture *f = *state;
    struct store_msg first[] = {msg("lobby", 1, "ann", "kept")};
    /* seq 1 again: the whole batch is one transaction */
    struct store_msg batch[] = {msg("lobby", 2, "ann", "lost"), msg("lobby", 1, "ann", "dup")};
    json_t *h;

    assert_int_equal(store_insert_messages(f->s, first, 1), 0);
    assert_int_equal(store_insert_messages(f->s, batch, 2), -1);
    assert_true(f->s->error[0] != '\0');
    h = store_history(f->s, "lobby", UINT64_MAX, 50);
    assert_int_equal(json_array_size(h), 1);
    assert_event(json_array_get(h, 0), "lobby", 1, "ann", "kept");
    json_decref(h);
    /* and the connection works on */
    assert_int_equal(store_insert_messages(f->s, batch, 1), 0);
    assert_int_equal(store_probe(f->s), 0);
}

/* ---- accounts ---- */

static int collect_user(void *arg, int64_t id, const char *name)
{
    char *out = arg;
    size_t n = strlen(out);

    snprintf(out + n, 256 - n, "%lld:%s ", (long long)id, name);
    return 0;
}

static void test_store_users_unique_without_case_and_found_with_bytes(void **state)
{
    struct fixture *f = *state;
    const uint8_t hash[] = {0, 1, 2, 0xff, 0, 0x80, '\\', '\''};
    const uint8_t salt[] = {0xde, 0xad, 0, 0xbe, 0xef};
    struct store_user u;
    int64_t id1 = 0, id2 = 0, id3 = 0;
    char names[256] = "", expect[256];

    assert_int_equal(store_create_user(f->s, "Alice", hash, sizeof(hash), salt, sizeof(salt),
                                       "scrypt:N=4096,r=8,p=1", 5, &id1),
                     0);
    assert_int_equal(
        store_create_user(f->s, "bob", salt, sizeof(salt), hash, sizeof(hash), "p", 6, &id2), 0);
    assert_true(id1 > 0);
    assert_true(id2 > id1);
    /* ASCII case does not make a new name */
    assert_int_equal(
        store_create_user(f->s, "ALICE", hash, sizeof(hash), salt, sizeof(salt), "p", 7, &id3),
        -EEXIST);
    assert_int_equal(
        store_create_user(f->s, "bOB", hash, sizeof(hash), salt, sizeof(salt), "p", 7, &id3),
        -EEXIST);

    memset(&u, 0, sizeof(u));
    assert_int_equal(store_find_user(f->s, "aLiCe", &u), 1);
    assert_int_equal(u.id, id1);
    assert_string_equal(u.name, "Alice");
    assert_int_equal(u.hashlen, sizeof(hash));
    assert_memory_equal(u.hash, hash, sizeof(hash));
    assert_int_equal(u.saltlen, sizeof(salt));
    assert_memory_equal(u.salt, salt, sizeof(salt));
    assert_string_equal(u.params, "scrypt:N=4096,r=8,p=1");
    assert_int_equal(u.banned_until, 0);
    assert_int_equal(store_find_user(f->s, "carol", &u), 0);

    assert_int_equal(store_load_users(f->s, collect_user, names), 0);
    snprintf(expect, sizeof(expect), "%lld:Alice %lld:bob ", (long long)id1, (long long)id2);
    assert_string_equal(names, expect);
}

static void test_store_token_key_is_made_once(void **state)
{
    struct fixture *f = *state;
    uint8_t k1[32], k2[32];
    struct store *other;
    char err[256];

    assert_int_equal(store_load_token_key(f->s, k1, sizeof(k1)), 0);
    other = store_open(&f->cfg, -1, err, sizeof(err));
    assert_non_null(other);
    assert_int_equal(store_load_token_key(other, k2, sizeof(k2)), 0);
    assert_memory_equal(k1, k2, sizeof(k1));
    store_close(other);
}

/* ---- games ---- */

static int64_t user(struct fixture *f, const char *name)
{
    const uint8_t b[] = {1};
    int64_t id = 0;

    assert_int_equal(store_create_user(f->s, name, b, 1, b, 1, "p", 1, &id), 0);
    return id;
}

static void assert_entry(json_t *e, const char *name, int points, int games, int wins)
{
    assert_string_equal(json_string_value(json_object_get(e, "name")), name);
    assert_int_equal(json_integer_value(json_object_get(e, "points")), points);
    assert_int_equal(json_integer_value(json_object_get(e, "games")), games);
    assert_int_equal(json_integer_value(json_object_get(e, "wins")), wins);
}

static void test_store_games_make_the_leaderboard_and_ranks(void **state)
{
    struct fixture *f = *state;
    int64_t bob = user(f, "Bob"), alice = user(f, "alice"), cy = user(f, "cy"),
            idle = user(f, "idle");
    /* Bob and alice tie on points and wins: names decide, without case (alice first) */
    struct store_result g1[] = {{"cy", cy, 30, 1}, {"Bob", bob, 20, 2}, {"guest", 0, 5, 3}};
    struct store_result g2[] = {{"alice", alice, 20, 2}, {"cy", cy, 10, 1}};
    json_t *lb, *me;

    assert_int_equal(store_save_game(f->s, "r1", 100, 200, 3, g1, 3), 0);
    assert_int_equal(store_save_game(f->s, "r1", 300, 400, 2, g2, 2), 0);
    /* a failing save saves nothing: the same player twice in one game */
    struct store_result bad[] = {{"cy", cy, 99, 1}, {"cy", cy, 99, 1}};
    assert_int_equal(store_save_game(f->s, "r2", 500, 600, 1, bad, 2), -1);

    lb = store_leaderboard(f->s, 10);
    assert_non_null(lb);
    assert_int_equal(json_array_size(lb), 3);
    assert_entry(json_array_get(lb, 0), "cy", 40, 2, 2);
    assert_entry(json_array_get(lb, 1), "alice", 20, 1, 0);
    assert_entry(json_array_get(lb, 2), "Bob", 20, 1, 0);
    json_decref(lb);
    lb = store_leaderboard(f->s, 1);
    assert_int_equal(json_array_size(lb), 1);
    json_decref(lb);

    me = store_rank(f->s, bob);
    assert_int_equal(json_integer_value(json_object_get(me, "rank")), 3);
    assert_int_equal(json_integer_value(json_object_get(me, "points")), 20);
    json_decref(me);
    me = store_rank(f->s, cy);
    assert_int_equal(json_integer_value(json_object_get(me, "rank")), 1);
    json_decref(me);
    me = store_rank(f->s, idle); /* no games: no place */
    assert_true(json_is_null(json_object_get(me, "rank")));
    assert_int_equal(json_integer_value(json_object_get(me, "games")), 0);
    json_decref(me);
    me = store_rank(f->s, 999999);
    assert_non_null(me);
    assert_true(json_is_null(me));
}

/* ---- bans ---- */

static int collect_ban(void *arg, const char *kind, const char *target, int64_t until)
{
    char *out = arg;
    size_t n = strlen(out);

    snprintf(out + n, 256 - n, "%s:%s:%lld ", kind, target, (long long)until);
    return 0;
}

static void test_store_bans_replace_expire_and_lift(void **state)
{
    struct fixture *f = *state;
    char bans[256] = "";

    assert_int_equal(store_ban_add(f->s, "name", "Mallory", 5000, "spam", 1), 0);
    /* a ban replaces the target's earlier one, whatever its case */
    assert_int_equal(store_ban_add(f->s, "name", "mallory", 0, NULL, 2), 0);
    assert_int_equal(store_ban_add(f->s, "mute", "mallory", 9000, "loud", 3), 0);
    assert_int_equal(store_ban_add(f->s, "address", "192.0.2.1", 1500, "", 4), 0); /* expired */
    assert_int_equal(store_load_bans(f->s, 2000, collect_ban, bans), 0);
    assert_string_equal(bans, "name:mallory:0 mute:mallory:9000 ");

    assert_int_equal(store_ban_remove(f->s, "mute", "MALLORY"), 0);
    assert_int_equal(store_ban_remove(f->s, "mute", "nobody"), 0);
    bans[0] = '\0';
    assert_int_equal(store_load_bans(f->s, 2000, collect_ban, bans), 0);
    assert_string_equal(bans, "name:mallory:0 ");
    /* a kind the schema does not know */
    assert_int_equal(store_ban_add(f->s, "exile", "x", 0, NULL, 5), -1);
}

/* ---- question packs ---- */

#define Q(text, correct, extra)                                                                    \
    "{\"category\": \"c\", \"text\": \"" text "\", \"choices\": [\"a\", \"b\", \"c\", \"d\"], "    \
    "\"correct\": " #correct extra "}\n"

static int import_text(struct fixture *f, const char *text, const char *pack, int *added,
                       struct qbank *to)
{
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    int rc;

    assert_non_null(in);
    rc = store_import_questions(f->s, in, "pack.jsonl", pack, added, to);
    fclose(in);
    return rc;
}

static void test_store_questions_import_all_or_nothing(void **state)
{
    struct fixture *f = *state;
    struct qbank fresh = {0}, all = {0};
    int added = -1;

    assert_int_equal(import_text(f, Q("one", 0, "") "\n" Q("two", 3, ", \"lang\": \"pt-BR\""), "p1",
                                 &added, &fresh),
                     0);
    assert_int_equal(added, 2);
    assert_int_equal(fresh.n, 2);
    assert_string_equal(fresh.qs[1]->text, "two");
    assert_string_equal(fresh.qs[1]->lang, "pt-BR");
    assert_true(fresh.qs[1]->id > fresh.qs[0]->id);

    /* again: nothing new; another pack may hold the same text */
    assert_int_equal(import_text(f, Q("one", 0, ""), "p1", &added, NULL), 0);
    assert_int_equal(added, 0);
    assert_int_equal(import_text(f, Q("one", 1, ""), "p2", &added, NULL), 0);
    assert_int_equal(added, 1);

    /* one bad line: nothing of the pack is stored, and the error names line and field */
    assert_int_equal(import_text(f, Q("three", 0, "") Q("four", 4, ""), "p3", &added, &fresh), -1);
    assert_int_equal(added, 0);
    assert_string_equal(f->s->error,
                        "pack.jsonl line 2: field 'correct' must be an integer from 0 to 3");
    assert_int_equal(import_text(f, Q("five", 0, "") "{not json\n", "p3", &added, NULL), -1);
    assert_non_null(strstr(f->s->error, "pack.jsonl line 2: invalid JSON: "));

    assert_int_equal(store_load_questions(f->s, &all), 0);
    assert_int_equal(all.n, 3);
    assert_int_equal(all.qs[0]->id, fresh.qs[0]->id);
    assert_string_equal(all.qs[0]->choices[3], "d");
    assert_null(all.qs[0]->lang);
    assert_string_equal(all.qs[1]->lang, "pt-BR");
    assert_int_equal(all.qs[1]->correct, 3);
    assert_int_equal(all.qs[2]->correct, 1);
    qbank_destroy(&fresh);
    qbank_destroy(&all);
}

static void test_store_probe_answers(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(store_probe(f->s), 0);
    assert_string_equal(f->s->engine->name,
                        f->engine == &store_sqlite_engine ? "sqlite" : "postgresql");
}

/* ---- migrate: export, import and the copy ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts the lines of `text` in place (the catalogs order names by their own collation). */
static void sort_lines(char *text)
{
    char *lines[256], *copy = strdup(text), *save = NULL;
    size_t n = 0, used = 0;

    for (char *l = strtok_r(copy, "\n", &save); l && n < 256; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    qsort(lines, n, sizeof(lines[0]), cmp_str);
    for (size_t i = 0; i < n; i++)
        used += (size_t)sprintf(text + used, "%s\n", lines[i]);
    free(copy);
}

/* Every table and column of the schema is one store_tables copies, and no other: a migration
 * that adds a column must add it there too, or `migrate` would lose it. */
static void test_store_tables_cover_the_schema(void **state)
{
    struct fixture *f = *state;
    char listed[4096] = "", catalog[4096];
    size_t used = 0;

    for (int i = 0; i < STORE_NTABLES; i++)
        for (int c = 0; c < store_tables[i].ncols; c++)
            used += (size_t)snprintf(listed + used, sizeof(listed) - used, "%s|%s\n",
                                     store_tables[i].name, store_tables[i].cols[c].name);
    raw_query(f->target,
              f->engine == &store_sqlite_engine
                  /* the database's identity is where it lives, not what it holds: not copied */
                  ? "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                    "WHERE m.type = 'table' AND m.name <> 'parlor_identity'"
                  : "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name <> 'parlor_schema' "
                    "AND table_name <> 'parlor_identity'",
              catalog, sizeof(catalog));
    sort_lines(listed);
    sort_lines(catalog);
    assert_string_equal(catalog, listed);
}

/* A dump of every row, engine-neutral: what must come out of the target as it went in. */
struct dump {
    char *buf;
    size_t len, cap;
};

static void dump_put(struct dump *d, const char *s, size_t n)
{
    if (d->len + n + 1 > d->cap) {
        d->cap = (d->len + n + 1) * 2;
        d->buf = realloc(d->buf, d->cap);
        assert_non_null(d->buf);
    }
    memcpy(d->buf + d->len, s, n);
    d->len += n;
    d->buf[d->len] = '\0';
}

static int dump_row(void *arg, const struct store_table *t, const struct store_value *row)
{
    struct dump *d = arg;
    char num[32];

    dump_put(d, t->name, strlen(t->name));
    for (int i = 0; i < t->ncols; i++) {
        dump_put(d, " ", 1);
        if (row[i].null) {
            dump_put(d, "NULL", 4);
        } else if (t->cols[i].kind == STORE_COL_INT) {
            snprintf(num, sizeof(num), "%lld", (long long)row[i].i);
            dump_put(d, num, strlen(num));
        } else if (t->cols[i].kind == STORE_COL_TEXT) {
            dump_put(d, "'", 1);
            dump_put(d, row[i].p, row[i].len);
            dump_put(d, "'", 1);
        } else {
            dump_put(d, "x", 1);
            for (size_t b = 0; b < row[i].len; b++) {
                snprintf(num, sizeof(num), "%02x", ((const uint8_t *)row[i].p)[b]);
                dump_put(d, num, 2);
            }
        }
    }
    dump_put(d, "\n", 1);
    return 0;
}

static char *dump_of(const char *target)
{
    struct store_cfg cfg = {.target = target, .sync_full = true};
    struct dump d = {0};
    char err[256];
    struct store *s = store_open(&cfg, -1, err, sizeof(err));

    assert_non_null(s);
    dump_put(&d, "", 0);
    assert_int_equal(store_export_rows(s, dump_row, &d), 0);
    store_close(s);
    return d.buf;
}

/* What a club holds, with the bytes and characters a copy could get wrong. */
static void fill_club(struct fixture *f, int64_t *ids)
{
    const uint8_t hash[] = {0, 1, '\\', '\t', '\n', 0xff, 'x', 0};
    const uint8_t salt[] = {'\\', 'x', '0', '0', 0x80};
    const char *odd = "tab\there, new\nline, back\\slash \\N, \"quotes\", {brace}, é ✓\r";
    struct store_msg batch[] = {
        msg("lobby", 1, "ann", "one"), msg("lobby", 2, "bob", odd), msg("lobby", 3, "ann", ""),
        msg("r7", 1, "ann", "side"),   msg("r7", 2, "bob", "NULL"), msg("lobby", 4, "cy", "4"),
    };
    uint8_t key[32];
    int added;

    assert_int_equal(store_create_user(f->s, "Alice", hash, sizeof(hash), salt, sizeof(salt),
                                       "scrypt:N=4096,r=8,p=1", 5, &ids[0]),
                     0);
    assert_int_equal(
        store_create_user(f->s, "bob", salt, sizeof(salt), hash, sizeof(hash), "p", 6, &ids[1]), 0);
    assert_int_equal(store_insert_messages(f->s, batch, 6), 0);
    assert_int_equal(store_ban_add(f->s, "name", "mallory", 0, "spam\tand\nmore", 1), 0);
    assert_int_equal(store_ban_add(f->s, "mute", "bob", 9000, NULL, 2), 0);
    assert_int_equal(store_ban_add(f->s, "address", "192.0.2.0/24", 0, "", 3), 0);
    struct store_result g[] = {{"Alice", ids[0], 30, 1}, {"guest", 0, 5, 2}, {"bob", ids[1], 0, 3}};
    assert_int_equal(store_save_game(f->s, "r7", 100, 200, 3, g, 3), 0);
    assert_int_equal(store_save_game(f->s, "r8", 300, 400, 1, g, 2), 0);
    assert_int_equal(
        import_text(f, Q("one", 0, "") Q("two", 3, ", \"lang\": \"pt-BR\""), "p1", &added, NULL),
        0);
    assert_int_equal(import_text(f, Q("one", 1, ""), "p2", &added, NULL), 0);
    assert_int_equal(store_load_token_key(f->s, key, sizeof(key)), 0);
}

/* The copy's other end: a fresh SQLite file, or a fresh schema in the test cluster's database
 * (search_path set in the URI). */
static void fresh_target(const struct store_engine *e, char *target, size_t len)
{
    if (e == &store_sqlite_engine) {
        int fd;
        snprintf(target, len, "/tmp/parlor-migrate-XXXXXX");
        fd = mkstemp(target);
        assert_true(fd >= 0);
        close(fd);
    } else {
        const char *uri = getenv("PARLOR_TEST_PG");
        assert_non_null(uri);
        raw_query(uri,
                  "SET client_min_messages = warning; DROP SCHEMA IF EXISTS migrate_copy CASCADE; "
                  "CREATE SCHEMA migrate_copy",
                  NULL, 0);
        snprintf(target, len, "%s&options=-csearch_path%%3Dmigrate_copy", uri);
    }
}

static void drop_target(const char *target)
{
    if (store_engine_for(target) == &store_sqlite_engine) {
        char side[600];
        unlink(target);
        snprintf(side, sizeof(side), "%s-wal", target);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", target);
        unlink(side);
    }
}

/* From this engine into each engine: every row, the same ids and bytes; what the server reads
 * back works; new rows get new ids; a second copy is refused, and --replace starts over. */
static void test_store_migrate_copies_every_row(void **state)
{
    const struct store_engine *engines[] = {&store_sqlite_engine, &store_pg_engine};
    struct fixture *f = *state;
    int64_t ids[2];
    uint8_t k1[32], k2[32];
    char *before, *after, err[1024], id1[STORE_DATABASE_ID_MAX], id2[STORE_DATABASE_ID_MAX];

    fill_club(f, ids);
    before = dump_of(f->target);
    for (int e = 0; e < 2; e++) {
        struct fixture t = {.engine = engines[e]};
        struct migrate_report r;
        struct store_user u;
        json_t *h1, *h2;
        int64_t id, n;

        fresh_target(engines[e], t.target, sizeof(t.target));
        assert_int_equal(migrate_run(f->target, t.target, false, &r, err, sizeof(err)), 0);
        after = dump_of(t.target);
        assert_string_equal(after, before);
        free(after);
        assert_int_equal(r.rows[STORE_T_USERS], 2);
        assert_int_equal(r.rows[STORE_T_BANS], 3);
        assert_int_equal(r.rows[STORE_T_MESSAGES], 6);
        assert_int_equal(r.rooms, 2);
        assert_int_equal(r.rows[STORE_T_GAMES], 2);
        assert_int_equal(r.rows[STORE_T_RESULTS], 5);
        assert_int_equal(r.rows[STORE_T_QUESTIONS], 3);
        assert_int_equal(r.packs, 2);
        assert_int_equal(r.rows[STORE_T_SETTINGS], 1);

        /* what the server reads back */
        assert_int_equal(open_store(&t), 0);
        assert_int_equal(store_find_user(t.s, "ALICE", &u), 1);
        assert_int_equal(u.id, ids[0]);
        assert_int_equal(u.hashlen, 8);
        assert_memory_equal(u.hash, "\0\1\\\t\n\xffx\0", 8);
        assert_string_equal(u.params, "scrypt:N=4096,r=8,p=1");
        h1 = store_history(f->s, "lobby", 4, 50);
        h2 = store_history(t.s, "lobby", 4, 50);
        assert_int_equal(json_array_size(h2), 3);
        assert_true(json_equal(h1, h2));
        json_decref(h1);
        json_decref(h2);
        h1 = store_leaderboard(f->s, 10);
        h2 = store_leaderboard(t.s, 10);
        assert_true(json_equal(h1, h2));
        json_decref(h1);
        json_decref(h2);
        assert_int_equal(store_load_token_key(f->s, k1, sizeof(k1)), 0);
        assert_int_equal(store_load_token_key(t.s, k2, sizeof(k2)), 0);
        assert_memory_equal(k1, k2, sizeof(k1));
        /* a copy is another database: the cluster's startup check tells them apart */
        assert_int_equal(store_load_database_id(f->s, id1, sizeof(id1)), 0);
        assert_int_equal(store_load_database_id(t.s, id2, sizeof(id2)), 0);
        assert_int_equal(strlen(id1), 32);
        assert_int_equal(strspn(id1, "0123456789abcdef"), 32);
        assert_int_equal(strlen(id2), 32);
        assert_string_not_equal(id1, id2);
        /* the next account and game are numbered past the copied ones */
        assert_int_equal(store_create_user(t.s, "carol", k1, 1, k1, 1, "p", 9, &id), 0);
        assert_int_equal(id, ids[1] + 1);
        struct store_result g[] = {{"carol", id, 1, 1}};
        assert_int_equal(store_save_game(t.s, "r9", 1, 2, 1, g, 1), 0);
        assert_int_equal(store_ban_add(t.s, "name", "eve", 0, NULL, 4), 0);

        /* a target with rows is refused, untouched; --replace empties it first */
        assert_int_equal(migrate_run(f->target, t.target, false, &r, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "already holds data ("));
        assert_non_null(strstr(err, "accounts: 3"));
        assert_non_null(strstr(err, "--replace"));
        assert_int_equal(r.rows[STORE_T_USERS], 0);
        assert_int_equal(store_count_rows(t.s, &store_tables[STORE_T_USERS], &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(migrate_run(f->target, t.target, true, &r, err, sizeof(err)), 0);
        assert_int_equal(r.rows[STORE_T_USERS], 2);
        after = dump_of(t.target);
        assert_string_equal(after, before);
        free(after);
        /* ...and keeps its identity: the one a restart on it reads */
        assert_int_equal(store_load_database_id(t.s, id1, sizeof(id1)), 0);
        assert_string_equal(id1, id2);
        store_close(t.s);
        drop_target(t.target);
    }
    free(before);
}

static void test_store_migrate_refuses_a_newer_or_missing_source(void **state)
{
    struct fixture *f = *state;
    struct migrate_report r;
    char target[600], err[1024];

    fresh_target(&store_sqlite_engine, target, sizeof(target));
    assert_int_equal(migrate_run(f->target, f->target, false, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "the same database"));
    assert_int_equal(migrate_run("/nonexistent/parlor.db", target, false, &r, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "--from /nonexistent/parlor.db: No such file or directory");
    raw_exec(f, f->engine == &store_sqlite_engine ? "PRAGMA user_version = 99"
                                                  : "UPDATE parlor_schema SET version = 99");
    assert_int_equal(migrate_run(f->target, target, false, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--from "));
    assert_non_null(strstr(err, "the database has schema version 99, newer than this"));
    drop_target(target);
}

/* One transaction: a failing row, or an import ended without commit, leaves nothing. */
static void test_store_import_is_all_or_nothing(void **state)
{
    struct fixture *f = *state;
    const struct store_table *users = &store_tables[STORE_T_USERS];
    struct store_value row[10] = {
        {.i = 7},
        {.p = "ann", .len = 3},
        {.p = "h", .len = 1},
        {.p = "s", .len = 1},
        {.p = "p", .len = 1},
        {.i = 1},
        {.null = true},
        {.i = 0},
        {.i = 0},
        {.i = 0},
    };
    int64_t n = -1;
    int rc;

    user(f, "kept");
    /* ended without commit */
    assert_int_equal(store_import_begin(f->s), 0);
    assert_int_equal(store_import_clear(f->s), 0);
    assert_int_equal(store_import_row(f->s, users, row), 0);
    assert_int_equal(store_import_end(f->s, false), 0);
    assert_int_equal(store_count_rows(f->s, users, &n), 0);
    assert_int_equal(n, 1); /* the clear was rolled back too */

    /* the same id twice: the error comes at the row or at the commit, and nothing stays */
    assert_int_equal(store_import_begin(f->s), 0);
    assert_int_equal(store_import_clear(f->s), 0);
    rc = store_import_row(f->s, users, row);
    row[1].p = "bob";
    if (!rc)
        rc = store_import_row(f->s, users, row);
    if (!rc)
        rc = store_import_end(f->s, true);
    else
        store_import_end(f->s, false);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(f->s->error, "users"));
    assert_int_equal(store_count_rows(f->s, users, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_find_user(f->s, "kept", &(struct store_user){0}), 1);
    assert_int_equal(store_probe(f->s), 0); /* the connection works on */
}

/* ---- the engine's choice and the password ---- */

static void test_store_engine_for_and_target_shown(void **state)
{
    char out[STORE_TARGET_SHOWN_MAX];

    (void)state;
    assert_ptr_equal(store_engine_for("data/parlor.db"), &store_sqlite_engine);
    assert_ptr_equal(store_engine_for("postgresql:///parlor"), &store_pg_engine);
    assert_ptr_equal(store_engine_for("postgres://u@h/db"), &store_pg_engine);
    assert_ptr_equal(store_engine_for("postgresql.db"), &store_sqlite_engine);

    store_target_shown("postgresql://parlor:s3cr%40t@db.example:5432/club?sslmode=verify-full", out,
                       sizeof(out));
    assert_string_equal(out, "postgresql://parlor:***@db.example:5432/club?sslmode=verify-full");
    store_target_shown("postgres://u@h/db?sslmode=require&password=hunter2&connect_timeout=5", out,
                       sizeof(out));
    assert_string_equal(out, "postgres://u@h/db?sslmode=require&password=***&connect_timeout=5");
    store_target_shown("postgresql://a:b@h1,h2/db?password=x", out, sizeof(out));
    assert_string_equal(out, "postgresql://a:***@h1,h2/db?password=***");
    store_target_shown("postgresql:///parlor?host=/tmp/x", out, sizeof(out));
    assert_string_equal(out, "postgresql:///parlor?host=/tmp/x");
    store_target_shown("data/pass:word@x.db", out, sizeof(out));
    assert_string_equal(out, "data/pass:word@x.db"); /* a path is a path */
    store_target_shown("postgresql://a:secret@h/db", out, 16);
    assert_string_equal(out, "postgresql://a:"); /* truncated, never the password */
}

#define ENGINE_TESTS(setup)                                                                        \
    {                                                                                              \
        cmocka_unit_test_setup_teardown(test_store_schema_is_latest_and_newer_is_refused, setup,   \
                                        teardown),                                                 \
            cmocka_unit_test_setup_teardown(test_store_messages_round_trip_and_page_by_seq, setup, \
                                            teardown),                                             \
            cmocka_unit_test_setup_teardown(test_store_a_failing_batch_saves_nothing, setup,       \
                                            teardown),                                             \
            cmocka_unit_test_setup_teardown(                                                       \
                test_store_users_unique_without_case_and_found_with_bytes, setup, teardown),       \
            cmocka_unit_test_setup_teardown(test_store_token_key_is_made_once, setup, teardown),   \
            cmocka_unit_test_setup_teardown(test_store_games_make_the_leaderboard_and_ranks,       \
                                            setup, teardown),                                      \
            cmocka_unit_test_setup_teardown(test_store_bans_replace_expire_and_lift, setup,        \
                                            teardown),                                             \
            cmocka_unit_test_setup_teardown(test_store_questions_import_all_or_nothing, setup,     \
                                            teardown),                                             \
            cmocka_unit_test_setup_teardown(test_store_probe_answers, setup, teardown),            \
            cmocka_unit_test_setup_teardown(test_store_tables_cover_the_schema, setup, teardown),  \
            cmocka_unit_test_setup_teardown(test_store_migrate_copies_every_row, setup, teardown), \
            cmocka_unit_test_setup_teardown(test_store_migrate_refuses_a_newer_or_missing_source,  \
                                            setup, teardown),                                      \
            cmocka_unit_test_setup_teardown(test_store_import_is_all_or_nothing, setup, teardown), \
    }

int main(void)
{
    const struct CMUnitTest common[] = {
        cmocka_unit_test(test_store_engine_for_and_target_shown),
    };
    const struct CMUnitTest sqlite_tests[] = ENGINE_TESTS(setup_sqlite);
    const struct CMUnitTest pg_tests[] = ENGINE_TESTS(setup_pg);
    int failed = 0;

    failed += cmocka_run_group_tests_name("store", common, NULL, NULL);
    failed += cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("postgresql", pg_tests, NULL, NULL);
    return failed;
}
