/* The store's front (see store.h): picks the engine and passes each call to it. Whichever
 * thread owns the connection: pool workers, or the main thread at startup. */
#include "store.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static bool is_pg_uri(const char *target)
{
    return !strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11);
}

const struct store_engine *store_engine_for(const char *target)
{
    return is_pg_uri(target) ? &store_pg_engine : &store_sqlite_engine;
}

/* Appends n bytes of `s` to out (len bytes in all, *at used), truncating. */
static void put(char *out, size_t len, size_t *at, const char *s, size_t n)
{
    while (n-- && *at + 1 < len)
        out[(*at)++] = *s++;
    out[*at] = '\0';
}

void store_target_shown(const char *target, char *out, size_t len)
{
    const char *rest, *end, *at = NULL, *colon, *p;
    size_t used = 0;

    if (!len)
        return;
    out[0] = '\0';
    if (!is_pg_uri(target)) {
        put(out, len, &used, target, strlen(target));
        return;
    }
    rest = strstr(target, "://") + 3;
    end = rest + strcspn(rest, "/?"); /* the authority: [user[:password]@]host... */
    for (p = rest; p < end; p++)
        if (*p == '@')
            at = p;
    put(out, len, &used, target, (size_t)(rest - target));
    if (at) {
        colon = memchr(rest, ':', (size_t)(at - rest));
        put(out, len, &used, rest, (size_t)((colon ? colon : at) - rest));
        if (colon)
            put(out, len, &used, ":***", 4);
        rest = at;
    }
    /* the rest, with any password=VALUE parameter hidden */
    for (p = rest; *p;) {
        size_t n = strcspn(p, "?&");
        put(out, len, &used, p, n);
        p += n;
        if (!*p)
            break;
        put(out, len, &used, p, 1); /* the ? or & */
        p++;
        if (!strncmp(p, "password=", 9)) {
            put(out, len, &used, "password=***", 12);
            p += 9 + strcspn(p + 9, "&");
        }
    }
}

int store_prepare(const struct store_cfg *cfg, char *err, size_t errlen)
{
    return store_engine_for(cfg->target)->prepare(cfg, err, errlen);
}

struct store *store_open(const struct store_cfg *cfg, int index, char *err, size_t errlen)
{
    const struct store_engine *e = store_engine_for(cfg->target);
    struct store *s = e->open(cfg, index, err, errlen);

    if (s) {
        s->engine = e;
        s->index = index;
        s->error[0] = '\0';
    }
    return s;
}

void store_close(struct store *s)
{
    if (s)
        s->engine->close(s);
}

void *store_worker_open(void *arg, int index, char *err, size_t errlen)
{
    return store_open(arg, index, err, errlen);
}

void store_worker_close(void *arg, void *worker)
{
    store_close(worker);
}

void store_fail(struct store *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
    if (s->index >= 0)
        log_error("worker %d: %s", s->index, s->error);
}

void store_job_result(struct pool_job *job, struct store *s, int status)
{
    job->status = status;
    if (status)
        snprintf(job->error, sizeof(job->error), "%s", s->error[0] ? s->error : "failed");
    s->error[0] = '\0';
}

int store_insert_messages(struct store *s, const struct store_msg *msgs, size_t n)
{
    return s->engine->insert_messages(s, msgs, n);
}

json_t *store_history(struct store *s, const char *room, uint64_t before, int limit)
{
    return s->engine->history(s, room, before, limit);
}

int store_delete_message(struct store *s, const char *room, int64_t seq)
{
    return s->engine->delete_message(s, room, seq);
}

int store_create_user(struct store *s, const char *name, const uint8_t *hash, size_t hashlen,
                      const uint8_t *salt, size_t saltlen, const char *params, int64_t created,
                      int64_t *id)
{
    return s->engine->create_user(s, name, hash, hashlen, salt, saltlen, params, created, id);
}

int store_find_user(struct store *s, const char *name, struct store_user *u)
{
    return s->engine->find_user(s, name, u);
}

int store_save_game(struct store *s, const char *room, int64_t started, int64_t ended, int rounds,
                    const struct store_result *results, int n)
{
    return s->engine->save_game(s, room, started, ended, rounds, results, n);
}

json_t *store_leaderboard(struct store *s, int limit)
{
    return s->engine->leaderboard(s, limit);
}

json_t *store_rank(struct store *s, int64_t user_id)
{
    return s->engine->rank(s, user_id);
}

int store_ban_add(struct store *s, const char *kind, const char *target, int64_t until,
                  const char *reason, int64_t created)
{
    return s->engine->ban_add(s, kind, target, until, reason, created);
}

int store_ban_remove(struct store *s, const char *kind, const char *target)
{
    return s->engine->ban_remove(s, kind, target);
}

int store_import_questions(struct store *s, FILE *in, const char *label, const char *pack,
                           int *added, struct qbank *added_to)
{
    return s->engine->import_questions(s, in, label, pack, added, added_to);
}

int store_probe(struct store *s)
{
    return s->engine->probe(s);
}

int store_load_room(struct store *s, const char *room, int limit, uint64_t *last_seq,
                    json_t **events)
{
    return s->engine->load_room(s, room, limit, last_seq, events);
}

int store_load_max_room_number(struct store *s, uint64_t *n)
{
    return s->engine->load_max_room_number(s, n);
}

int store_load_users(struct store *s, store_user_fn *fn, void *arg)
{
    return s->engine->load_users(s, fn, arg);
}

int store_load_bans(struct store *s, int64_t now_ms, store_ban_fn *fn, void *arg)
{
    return s->engine->load_bans(s, now_ms, fn, arg);
}

int store_load_token_key(struct store *s, uint8_t *key, size_t keylen)
{
    return s->engine->load_token_key(s, key, keylen);
}

int store_load_database_id(struct store *s, char *out, size_t len)
{
    return s->engine->load_database_id(s, out, len);
}

int store_load_questions(struct store *s, struct qbank *b)
{
    return s->engine->load_questions(s, b);
}

int store_export_rows(struct store *s, store_row_fn *fn, void *arg)
{
    return s->engine->export_rows(s, fn, arg);
}

int store_import_begin(struct store *s)
{
    return s->engine->import_begin(s);
}

int store_count_rows(struct store *s, const struct store_table *t, int64_t *n)
{
    return s->engine->count_rows(s, t, n);
}

int store_import_clear(struct store *s)
{
    return s->engine->import_clear(s);
}

int store_import_row(struct store *s, const struct store_table *t, const struct store_value *row)
{
    return s->engine->import_row(s, t, row);
}

int store_import_end(struct store *s, bool commit)
{
    return s->engine->import_end(s, commit);
}
