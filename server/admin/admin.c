/*
 * The operator's console protocol (see admin.h, protocol/ADMIN.md). Loop thread, except
 * mod_run() on a worker, which touches only its job and the worker's connection.
 */
#include "admin.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "actions.h"
#include "backup.h"
#include "bans.h"
#include "chat.h"
#include "chatlog.h"
#include "delivery.h"
#include "directory.h"
#include "game.h"
#include "hmap.h"
#include "moderation.h"
#include "oplog.h"
#include "pool.h"
#include "proto.h"
#include "room.h"
#include "server.h"
#include "session.h"
#include "stats.h"
#include "store.h"

#define ADMIN_FREE_FAILURES 3   /* wrong tokens from one address before it is slowed down */
#define ADMIN_MAX_LOCK_S    300 /* the longest an address waits after many failures */
#define ADMIN_MINUTES_MAX   525600

struct admin {
    struct hmap failures; /* address -> struct admin_failure *, for slowing down guessers */
};

struct admin_failure {
    int count;
    int64_t locked_until_ms;
};

static void log_pushed(void *arg, const struct oplog_entry *e);

int admin_init(struct server *srv)
{
    struct admin *a = calloc(1, sizeof(*a));

    if (!a)
        return -1;
    hmap_init(&a->failures);
    srv->admin = a;
    oplog_subscribe(&srv->oplog, log_pushed, srv);
    return 0;
}

void admin_destroy(struct server *srv)
{
    struct admin *a = srv->admin;

    if (!a)
        return;
    for (size_t i = 0; i < a->failures.cap; i++)
        if (a->failures.slots[i].key)
            free(a->failures.slots[i].val);
    hmap_destroy(&a->failures);
    free(a);
    srv->admin = NULL;
}

bool admin_token_matches(const struct server *srv, const char *given, size_t len)
{
    const char *token = srv->cfg.admin_token;
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];

    if (!token)
        return false;
    /* compare digests, so neither the contents nor the length leak through timing */
    SHA256((const unsigned char *)token, strlen(token), want);
    SHA256((const unsigned char *)given, len, got);
    return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

/* ---- the log tail ---- */

static json_t *log_json(const struct oplog_entry *e)
{
    static const char *const names[] = {"error", "warn", "info", "info"};

    return json_pack("{s:s, s:I, s:s, s:s}", "type", "log", "ts", (json_int_t)e->ts, "level",
                     names[e->level], "text", e->text);
}

/* The oplog's subscriber: a new entry goes to every console. */
static void log_pushed(void *arg, const struct oplog_entry *e)
{
    delivery_audience(arg, DELIVER_CONSOLES, log_json(e));
}

void admin_push_stats(struct server *srv, const struct stats_sample *sample)
{
    json_t *o = stats_sample_json(sample);

    json_object_set_new(o, "type", json_string("stats"));
    json_object_set_new(o, "peak_connections", json_integer(srv->figures.peak_connections));
    json_object_set_new(o, "uptime_s",
                        json_integer((srv->wall_ms() - srv->figures.started_ms) / 1000));
    json_object_set_new(o, "draining", json_boolean(srv->draining));
    if (srv->cluster.nodes) /* a cluster's console shows every node */
        json_object_set(o, "nodes", srv->cluster.nodes);
    delivery_audience(srv, DELIVER_CONSOLES, o);
}

/* ---- replies ---- */

struct areq {
    json_t *root;
    const char *type;
    struct proto_re re;
};

static json_t *ok_of(const struct areq *q)
{
    return proto_ok_re(q->re);
}

/* A string field of 1..max characters, or NULL after replying bad_request. */
static const char *need_text(struct session *s, const struct areq *q, const char *field, size_t max,
                             bool optional)
{
    json_t *v = json_object_get(q->root, field);
    const char *t;

    if (!v && optional)
        return "";
    t = json_is_string(v) ? json_string_value(v) : NULL;
    if (!t || !*t || proto_utf8_len(t) > max || strlen(t) != json_string_length(v)) {
        session_reply_error(s, q->re, PROTO_E_BAD_REQUEST, field,
                            "field '%s' must be 1-%zu characters", field, max);
        return NULL;
    }
    return t;
}

/* An integer field in [lo, hi]; `dflt` when absent and optional. -1 after replying. */
static int need_number(struct session *s, const struct areq *q, const char *field, long lo, long hi,
                       bool optional, long dflt, long *out)
{
    json_t *v = json_object_get(q->root, field);

    if (!v && optional) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        session_reply_error(s, q->re, PROTO_E_BAD_REQUEST, field,
                            "field '%s' must be an integer from %ld to %ld", field, lo, hi);
        return -1;
    }
    *out = (long)json_integer_value(v);
    return 0;
}

/* ---- moderation writes on the pool ---- */

enum mod_op { MOD_BAN_ADD, MOD_BAN_REMOVE };

struct mod_job {
    struct pool_job job;
    enum mod_op op;
    char kind[16], target[PROTO_ROOM_ID_MAX + 1], reason[128];
    int64_t until, created;
};

static void mod_run(struct pool_job *job, void *worker)
{
    struct mod_job *j = (struct mod_job *)job;

    switch (j->op) {
    case MOD_BAN_ADD:
        store_job_result(
            job, worker,
            store_ban_add(worker, j->kind, j->target, j->until, j->reason, j->created));
        break;
    case MOD_BAN_REMOVE:
        store_job_result(job, worker, store_ban_remove(worker, j->kind, j->target));
        break;
    }
}

static void mod_done(struct pool_job *job, void *loop_arg)
{
    struct mod_job *j = (struct mod_job *)job;

    free(j);
}

/* Persists a change; the in-memory state has already changed. */
static void persist(struct server *srv, enum mod_op op, const char *kind, const char *target,
                    int64_t until, const char *reason)
{
    struct mod_job *j = calloc(1, sizeof(*j));

    if (!srv->pool || !j) {
        free(j);
        if (srv->pool)
            oplog_add(&srv->oplog, LOG_ERROR, "out of memory storing a moderation change");
        return;
    }
    *j = (struct mod_job){.job = {.run = mod_run,
                                  .done = mod_done,
                                  .failure = "a moderation change could not be stored"},
                          .op = op,
                          .until = until,
                          .created = srv->wall_ms()};
    snprintf(j->kind, sizeof(j->kind), "%s", kind ? kind : "");
    snprintf(j->target, sizeof(j->target), "%s", target);
    snprintf(j->reason, sizeof(j->reason), "%s", reason ? reason : "");
    if (pool_submit(srv->pool, &j->job)) {
        oplog_add(&srv->oplog, LOG_ERROR, "the pool refused a moderation change for %s", target);
        free(j);
    }
}

/* ---- requests ---- */

static void do_rooms(struct server *srv, struct session *s, const struct areq *q)
{
    json_t *ok = ok_of(q), *list = json_array();

    for (struct room *r = srv->rooms.first; r; r = r->next)
        json_array_append_new(list, chat_room_json(r));
    json_object_set_new(ok, "rooms", list);
    session_send_json(s, ok);
}

static bool contains_folded(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return true;
    return !n;
}

static void do_users(struct server *srv, struct session *s, const struct areq *q)
{
    json_t *v = json_object_get(q->root, "q"), *ok, *list;
    const char *filter = v ? json_string_value(v) : "";
    struct hmap *m = &srv->sessions_by_name;

    if (!filter) {
        session_reply_error(s, q->re, PROTO_E_BAD_REQUEST, "q", "field 'q' must be a string");
        return;
    }
    ok = ok_of(q);
    list = json_array();
    for (size_t i = 0; i < m->cap; i++) {
        struct session *u = m->slots[i].key ? m->slots[i].val : NULL;
        json_t *rooms;
        if (!u || !contains_folded(u->name, filter))
            continue;
        rooms = json_array();
        for (int k = 0; k < u->nrooms; k++)
            json_array_append_new(rooms, json_string(u->rooms[k]->id));
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:I, s:o, s:i, s:b, s:b}", "name", u->name,
                                        "address", u->addr, "since", (json_int_t)u->connected_ms,
                                        "rooms", rooms, "messages", (int)u->messages_sent,
                                        "account", u->user_id > 0, "away", u->detached));
    }
    json_object_set_new(ok, "users", list);
    session_send_json(s, ok);
}

static void do_announce(struct server *srv, struct session *s, const struct areq *q)
{
    const char *text = need_text(s, q, "text", 1000, false);
    json_t *ok;
    int n;

    if (!text)
        return;
    n = actions_announce(srv, text);
    actions_publish(srv, json_pack("{s:s, s:s}", "op", "announce", "text", text));
    oplog_add(&srv->oplog, LOG_INFO, "announce to %d players: %s", n, text);
    ok = ok_of(q);
    json_object_set_new(ok, "recipients", json_integer(n));
    session_send_json(s, ok);
}

static void do_kick(struct server *srv, struct session *s, const struct areq *q)
{
    const char *name = need_text(s, q, "name", SESSION_NAME_MAX, false);
    const char *reason = name ? need_text(s, q, "reason", 100, true) : NULL;
    struct session *u = reason ? directory_find_name(srv, name) : NULL;
    char shown[SESSION_NAME_MAX + 1]; /* as its owner spells it, when online here */
    bool here;

    if (!reason)
        return;
    snprintf(shown, sizeof(shown), "%s", u ? u->name : name);
    here = actions_kick(srv, name, reason);
    if (!here && !srv->moderation_publish) {
        session_reply_error(s, q->re, PROTO_E_NO_SUCH_USER, NULL, "nobody called '%.*s' is online",
                            proto_clip(name, 64), name);
        return;
    }
    /* in a cluster the player may be on another node: each one kicks its own */
    actions_publish(srv,
                    json_pack("{s:s, s:s, s:s}", "op", "kick", "name", name, "reason", reason));
    oplog_add(&srv->oplog, LOG_INFO, "kick %s%s%s", shown, *reason ? ": " : "", reason);
    session_send_json(s, ok_of(q));
}

/* Records a ban of `kind` (and closes matching players); replies ok {until}. */
static void apply_ban(struct server *srv, struct session *s, const struct areq *q,
                      enum ban_kind kind, const char *kind_name, const char *target, long minutes,
                      const char *reason)
{
    int64_t until = minutes ? srv->wall_ms() + (int64_t)minutes * 60000 : BAN_FOREVER;
    json_t *ok;

    if (actions_ban(srv, kind, target, until, reason)) {
        session_reply_error(s, q->re, PROTO_E_INTERNAL, NULL, "out of memory");
        return;
    }
    persist(srv, MOD_BAN_ADD, kind_name, target, minutes ? until : 0, reason);
    actions_publish(srv, actions_ban_json(kind, target, until, reason));
    if (kind == BAN_MUTE)
        oplog_add(&srv->oplog, LOG_INFO, "mute %s for %ld minutes%s%s", target, minutes,
                  *reason ? ": " : "", reason);
    else if (minutes)
        oplog_add(&srv->oplog, LOG_INFO, "ban %s %s for %ld minutes%s%s", kind_name, target,
                  minutes, *reason ? ": " : "", reason);
    else
        oplog_add(&srv->oplog, LOG_INFO, "ban %s %s for ever%s%s", kind_name, target,
                  *reason ? ": " : "", reason);
    ok = ok_of(q);
    json_object_set_new(ok, "until", minutes ? json_integer(until) : json_null());
    if (kind != BAN_MUTE) /* as stored: what unban takes */
        json_object_set_new(ok, "target", json_string(target));
    session_send_json(s, ok);
}

/* An address rule in its canonical spelling, into `canon`; NULL after replying bad_request. */
static const char *need_address(struct session *s, const struct areq *q, const char *target,
                                char canon[BANS_ADDRESS_MAX])
{
    char why[200];

    if (bans_address_canon(target, canon, why, sizeof(why))) {
        session_reply_error(s, q->re, PROTO_E_BAD_REQUEST, "target", "field 'target': %s", why);
        return NULL;
    }
    return canon;
}

static void do_mute(struct server *srv, struct session *s, const struct areq *q)
{
    const char *name = need_text(s, q, "name", SESSION_NAME_MAX, false);
    const char *reason = name ? need_text(s, q, "reason", 100, true) : NULL;
    long minutes;

    if (!reason || need_number(s, q, "minutes", 1, ADMIN_MINUTES_MAX, false, 0, &minutes))
        return;
    apply_ban(srv, s, q, BAN_MUTE, "mute", name, minutes, reason);
}

static void do_ban(struct server *srv, struct session *s, const struct areq *q)
{
    const char *kind = need_text(s, q, "kind", 16, false), *target, *reason;
    char canon[BANS_ADDRESS_MAX];
    long minutes;
    int k;

    if (!kind)
        return;
    k = bans_kind_parse(kind);
    if (k != BAN_NAME && k != BAN_ADDRESS) {
        session_reply_error(s, q->re, PROTO_E_BAD_REQUEST, "kind",
                            "field 'kind' must be \"name\" or \"address\"");
        return;
    }
    target = need_text(s, q, "target", 64, false);
    if (target && k == BAN_ADDRESS)
        target = need_address(s, q, target, canon);
    reason = target ? need_text(s, q, "reason", 100, true) : NULL;
    if (!reason || need_number(s, q, "minutes", 1, ADMIN_MINUTES_MAX, true, 0, &minutes))
        return;
    apply_ban(srv, s, q, (enum ban_kind)k, kind, target, minutes, reason);
}

static void do_unban(struct server *srv, struct session *s, const struct areq *q)
{
    const char *kind = need_text(s, q, "kind", 16, false), *given, *target;
    char canon[BANS_ADDRESS_MAX];
    json_t *ok;
    bool lifted;
    int k;

    if (!kind)
        return;
    k = bans_kind_parse(kind);
    if (k < 0) {
        session_reply_error(s, q->re, PROTO_E_BAD_REQUEST, "kind",
                            "field 'kind' must be name, address or mute");
        return;
    }
    target = given = need_text(s, q, "target", 64, false);
    if (target && k == BAN_ADDRESS)
        target = need_address(s, q, target, canon);
    if (!target)
        return;
    lifted = actions_unban(srv, (enum ban_kind)k, target);
    persist(srv, MOD_BAN_REMOVE, kind, target, 0, NULL);
    actions_publish(srv,
                    json_pack("{s:s, s:s, s:s}", "op", "unban", "kind", kind, "target", target));
    /* rows stored before addresses were canonical hold the spelling the operator used */
    if (strcmp(given, target))
        persist(srv, MOD_BAN_REMOVE, kind, given, 0, NULL);
    oplog_add(&srv->oplog, LOG_INFO, "unban %s %s%s", kind, target,
              lifted ? "" : " (none was in force)");
    ok = ok_of(q);
    json_object_set_new(ok, "lifted", json_boolean(lifted));
    session_send_json(s, ok);
}

static struct room *find_room(struct server *srv, struct session *s, const struct areq *q)
{
    const char *id = need_text(s, q, "room", PROTO_ROOM_ID_MAX, false);
    struct room *r = id ? room_find(&srv->rooms, id) : NULL;

    if (id && !r)
        session_reply_error(s, q->re, PROTO_E_NO_SUCH_ROOM, NULL, "no room '%.*s'",
                            proto_clip(id, 64), id);
    return r;
}

static void do_close_room(struct server *srv, struct session *s, const struct areq *q)
{
    const char *id = need_text(s, q, "room", PROTO_ROOM_ID_MAX, false);
    struct room *r = id ? room_find(&srv->rooms, id) : NULL;

    if (!id)
        return;
    if (r && r->permanent) {
        session_reply_error(s, q->re, PROTO_E_NOT_ALLOWED, NULL, "room '%s' cannot be closed", id);
        return;
    }
    if (!r && !srv->moderation_publish) {
        session_reply_error(s, q->re, PROTO_E_NO_SUCH_ROOM, NULL, "no room '%.*s'",
                            proto_clip(id, 64), id);
        return;
    }
    /* in a cluster the room may have members on other nodes only: each closes its own */
    actions_publish(srv, json_pack("{s:s, s:s}", "op", "close_room", "room", id));
    oplog_add(&srv->oplog, LOG_INFO, "close room %s", id);
    if (r)
        actions_close_room(srv, id);
    session_send_json(s, ok_of(q));
}

/* The end of a delete_message: members are told when a message went (here and, through the
 * cluster, on every node), the console is told whether one did. */
static void message_deleted(struct server *srv, const struct chatlog_deleted *d)
{
    struct session *s = session_by_id(srv, d->session_id);
    struct areq q = {.re = d->re};
    json_t *ok;

    if (s && s->closing)
        s = NULL;
    if (d->found) {
        actions_tell_deleted(srv, d->room, d->seq);
        actions_publish(srv, json_pack("{s:s, s:s, s:I}", "op", "delete_message", "room", d->room,
                                       "seq", (json_int_t)d->seq));
        oplog_add(&srv->oplog, LOG_INFO, "delete message %llu in %s", (unsigned long long)d->seq,
                  d->room);
    }
    if (!s)
        return;
    if (d->status) {
        session_reply_error(s, q.re, PROTO_E_INTERNAL, NULL, "the database could not delete it: %s",
                            d->error);
        return;
    }
    ok = ok_of(&q);
    json_object_set_new(ok, "deleted", json_boolean(d->found));
    session_send_json(s, ok);
}

static void do_delete_message(struct server *srv, struct session *s, const struct areq *q)
{
    const char *id = need_text(s, q, "room", PROTO_ROOM_ID_MAX, false);
    struct room *r = id ? room_find(&srv->rooms, id) : NULL;
    bool in_memory = false;
    long seq;

    if (!id || need_number(s, q, "seq", 1, INT32_MAX, false, 0, &seq))
        return;
    /* in a cluster, a room without members here may still have its chat in the database */
    if (!r && !(srv->moderation_publish && srv->chatlog)) {
        session_reply_error(s, q->re, PROTO_E_NO_SUCH_ROOM, NULL, "no room '%.*s'",
                            proto_clip(id, 64), id);
        return;
    }
    if (r && (uint64_t)seq > r->last_seq && !srv->moderation_publish) {
        session_reply_error(s, q->re, PROTO_E_BAD_REQUEST, "seq",
                            "room '%s' has had no message %ld yet", r->id, seq);
        return;
    }
    if (r)
        in_memory = room_history_delete(r, (uint64_t)seq);
    /* older messages, and whether this one was ever saved, only the database knows */
    if (srv->chatlog) {
        if (chatlog_delete(srv->chatlog, id, (uint64_t)seq, in_memory, message_deleted, s->id,
                           q->re))
            session_reply_error(s, q->re, PROTO_E_INTERNAL, NULL, "out of memory");
        return;
    }
    message_deleted(srv, &(struct chatlog_deleted){.room = id,
                                                   .seq = (uint64_t)seq,
                                                   .session_id = s->id,
                                                   .re = q->re,
                                                   .found = in_memory});
}

/* The room's recent chat as the server keeps it in memory, newest `limit` first matching, so
 * an operator can find a message's seq to delete it. */
static void do_room_chat(struct server *srv, struct session *s, const struct areq *q)
{
    struct room *r = find_room(srv, s, q);
    json_t *v = r ? json_object_get(q->root, "q") : NULL, *all, *list, *ok;
    const char *filter = "";
    long before, limit;
    size_t i;

    if (!r || need_number(s, q, "before", 1, INT32_MAX, true, INT32_MAX, &before) ||
        need_number(s, q, "limit", 1, 200, true, 50, &limit))
        return;
    if (v && !(filter = need_text(s, q, "q", 100, false)))
        return;
    all = room_history_json(r, r->hist_count);
    list = json_array();
    /* newest first, then reversed: the reply lists the page oldest first, as `history` */
    for (i = json_array_size(all); i-- > 0 && json_array_size(list) < (size_t)limit;) {
        json_t *ev = json_array_get(all, i);
        json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
        const char *text = json_string_value(json_object_get(ev, "text"));
        const char *from = json_string_value(json_object_get(ev, "from"));
        if (seq >= before || !text || !from ||
            (*filter && !contains_folded(text, filter) && !contains_folded(from, filter)))
            continue;
        json_array_insert_new(list, 0,
                              json_pack("{s:I, s:s, s:s, s:O}", "seq", seq, "from", from, "text",
                                        text, "ts", json_object_get(ev, "ts")));
    }
    json_decref(all);
    ok = ok_of(q);
    json_object_set_new(ok, "room", json_string(r->id));
    json_object_set_new(ok, "messages", list);
    session_send_json(s, ok);
}

static void do_nodes(struct server *srv, struct session *s, const struct areq *q)
{
    json_t *ok = ok_of(q);

    json_object_set_new(ok, "node",
                        srv->cluster.node_id ? json_string(srv->cluster.node_id) : json_null());
    json_object_set_new(ok, "nodes",
                        srv->cluster.nodes ? json_deep_copy(srv->cluster.nodes) : json_array());
    session_send_json(s, ok);
}

static void do_backup(struct server *srv, struct session *s, const struct areq *q, bool start)
{
    char err[256];
    json_t *ok;

    if (!srv->backup) {
        session_reply_error(s, q->re, PROTO_E_INTERNAL, NULL, "no database");
        return;
    }
    if (start && backup_start(srv->backup, err, sizeof(err))) {
        session_reply_error(s, q->re, PROTO_E_NOT_ALLOWED, NULL, "%s", err);
        return;
    }
    if (start)
        oplog_add(&srv->oplog, LOG_INFO, "backup started: %s", srv->backup->file);
    ok = ok_of(q);
    json_object_set_new(ok, "backup", backup_status_json(srv->backup));
    session_send_json(s, ok);
}

static void do_drain(struct server *srv, struct session *s, const struct areq *q)
{
    long seconds;

    if (need_number(s, q, "seconds", 0, 3600, true, srv->cfg.drain_seconds, &seconds))
        return;
    if (!srv->draining) {
        chat_begin_drain(srv, (int)seconds);
        oplog_add(&srv->oplog, LOG_WARN, "drain requested: exiting within %ld s", seconds);
    }
    session_send_json(s, ok_of(q));
}

/* ---- authentication ---- */

static void auth(struct server *srv, struct session *s, const struct areq *q)
{
    struct admin *a = srv->admin;
    struct admin_failure *f = hmap_get(&a->failures, s->addr, strlen(s->addr));
    json_t *tok = json_object_get(q->root, "token"), *ok, *log;
    int64_t now = srv->wall_ms();

    if (f && f->locked_until_ms > now) {
        session_close(s, PROTO_CLOSE_POLICY, "too many attempts");
        return;
    }
    if (!json_is_string(tok) ||
        !admin_token_matches(srv, json_string_value(tok), json_string_length(tok))) {
        if (!f && (f = calloc(1, sizeof(*f))) &&
            hmap_put(&a->failures, s->addr, strlen(s->addr), f)) {
            free(f);
            f = NULL;
        }
        if (f && ++f->count >= ADMIN_FREE_FAILURES) {
            int shift = f->count - ADMIN_FREE_FAILURES;
            int64_t wait = shift >= 9 ? ADMIN_MAX_LOCK_S : (int64_t)1 << shift;
            f->locked_until_ms = now + (wait > ADMIN_MAX_LOCK_S ? ADMIN_MAX_LOCK_S : wait) * 1000;
        }
        log_warn("admin: wrong token from %s", s->addr);
        session_close(s, PROTO_CLOSE_POLICY, "bad token");
        return;
    }
    if (f) {
        hmap_del(&a->failures, s->addr, strlen(s->addr));
        free(f);
    }
    s->admin_authed = true;
    keepalive_signed_in(&s->ka);
    ok = ok_of(q);
    json_object_set_new(ok, "version", json_string(PARLOR_VERSION));
    json_object_set_new(ok, "history", stats_history_json(&srv->figures, STATS_HISTORY));
    log = json_array();
    for (int i = 0; i < oplog_count(&srv->oplog); i++)
        json_array_append_new(log, log_json(oplog_at(&srv->oplog, i)));
    json_object_set_new(ok, "log", log);
    session_send_json(s, ok);
    oplog_add(&srv->oplog, LOG_INFO, "console connected from %s", s->addr);
}

void admin_handle(struct server *srv, struct session *s, const char *buf, size_t len)
{
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL), *v;
    struct areq q = {.root = root};

    if (s->closing)
        goto out;
    if (!json_is_object(root) || !json_is_string(json_object_get(root, "type"))) {
        if (!s->admin_authed) {
            session_close(s, PROTO_CLOSE_POLICY, "authenticate first");
            goto out;
        }
        session_reply_error(s, q.re, root ? PROTO_E_BAD_REQUEST : PROTO_E_BAD_JSON, "type",
                            "a request is a JSON object with a string 'type'");
        goto out;
    }
    q.type = json_string_value(json_object_get(root, "type"));
    v = json_object_get(root, "id");
    if (json_is_integer(v)) {
        q.re.has_id = true;
        q.re.id = json_integer_value(v);
    }
    if (!s->admin_authed) {
        if (strcmp(q.type, "auth"))
            session_close(s, PROTO_CLOSE_POLICY, "authenticate first");
        else
            auth(srv, s, &q);
        goto out;
    }
    if (!strcmp(q.type, "rooms"))
        do_rooms(srv, s, &q);
    else if (!strcmp(q.type, "users"))
        do_users(srv, s, &q);
    else if (!strcmp(q.type, "announce"))
        do_announce(srv, s, &q);
    else if (!strcmp(q.type, "kick"))
        do_kick(srv, s, &q);
    else if (!strcmp(q.type, "mute"))
        do_mute(srv, s, &q);
    else if (!strcmp(q.type, "ban"))
        do_ban(srv, s, &q);
    else if (!strcmp(q.type, "unban"))
        do_unban(srv, s, &q);
    else if (!strcmp(q.type, "close_room"))
        do_close_room(srv, s, &q);
    else if (!strcmp(q.type, "delete_message"))
        do_delete_message(srv, s, &q);
    else if (!strcmp(q.type, "room_chat"))
        do_room_chat(srv, s, &q);
    else if (!strcmp(q.type, "backup") || !strcmp(q.type, "backup_status"))
        do_backup(srv, s, &q, !strcmp(q.type, "backup"));
    else if (!strcmp(q.type, "nodes"))
        do_nodes(srv, s, &q);
    else if (!strcmp(q.type, "drain"))
        do_drain(srv, s, &q);
    else
        session_reply_error(s, q.re, PROTO_E_UNKNOWN_TYPE, "type", "unknown admin request '%.*s'",
                            proto_clip(q.type, 40), q.type);
out:
    json_decref(root);
}
