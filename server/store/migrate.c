/*
 * `parlor-server migrate` (see migrate.h): the list of durable tables both engines share, and
 * the copy that streams one store's export into the other's import. Main thread, one-shot.
 *
 * Why rows rather than SQL: the two dialects differ (C_BLOB and BYTEA, NOCASE and lower(), rowids
 * and identity columns), and each engine already owns its dialect. A row of store_value is all
 * they need to agree on; adding a column means adding it here, and the conformance suite fails
 * until the schemas and this list agree (test_store_tables_cover_the_schema).
 */
#include "migrate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define C_INT   STORE_COL_INT
#define C_TEXT  STORE_COL_TEXT
#define C_BLOB  STORE_COL_BLOB
#define COLS(a) (int)(sizeof(a) / sizeof(a[0])), a

static const struct store_column settings_cols[] = {{"key", C_TEXT}, {"value", C_BLOB}};
static const struct store_column users_cols[] = {
    {"id", C_INT},         {"name", C_TEXT},   {"pw_hash", C_BLOB},     {"pw_salt", C_BLOB},
    {"pw_params", C_TEXT}, {"created", C_INT}, {"banned_until", C_INT}, {"points", C_INT},
    {"games", C_INT},      {"wins", C_INT}};
static const struct store_column bans_cols[] = {{"id", C_INT},      {"kind", C_TEXT},
                                                {"target", C_TEXT}, {"until", C_INT},
                                                {"reason", C_TEXT}, {"created", C_INT}};
/* room first: the copy counts rooms as the key order groups them */
static const struct store_column messages_cols[] = {
    {"room", C_TEXT}, {"seq", C_INT}, {"sender", C_TEXT}, {"text", C_TEXT}, {"ts", C_INT}};
/* pack first, for the same reason */
static const struct store_column questions_cols[] = {
    {"pack", C_TEXT},    {"id", C_INT},      {"category", C_TEXT}, {"text", C_TEXT},
    {"choices", C_TEXT}, {"correct", C_INT}, {"lang", C_TEXT}};
static const struct store_column games_cols[] = {
    {"id", C_INT}, {"room", C_TEXT}, {"started", C_INT}, {"ended", C_INT}, {"rounds", C_INT}};
static const struct store_column results_cols[] = {
    {"game_id", C_INT}, {"name", C_TEXT}, {"user_id", C_INT}, {"score", C_INT}, {"rank", C_INT}};

const struct store_table store_tables[STORE_NTABLES] = {
    [STORE_T_SETTINGS] = {"settings", "settings (the tokens' key)", "key", NULL,
                          COLS(settings_cols)},
    [STORE_T_USERS] = {"users", "accounts", "id", "id", COLS(users_cols)},
    [STORE_T_BANS] = {"bans", "bans and mutes", "id", "id", COLS(bans_cols)},
    [STORE_T_MESSAGES] = {"messages", "chat messages", "room, seq", NULL, COLS(messages_cols)},
    [STORE_T_QUESTIONS] = {"questions", "questions", "pack, id", "id", COLS(questions_cols)},
    [STORE_T_GAMES] = {"games", "games", "id", "id", COLS(games_cols)},
    [STORE_T_RESULTS] = {"results", "game results", "game_id, name", NULL, COLS(results_cols)},
};

int store_table_columns(const struct store_table *t, char *out, size_t len)
{
    size_t used = 0;

    for (int i = 0; i < t->ncols; i++) {
        int n = snprintf(out + used, len - used, "%s%s", i ? ", " : "", t->cols[i].name);
        if (n < 0 || (size_t)n >= len - used)
            return -1;
        used += (size_t)n;
    }
    return 0;
}

/* The copy in progress: export_rows' callback state. */
struct copy {
    struct store *to;
    struct migrate_report *report;
    char *last_room, *last_pack; /* the previous row's, to count distinct ones */
    bool target_failed;          /* the import failed, not the export */
};

/* Counts `v` in *n when it differs from the previous value in *last. -1: out of memory. */
static int count_new(char **last, const struct store_value *v, int64_t *n)
{
    char *copy;

    if (*last && strlen(*last) == v->len && !memcmp(*last, v->p, v->len))
        return 0;
    copy = malloc(v->len + 1);
    if (!copy)
        return -1;
    memcpy(copy, v->p, v->len);
    copy[v->len] = '\0';
    free(*last);
    *last = copy;
    (*n)++;
    return 0;
}

static int copy_row(void *arg, const struct store_table *t, const struct store_value *row)
{
    struct copy *c = arg;
    int id = (int)(t - store_tables);

    if (store_import_row(c->to, t, row)) {
        c->target_failed = true;
        return -1;
    }
    c->report->rows[id]++;
    if (id == STORE_T_MESSAGES && count_new(&c->last_room, &row[0], &c->report->rooms))
        goto oom;
    if (id == STORE_T_QUESTIONS && count_new(&c->last_pack, &row[0], &c->report->packs))
        goto oom;
    return 0;
oom:
    c->target_failed = true;
    snprintf(c->to->error, sizeof(c->to->error), "out of memory");
    return -1;
}

/* Refuses a target with rows, naming what it holds; 0 when it is empty. */
static int check_empty(struct store *to, const char *shown, char *err, size_t errlen)
{
    char held[256] = "";
    size_t used = 0;
    int64_t n;

    for (int i = 0; i < STORE_NTABLES; i++) {
        if (store_count_rows(to, &store_tables[i], &n)) {
            snprintf(err, errlen, "--to %s: %s", shown, to->error);
            return -1;
        }
        if (n && used < sizeof(held))
            used += (size_t)snprintf(held + used, sizeof(held) - used, "%s%s: %lld",
                                     used ? ", " : "", store_tables[i].what, (long long)n);
    }
    if (!used)
        return 0;
    snprintf(err, errlen,
             "--to %s already holds data (%s): nothing was copied; --replace empties it first",
             shown, held);
    return -1;
}

/* Prepares (schema) and opens one side; names it by its flag in err. */
static struct store *open_side(const char *flag, const char *target, const char *shown, char *err,
                               size_t errlen)
{
    struct store_cfg cfg = {.target = target, .sync_full = true};
    char why[400];
    struct store *s = NULL;

    if (!store_prepare(&cfg, why, sizeof(why)))
        s = store_open(&cfg, -1, why, sizeof(why));
    /* a connection's failure names the database already */
    if (!s && !strncmp(why, "database '", 10))
        snprintf(err, errlen, "%s %s", flag, why);
    else if (!s)
        snprintf(err, errlen, "%s %s: %s", flag, shown, why);
    return s;
}

int migrate_run(const char *from, const char *to, bool replace, struct migrate_report *report,
                char *err, size_t errlen)
{
    char from_shown[STORE_TARGET_SHOWN_MAX], to_shown[STORE_TARGET_SHOWN_MAX];
    struct store *src = NULL, *dst = NULL;
    struct copy c = {.report = report};
    int rc = -1;

    memset(report, 0, sizeof(*report));
    store_target_shown(from, from_shown, sizeof(from_shown));
    store_target_shown(to, to_shown, sizeof(to_shown));
    if (!strcmp(from, to)) {
        snprintf(err, errlen, "--from and --to name the same database (%s)", from_shown);
        return -1;
    }
    /* SQLite would create a missing file: an empty source would "copy" nothing, silently */
    if (store_engine_for(from) == &store_sqlite_engine && access(from, R_OK)) {
        snprintf(err, errlen, "--from %s: %s", from_shown, strerror(errno));
        return -1;
    }
    src = open_side("--from", from, from_shown, err, errlen);
    if (!src)
        return -1;
    dst = open_side("--to", to, to_shown, err, errlen);
    if (!dst)
        goto out;
    if (store_import_begin(dst)) {
        snprintf(err, errlen, "--to %s: %s", to_shown, dst->error);
        goto out;
    }
    if (replace ? store_import_clear(dst) : check_empty(dst, to_shown, err, errlen)) {
        if (replace)
            snprintf(err, errlen, "--to %s: emptying it: %s", to_shown, dst->error);
        store_import_end(dst, false);
        goto out;
    }
    c.to = dst;
    if (store_export_rows(src, copy_row, &c)) {
        if (c.target_failed)
            snprintf(err, errlen, "--to %s: %s; nothing was copied", to_shown, dst->error);
        else
            snprintf(err, errlen, "--from %s: %s; nothing was copied", from_shown, src->error);
        store_import_end(dst, false);
        goto out;
    }
    if (store_import_end(dst, true)) {
        snprintf(err, errlen, "--to %s: %s; nothing was copied", to_shown, dst->error);
        goto out;
    }
    rc = 0;
out:
    if (rc)
        memset(report, 0, sizeof(*report));
    free(c.last_room);
    free(c.last_pack);
    store_close(dst);
    store_close(src);
    return rc;
}
