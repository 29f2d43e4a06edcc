/*
 * The phases of a run, in order: setup (connect and sign in the static clients at the ramp's
 * pace), run (the warmup, then the measurement window; churn clients start here), drain (wait
 * for what is still owed), close (the paced teardown), settle (the server back at its
 * baseline), done. Also the client and room layout, the server samples and the progress line.
 * Runs on the load generator's only thread; the signal handler only bumps lt_signals_seen.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lt.h"
#include "scenario.h"

volatile sig_atomic_t lt_signals_seen;

static void on_signal(int sig)
{
    lt_signals_seen++;
}

void run_catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

static int64_t self_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* ---- layout ---- */

/* Rooms of --room-size over the static clients, in order; a lone last member could not make a
 * room of its own, so it joins the one before. */
static int layout_rooms(struct lt *lt)
{
    int size = lt->o.room_size;

    lt->nrooms = (lt->nstatic + size - 1) / size;
    lt->rooms = calloc((size_t)lt->nrooms, sizeof(*lt->rooms));
    if (!lt->rooms)
        return -1;
    for (int k = 0; k < lt->nrooms; k++) {
        lt->rooms[k].first = k * size;
        lt->rooms[k].count =
            lt->nstatic - lt->rooms[k].first < size ? lt->nstatic - lt->rooms[k].first : size;
        for (int i = 0; i < lt->rooms[k].count; i++)
            lt->c[lt->rooms[k].first + i].room = k;
    }
    if (lt->nrooms > 1 && lt->rooms[lt->nrooms - 1].count == 1) {
        lt->nrooms--;
        lt->c[lt->nstatic - 1].room = lt->nrooms - 1;
        lt->rooms[lt->nrooms - 1].count++;
    }
    return 0;
}

int run_setup(struct lt *lt)
{
    const struct opts *o = &lt->o;
    const struct scenario_ops *sc = o->scenario;
    int nchurn = sc->churners ? sc->churners(o, o->connections) : 0;

    lt->n = o->connections;
    lt->nstatic = lt->n - nchurn;
    if (lt->nstatic < sc->min_static) {
        fprintf(stderr, "parlor-loadtest: %s needs at least %d non-churning clients\n", sc->name,
                sc->min_static);
        return -1;
    }
    lt->c = calloc((size_t)lt->n, sizeof(*lt->c));
    if (!lt->c)
        return -1;
    for (int i = 0; i < lt->n; i++) {
        lt->c[i].ws.fd = -1;
        lt->c[i].idx = (uint32_t)i;
        lt->c[i].room = -1;
        lt->c[i].role = i < lt->nstatic ? ROLE_STATIC : ROLE_CHURN;
        lt->c[i].initial = i < lt->nstatic;
        lt->c[i].ws.endpoint = (uint8_t)(i % o->nurls); /* the URLs round-robin */
        qbot_init(&lt->c[i].qb, o->quiz_rounds);
    }
    if (sc->rooms && layout_rooms(lt))
        return -1;
    lt->sender = 0;
    lt->quiz_reveal_ms = 3000;  /* PROTOCOL.md's default, until a welcome says */
    lt->presence_max = INT_MAX; /* a server that says nothing announces every departure */
    lt->rng = (uint64_t)lt_real_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
    if (!lt->rng)
        lt->rng = 1;
    qbot_clock_init(&lt->clock);
    lt->closed_loop = sc->closed_loop && o->rate <= 0;
    lt->check_order = o->nurls > 1;
    memset(lt->text_pad, '.', FLAGS_MAX_TEXT);
    return 0;
}

/* ---- server samples ---- */

static void sample_server(struct lt *lt, struct proc_sample *s)
{
    if (!lt->o.server_pid || proc_sample(lt->o.server_pid, s))
        return;
    if (s->rss_kb > lt->r.srv_rss_peak_kb)
        lt->r.srv_rss_peak_kb = s->rss_kb;
}

/* Ticks between two samples of proc_others_ticks() (a process that vanished unaccounted can
 * make the sum go down: count nothing rather than wrap). */
static uint64_t since(uint64_t now, uint64_t then)
{
    return now >= then ? now - then : 0;
}

static void take_window_start(struct lt *lt)
{
    lt->window_started = true;
    sample_server(lt, &lt->srv_window_start);
    lt->self_cpu_window_start = self_cpu_ns();
    lt->others_window_start = proc_others_ticks(lt->o.server_pid, 0);
}

static void take_window_end(struct lt *lt)
{
    struct proc_sample s;

    lt->r.self_cpu_ns_window = self_cpu_ns() - lt->self_cpu_window_start;
    lt->r.others_ticks_window =
        since(proc_others_ticks(lt->o.server_pid, 0), lt->others_window_start);
    if (!lt->o.server_pid)
        return;
    sample_server(lt, &s);
    if (s.ok && lt->srv_window_start.ok) {
        lt->r.srv_cpu_ticks_window = s.cpu_ticks - lt->srv_window_start.cpu_ticks;
        lt->r.srv_rss_loaded_kb = s.rss_kb;
        lt->r.srv_fds_loaded = s.fds;
    }
    lt->r.srv_conns_loaded = proc_tcp_conns(lt->o.server_pid, lt->port);
}

static void final_server_sample(struct lt *lt)
{
    struct proc_sample s;

    sample_server(lt, &s);
    if (s.ok) {
        lt->r.srv_rss_end_kb = s.rss_kb;
        lt->r.srv_fds_end = s.fds;
    }
    lt->r.srv_conns_end = proc_tcp_conns(lt->o.server_pid, lt->port);
}

static bool server_at_baseline(struct lt *lt)
{
    final_server_sample(lt);
    return lt->r.srv_fds_end >= 0 && lt->r.srv_fds_end <= lt->r.srv_fds_base &&
           (lt->r.srv_conns_base < 0 || lt->r.srv_conns_end <= lt->r.srv_conns_base);
}

/* ---- checks on every tick and every second ---- */

/* Every TICK_NS: connection deadlines. */
static void tick(struct lt *lt, int64_t now)
{
    for (int i = 0; i < lt->n; i++) {
        struct client *c = &lt->c[i];
        if (c->deadline && now > c->deadline && c->ws.state != WSC_IDLE)
            wsc_abort(&lt->w, &c->ws);
    }
}

/* Every second in a closed loop: a message that has not reached everyone after STALL_NS is no
 * longer waited for, so its sender goes on; deliveries that come later still count, and those
 * that never come are lost. */
static void check_stalls(struct lt *lt, int64_t now)
{
    if (!lt->closed_loop || lt->phase != G_RUN)
        return;
    for (int i = 0; i < lt->nstatic; i++) {
        struct client *s = &lt->c[i];
        for (uint32_t k = 0; s->ring && k <= s->ring_mask; k++) {
            struct msgrec *rec = &s->ring[k];
            if (rec->active && now - rec->sched_ns > STALL_NS) {
                rec->active = false;
                rec->late = true; /* what still arrives is counted, just not waited for */
                s->inflight--;
                client_resend(lt, s, now);
            }
        }
    }
}

static const char *const phase_names[] = {"setup", "run", "drain", "close", "settle", "done"};

static void progress(struct lt *lt, int64_t now)
{
    if (lt->o.quiet)
        return;
    if (lt->o.scenario->progress) {
        lt->o.scenario->progress(lt, now, phase_names[lt->phase]);
        return;
    }
    fprintf(stderr,
            "[%6.1fs] %-6s handshakes %llu signed-in %llu ready %d sent %llu received %llu/%llu "
            "errors %llu\n",
            (double)(now - lt->t_begin) / 1e9, phase_names[lt->phase],
            (unsigned long long)lt->r.handshakes, (unsigned long long)lt->r.signed_in,
            lt->ready_static, (unsigned long long)lt->r.says_sent,
            (unsigned long long)lt->r.deliveries_received,
            (unsigned long long)lt->r.deliveries_expected,
            (unsigned long long)(lt->r.errors_by_code[0] + lt->r.unexpected_closes +
                                 lt->r.fail_by_end[WSC_END_CONNECT] +
                                 lt->r.fail_by_end[WSC_END_ABORTED]));
}

/* Runs the timers that fell due; lowers *wake to the next one. */
static void run_due_timers(struct lt *lt, int64_t now, int64_t *wake)
{
    const struct tev *top;

    while ((top = theap_top(&lt->heap)) && top->at <= now)
        client_run_timer(lt, theap_pop(&lt->heap), now);
    if ((top = theap_top(&lt->heap)) && top->at < *wake)
        *wake = top->at;
}

/* ---- setup ---- */

/* Starts clients as the ramp and the pending cap allow; returns the next start time or 0. */
static int64_t ramp(struct lt *lt, int *cursor, int end, int64_t now)
{
    while (*cursor < end && lt->pending < lt->o.max_pending) {
        if (lt->o.ramp > 0 && now < lt->next_start_ns)
            return lt->next_start_ns;
        client_start(lt, &lt->c[(*cursor)++], now);
        if (lt->o.ramp > 0)
            lt->next_start_ns += (int64_t)((double)NS_PER_SEC / lt->o.ramp);
    }
    return 0;
}

/* Setup is over (everyone is ready or failed, or the deadline passed): the run begins. */
static void begin_run(struct lt *lt, int64_t now)
{
    lt->phase = G_RUN;
    lt->r.setup_done_ns = now;
    /* who else used the cores while we connected (the handshake figures come from here) */
    lt->r.others_ticks_setup =
        since(proc_others_ticks(lt->o.server_pid, 0), lt->others_setup_start);
    lt->t_run = now;
    lt->r.measure_start_ns = now + (int64_t)(lt->o.warmup * NS_PER_SEC);
    lt->r.measure_end_ns = lt->r.measure_start_ns + (int64_t)(lt->o.duration * NS_PER_SEC);
    lt->r.setup_incomplete = (uint64_t)(lt->nstatic - lt->ready_static - lt->failed_static);
    lt->r.ready = (uint64_t)lt->ready_static;
    /* clients still in setup at the deadline would change room sizes under us: drop them */
    for (int i = 0; i < lt->nstatic; i++) {
        struct client *c = &lt->c[i];
        if (c->phase != C_READY && c->phase != C_FAILED) {
            c->phase = C_FAILED; /* counted in setup_incomplete, not again as a failure */
            wsc_abort(&lt->w, &c->ws);
        }
    }
    if (lt->o.scenario->start)
        lt->o.scenario->start(lt, now);
    lt->next_start_ns = now;
}

static void phase_setup(struct lt *lt, int64_t now, int64_t *wake)
{
    int64_t t = ramp(lt, &lt->static_cursor, lt->nstatic, now);

    if (t && t < *wake)
        *wake = t;
    run_due_timers(lt, now, wake); /* joins asked again (several URLs) */
    if ((lt->static_cursor == lt->nstatic && lt->ready_static + lt->failed_static == lt->nstatic) ||
        now > lt->setup_deadline)
        begin_run(lt, now);
}

/* ---- run: the warmup, then the measurement window ---- */

static double drain_seconds(const struct lt *lt)
{
    return lt->o.scenario->drain_seconds ? lt->o.scenario->drain_seconds(lt) : lt->o.drain;
}

static void phase_run(struct lt *lt, int64_t now, int64_t *wake)
{
    int64_t t;

    if (!lt->window_started && now >= lt->r.measure_start_ns)
        take_window_start(lt);
    t = ramp(lt, &lt->churn_cursor, lt->n, now);
    if (t && t < *wake)
        *wake = t;
    run_due_timers(lt, now, wake);
    if (now >= lt->r.measure_end_ns) {
        take_window_end(lt);
        lt->phase = G_DRAIN;
        lt->drain_deadline = now + (int64_t)(drain_seconds(lt) * NS_PER_SEC);
        if (!lt->o.scenario->timers_in_drain)
            theap_clear(&lt->heap);
    } else if (lt->r.measure_start_ns > now && lt->r.measure_start_ns < *wake) {
        *wake = lt->r.measure_start_ns;
    } else if (lt->r.measure_end_ns < *wake) {
        *wake = lt->r.measure_end_ns;
    }
}

/* Ctrl-C (or a quiz the server cannot hold) during setup or run: the window ends now and the
 * run goes on to a one-second drain. */
static void interrupt(struct lt *lt, int64_t now)
{
    lt->r.interrupted = true;
    if (lt->phase == G_SETUP) {
        lt->r.measure_start_ns = lt->r.measure_end_ns = now;
        lt->r.ready = (uint64_t)lt->ready_static;
    } else if (now < lt->r.measure_end_ns) {
        lt->r.measure_end_ns = now;
        if (lt->r.measure_start_ns > now)
            lt->r.measure_start_ns = now;
    }
    if (!lt->window_started)
        take_window_start(lt);
    take_window_end(lt);
    lt->phase = G_DRAIN;
    lt->drain_deadline = now + NS_PER_SEC;
}

/* ---- drain ---- */

static bool drained(const struct lt *lt)
{
    if (lt->o.scenario->drained)
        return lt->o.scenario->drained(lt);
    return lt->r.deliveries_received >= lt->r.deliveries_expected &&
           lt->r.says_ok + lt->r.says_rejected >= lt->r.says_sent && lt->churn_active == 0;
}

static void begin_close(struct lt *lt, int64_t now);

static void phase_drain(struct lt *lt, int64_t now, int64_t *wake)
{
    if (lt->o.scenario->timers_in_drain)
        run_due_timers(lt, now, wake);
    else
        theap_clear(&lt->heap);
    if (drained(lt) || now > lt->drain_deadline || lt_signals_seen > 1)
        begin_close(lt, now);
}

/* ---- close: the paced teardown ---- */

/* `left` events the other `before - 1` members get when one of `before` closes. */
static uint64_t left_events(const struct lt *lt, int before)
{
    return before <= lt->presence_max ? (uint64_t)(before - 1) : 0;
}

/* Closes clients, at most --max-pending at a time and no faster than the `left` events they
 * cause come back: every close makes the server tell the other members (`left`), and closing
 * thousands at once would queue thousands of events to each remaining member in one go, which
 * a server may rightly treat as a client too slow to read. */
static void pace_close(struct lt *lt, int64_t now)
{
    if (lt->left_owed > lt->left_seen && now - lt->td_progress_ns > LEFT_STALL_NS)
        lt->left_seen = lt->left_owed; /* a miscount must not stall the teardown */
    while (lt->close_cursor < lt->n && lt->closing_now < lt->o.max_pending &&
           lt->left_owed - lt->left_seen < LEFT_BUDGET) {
        struct client *c = &lt->c[lt->close_cursor++];
        if (c->ws.state == WSC_OPEN && !c->ws.sent_close) {
            c->phase = C_CLOSING;
            c->teardown = true;
            lt->closing_now++;
            if (c->in_lobby && lt->td_lobby > 0)
                lt->left_owed += left_events(lt, lt->td_lobby--);
            if (c->in_room && lt->rooms[c->room].td_open > 0)
                lt->left_owed += left_events(lt, lt->rooms[c->room].td_open--);
            wsc_close(&lt->w, &c->ws, 1000);
        }
    }
}

static void begin_close(struct lt *lt, int64_t now)
{
    lt->phase = G_CLOSE;
    lt->close_deadline = now + CLOSE_WAIT_NS;
    if (lt->o.scenario->client_ended) /* games the drain did not see end are lost */
        for (int i = 0; i < lt->n; i++)
            lt->o.scenario->client_ended(lt, &lt->c[i]);
    lt->close_cursor = 0;
    lt->td_lobby = lt->lobby_joined;
    for (int k = 0; k < lt->nrooms; k++)
        lt->rooms[k].td_open = lt->rooms[k].joined;
    lt->left_owed = lt->left_seen = 0;
    lt->td_progress_ns = now;
    pace_close(lt, now);
}

static bool all_idle(const struct lt *lt)
{
    for (int i = 0; i < lt->n; i++)
        if (lt->c[i].ws.state != WSC_IDLE)
            return false;
    return true;
}

static void phase_close(struct lt *lt, int64_t now)
{
    pace_close(lt, now);
    if ((lt->close_cursor == lt->n && all_idle(lt)) || now > lt->close_deadline ||
        lt_signals_seen > 1) {
        for (int i = 0; i < lt->n; i++) {
            if (lt->c[i].ws.state != WSC_IDLE) {
                lt->r.stuck_at_end++;
                lt->c[i].phase = C_FAILED; /* counted here, not again as a timeout */
                wsc_abort(&lt->w, &lt->c[i].ws);
            }
        }
        lt->phase = G_SETTLE;
        lt->settle_deadline = now + (int64_t)(lt->o.settle * NS_PER_SEC);
    }
}

/* ---- settle: the server back at its baseline ---- */

static void phase_settle(struct lt *lt, int64_t now, int64_t *wake)
{
    if (!lt->o.server_pid || lt_signals_seen > 1 || server_at_baseline(lt) ||
        now > lt->settle_deadline)
        lt->phase = G_DONE;
    else if (now + 100 * NS_PER_MS < *wake)
        *wake = now + 100 * NS_PER_MS;
}

static void step(struct lt *lt, int64_t now, int64_t *wake)
{
    if ((lt_signals_seen || lt->unfit) && (lt->phase == G_SETUP || lt->phase == G_RUN))
        interrupt(lt, now);
    switch (lt->phase) {
    case G_SETUP:
        phase_setup(lt, now, wake);
        break;
    case G_RUN:
        phase_run(lt, now, wake);
        break;
    case G_DRAIN:
        phase_drain(lt, now, wake);
        break;
    case G_CLOSE:
        phase_close(lt, now);
        break;
    case G_SETTLE:
        phase_settle(lt, now, wake);
        break;
    case G_DONE:
        break;
    }
}

void run(struct lt *lt)
{
    int64_t now = lt_mono_ns();

    lt->t_begin = now;
    lt->others_setup_start = proc_others_ticks(lt->o.server_pid, 0);
    lt->next_tick = now + TICK_NS;
    lt->next_sample = now + NS_PER_SEC;
    lt->setup_deadline = now + (int64_t)(lt->o.setup_timeout * NS_PER_SEC);
    lt->next_start_ns = now;
    lt->static_cursor = 0;
    lt->churn_cursor = lt->nstatic;
    lt->phase = G_SETUP;
    while (lt->phase != G_DONE) {
        int64_t wake = now + TICK_NS;

        step(lt, now, &wake);
        if (lt->phase == G_DONE)
            break;
        if (now >= lt->next_tick) {
            tick(lt, now);
            lt->next_tick = now + TICK_NS;
        }
        if (now >= lt->next_sample) {
            struct proc_sample s;
            sample_server(lt, &s);
            check_stalls(lt, now);
            progress(lt, now);
            lt->next_sample = now + NS_PER_SEC;
        }
        if (lt->next_tick < wake)
            wake = lt->next_tick;
        if (lt->phase == G_SETUP && lt->static_cursor < lt->nstatic &&
            lt->pending < lt->o.max_pending && lt->o.ramp <= 0)
            wake = now;
        if (lt->phase == G_RUN && lt->churn_cursor < lt->n && lt->pending < lt->o.max_pending &&
            lt->o.ramp <= 0)
            wake = now;
        if (lt->phase == G_SETTLE && !lt->o.server_pid)
            wake = now;
        if (wsc_poll(&lt->w, wake > now ? wake - now : 0) < 0 && errno != EINTR) {
            perror("parlor-loadtest: epoll");
            break;
        }
        now = lt_mono_ns();
    }
    lt->r.wall_ns_total = lt_mono_ns() - lt->t_begin;
    lt->r.self_cpu_ns_total = self_cpu_ns();
    if (lt->o.server_pid)
        final_server_sample(lt);
}
