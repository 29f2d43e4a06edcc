/*
 * Tests for the online backup (server/store/backup.c) with a real pool and a temporary
 * database: a backup of a database with rows, copied a few pages per job, is a file that
 * opens and holds them, with no partial file left; a second start while one runs is refused;
 * a backup that cannot be written is reported as failed with the reason; without a backup
 * directory backups are refused.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "backup.h"
#include "server.h"
#include "db.h"
#include "log.h"
#include "store.h"

#include "db_fixture.h"
#include "fake_transport.h"

#define START_MS 1795400000123LL /* 2026-11-23 02:13:20.123 UTC */

struct fixture {
    struct db_fixture db;
    struct server srv; /* what the loop hands the done callbacks: only its backup is read */
    char dir[160];     /* where backups go */
    struct backup b;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[256];

    assert_non_null(fx);
    log_set_level(LOG_ERROR);
    if (db_fixture_open(&fx->db, 2, 100, err, sizeof(err)))
        fail_msg("%s", err);
    snprintf(fx->dir, sizeof(fx->dir), "%s/backups", fx->db.dir);
    assert_int_equal(mkdir(fx->dir, 0700), 0);
    fake_transport_reset(START_MS, NULL);
    /* two pages a step: a database of a few dozen pages takes many jobs */
    backup_init(&fx->b, fx->db.pool, fx->db.path, fx->dir, 2, fake_clock_ms);
    fx->srv.backup = &fx->b;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    db_fixture_close(&fx->db, &fx->srv);
    free(fx);
    return 0;
}

/* Chat rows through a worker's connection, as the chat log writes them. */
static void fill(struct fixture *fx, int rows)
{
    char err[256], text[200];
    struct store *w = store_open(&fx->db.dbc, 0, err, sizeof(err));

    assert_non_null(w);
    for (int i = 1; i <= rows; i++) {
        snprintf(text, sizeof(text), "message %d, padded to fill a few pages of the file ......",
                 i);
        assert_int_equal(
            store_insert_messages(
                w,
                &(struct store_msg){
                    .room = "lobby", .seq = (uint64_t)i, .sender = "ann", .text = text, .ts = i},
                1),
            0);
    }
    store_close(w);
}

/* Plays the loop until the backup is no longer running. */
static void run_backup(struct fixture *fx)
{
    while (fx->b.state == BACKUP_RUNNING)
        assert_true(db_fixture_wait(&fx->db, &fx->srv) >= 0);
}

/* The files in the backup directory whose names contain `part`. */
static int files_with(struct fixture *fx, const char *part)
{
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        if (strstr(e->d_name, part))
            n++;
    closedir(d);
    return n;
}

static long long count_in(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_backup_copies_every_row_into_a_whole_file(void **state)
{
    struct fixture *fx = *state;
    char err[256], want[256];
    json_t *st;

    fill(fx, 300);
    assert_int_equal(backup_start(&fx->b, err, sizeof(err)), 0);
    assert_int_equal(fx->b.state, BACKUP_RUNNING);
    snprintf(want, sizeof(want), "%s/parlor-20261123-021320-123.db", fx->dir);
    assert_string_equal(fx->b.file, want); /* named by the clock, to the millisecond */
    fake_clock_advance(1500);
    run_backup(fx);

    assert_int_equal(fx->b.state, BACKUP_DONE);
    assert_true(fx->b.pages_total > 10); /* so it took several steps */
    assert_int_equal(fx->b.pages_done, fx->b.pages_total);
    assert_int_equal(files_with(fx, ".partial"), 0);
    assert_int_equal(files_with(fx, "parlor-"), 1);
    assert_int_equal(count_in(fx->b.file, "SELECT count(*) FROM messages"), 300);
    assert_int_equal(count_in(fx->b.file, "SELECT sum(seq) FROM messages"), 300 * 301 / 2);

    st = backup_status_json(&fx->b);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "done");
    assert_true(json_is_true(json_object_get(st, "enabled")));
    assert_string_equal(json_string_value(json_object_get(st, "file")), want);
    assert_int_equal(json_integer_value(json_object_get(st, "started")), START_MS);
    assert_int_equal(json_integer_value(json_object_get(st, "finished")), START_MS + 1500);
    assert_int_equal(json_integer_value(json_object_get(st, "pages_done")), fx->b.pages_total);
    assert_true(json_is_null(json_object_get(st, "error")));
    json_decref(st);
}

static void test_backup_refuses_a_second_start_while_running(void **state)
{
    struct fixture *fx = *state;
    char err[256], first[PATH_MAX];
    json_t *st;

    fill(fx, 100);
    assert_int_equal(backup_start(&fx->b, err, sizeof(err)), 0);
    snprintf(first, sizeof(first), "%s", fx->b.file);
    err[0] = '\0';
    assert_int_equal(backup_start(&fx->b, err, sizeof(err)), -EBUSY);
    assert_string_equal(err, "a backup is already running");
    assert_int_equal(fx->b.state, BACKUP_RUNNING);
    assert_string_equal(fx->b.file, first); /* the running one is untouched */
    st = backup_status_json(&fx->b);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "running");
    assert_true(json_is_null(json_object_get(st, "finished")));
    json_decref(st);
    run_backup(fx);
    assert_int_equal(fx->b.state, BACKUP_DONE);

    /* once it is done, another may start */
    fake_clock_advance(1000);
    assert_int_equal(backup_start(&fx->b, err, sizeof(err)), 0);
    run_backup(fx);
    assert_int_equal(fx->b.state, BACKUP_DONE);
    assert_int_equal(files_with(fx, "parlor-"), 2);
}

static void test_backup_failure_is_reported_with_its_reason(void **state)
{
    struct fixture *fx = *state;
    char err[256], gone[200];
    json_t *st;

    snprintf(gone, sizeof(gone), "%s/no-such-directory", fx->dir);
    backup_init(&fx->b, fx->db.pool, fx->db.path, gone, 2, fake_clock_ms);
    fx->srv.backup = &fx->b;
    assert_int_equal(backup_start(&fx->b, err, sizeof(err)), 0);
    run_backup(fx);
    assert_int_equal(fx->b.state, BACKUP_FAILED);
    assert_non_null(strstr(fx->b.error, "create the backup file"));
    st = backup_status_json(&fx->b);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "failed");
    assert_non_null(strstr(json_string_value(json_object_get(st, "error")), "create the backup"));
    assert_true(json_is_integer(json_object_get(st, "finished")));
    json_decref(st);

    /* a failed backup does not block the next one */
    backup_init(&fx->b, fx->db.pool, fx->db.path, fx->dir, 2, fake_clock_ms);
    fx->srv.backup = &fx->b;
    assert_int_equal(backup_start(&fx->b, err, sizeof(err)), 0);
    run_backup(fx);
    assert_int_equal(fx->b.state, BACKUP_DONE);
}

static void test_backup_without_a_directory_is_refused(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    json_t *st;

    backup_init(&fx->b, fx->db.pool, fx->db.path, NULL, 2, fake_clock_ms);

    fx->srv.backup = &fx->b;
    assert_int_equal(backup_start(&fx->b, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "--backup-dir"));
    assert_int_equal(fx->b.state, BACKUP_IDLE);
    st = backup_status_json(&fx->b);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "idle");
    assert_true(json_is_false(json_object_get(st, "enabled")));
    assert_null(json_object_get(st, "file"));
    json_decref(st);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_backup_copies_every_row_into_a_whole_file),
        T(test_backup_refuses_a_second_start_while_running),
        T(test_backup_failure_is_reported_with_its_reason),
        T(test_backup_without_a_directory_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
