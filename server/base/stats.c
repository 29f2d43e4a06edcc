/* Operator figures (see stats.h). Loop thread. */
#include "stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stats_init(struct stats *st, int64_t now_ms)
{
    memset(st, 0, sizeof(*st));
    st->started_ms = now_ms;
}

const struct stats_sample *stats_latest(const struct stats *st)
{
    return st->count ? &st->ring[st->head] : NULL;
}

static double per_second(uint64_t now, uint64_t before, double seconds)
{
    return now >= before && seconds > 0 ? (double)(now - before) / seconds : 0;
}

const struct stats_sample *stats_record(struct stats *st, const struct stats_counters *c,
                                        int64_t now_ms)
{
    const struct stats_sample *prev = stats_latest(st);
    struct stats_sample *s;
    double dt;

    st->head = st->count ? (st->head + 1) % STATS_HISTORY : 0;
    if (st->count < STATS_HISTORY)
        st->count++;
    s = &st->ring[st->head];
    /* prev may be the slot just overwritten only when the ring holds one sample */
    if (prev == s)
        prev = NULL;
    memset(s, 0, sizeof(*s));
    s->t_ms = now_ms;
    s->c = *c;
    if (prev) {
        dt = (double)(now_ms - prev->t_ms) / 1000.0;
        s->messages_in_per_s = per_second(c->messages_in, prev->c.messages_in, dt);
        s->messages_out_per_s = per_second(c->messages_out, prev->c.messages_out, dt);
        s->bytes_out_per_s = per_second(c->bytes_out, prev->c.bytes_out, dt);
        s->cpu_percent = per_second(c->cpu_ms, prev->c.cpu_ms, dt) / 10.0; /* ms/s -> % */
    }
    if (c->connections > st->peak_connections)
        st->peak_connections = c->connections;
    return s;
}

json_t *stats_sample_json(const struct stats_sample *s)
{
    const struct stats_counters *c = &s->c;

    return json_pack("{s:I, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:I, s:I, s:i, s:I, s:I, s:I, "
                     "s:f}",
                     "t", (json_int_t)s->t_ms, "connections", (int)c->connections, "users",
                     (int)c->users, "rooms", (int)c->rooms, "games", (int)c->games,
                     "messages_in_per_s", s->messages_in_per_s, "messages_out_per_s",
                     s->messages_out_per_s, "bytes_out_per_s", s->bytes_out_per_s,
                     "sendq_overflows", (json_int_t)c->sendq_overflows, "rate_limited",
                     (json_int_t)c->rate_limited, "db_queue", (int)c->db_queue, "db_p50_us",
                     (json_int_t)c->db_p50_us, "db_p99_us", (json_int_t)c->db_p99_us, "rss_bytes",
                     (json_int_t)c->rss_bytes, "cpu_percent", s->cpu_percent);
}

json_t *stats_history_json(const struct stats *st, int seconds)
{
    json_t *a = json_array();
    int n = seconds < st->count ? seconds : st->count;

    for (int k = n - 1; k >= 0; k--) {
        int i = (st->head - k + STATS_HISTORY) % STATS_HISTORY;
        json_array_append_new(a, stats_sample_json(&st->ring[i]));
    }
    return a;
}

/* Appends printf output to a growing buffer; returns -1 when out of memory. */
struct text {
    char *buf;
    size_t len, cap;
};

static int put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -1;
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return 0;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *grown = realloc(t->buf, cap);
        if (!grown)
            return -1;
        t->buf = grown;
        t->cap = cap;
    }
}

static int metric(struct text *t, const char *name, const char *type, const char *help,
                  double value)
{
    return put(t, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
}

/* Upper bounds of the DB job-time histogram's buckets, in seconds. */
static const double db_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                   0.1,    0.25,  0.5,    1,     2.5,  5,     10};

/* Quantiles of the chat commit summary: a benchmark reads p50 and p99 from them. */
static const double commit_quantiles[] = {0.5, 0.9, 0.99, 0.999};

/* A summary over the server's life, read from a log-linear histogram (each quantile is its
 * bucket's upper bound: within 12.5%); NaN while empty, as Prometheus clients write it. */
static int summary(struct text *t, const char *name, const char *help, const struct histo *h)
{
    int rc = put(t, "# HELP %s %s\n# TYPE %s summary\n", name, help, name);

    for (size_t i = 0; i < sizeof(commit_quantiles) / sizeof(commit_quantiles[0]); i++) {
        if (h->count)
            rc |= put(t, "%s{quantile=\"%g\"} %.6f\n", name, commit_quantiles[i],
                      (double)histo_percentile(h, commit_quantiles[i] * 100) / 1e6);
        else
            rc |= put(t, "%s{quantile=\"%g\"} NaN\n", name, commit_quantiles[i]);
    }
    rc |= put(t, "%s_sum %.6f\n%s_count %llu\n", name, (double)h->sum / 1e6, name,
              (unsigned long long)h->count);
    return rc;
}

char *stats_prometheus(const struct stats *st, const struct stats_counters *c,
                       const struct histo *db, const struct histo *commit, const struct histo *wait,
                       int64_t now_ms)
{
    struct text t = {0};
    uint64_t below;
    int rc = 0;

    rc |= metric(&t, "parlor_connections", "gauge", "WebSocket connections now.", c->connections);
    rc |= metric(&t, "parlor_connections_peak", "gauge", "Most WebSocket connections at once.",
                 st->peak_connections);
    rc |= metric(&t, "parlor_users", "gauge", "Signed-in users now.", c->users);
    rc |= metric(&t, "parlor_rooms", "gauge", "Rooms now, lobby included.", c->rooms);
    rc |= metric(&t, "parlor_games", "gauge", "Quiz games running now.", c->games);
    rc |= metric(&t, "parlor_messages_in_total", "counter", "Requests received.",
                 (double)c->messages_in);
    rc |= metric(&t, "parlor_messages_out_total", "counter", "Messages queued to clients.",
                 (double)c->messages_out);
    rc |= metric(&t, "parlor_bytes_out_total", "counter", "Bytes written to clients.",
                 (double)c->bytes_out);
    rc |=
        metric(&t, "parlor_sendq_overflows_total", "counter",
               "Clients closed because they did not read (too slow).", (double)c->sendq_overflows);
    rc |= metric(&t, "parlor_rate_limited_total", "counter", "Requests refused by rate limits.",
                 (double)c->rate_limited);
    rc |= metric(&t, "parlor_db_jobs_total", "counter", "Worker pool jobs completed.",
                 (double)c->db_jobs);
    rc |= metric(&t, "parlor_db_job_failures_total", "counter", "Worker pool jobs that failed.",
                 (double)c->db_failures);
    rc |= metric(&t, "parlor_chat_messages_saved_total", "counter",
                 "Chat messages committed to the database.", (double)c->chat_saved);
    rc |= metric(&t, "parlor_db_queue_depth", "gauge", "Jobs waiting for a worker.", c->db_queue);
    rc |= metric(&t, "parlor_store_failing", "gauge",
                 "Worker pool jobs failed since the last success (0: the store answers).",
                 c->db_failing);
    rc |= metric(&t, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                 (double)c->rss_bytes);
    rc |= metric(&t, "process_cpu_seconds_total", "counter", "User and system CPU time.",
                 (double)c->cpu_ms / 1000.0);
    rc |= metric(&t, "parlor_uptime_seconds", "gauge", "Seconds since the server started.",
                 (double)(now_ms - st->started_ms) / 1000.0);

    rc |= put(&t, "# HELP parlor_db_job_seconds Time worker pool jobs spent running.\n"
                  "# TYPE parlor_db_job_seconds histogram\n");
    for (size_t i = 0; i < sizeof(db_bounds) / sizeof(db_bounds[0]); i++) {
        below = histo_count_at_most(db, (uint64_t)(db_bounds[i] * 1e6));
        rc |= put(&t, "parlor_db_job_seconds_bucket{le=\"%g\"} %llu\n", db_bounds[i],
                  (unsigned long long)below);
    }
    rc |=
        put(&t, "parlor_db_job_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)db->count);
    rc |= put(&t, "parlor_db_job_seconds_sum %.6f\nparlor_db_job_seconds_count %llu\n",
              (double)db->sum / 1e6, (unsigned long long)db->count);
    rc |= summary(&t, "parlor_chat_commit_seconds",
                  "Time each batch of chat messages took to commit on its worker.", commit);
    rc |= summary(&t, "parlor_chat_commit_wait_seconds",
                  "Time each batch of chat messages waited for a worker before its commit.", wait);
    if (rc) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}
