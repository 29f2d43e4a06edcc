/*
 * The PostgreSQL engine's side of `parlor-server migrate` (see migrate.h). Rows go out in
 * single-row mode from one REPEATABLE READ transaction (a snapshot, however long the copy
 * takes, without holding every row in memory), and come in through COPY FROM STDIN, table by
 * table, inside one transaction: a club's years of chat in one stream rather than a round trip
 * per message. At the commit each identity column's sequence is moved past the copied ids, so
 * the next account or game gets a new one. Main thread, one-shot.
 */
#include "pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_MAX 512

/* The import in progress. */
struct pg_copy {
    const struct store_table *table; /* whose COPY is open, or NULL */
    char *line;                      /* the row being written, in COPY's text format */
    size_t len, cap;
};

/* A command without rows; 0, or -1 with the reason in the store's error. */
static int command(struct pg_conn *c, const char *sql, const char *what)
{
    PGresult *r = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (!ok)
        store_fail(&c->base, "%s: %s", what, pg_message(c->conn, r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* ---- export ---- */

/* Row i of r as store values; bytea is unescaped into bufs[], which the caller frees. */
static int read_row(const PGresult *r, const struct store_table *t, struct store_value *row,
                    unsigned char **bufs)
{
    for (int i = 0; i < t->ncols; i++) {
        struct store_value *v = &row[i];

        bufs[i] = NULL;
        *v = (struct store_value){.null = PQgetisnull(r, 0, i)};
        if (v->null)
            continue;
        switch (t->cols[i].kind) {
        case STORE_COL_INT:
            v->i = strtoll(PQgetvalue(r, 0, i), NULL, 10);
            break;
        case STORE_COL_TEXT:
            v->p = PQgetvalue(r, 0, i);
            v->len = (size_t)PQgetlength(r, 0, i);
            break;
        case STORE_COL_BLOB:
            bufs[i] = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, i), &v->len);
            if (!bufs[i])
                return -1;
            v->p = bufs[i];
            break;
        }
    }
    return 0;
}

/* Streams one table's rows to fn; the rest of the result is drained when fn stops it. */
static int export_table(struct pg_conn *c, const struct store_table *t, store_row_fn *fn, void *arg)
{
    struct store_value row[STORE_COLS_MAX];
    unsigned char *bufs[STORE_COLS_MAX];
    char sql[SQL_MAX], cols[SQL_MAX - 64];
    PGresult *r;
    int rc = 0;

    if (store_table_columns(t, cols, sizeof(cols))) {
        store_fail(&c->base, "reading %s: too many columns", t->name);
        return -1;
    }
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s", cols, t->name, t->key);
    if (!PQsendQuery(c->conn, sql) || !PQsetSingleRowMode(c->conn)) {
        store_fail(&c->base, "reading %s: %s", t->name, pg_message(c->conn, NULL));
        while ((r = PQgetResult(c->conn)))
            PQclear(r);
        return -1;
    }
    while ((r = PQgetResult(c->conn))) {
        ExecStatusType st = PQresultStatus(r);

        if (st == PGRES_SINGLE_TUPLE && !rc) {
            if (read_row(r, t, row, bufs)) {
                store_fail(&c->base, "reading %s: out of memory", t->name);
                rc = -1;
            } else {
                rc = fn(arg, t, row);
            }
            for (int i = 0; i < t->ncols; i++)
                PQfreemem(bufs[i]);
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && !rc) {
            store_fail(&c->base, "reading %s: %s", t->name, pg_message(c->conn, r));
            rc = -1;
        }
        PQclear(r);
    }
    return rc;
}

int pg_export_rows(struct store *s, store_row_fn *fn, void *arg)
{
    struct pg_conn *c = (struct pg_conn *)s;
    int rc = 0;

    /* every table from the one snapshot this transaction's first query takes */
    if (command(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "reading"))
        return -1;
    for (int i = 0; !rc && i < STORE_NTABLES; i++)
        rc = export_table(c, &store_tables[i], fn, arg);
    PQclear(PQexec(c->conn, rc ? "ROLLBACK" : "COMMIT"));
    return rc;
}

/* ---- import ---- */

void pg_copy_free(struct pg_conn *c)
{
    if (c->copy)
        free(c->copy->line);
    free(c->copy);
    c->copy = NULL;
}

int pg_import_begin(struct store *s)
{
    struct pg_conn *c = (struct pg_conn *)s;

    pg_copy_free(c);
    c->copy = calloc(1, sizeof(*c->copy));
    if (!c->copy) {
        store_fail(s, "out of memory");
        return -1;
    }
    if (command(c, "BEGIN", "starting the import")) {
        pg_copy_free(c);
        return -1;
    }
    c->in_tx = true;
    return 0;
}

int pg_count_rows(struct store *s, const struct store_table *t, int64_t *n)
{
    struct pg_conn *c = (struct pg_conn *)s;
    char sql[SQL_MAX];
    PGresult *r;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", t->name);
    r = PQexec(c->conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        store_fail(s, "counting %s: %s", t->name, pg_message(c->conn, r));
        PQclear(r);
        return -1;
    }
    *n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

int pg_import_clear(struct store *s)
{
    struct pg_conn *c = (struct pg_conn *)s;
    char sql[SQL_MAX];

    /* children first: results refer to games and users */
    for (int i = STORE_NTABLES - 1; i >= 0; i--) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s", store_tables[i].name);
        if (command(c, sql, sql))
            return -1;
    }
    return 0;
}

/* Ends the open COPY: with `abandon`, PostgreSQL fails it (and so the transaction). */
static int end_copy(struct pg_conn *c, bool abandon)
{
    const struct store_table *t = c->copy->table;
    bool said = abandon; /* an abandoned COPY's failure is the expected one */
    PGresult *r;
    int rc = 0;

    if (!t)
        return 0;
    c->copy->table = NULL;
    if (PQputCopyEnd(c->conn, abandon ? "the migration was abandoned" : NULL) != 1)
        rc = -1;
    while ((r = PQgetResult(c->conn))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            if (!said)
                store_fail(&c->base, "copying into %s: %s", t->name, pg_message(c->conn, r));
            said = true;
            rc = -1;
        }
        PQclear(r);
    }
    if (rc && !said)
        store_fail(&c->base, "copying into %s: %s", t->name, pg_message(c->conn, NULL));
    return rc;
}

static int start_copy(struct pg_conn *c, const struct store_table *t)
{
    char sql[SQL_MAX], cols[SQL_MAX - 64];
    PGresult *r;
    int ok;

    if (store_table_columns(t, cols, sizeof(cols))) {
        store_fail(&c->base, "copying into %s: too many columns", t->name);
        return -1;
    }
    snprintf(sql, sizeof(sql), "COPY %s (%s) FROM STDIN", t->name, cols);
    r = PQexec(c->conn, sql);
    ok = PQresultStatus(r) == PGRES_COPY_IN;
    if (!ok)
        store_fail(&c->base, "copying into %s: %s", t->name, pg_message(c->conn, r));
    PQclear(r);
    if (ok)
        c->copy->table = t;
    return ok ? 0 : -1;
}

/* Room for n more bytes in the line. */
static int reserve(struct pg_copy *p, size_t n)
{
    char *nl;

    if (p->len + n <= p->cap)
        return 0;
    nl = realloc(p->line, (p->len + n) * 2);
    if (!nl)
        return -1;
    p->line = nl;
    p->cap = (p->len + n) * 2;
    return 0;
}

/* Appends one value in COPY's text format: \N for NULL; backslash, tab, newline and carriage
 * return escaped; bytea as \\x and hex (the backslash of bytea's own \x, escaped). */
static int put_value(struct pg_copy *p, enum store_col_kind kind, const struct store_value *v)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = v->p;

    if (reserve(p, v->len * 2 + 32))
        return -1;
    if (v->null) {
        memcpy(p->line + p->len, "\\N", 2);
        p->len += 2;
    } else if (kind == STORE_COL_INT) {
        p->len += (size_t)snprintf(p->line + p->len, 24, "%" PRId64, v->i);
    } else if (kind == STORE_COL_BLOB) {
        memcpy(p->line + p->len, "\\\\x", 3);
        p->len += 3;
        for (size_t i = 0; i < v->len; i++) {
            p->line[p->len++] = hex[b[i] >> 4];
            p->line[p->len++] = hex[b[i] & 15];
        }
    } else {
        for (size_t i = 0; i < v->len; i++) {
            const char *esc = b[i] == '\\'   ? "\\\\"
                              : b[i] == '\t' ? "\\t"
                              : b[i] == '\n' ? "\\n"
                              : b[i] == '\r' ? "\\r"
                                             : NULL;
            if (esc) {
                memcpy(p->line + p->len, esc, 2);
                p->len += 2;
            } else {
                p->line[p->len++] = (char)b[i];
            }
        }
    }
    return 0;
}

int pg_import_row(struct store *s, const struct store_table *t, const struct store_value *row)
{
    struct pg_conn *c = (struct pg_conn *)s;
    struct pg_copy *p = c->copy;

    if (p->table != t && (end_copy(c, false) || start_copy(c, t)))
        return -1;
    p->len = 0;
    for (int i = 0; i < t->ncols; i++) {
        if (put_value(p, t->cols[i].kind, &row[i]) || reserve(p, 1)) {
            store_fail(s, "copying into %s: out of memory", t->name);
            return -1;
        }
        p->line[p->len++] = i + 1 < t->ncols ? '\t' : '\n';
    }
    if (PQputCopyData(c->conn, p->line, (int)p->len) != 1) {
        store_fail(s, "copying into %s: %s", t->name, pg_message(c->conn, NULL));
        return -1;
    }
    return 0;
}

/* Moves each identity column's sequence past the highest id: the next row gets max + 1. */
static int advance_identities(struct pg_conn *c)
{
    char sql[SQL_MAX];

    for (int i = 0; i < STORE_NTABLES; i++) {
        const struct store_table *t = &store_tables[i];

        if (!t->identity)
            continue;
        snprintf(sql, sizeof(sql),
                 "SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, "
                 "false) FROM %s",
                 t->name, t->identity, t->identity, t->name);
        if (command(c, sql, "advancing the ids"))
            return -1;
    }
    return 0;
}

int pg_import_end(struct store *s, bool commit)
{
    struct pg_conn *c = (struct pg_conn *)s;
    int rc = 0;

    if (!c->copy)
        return commit ? -1 : 0;
    if (commit)
        rc = end_copy(c, false) || advance_identities(c) ||
             command(c, "COMMIT", "committing the import");
    else
        end_copy(c, true);
    if (!commit || rc)
        PQclear(PQexec(c->conn, "ROLLBACK"));
    c->in_tx = false;
    pg_copy_free(c);
    return commit && rc ? -1 : 0;
}
