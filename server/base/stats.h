/*
 * Server figures for operators: counters and gauges sampled once a second into a ring of the
 * last ten minutes (for the admin console's charts), and the Prometheus text exposition of
 * the same figures for GET /metrics. Pure arithmetic over what the caller reads:
 * server_read_counters() (server.c) collects the counters, this module turns them into rates
 * and text. Loop thread.
 */
#ifndef PARLOR_STATS_H
#define PARLOR_STATS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "histo.h"

#define STATS_HISTORY 600 /* one-second samples kept: ten minutes */

/* What the loop reads at each sample. Counters only grow; gauges are the value now. */
struct stats_counters {
    uint64_t messages_in, messages_out, bytes_out; /* counters */
    uint64_t sendq_overflows, rate_limited;        /* counters */
    uint64_t db_jobs, db_failures;                 /* counters */
    uint64_t chat_saved;                           /* counter: chat messages committed */
    uint64_t cpu_ms;                               /* counter: user + system CPU time */
    uint32_t connections, users, rooms, games;     /* gauges */
    uint32_t db_queue;                             /* gauge */
    uint32_t db_failing; /* gauge: job failures since the last success (0: the store is fine) */
    uint64_t db_p50_us, db_p99_us; /* gauges, over the pool's life */
    uint64_t rss_bytes;            /* gauge */
};

/* One second, as the console draws it. */
struct stats_sample {
    int64_t t_ms;
    struct stats_counters c;
    double messages_in_per_s, messages_out_per_s, bytes_out_per_s, cpu_percent;
};

struct stats {
    struct stats_sample ring[STATS_HISTORY];
    int head, count; /* ring[head] is the newest once count > 0 */
    uint32_t peak_connections;
    int64_t started_ms;
};

void stats_init(struct stats *st, int64_t now_ms);
/* Records a sample at `now_ms`, computing rates against the previous one. */
const struct stats_sample *stats_record(struct stats *st, const struct stats_counters *c,
                                        int64_t now_ms);
/* The newest sample, or NULL before the first. */
const struct stats_sample *stats_latest(const struct stats *st);
/* {t, connections, ..., rates} of a sample (new reference). */
json_t *stats_sample_json(const struct stats_sample *s);
/* The samples of the last `seconds`, oldest first, as an array. */
json_t *stats_history_json(const struct stats *st, int seconds);
/* The Prometheus text exposition (version 0.0.4) of `c`, the DB job-time histogram `db`, and
 * the chat batches' commit times `commit` and waits for a worker `wait` (all in microseconds;
 * the last two become summaries of quantiles), with uptime from `now_ms`. A malloc'd string,
 * or NULL. */
char *stats_prometheus(const struct stats *st, const struct stats_counters *c,
                       const struct histo *db, const struct histo *commit, const struct histo *wait,
                       int64_t now_ms);

#endif
