/*
 * A node's startup checks (see startup.h). Main thread, before the loop runs and before the
 * port opens; every Redis call here blocks, bounded by --cluster-timeout-ms.
 */
#define _DEFAULT_SOURCE /* gethostname, nanosleep */
#include "startup.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cluster.h"
#include "log.h"
#include "server.h"

#define DATABASE_KEY "parlor:database"
/* how often a held node id is looked at again while waiting for it */
#define HELD_POLL_MS 200

/* KEYS[1] parlor:alive:<node>; ARGV: boot id, TTL. Takes the id when no process holds it (or
 * this one does): {1}; else {0, the holder's boot id, its key's remaining ms}. */
static const char claim_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and v ~= ARGV[1] then return {0, v, redis.call('PTTL', KEYS[1])} end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "return {1}\n";

/* KEYS[1] parlor:database (node -> database id), KEYS[2] parlor:alive:<node>; ARGV: node,
 * database id, boot id. A live node on another database: {that node, its id}; else this
 * node's entry is recorded, dead nodes' entries are dropped, and the answer is {}. */
static const char database_script[] =
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "for i = 1, #all, 2 do\n"
    "  if all[i] ~= ARGV[1] then\n"
    "    if redis.call('EXISTS', 'parlor:alive:' .. all[i]) == 0 then\n"
    "      redis.call('HDEL', KEYS[1], all[i])\n"
    "    elseif all[i + 1] ~= ARGV[2] then return {all[i], all[i + 1]} end\n"
    "  end\n"
    "end\n"
    "if redis.call('GET', KEYS[2]) ~= ARGV[3] then return {'-'} end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "return {}\n";

/* KEYS[1] parlor:alive:<node>; ARGV[1] boot id: deleted only while it is this process's. */
static const char release_script[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

/* A blocking connection to the Redis of --cluster, or NULL with err. */
static redisContext *connect_redis(const char *url, int timeout_ms, char *err, size_t errlen)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    struct link l = {0};
    redisContext *rc;

    if (link_parse_url(&l, url, err, errlen))
        return NULL;
    rc = l.port ? redisConnectWithTimeout(l.host, l.port, tv)
                : redisConnectUnixWithTimeout(l.host, tv);
    if (rc && !rc->err && redisSetTimeout(rc, tv) == REDIS_OK)
        return rc;
    snprintf(err, errlen,
             "cannot reach Redis at %s: %s (a node checks at startup that its id is free and "
             "that every node uses its database: start Redis first)",
             url, rc && rc->errstr[0] ? rc->errstr : "out of memory");
    redisFree(rc);
    return NULL;
}

/* EVAL `script` with 1 or 2 keys and ARGV; an array reply, or NULL with err. */
static redisReply *eval(redisContext *rc, const char *url, const char *script, int nkeys,
                        const char *const *args, int nargs, char *err, size_t errlen)
{
    const char *argv[8] = {"EVAL", script, nkeys == 2 ? "2" : "1"};
    redisReply *r;

    for (int i = 0; i < nargs && i < 5; i++)
        argv[3 + i] = args[i];
    r = redisCommandArgv(rc, 3 + nargs, argv, NULL);
    if (r && r->type == REDIS_REPLY_ARRAY)
        return r;
    snprintf(err, errlen, "Redis at %s: %s", url,
             r && r->type == REDIS_REPLY_ERROR ? r->str
             : rc->err                         ? rc->errstr
                                               : "unexpected reply");
    if (r)
        freeReplyObject(r);
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* Takes parlor:alive:<node>. A key held by another boot id is a live node when it is refreshed
 * while we watch (its TTL goes up, or its boot id changes): refused. A dead node's key is
 * left to expire, within its TTL. */
static int claim_node_id(redisContext *rc, struct cluster *c, const char *url, char *err,
                         size_t errlen)
{
    char key[96], ttl[16], holder[sizeof(c->boot)] = "";
    const char *args[3] = {key, c->boot, ttl};
    long long last_pttl = -1;
    int waited = 0;

    snprintf(key, sizeof(key), "parlor:alive:%s", c->node_id);
    snprintf(ttl, sizeof(ttl), "%d", CLUSTER_ALIVE_TTL_MS);
    for (;;) {
        redisReply *r = eval(rc, url, claim_script, 1, args, 3, err, errlen);
        long long pttl;
        bool refreshed;

        if (!r)
            return -1;
        if (r->elements == 1) {
            freeReplyObject(r);
            return 0;
        }
        pttl = r->elements == 3 ? r->element[2]->integer : 0;
        refreshed = holder[0] && (strcmp(holder, r->element[1]->str) || pttl > last_pttl);
        snprintf(holder, sizeof(holder), "%s", r->element[1]->str);
        freeReplyObject(r);
        if (refreshed || waited > CLUSTER_ALIVE_TTL_MS + HELD_POLL_MS) {
            snprintf(err, errlen,
                     "node id '%s' is in use by a running node on %s (two nodes with one id "
                     "would corrupt each other's names and counts): give each node its own "
                     "--node-id",
                     c->node_id, url);
            return -1;
        }
        if (!waited)
            log_info("cluster: node id '%s' was in use until recently: waiting up to %d ms to "
                     "see whether that node is still running",
                     c->node_id, CLUSTER_ALIVE_TTL_MS);
        last_pttl = pttl;
        sleep_ms(HELD_POLL_MS);
        waited += HELD_POLL_MS;
    }
}

/* Records this node's database, or refuses it when a live node uses another. */
static int check_database(redisContext *rc, struct cluster *c, const char *url,
                          const char *database_id, const char *db_shown, char *err, size_t errlen)
{
    char alive[96];
    const char *args[5] = {DATABASE_KEY, alive, c->node_id, database_id, c->boot};
    redisReply *r;
    int ret = 0;

    snprintf(alive, sizeof(alive), "parlor:alive:%s", c->node_id);
    if (!(r = eval(rc, url, database_script, 2, args, 5, err, errlen)))
        return -1;
    if (r->elements == 2) {
        snprintf(err, errlen,
                 "--db %s is database %s, but node '%s' of the cluster on %s uses database %s: "
                 "every node of a cluster must use the same database (one PostgreSQL, or one "
                 "SQLite file on one machine)",
                 db_shown, database_id, r->element[0]->str, url, r->element[1]->str);
        ret = -1;
    } else if (r->elements == 1) { /* our id expired meanwhile (a very slow start) */
        snprintf(err, errlen, "node id '%s' was lost while starting: start it again", c->node_id);
        ret = -1;
    }
    freeReplyObject(r);
    return ret;
}

int cluster_check(struct cluster *c, const char *url, int timeout_ms, const char *database_id,
                  const char *db_shown, char *err, size_t errlen)
{
    snprintf(c->database_id, sizeof(c->database_id), "%s", database_id);
    redisContext *rc = connect_redis(url, timeout_ms, err, errlen);
    int ret = -1;

    if (!rc)
        return -1;
    if (!claim_node_id(rc, c, url, err, errlen)) {
        ret = check_database(rc, c, url, database_id, db_shown, err, errlen);
        if (ret) { /* the id is free again at once for a start that corrects the mistake */
            const char *argv[5] = {"EVAL", release_script, "1", NULL, c->boot};
            char key[96];
            snprintf(key, sizeof(key), "parlor:alive:%s", c->node_id);
            argv[3] = key;
            freeReplyObject(redisCommandArgv(rc, 5, argv, NULL));
        }
    }
    redisFree(rc);
    if (!ret)
        log_info("cluster: node '%s' on %s, database %s", c->node_id, url, database_id);
    return ret;
}

void cluster_release(const struct cluster *c, const char *url, int timeout_ms)
{
    char err[256], key[96];
    const char *argv[5] = {"EVAL", release_script, "1", key, c->boot};
    redisContext *rc;

    if (!c->boot[0] || !(rc = connect_redis(url, timeout_ms, err, sizeof(err))))
        return;
    snprintf(key, sizeof(key), "parlor:alive:%s", c->node_id);
    freeReplyObject(redisCommandArgv(rc, 5, argv, NULL));
    redisFree(rc);
}
