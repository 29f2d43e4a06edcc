/*
 * Tests for the schema migrations (server/store/schema.c): an empty database reaches the latest
 * version with every table; a version-1 database keeps its data when migrated; running the
 * migrations again changes nothing; a version-2 question bank gains a NULL `lang`; a database
 * newer than the program is refused; a process migrating the same file at the same moment as
 * another waits for it and finds the work done; the database's identity is drawn once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "schema.h"

static int setup(void **state)
{
    sqlite3 *db;

    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return -1;
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    sqlite3_close(*state);
    return 0;
}

static long long scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_schema_empty_database_reaches_latest_with_every_table(void **state)
{
    sqlite3 *db = *state;
    char err[256];
    const char *tables[] = {"users",     "messages", "settings", "bans",
                            "questions", "games",    "results"};

    assert_int_equal(schema_version(db), 0);
    assert_int_equal(schema_migrate(db, schema_latest(), err, sizeof(err)), 0);
    assert_int_equal(schema_version(db), schema_latest());
    assert_true(schema_latest() >= 2);
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[128];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
                 tables[i]);
        assert_int_equal(scalar(db, sql), 1);
    }
    /* names are unique case-insensitively */
    exec_ok(db, "INSERT INTO users (name, pw_hash, pw_salt, pw_params, created) "
                "VALUES ('Alice', x'00', x'00', 'p', 1)");
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO users (name, pw_hash, pw_salt, pw_params, "
                                      "created) VALUES ('alice', x'00', x'00', 'p', 1)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
}

static void test_schema_version_1_data_survives_the_upgrade(void **state)
{
    sqlite3 *db = *state;
    char err[256];

    assert_int_equal(schema_migrate(db, 1, err, sizeof(err)), 0);
    assert_int_equal(schema_version(db), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'bans'"), 0);
    exec_ok(db, "INSERT INTO users (name, pw_hash, pw_salt, pw_params, created) "
                "VALUES ('bob', x'01', x'02', 'p', 5)");
    exec_ok(db, "INSERT INTO messages VALUES ('lobby', 1, 'bob', 'hi', 7)");

    assert_int_equal(schema_migrate(db, schema_latest(), err, sizeof(err)), 0);
    assert_int_equal(schema_version(db), schema_latest());
    assert_int_equal(scalar(db, "SELECT created FROM users WHERE name = 'BOB'"), 5);
    assert_int_equal(scalar(db, "SELECT points FROM users WHERE name = 'bob'"), 0);
    assert_int_equal(scalar(db, "SELECT ts FROM messages WHERE room = 'lobby' AND seq = 1"), 7);
}

static void test_schema_migrating_again_changes_nothing(void **state)
{
    sqlite3 *db = *state;
    char err[256];

    assert_int_equal(schema_migrate(db, schema_latest(), err, sizeof(err)), 0);
    exec_ok(db, "INSERT INTO messages VALUES ('lobby', 1, 'bob', 'hi', 7)");
    assert_int_equal(schema_migrate(db, schema_latest(), err, sizeof(err)), 0);
    assert_int_equal(schema_version(db), schema_latest());
    assert_int_equal(scalar(db, "SELECT count(*) FROM messages"), 1);
}

static void test_schema_version_2_questions_gain_a_null_lang(void **state)
{
    sqlite3 *db = *state;
    char err[256];

    assert_int_equal(schema_migrate(db, 2, err, sizeof(err)), 0);
    exec_ok(db, "INSERT INTO questions (pack, category, text, choices, correct) "
                "VALUES ('p', 'c', 'q?', '[\"a\",\"b\",\"c\",\"d\"]', 1)");
    assert_int_equal(schema_migrate(db, schema_latest(), err, sizeof(err)), 0);
    assert_true(schema_latest() >= 3);
    assert_int_equal(scalar(db, "SELECT count(*) FROM questions WHERE lang IS NULL"), 1);
    assert_int_equal(scalar(db, "SELECT correct FROM questions WHERE text = 'q?'"), 1);
    exec_ok(db, "INSERT INTO questions (pack, category, text, choices, correct, lang) "
                "VALUES ('p', 'c', 'r?', '[\"a\",\"b\",\"c\",\"d\"]', 0, 'ru')");
    assert_int_equal(scalar(db, "SELECT count(*) FROM questions WHERE lang = 'ru'"), 1);
}

static void test_schema_newer_database_is_refused(void **state)
{
    sqlite3 *db = *state;
    char err[256] = "", sql[64];

    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", schema_latest() + 1);
    exec_ok(db, sql);
    assert_int_equal(schema_migrate(db, schema_latest(), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "newer than this parlor-server"));
}

/* The other process: B's busy handler runs when B finds the write lock held by A, which has
 * not migrated yet. A lets go of its transaction and migrates the whole file there, as a
 * process starting at the same moment would, before B gets the lock. */
struct race {
    sqlite3 *a;
    int calls, a_rc;
};

static int other_process_migrates(void *arg, int count)
{
    struct race *r = arg;
    char err[256];

    (void)count;
    if (r->calls++ == 0) {
        exec_ok(r->a, "COMMIT");
        r->a_rc = schema_migrate(r->a, schema_latest(), err, sizeof(err));
    }
    return r->calls < 100; /* retry: the lock is free now */
}

static void test_schema_two_processes_migrating_at_once_both_succeed(void **state)
{
    char path[] = "/tmp/parlor-test-schema-XXXXXX", err[256] = "";
    struct race r = {0};
    sqlite3 *b;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sqlite3_open(path, &r.a), SQLITE_OK);
    assert_int_equal(sqlite3_open(path, &b), SQLITE_OK);
    exec_ok(r.a, "PRAGMA journal_mode=WAL");
    sqlite3_busy_handler(b, other_process_migrates, &r);
    /* A holds the write lock while its schema is still empty, as when both start together */
    exec_ok(r.a, "BEGIN IMMEDIATE");
    assert_int_equal(schema_migrate(b, schema_latest(), err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_true(r.calls > 0); /* B did wait for A */
    assert_int_equal(r.a_rc, 0);
    assert_int_equal(schema_version(b), schema_latest());
    /* A drew the identity; B did not draw a second one */
    assert_int_equal(scalar(b, "SELECT count(*) FROM parlor_identity"), 1);
    sqlite3_close(b);
    sqlite3_close(r.a);
    unlink(path);
    for (const char *sfx = "-wal"; sfx; sfx = sfx[1] == 'w' ? "-shm" : NULL) {
        char side[64];
        snprintf(side, sizeof(side), "%s%s", path, sfx);
        unlink(side);
    }
}

static void test_schema_identity_is_drawn_once_as_hex(void **state)
{
    sqlite3 *db = *state;
    char err[256];

    assert_int_equal(schema_migrate(db, 3, err, sizeof(err)), 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = "
                                "'parlor_identity'"),
                     0);
    assert_int_equal(schema_migrate(db, schema_latest(), err, sizeof(err)), 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM parlor_identity WHERE length(id) = 32 AND "
                                "id NOT GLOB '*[^0-9a-f]*'"),
                     1);
    assert_int_equal(schema_migrate(db, schema_latest(), err, sizeof(err)), 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM parlor_identity"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_empty_database_reaches_latest_with_every_table,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_version_1_data_survives_the_upgrade, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_schema_migrating_again_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_schema_version_2_questions_gain_a_null_lang, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_schema_newer_database_is_refused, setup, teardown),
        cmocka_unit_test(test_schema_two_processes_migrating_at_once_both_succeed),
        cmocka_unit_test_setup_teardown(test_schema_identity_is_drawn_once_as_hex, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
