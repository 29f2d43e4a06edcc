/* The operators' side of a cluster (see modbus.h). Loop thread only. */
#include "modbus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "log.h"
#include "oplog.h"
#include "server.h"
#include "stats.h"

#define TICK_MS 1000

/* ---- actions */

/* A deleted message leaves the room's stream too (cluster.c's key), or a node repairing a gap
 * would deliver it again. The node repairing over the hole counts the seq as unrecoverable. */
static void forget_streamed(struct modbus *mb, json_t *action)
{
    const char *room = json_string_value(json_object_get(action, "room"));
    json_int_t seq = json_integer_value(json_object_get(action, "seq"));
    char key[160], id[32];
    const char *argv[3] = {"XDEL", key, id};

    if (!room || seq <= 0)
        return;
    snprintf(key, sizeof(key), MODBUS_ROOM_STREAM_FMT, room);
    snprintf(id, sizeof(id), "0-%lld", (long long)seq);
    link_command(mb->link, NULL, NULL, 3, argv, NULL);
}

/* srv->moderation_publish: "NODE JSON" on the channel, so a node can skip its own. */
static void publish_action(struct server *srv, json_t *action)
{
    struct modbus *mb = srv->moderation_arg;
    char *json = json_dumps(action, JSON_COMPACT);
    const char *op;
    size_t nl = strlen(mb->link->cfg.node_id), jl;
    char *msg;
    const char *argv[3] = {"PUBLISH", MODBUS_CHANNEL, NULL};
    size_t lens[3] = {7, strlen(MODBUS_CHANNEL), 0};

    if (!json)
        return;
    op = json_string_value(json_object_get(action, "op"));
    if (op && !strcmp(op, "delete_message"))
        forget_streamed(mb, action);
    jl = strlen(json);
    msg = malloc(nl + 1 + jl);
    if (msg) {
        memcpy(msg, mb->link->cfg.node_id, nl);
        msg[nl] = ' ';
        memcpy(msg + nl + 1, json, jl);
        argv[2] = msg;
        lens[2] = nl + 1 + jl;
    }
    if (!msg || link_command(mb->link, NULL, NULL, 3, argv, lens))
        oplog_add(&srv->oplog, LOG_WARN,
                  "the other nodes did not hear of this action: the link to Redis is down");
    else
        mb->published++;
    free(msg);
    free(json);
}

static void on_admin_channel(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct modbus *mb = privdata;
    redisReply *rep = reply;
    const char *msg, *sp;
    size_t len, nl = strlen(mb->link->cfg.node_id);
    json_t *action;

    (void)ac;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING)
        return;
    if (!strcmp(rep->element[0]->str, "subscribe")) {
        mb->subscribed = true;
        return;
    }
    if (strcmp(rep->element[0]->str, "message") || rep->element[2]->type != REDIS_REPLY_STRING)
        return;
    msg = rep->element[2]->str;
    len = rep->element[2]->len;
    if (!(sp = memchr(msg, ' ', len)))
        return;
    if ((size_t)(sp - msg) == nl && !memcmp(msg, mb->link->cfg.node_id, nl))
        return; /* ours: it took effect here before it was published */
    action = json_loadb(sp + 1, len - (size_t)(sp + 1 - msg), 0, NULL);
    if (!json_is_object(action)) {
        log_warn("cluster: an action on %s that is not a JSON object", MODBUS_CHANNEL);
        json_decref(action);
        return;
    }
    if (mb->apply && mb->apply(mb->link->cfg.srv, action) == 0)
        mb->applied++;
    json_decref(action);
}

/* ---- figures */

json_t *modbus_own_figures(struct modbus *mb, int64_t now_ms)
{
    struct server *srv = mb->link->cfg.srv;
    const struct stats_sample *s = stats_latest(&srv->figures);
    struct stats_counters n;

    /* gauges as they are now; rates from the newest sample (none in the first second) */
    server_read_counters(srv, &n);
    return json_pack("{s:s, s:I, s:i, s:i, s:i, s:i, s:i, s:I, s:b, s:I, s:f, s:f}", "node",
                     mb->link->cfg.node_id, "ts", (json_int_t)now_ms, "connections",
                     (int)n.connections, "users", (int)n.users, "rooms", (int)n.rooms, "games",
                     (int)n.games, "db_queue", (int)n.db_queue, "loop_lag_ms",
                     (json_int_t)mb->lag_ms, "link_up", mb->link->up, "link_drops",
                     (json_int_t)mb->link->drops, "messages_in_per_s",
                     s ? s->messages_in_per_s : 0.0, "cpu_percent", s ? s->cpu_percent : 0.0);
}

static int by_node(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "node"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "node"));

    return strcmp(x ? x : "", y ? y : "");
}

json_t *modbus_node_list(json_t *fields, int64_t now_ms, json_t *stale)
{
    json_t *list = json_array(), *v, **all;
    const char *node;
    size_t n = 0;

    all = calloc(json_object_size(fields) + 1, sizeof(*all));
    if (!all)
        return list;
    json_object_foreach(fields, node, v)
    {
        json_t *ts = json_object_get(v, "ts");
        int64_t age = json_is_integer(ts) ? now_ms - (int64_t)json_integer_value(ts) : -1;
        if (!json_is_object(v) || !json_is_integer(ts) || age > MODBUS_FORGET_MS) {
            if (stale)
                json_array_append_new(stale, json_string(node));
            continue;
        }
        if (age < 0)
            age = 0; /* another machine's clock runs ahead */
        v = json_deep_copy(v);
        json_object_set_new(v, "node", json_string(node));
        json_object_set_new(v, "age_ms", json_integer(age));
        json_object_set_new(v, "silent", json_boolean(age > MODBUS_SILENT_MS));
        all[n++] = v;
    }
    qsort(all, n, sizeof(*all), by_node);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, all[i]);
    free(all);
    return list;
}

static void set_nodes(struct modbus *mb, json_t *list)
{
    struct server *srv = mb->link->cfg.srv;

    json_decref(srv->cluster.nodes);
    srv->cluster.nodes = list;
}

static void on_figures(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct modbus *mb = privdata;
    redisReply *rep = reply;
    json_t *fields, *stale;

    (void)ac;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || !mb->apply)
        return;
    fields = json_object();
    for (size_t i = 0; i + 1 < rep->elements; i += 2) {
        redisReply *k = rep->element[i], *v = rep->element[i + 1];
        json_t *figures;
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        figures = json_loadb(v->str, v->len, 0, NULL);
        /* not JSON: kept as null, so the list names it for deletion */
        json_object_set_new(fields, k->str, figures ? figures : json_null());
    }
    stale = json_array();
    set_nodes(mb, modbus_node_list(fields, mb->link->cfg.srv->wall_ms(), stale));
    for (size_t i = 0; i < json_array_size(stale); i++) {
        const char *argv[3] = {"HDEL", MODBUS_FIGURES_KEY,
                               json_string_value(json_array_get(stale, i))};
        link_command(mb->link, NULL, NULL, 3, argv, NULL);
    }
    json_decref(stale);
    json_decref(fields);
}

static void tick(loop_timer *t)
{
    struct modbus *mb = timer_owner(t, struct modbus, tick_timer);
    struct server *srv = mb->link->cfg.srv;
    const char *node = mb->link->cfg.node_id;
    int64_t now = srv->wall_ms(), mono = srv->mono_ms();
    json_t *own;
    char *json;

    mb->lag_ms = mb->next_tick_ms && mono > mb->next_tick_ms ? mono - mb->next_tick_ms : 0;
    own = modbus_own_figures(mb, now);
    json = json_dumps(own, JSON_COMPACT);
    if (json && mb->link->up) {
        const char *hset[4] = {"HSET", MODBUS_FIGURES_KEY, node, json};
        const char *hgetall[2] = {"HGETALL", MODBUS_FIGURES_KEY};
        /* one connection, in order: the list read back holds this node's newest figures */
        link_command(mb->link, NULL, NULL, 4, hset, NULL);
        link_command(mb->link, on_figures, mb, 2, hgetall, NULL);
    } else {
        /* alone for now: the others' figures are unknown, not stale ones */
        json_t *fields = json_pack("{s:O}", node, own);
        set_nodes(mb, modbus_node_list(fields, now, NULL));
        json_decref(fields);
    }
    free(json);
    json_decref(own);
    mb->next_tick_ms = mono + TICK_MS;
    srv->ops->schedule(srv->transport, &mb->tick_timer, tick, TICK_MS * TIMER_US_PER_MS);
}

/* ---- life */

void modbus_start(struct modbus *mb, struct link *link, modbus_apply_fn *apply)
{
    struct server *srv = link->cfg.srv;

    mb->link = link;
    mb->apply = apply;
    srv->moderation_arg = mb;
    srv->moderation_publish = publish_action;
    tick(&mb->tick_timer);
    modbus_up(mb);
}

void modbus_up(struct modbus *mb)
{
    if (!mb->apply || !mb->link->up)
        return;
    mb->subscribed = false;
    link_subscribe(mb->link, MODBUS_CHANNEL, on_admin_channel, mb);
}

void modbus_down(struct modbus *mb)
{
    mb->subscribed = false;
}

void modbus_stop(struct modbus *mb)
{
    struct server *srv;

    if (!mb->apply)
        return;
    srv = mb->link->cfg.srv;
    srv->ops->cancel(srv->transport, &mb->tick_timer);
    srv->moderation_publish = NULL;
    srv->moderation_arg = NULL;
    set_nodes(mb, NULL);
    mb->apply = NULL;
}
