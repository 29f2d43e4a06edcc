/* The node's link to Redis (see link.h). Loop thread only. */
#include "link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/adapters/libuv.h>

#include "log.h"
#include "server.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define PROBE_PREFIX   "probe "

static void dial(struct link *l);

static void schedule(struct link *l, loop_timer *t, loop_timer_fn *fn, int64_t ms)
{
    struct server *srv = l->cfg.srv;

    srv->ops->schedule(srv->transport, t, fn, ms * TIMER_US_PER_MS);
}

int link_parse_url(struct link *l, const char *url, char *err, size_t errlen)
{
    const char *p;

    if (!strncmp(url, "unix://", 7)) {
        p = url + 7;
        if (*p != '/' || strlen(p) >= sizeof(l->host)) {
            snprintf(err, errlen, "--cluster %s: expected unix:///absolute/path", url);
            return -1;
        }
        snprintf(l->host, sizeof(l->host), "%s", p);
        l->port = 0;
        return 0;
    }
    if (strncmp(url, "redis://", 8)) {
        snprintf(err, errlen, "--cluster %s: expected redis://HOST:PORT or unix:///PATH", url);
        return -1;
    }
    p = url + 8;
    {
        const char *colon = strrchr(p, ':'), *end = p + strcspn(p, "/");
        size_t hl = (colon && colon < end ? (size_t)(colon - p) : (size_t)(end - p));
        long port = 6379;
        if (colon && colon < end) {
            char *e;
            port = strtol(colon + 1, &e, 10);
            if (e != end || port < 1 || port > 65535) {
                snprintf(err, errlen, "--cluster %s: bad port", url);
                return -1;
            }
        }
        if (!hl || hl >= sizeof(l->host) || memchr(p, '@', hl)) {
            /* no AUTH yet: Redis on loopback or a private network, see README */
            snprintf(err, errlen, "--cluster %s: expected redis://HOST:PORT (no user or password)",
                     url);
            return -1;
        }
        memcpy(l->host, p, hl);
        l->host[hl] = '\0';
        l->port = (int)port;
    }
    return 0;
}

/* Drops both connections: hiredis runs every pending callback with a NULL reply, then our
 * disconnect callback, which finds nothing left to do. */
static void drop(struct link *l, const char *why)
{
    redisAsyncContext *cmd = l->cmd, *sub = l->sub;
    bool was_up = l->up;

    if (why)
        snprintf(l->last_error, sizeof(l->last_error), "%s", why);
    l->cmd = l->sub = NULL;
    l->cmd_ready = l->sub_ready = l->up = false;
    if (cmd)
        redisAsyncFree(cmd);
    if (sub)
        redisAsyncFree(sub);
    l->cfg.srv->ops->cancel(l->cfg.srv->transport, &l->watchdog_timer);
    if (was_up) {
        l->drops++;
        log_warn("cluster: the link to Redis is down (%s)", l->last_error);
        l->cfg.down(l->cfg.arg);
    }
}

static void redial(loop_timer *t)
{
    struct link *l = timer_owner(t, struct link, redial_timer);

    dial(l);
}

/* A connection failed or closed: drop the other too and dial again later. */
static void failed(struct link *l, const char *why)
{
    if (l->stopping)
        return;
    drop(l, why);
    schedule(l, &l->redial_timer, redial, l->backoff_ms);
    l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
}

static void on_pong(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct link *l = ac->data;
    redisReply *r = reply;

    (void)privdata;
    if (r && r->type != REDIS_REPLY_ERROR)
        l->last_pong_ms = l->cfg.srv->mono_ms();
}

static void on_ignore(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    (void)reply;
    (void)privdata;
}

static void watchdog(loop_timer *t)
{
    struct link *l = timer_owner(t, struct link, watchdog_timer);
    int64_t now = l->cfg.srv->mono_ms();
    char probe[48];

    if (!l->up)
        return;
    if (now - l->last_pong_ms > l->cfg.timeout_ms) {
        failed(l, "Redis did not answer PING in time");
        return;
    }
    if (now - l->last_probe_ms > l->cfg.timeout_ms) {
        failed(l, "the node's own probe did not come back through the subscription");
        return;
    }
    redisAsyncCommand(l->cmd, on_pong, NULL, "PING");
    snprintf(probe, sizeof(probe), PROBE_PREFIX "%llu", (unsigned long long)++l->probe_sent);
    redisAsyncCommand(l->cmd, on_ignore, NULL, "PUBLISH %s %s", l->node_channel, probe);
    schedule(l, &l->watchdog_timer, watchdog, l->cfg.timeout_ms / 3);
}

static void on_node_channel(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct link *l = ac->data;
    redisReply *r = reply;

    (void)privdata;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3)
        return;
    if (!strcmp(r->element[0]->str, "subscribe")) {
        /* the node's channel is the last thing a fresh link needs */
        l->sub_ready = true;
        if (l->cmd_ready && !l->up) {
            l->up = true;
            l->backoff_ms = BACKOFF_MIN_MS;
            l->last_pong_ms = l->last_probe_ms = l->cfg.srv->mono_ms();
            log_info("cluster: linked to Redis at %s as node %s", l->cfg.url, l->cfg.node_id);
            l->cfg.up(l->cfg.arg);
            schedule(l, &l->watchdog_timer, watchdog, l->cfg.timeout_ms / 3);
        }
        return;
    }
    if (strcmp(r->element[0]->str, "message") || r->element[2]->type != REDIS_REPLY_STRING)
        return;
    if (!strncmp(r->element[2]->str, PROBE_PREFIX, strlen(PROBE_PREFIX))) {
        l->probe_seen = strtoull(r->element[2]->str + strlen(PROBE_PREFIX), NULL, 10);
        l->last_probe_ms = l->cfg.srv->mono_ms();
        return;
    }
    if (l->cfg.node_message)
        l->cfg.node_message(l->cfg.arg, r->element[2]->str, r->element[2]->len);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct link *l = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees a context whose connect failed */
        if (ac == l->cmd)
            l->cmd = NULL;
        else if (ac == l->sub)
            l->sub = NULL;
        else
            return;
        failed(l, ac->errstr[0] ? ac->errstr : "cannot connect");
        return;
    }
    if (ac == l->cmd) {
        l->cmd_ready = true;
    } else if (ac == l->sub) {
        redisAsyncCommand(l->sub, on_node_channel, NULL, "SUBSCRIBE %s", l->node_channel);
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct link *l = ac->data;

    (void)status;
    if (ac == l->cmd)
        l->cmd = NULL;
    else if (ac == l->sub)
        l->sub = NULL;
    else
        return; /* dropped by us: already forgotten */
    failed(l, ac->errstr[0] ? ac->errstr : "Redis closed the connection");
}

static redisAsyncContext *open_context(struct link *l)
{
    redisAsyncContext *ac =
        l->port ? redisAsyncConnect(l->host, l->port) : redisAsyncConnectUnix(l->host);

    if (!ac)
        return NULL;
    if (ac->err) {
        snprintf(l->last_error, sizeof(l->last_error), "%s", ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = l;
    if (redisLibuvAttach(ac, l->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        return NULL;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

static void dial(struct link *l)
{
    if (l->stopping)
        return;
    l->reconnects++;
    l->cmd = open_context(l);
    l->sub = l->cmd ? open_context(l) : NULL;
    if (!l->cmd || !l->sub)
        failed(l, l->last_error[0] ? l->last_error : "cannot create a Redis connection");
}

int link_start(struct link *l, const struct link_cfg *cfg, uv_loop_t *loop, char *err,
               size_t errlen)
{
    *l = (struct link){.cfg = *cfg, .loop = loop, .backoff_ms = BACKOFF_MIN_MS};
    if (link_parse_url(l, cfg->url, err, errlen))
        return -1;
    if (snprintf(l->node_channel, sizeof(l->node_channel), "parlor:node:%s", cfg->node_id) >=
        (int)sizeof(l->node_channel)) {
        snprintf(err, errlen, "--node-id is too long");
        return -1;
    }
    l->reconnects = 0;
    dial(l);
    l->reconnects = 0; /* the first dial is not a reconnection */
    return 0;
}

void link_stop(struct link *l)
{
    struct server *srv = l->cfg.srv;

    if (!srv)
        return;
    l->stopping = true;
    drop(l, "stopping");
    srv->ops->cancel(srv->transport, &l->redial_timer);
    srv->ops->cancel(srv->transport, &l->watchdog_timer);
}

int link_command(struct link *l, redisCallbackFn *fn, void *privdata, int argc, const char **argv,
                 const size_t *argvlen)
{
    if (!l->up)
        return -1;
    return redisAsyncCommandArgv(l->cmd, fn, privdata, argc, argv, argvlen) == REDIS_OK ? 0 : -1;
}

int link_subscribe(struct link *l, const char *channel, redisCallbackFn *fn, void *privdata)
{
    if (!l->up)
        return -1;
    return redisAsyncCommand(l->sub, fn, privdata, "SUBSCRIBE %s", channel) == REDIS_OK ? 0 : -1;
}

int link_unsubscribe(struct link *l, const char *channel)
{
    if (!l->up)
        return -1;
    return redisAsyncCommand(l->sub, NULL, NULL, "UNSUBSCRIBE %s", channel) == REDIS_OK ? 0 : -1;
}
