/*
 * The SQLite engine's side of `parlor-server migrate` (see migrate.h): rows out of a file in
 * one read transaction, which WAL keeps a consistent snapshot however long the copy takes, and
 * rows into a file in one write transaction. SQL built from store_tables' column lists. Main
 * thread, one-shot.
 */
#include "db.h"

#include <stdio.h>

#define SQL_MAX 512

static int select_sql(const struct store_table *t, char *sql)
{
    char cols[SQL_MAX - 64];

    if (store_table_columns(t, cols, sizeof(cols)))
        return -1;
    snprintf(sql, SQL_MAX, "SELECT %s FROM %s ORDER BY %s", cols, t->name, t->key);
    return 0;
}

static int insert_sql(const struct store_table *t, char *sql)
{
    char cols[SQL_MAX / 2], marks[STORE_COLS_MAX * 3 + 1];
    size_t used = 0;

    if (store_table_columns(t, cols, sizeof(cols)) || t->ncols > STORE_COLS_MAX)
        return -1;
    for (int i = 0; i < t->ncols; i++)
        used += (size_t)snprintf(marks + used, sizeof(marks) - used, "%s?", i ? ", " : "");
    snprintf(sql, SQL_MAX, "INSERT INTO %s (%s) VALUES (%s)", t->name, cols, marks);
    return 0;
}

/* The current row of st as store values (pointers into st, valid until the next step). */
static void read_row(sqlite3_stmt *st, const struct store_table *t, struct store_value *row)
{
    for (int i = 0; i < t->ncols; i++) {
        struct store_value *v = &row[i];

        *v = (struct store_value){.null = sqlite3_column_type(st, i) == SQLITE_NULL};
        if (v->null)
            continue;
        switch (t->cols[i].kind) {
        case STORE_COL_INT:
            v->i = sqlite3_column_int64(st, i);
            break;
        case STORE_COL_TEXT:
            v->p = sqlite3_column_text(st, i);
            v->len = (size_t)sqlite3_column_bytes(st, i);
            break;
        case STORE_COL_BLOB:
            v->p = sqlite3_column_blob(st, i);
            v->len = (size_t)sqlite3_column_bytes(st, i);
            break;
        }
    }
}

int sqlite_export_rows(struct store *s, store_row_fn *fn, void *arg)
{
    struct db_worker *w = (struct db_worker *)s;
    struct store_value row[STORE_COLS_MAX];
    char sql[SQL_MAX];
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    /* one read transaction for every table: the snapshot of the first read */
    if (db_exec(w, "BEGIN"))
        return -1;
    for (int i = 0; !rc && i < STORE_NTABLES; i++) {
        const struct store_table *t = &store_tables[i];

        if (select_sql(t, sql) || sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK) {
            db_error(w, "reading %s: %s", t->name, sqlite3_errmsg(w->db));
            rc = -1;
            break;
        }
        while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
            read_row(st, t, row);
            rc = fn(arg, t, row);
        }
        if (!rc && step != SQLITE_DONE) {
            db_error(w, "reading %s: %s", t->name, sqlite3_errmsg(w->db));
            rc = -1;
        }
        sqlite3_finalize(st);
    }
    db_exec(w, "COMMIT"); /* ends the read: nothing was written */
    return rc;
}

int sqlite_import_begin(struct store *s)
{
    return db_exec((struct db_worker *)s, "BEGIN IMMEDIATE");
}

int sqlite_count_rows(struct store *s, const struct store_table *t, int64_t *n)
{
    struct db_worker *w = (struct db_worker *)s;
    char sql[SQL_MAX];
    sqlite3_stmt *st;
    int rc;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", t->name);
    if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_error(w, "counting %s: %s", t->name, sqlite3_errmsg(w->db));
        return -1;
    }
    rc = sqlite3_step(st);
    *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        db_error(w, "counting %s: %s", t->name, sqlite3_errmsg(w->db));
        return -1;
    }
    return 0;
}

int sqlite_import_clear(struct store *s)
{
    struct db_worker *w = (struct db_worker *)s;
    char sql[SQL_MAX];

    /* children first: results refer to games and users */
    for (int i = STORE_NTABLES - 1; i >= 0; i--) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s", store_tables[i].name);
        if (db_exec(w, sql))
            return -1;
    }
    return 0;
}

static void bind_value(sqlite3_stmt *st, int i, enum store_col_kind kind,
                       const struct store_value *v)
{
    if (v->null)
        sqlite3_bind_null(st, i);
    else if (kind == STORE_COL_INT)
        sqlite3_bind_int64(st, i, v->i);
    else if (kind == STORE_COL_TEXT)
        sqlite3_bind_text(st, i, v->len ? v->p : "", (int)v->len, SQLITE_STATIC);
    else if (v->len) /* a NULL pointer would bind NULL: an empty BLOB is zeroblob(0) */
        sqlite3_bind_blob(st, i, v->p, (int)v->len, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(st, i, 0);
}

int sqlite_import_row(struct store *s, const struct store_table *t, const struct store_value *row)
{
    struct db_worker *w = (struct db_worker *)s;
    char sql[SQL_MAX];
    int rc;

    if (w->copy_table != t) {
        sqlite3_finalize(w->copy_insert);
        w->copy_insert = NULL;
        w->copy_table = NULL;
        if (insert_sql(t, sql) ||
            sqlite3_prepare_v2(w->db, sql, -1, &w->copy_insert, NULL) != SQLITE_OK) {
            db_error(w, "copying into %s: %s", t->name, sqlite3_errmsg(w->db));
            return -1;
        }
        w->copy_table = t;
    }
    for (int i = 0; i < t->ncols; i++)
        bind_value(w->copy_insert, i + 1, t->cols[i].kind, &row[i]);
    rc = sqlite3_step(w->copy_insert);
    if (rc != SQLITE_DONE)
        db_error(w, "copying into %s: %s", t->name, sqlite3_errmsg(w->db));
    sqlite3_reset(w->copy_insert); /* the bound values are the caller's until it returns */
    return rc == SQLITE_DONE ? 0 : -1;
}

int sqlite_import_end(struct store *s, bool commit)
{
    struct db_worker *w = (struct db_worker *)s;

    sqlite3_finalize(w->copy_insert);
    w->copy_insert = NULL;
    w->copy_table = NULL;
    /* a rowid is max + 1 by itself: nothing to advance */
    if (commit && !db_exec(w, "COMMIT"))
        return 0;
    db_exec(w, "ROLLBACK");
    return commit ? -1 : 0;
}
