/* The server's model state and its figures (see server.h). Loop thread only. */
#include "server.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"

int64_t server_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t server_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int server_init(struct server *srv, const struct config *cfg, const struct transport_ops *ops,
                void *transport)
{
    json_t *welcome;

    memset(srv, 0, sizeof(*srv));
    srv->cfg = *cfg;
    srv->lim = (struct proto_limits){
        .name_max = cfg->name_max,
        .text_max = cfg->text_max,
        .room_name_max = cfg->room_name_max,
        .room_max_limit = cfg->room_max_limit,
        .quiz_max_rounds = cfg->quiz_max_rounds,
        .quiz_max_seconds = cfg->quiz_max_seconds,
    };
    srv->rng = (uint64_t)server_wall_ms() * 6364136223846793005ULL + 1442695040888963407ULL;
    srv->ops = ops;
    srv->transport = transport;
    srv->wall_ms = server_wall_ms;
    srv->mono_ms = server_mono_ms;
    stats_init(&srv->figures, server_wall_ms());
    hmap_init(&srv->sessions_by_id);
    hmap_init(&srv->sessions_by_name);
    hmap_init(&srv->names_by_skeleton);
    hmap_init(&srv->http_requests);
    /* rooms keep enough history to replay a rejoining player's missed chat */
    rooms_init(&srv->rooms, cfg->history > cfg->resume_replay ? cfg->history : cfg->resume_replay);
    bans_init(&srv->bans);
    oplog_init(&srv->oplog, &srv->wall_ms);

    if (!room_create(&srv->rooms, "lobby", "Lobby", cfg->lobby_max, true))
        goto fail;
    welcome = proto_welcome("parlor/" PARLOR_VERSION, config_limits_json(cfg));
    srv->welcome = msgbuf_from_json(welcome);
    json_decref(welcome);
    if (!srv->welcome)
        goto fail;
    return 0;
fail:
    log_error("server_init: out of memory");
    server_destroy(srv);
    return -1;
}

void server_destroy(struct server *srv)
{
    rooms_destroy(&srv->rooms);
    bans_destroy(&srv->bans);
    hmap_destroy(&srv->sessions_by_id);
    hmap_destroy(&srv->sessions_by_name);
    hmap_destroy(&srv->names_by_skeleton);
    hmap_destroy(&srv->http_requests);
    msgbuf_unref(srv->welcome);
    srv->welcome = NULL;
}

/* user and system CPU time in ms, and the resident set in bytes, from /proc/self/stat */
static void read_process(uint64_t *cpu_ms, uint64_t *rss_bytes)
{
    unsigned long utime = 0, stime = 0;
    long rss = 0, tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/stat", "r");

    *cpu_ms = *rss_bytes = 0;
    if (!f)
        return;
    /* fields 14 and 15 are utime and stime, 24 is rss; the comm field (2) has no spaces in
     * parlor-server's name */
    if (fscanf(f,
               "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d "
               "%*d %*d %*u %*u %ld",
               &utime, &stime, &rss) == 3 &&
        tick > 0) {
        *cpu_ms = (uint64_t)(utime + stime) * 1000 / (uint64_t)tick;
        *rss_bytes = (uint64_t)rss * (uint64_t)page;
    }
    fclose(f);
}

void server_read_counters(const struct server *srv, struct stats_counters *c)
{
    struct pool_stats ps = {0};

    memset(c, 0, sizeof(*c));
    c->messages_in = srv->stats.frames_in;
    c->messages_out = srv->stats.messages_out;
    c->bytes_out = srv->stats.bytes_out;
    c->sendq_overflows = srv->stats.sendq_overflows;
    c->rate_limited = srv->stats.rate_limited;
    c->connections = (uint32_t)srv->connections;
    c->users = (uint32_t)srv->sessions_by_name.count;
    c->rooms = (uint32_t)srv->rooms.count;
    c->games = (uint32_t)srv->games_running;
    if (srv->pool) {
        pool_get_stats(srv->pool, &ps);
        c->db_jobs = ps.completed;
        c->db_failures = ps.failed;
        c->db_queue = (uint32_t)ps.queued;
        c->db_failing = (uint32_t)ps.failing;
        c->db_p50_us = ps.run_p50_us;
        c->db_p99_us = ps.run_p99_us;
    }
    read_process(&c->cpu_ms, &c->rss_bytes);
}
