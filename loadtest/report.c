/* Report arithmetic and output (see report.h). Load tester's single thread (pure functions). */
#include "report.h"

#include <string.h>

static const char *const end_names[WSC_END_COUNT] = {
    [WSC_END_CLOSED] = "closed",      [WSC_END_CONNECT] = "connect",
    [WSC_END_HTTP] = "http_status",   [WSC_END_BAD_HANDSHAKE] = "bad_handshake",
    [WSC_END_PROTOCOL] = "bad_frame", [WSC_END_IO] = "io",
    [WSC_END_ABORTED] = "timeout",
};

void report_init(struct report *r)
{
    memset(r, 0, sizeof(*r));
    hist_init(&r->latency);
    hist_init(&r->fanout);
    hist_init(&r->send_lag);
    hist_init(&r->connect);
    hist_init(&r->signin);
    hist_init(&r->cycle);
    hist_init(&r->answer);
    hist_init(&r->question_lag);
    r->srv_fds_base = r->srv_fds_loaded = r->srv_fds_end = -1;
    r->srv_conns_base = r->srv_conns_loaded = r->srv_conns_end = -1;
    r->max_p99_ms = -1;
    r->max_errors = -1;
    r->ticks_per_sec = 100;
    r->others_ticks_window = r->others_ticks_setup = UINT64_MAX;
}

void report_close_code(struct report *r, int code)
{
    for (int i = 0; i < r->n_close_codes; i++) {
        if (r->close_codes[i].code == code) {
            r->close_codes[i].n++;
            return;
        }
    }
    if (r->n_close_codes < REPORT_MAX_CLOSE_CODES)
        r->close_codes[r->n_close_codes++] = (struct close_count){code, 1};
    else
        r->close_codes_other++;
}

double rate_per_sec(uint64_t count, int64_t ns)
{
    return ns > 0 ? (double)count * 1e9 / (double)ns : 0.0;
}

double cpu_pct(int64_t cpu_ns, int64_t wall_ns)
{
    return wall_ns > 0 ? 100.0 * (double)cpu_ns / (double)wall_ns : 0.0;
}

double ticks_to_ns(uint64_t ticks, long ticks_per_sec)
{
    return ticks_per_sec > 0 ? (double)ticks * 1e9 / (double)ticks_per_sec : 0.0;
}

double rss_per_conn_kb(uint64_t base_kb, uint64_t loaded_kb, uint64_t conns)
{
    if (!conns)
        return 0.0;
    return ((double)loaded_kb - (double)base_kb) / (double)conns;
}

double ns_to_ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

const struct hist *report_p99_hist(const struct report *r)
{
    return r->quiz ? &r->answer : &r->latency;
}

void report_derive(const struct report *r, struct derived *d)
{
    int64_t window = r->measure_end_ns - r->measure_start_ns;

    memset(d, 0, sizeof(*d));
    d->window_s = window > 0 ? (double)window / 1e9 : 0.0;
    d->lost = r->deliveries_expected > r->deliveries_received
                  ? r->deliveries_expected - r->deliveries_received
                  : 0;
    d->says_unanswered = r->says_sent > r->says_ok + r->says_rejected
                             ? r->says_sent - r->says_ok - r->says_rejected
                             : 0;
    for (int i = 0; i < WSC_END_COUNT; i++)
        if (i != WSC_END_CLOSED)
            d->connect_failures += r->fail_by_end[i];
    for (int i = 0; i <= PROTO_E_COUNT; i++)
        d->protocol_errors += r->errors_by_code[i];
    {
        uint64_t asked = r->quiz_starts_sent + r->quiz_answers_sent,
                 replied = r->quiz_starts_ok + r->quiz_starts_rejected + r->quiz_answers_ok +
                           r->quiz_answers_rejected;
        d->quiz_unanswered = asked > replied ? asked - replied : 0;
    }
    d->errors_total = d->connect_failures + d->protocol_errors + r->unexpected_closes + d->lost +
                      d->says_unanswered + r->seq_gaps + r->bad_messages +
                      r->unexpected_deliveries + r->setup_incomplete + r->stuck_at_end +
                      r->quiz_lost_events + r->quiz_out_of_order + d->quiz_unanswered;

    d->deliveries_per_sec = rate_per_sec(r->deliveries_in_window, window);
    d->messages_per_sec = rate_per_sec(r->says_in_window, window);
    d->oks_per_sec = rate_per_sec(r->says_ok_in_window, window);
    d->cycles_per_sec = rate_per_sec(r->cycles, window);
    if (r->quiz_play_start_ns && r->quiz_last_over_ns > r->quiz_play_start_ns) {
        d->play_s = (double)(r->quiz_last_over_ns - r->quiz_play_start_ns) / 1e9;
        d->games_per_sec =
            rate_per_sec(r->quiz_games_completed, r->quiz_last_over_ns - r->quiz_play_start_ns);
    }
    d->answers_per_sec = rate_per_sec(r->quiz_answers_in_window, window);
    if (r->first_connect_ns && r->ramp_last_ns > r->first_connect_ns)
        d->handshakes_per_sec =
            rate_per_sec(r->ramp_handshakes, r->ramp_last_ns - r->first_connect_ns);
    if (r->first_connect_ns && r->all_connected_ns > r->first_connect_ns)
        d->all_connected_s = (double)(r->all_connected_ns - r->first_connect_ns) / 1e9;
    if (r->first_connect_ns && r->setup_done_ns > r->first_connect_ns)
        d->setup_s = (double)(r->setup_done_ns - r->first_connect_ns) / 1e9;
    if (r->first_connect_ns && r->all_signed_in_ns > r->first_connect_ns)
        d->all_signed_in_s = (double)(r->all_signed_in_ns - r->first_connect_ns) / 1e9;
    d->self_cpu_pct = cpu_pct(r->self_cpu_ns_window, window);
    d->other_cpu_pct = d->setup_other_cpu_pct = -1;
    if (r->others_ticks_window != UINT64_MAX)
        d->other_cpu_pct =
            cpu_pct((int64_t)ticks_to_ns(r->others_ticks_window, r->ticks_per_sec), window);
    if (r->others_ticks_setup != UINT64_MAX && r->first_connect_ns &&
        r->setup_done_ns > r->first_connect_ns)
        d->setup_other_cpu_pct =
            cpu_pct((int64_t)ticks_to_ns(r->others_ticks_setup, r->ticks_per_sec),
                    r->setup_done_ns - r->first_connect_ns);

    d->srv_returned = true;
    if (r->server_pid) {
        d->srv_cpu_pct =
            cpu_pct((int64_t)ticks_to_ns(r->srv_cpu_ticks_window, r->ticks_per_sec), window);
        d->srv_rss_per_conn_kb = rss_per_conn_kb(r->srv_rss_base_kb, r->srv_rss_loaded_kb,
                                                 r->ready ? r->ready : (uint64_t)r->connections);
        d->srv_returned = r->srv_fds_end >= 0 && r->srv_fds_end <= r->srv_fds_base &&
                          (r->srv_conns_base < 0 || r->srv_conns_end <= r->srv_conns_base);
    }

    d->p99_breached = r->max_p99_ms >= 0 && report_p99_hist(r)->count &&
                      ns_to_ms(hist_quantile(report_p99_hist(r), 0.99)) > r->max_p99_ms;
    d->errors_breached = r->max_errors >= 0 && d->errors_total > (uint64_t)r->max_errors;
    d->baseline_breached = r->check_baseline && !d->srv_returned;
    d->no_games = r->quiz && !r->quiz_games_completed;
    d->order_broken =
        r->order_checked && r->order_violations + r->order_gaps + r->order_mismatches > 0;
    d->exit_code = d->p99_breached || d->errors_breached || d->baseline_breached || d->no_games ||
                           d->order_broken
                       ? 1
                       : 0;
}

/* 1234567 -> "1,234,567" */
static const char *grouped(uint64_t v, char *buf, size_t cap)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v), o = 0;

    for (int i = 0; i < n && (size_t)o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

static void print_hist(FILE *out, const char *label, const struct hist *h)
{
    if (!h->count) {
        fprintf(out, "  %-13s -\n", label);
        return;
    }
    fprintf(out, "  %-13s p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (n=%llu)\n", label,
            ns_to_ms(hist_quantile(h, 0.50)), ns_to_ms(hist_quantile(h, 0.90)),
            ns_to_ms(hist_quantile(h, 0.99)), ns_to_ms(hist_quantile(h, 0.999)), ns_to_ms(h->max),
            (unsigned long long)h->count);
}

static void print_quiz(FILE *out, const struct report *r, const struct derived *d)
{
    char a[32], b[32], c[32], e[32];

    fprintf(out,
            "  quiz          %d tables, %d round(s) of %d s: %s games started, %s completed "
            "(%.2f/s over %.1f s of play)\n",
            r->quiz_tables, r->quiz_rounds, r->quiz_seconds,
            grouped(r->quiz_starts_ok, a, sizeof(a)),
            grouped(r->quiz_games_completed, b, sizeof(b)), d->games_per_sec, d->play_s);
    fprintf(out,
            "  game events   %s game_started, %s questions, %s reveals, %s game_over; %llu lost, "
            "%llu out of order; %llu bots left a game unfinished\n",
            grouped(r->quiz_game_starts, a, sizeof(a)), grouped(r->quiz_questions, b, sizeof(b)),
            grouped(r->quiz_reveals, c, sizeof(c)), grouped(r->quiz_game_overs, e, sizeof(e)),
            (unsigned long long)r->quiz_lost_events, (unsigned long long)r->quiz_out_of_order,
            (unsigned long long)r->quiz_unfinished);
    fprintf(out,
            "  answers       %s sent (%.0f/s), %s ok, %s rejected, %llu unanswered; %llu not sent "
            "(revealed first)\n",
            grouped(r->quiz_answers_sent, a, sizeof(a)), d->answers_per_sec,
            grouped(r->quiz_answers_ok, b, sizeof(b)),
            grouped(r->quiz_answers_rejected, c, sizeof(c)), (unsigned long long)d->quiz_unanswered,
            (unsigned long long)r->quiz_answers_skipped);
    if (r->clock_samples)
        fprintf(out, "  server clock  %+.3f ms from ours (+- %.3f ms, best of %llu pings): %s\n",
                (double)r->clock_offset_ns / 1e6, (double)r->clock_error_ns / 1e6,
                (unsigned long long)r->clock_samples,
                r->clock_applied ? "question lag corrected for it" : "taken as the same clock");
    else
        fprintf(out, "  server clock  not measured: question lag assumes the same clock\n");
}

void report_print(FILE *out, const struct report *r, const struct derived *d)
{
    char a[32], b[32], c[32];

    fprintf(out, "\nparlor-loadtest: scenario %s, %d connections, %s%s\n", r->scenario,
            r->connections, r->url, r->interrupted ? " (interrupted)" : "");
    if (r->mode)
        fprintf(out, "  sending       %s\n", r->mode);
    fprintf(out, "  connections   %s handshakes, %s signed in, %llu failed",
            grouped(r->handshakes, a, sizeof(a)), grouped(r->signed_in, b, sizeof(b)),
            (unsigned long long)d->connect_failures);
    if (d->connect_failures) {
        fprintf(out, " (");
        for (int i = 1, first = 1; i < WSC_END_COUNT; i++) {
            if (r->fail_by_end[i]) {
                fprintf(out, "%s%s %llu", first ? "" : ", ", end_names[i],
                        (unsigned long long)r->fail_by_end[i]);
                first = 0;
            }
        }
        fprintf(out, ")");
    }
    fprintf(out, "\n");
    if (d->handshakes_per_sec > 0) {
        fprintf(out, "  ramp          %.0f handshakes/s", d->handshakes_per_sec);
        if (d->all_connected_s > 0)
            fprintf(out, "; all %d connected in %.3f s", r->connections, d->all_connected_s);
        if (d->all_signed_in_s > 0)
            fprintf(out, ", signed in within %.3f s", d->all_signed_in_s);
        fprintf(out, "\n");
    }
    fprintf(out, "  window        %.2f s measured (after %.2f s warm-up)\n", d->window_s,
            r->warmup_s);
    if (r->says_sent || r->deliveries_expected) {
        fprintf(out,
                "  messages      %s sent (%.0f/s), %s ok (%.0f/s), %s rejected, %llu "
                "unanswered\n",
                grouped(r->says_sent, a, sizeof(a)), d->messages_per_sec,
                grouped(r->says_ok, b, sizeof(b)), d->oks_per_sec,
                grouped(r->says_rejected, c, sizeof(c)), (unsigned long long)d->says_unanswered);
        fprintf(out, "  deliveries    %s expected, %s received, %llu lost; %.0f/s\n",
                grouped(r->deliveries_expected, a, sizeof(a)),
                grouped(r->deliveries_received, b, sizeof(b)), (unsigned long long)d->lost,
                d->deliveries_per_sec);
    }
    if (r->cycles)
        fprintf(out, "  churn         %s cycles (%.0f/s)\n", grouped(r->cycles, a, sizeof(a)),
                d->cycles_per_sec);
    if (r->quiz) {
        print_quiz(out, r, d);
        fprintf(out, "  latency in ms:\n");
        print_hist(out, "answer", &r->answer);
        print_hist(out, "question lag", &r->question_lag);
        print_hist(out, "connect", &r->connect);
        print_hist(out, "sign-in", &r->signin);
    } else {
        fprintf(out, "  latency in ms (from the scheduled send time):\n");
        print_hist(out, "delivery", &r->latency);
        print_hist(out, "fan-out", &r->fanout);
        print_hist(out, "connect", &r->connect);
        print_hist(out, "sign-in", &r->signin);
        if (r->cycle.count)
            print_hist(out, "churn cycle", &r->cycle);
        print_hist(out, "send lag", &r->send_lag);
    }

    fprintf(out, "  errors        %llu", (unsigned long long)d->errors_total);
    if (d->errors_total) {
        fprintf(out, " =");
        if (d->connect_failures)
            fprintf(out, " connect %llu", (unsigned long long)d->connect_failures);
        for (int i = 1; i <= PROTO_E_COUNT; i++)
            if (r->errors_by_code[i])
                fprintf(out, " %s %llu", i < PROTO_E_COUNT ? proto_err_code(i) : "other",
                        (unsigned long long)r->errors_by_code[i]);
        if (r->unexpected_closes)
            fprintf(out, " unexpected_close %llu", (unsigned long long)r->unexpected_closes);
        if (d->lost)
            fprintf(out, " lost %llu", (unsigned long long)d->lost);
        if (d->says_unanswered + d->quiz_unanswered)
            fprintf(out, " unanswered %llu",
                    (unsigned long long)(d->says_unanswered + d->quiz_unanswered));
        if (r->quiz_lost_events)
            fprintf(out, " lost_event %llu", (unsigned long long)r->quiz_lost_events);
        if (r->quiz_out_of_order)
            fprintf(out, " out_of_order %llu", (unsigned long long)r->quiz_out_of_order);
        if (r->seq_gaps)
            fprintf(out, " seq_gap %llu", (unsigned long long)r->seq_gaps);
        if (r->bad_messages)
            fprintf(out, " bad_message %llu", (unsigned long long)r->bad_messages);
        if (r->unexpected_deliveries)
            fprintf(out, " unmatched %llu", (unsigned long long)r->unexpected_deliveries);
        if (r->setup_incomplete)
            fprintf(out, " setup_incomplete %llu", (unsigned long long)r->setup_incomplete);
        if (r->stuck_at_end)
            fprintf(out, " stuck %llu", (unsigned long long)r->stuck_at_end);
    }
    if (r->order_checked)
        fprintf(out,
                "\n  order         %llu deliveries over %d URLs checked: order_violations %llu "
                "gaps %llu mismatches %llu (joins retried until the room reached the node: "
                "%llu)",
                (unsigned long long)r->order_deliveries, r->urls,
                (unsigned long long)r->order_violations, (unsigned long long)r->order_gaps,
                (unsigned long long)r->order_mismatches, (unsigned long long)r->join_retries);
    fprintf(out, "\n  close codes  ");
    if (!r->n_close_codes)
        fprintf(out, " none");
    for (int i = 0; i < r->n_close_codes; i++)
        if (r->close_codes[i].code < 0)
            fprintf(out, " invalid x %llu", (unsigned long long)r->close_codes[i].n);
        else
            fprintf(out, " %d x %llu", r->close_codes[i].code,
                    (unsigned long long)r->close_codes[i].n);
    fprintf(out, "\n");
    if (r->garbled_close_echoes)
        fprintf(out,
                "  note          %llu of our close frames (1000) were answered with a code "
                "parlor.v1 does not have (not counted as errors)\n",
                (unsigned long long)r->garbled_close_echoes);
    if (r->server_pid) {
        fprintf(out,
                "  server        pid %d: CPU %.0f%% of a core; RSS %.1f MB -> %.1f MB loaded "
                "(%+.2f KB/conn), peak %.1f MB, end %.1f MB\n",
                r->server_pid, d->srv_cpu_pct, (double)r->srv_rss_base_kb / 1024,
                (double)r->srv_rss_loaded_kb / 1024, d->srv_rss_per_conn_kb,
                (double)r->srv_rss_peak_kb / 1024, (double)r->srv_rss_end_kb / 1024);
        fprintf(out,
                "                fds %d -> %d -> %d, connections %d -> %d -> %d (baseline, "
                "loaded, end)%s\n",
                r->srv_fds_base, r->srv_fds_loaded, r->srv_fds_end, r->srv_conns_base,
                r->srv_conns_loaded, r->srv_conns_end,
                d->srv_returned ? "" : "  NOT BACK TO BASELINE");
    }
    fprintf(out, "  loadtest      CPU %.0f%% of a core over the window (%.2f s CPU in %.2f s)\n",
            d->self_cpu_pct, (double)r->self_cpu_ns_total / 1e9, (double)r->wall_ns_total / 1e9);
    if (d->other_cpu_pct >= 0)
        fprintf(out, "  other load    other processes used %.0f%% of a core during the window%s\n",
                d->other_cpu_pct,
                d->other_cpu_pct > 20 ? " (the figures above shared the cores)" : "");
    if (d->setup_other_cpu_pct > 20)
        fprintf(out,
                "  other load    and %.0f%% during the setup (the handshake figures shared the "
                "cores)\n",
                d->setup_other_cpu_pct);
    fprintf(out, "  result        %s", d->exit_code ? "FAIL" : "ok");
    if (d->p99_breached)
        fprintf(out, " (p99 %.3f ms > --max-p99 %.3f)",
                ns_to_ms(hist_quantile(report_p99_hist(r), 0.99)), r->max_p99_ms);
    if (d->errors_breached)
        fprintf(out, " (%llu errors > --max-errors %lld)", (unsigned long long)d->errors_total,
                (long long)r->max_errors);
    if (d->baseline_breached)
        fprintf(out, " (server did not return to its baseline)");
    if (d->no_games)
        fprintf(out, " (no quiz game completed)");
    if (d->order_broken)
        fprintf(out, " (members of a room saw different orders)");
    fprintf(out, "\n");
}

static json_t *hist_json(const struct hist *h)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count,
                     "mean", hist_mean(h) / 1e6, "p50", ns_to_ms(hist_quantile(h, 0.50)), "p90",
                     ns_to_ms(hist_quantile(h, 0.90)), "p99", ns_to_ms(hist_quantile(h, 0.99)),
                     "p99_9", ns_to_ms(hist_quantile(h, 0.999)), "max",
                     ns_to_ms(h->count ? h->max : 0), "min", ns_to_ms(h->count ? h->min : 0));
}

static json_t *quiz_json(const struct report *r, const struct derived *d)
{
    json_t *q = json_pack("{s:i, s:i, s:i, s:I, s:I, s:f, s:f}", "tables", r->quiz_tables, "rounds",
                          r->quiz_rounds, "seconds", r->quiz_seconds, "games_completed",
                          (json_int_t)r->quiz_games_completed, "games_in_window",
                          (json_int_t)r->quiz_games_in_window, "games_per_sec", d->games_per_sec,
                          "play_s", d->play_s);

    json_object_set_new(q, "starts",
                        json_pack("{s:I, s:I, s:I}", "sent", (json_int_t)r->quiz_starts_sent, "ok",
                                  (json_int_t)r->quiz_starts_ok, "rejected",
                                  (json_int_t)r->quiz_starts_rejected));
    json_object_set_new(
        q, "events",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "game_started",
                  (json_int_t)r->quiz_game_starts, "question", (json_int_t)r->quiz_questions,
                  "reveal", (json_int_t)r->quiz_reveals, "game_over",
                  (json_int_t)r->quiz_game_overs, "lost", (json_int_t)r->quiz_lost_events,
                  "out_of_order", (json_int_t)r->quiz_out_of_order, "unfinished_bots",
                  (json_int_t)r->quiz_unfinished));
    json_object_set_new(
        q, "answers",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "sent", (json_int_t)r->quiz_answers_sent,
                  "ok", (json_int_t)r->quiz_answers_ok, "rejected",
                  (json_int_t)r->quiz_answers_rejected, "unanswered",
                  (json_int_t)d->quiz_unanswered, "not_sent", (json_int_t)r->quiz_answers_skipped,
                  "in_window", (json_int_t)r->quiz_answers_in_window, "per_sec",
                  d->answers_per_sec));
    json_object_set_new(q, "server_clock",
                        json_pack("{s:I, s:f, s:f, s:b}", "pings", (json_int_t)r->clock_samples,
                                  "offset_ms", (double)r->clock_offset_ns / 1e6, "error_ms",
                                  (double)r->clock_error_ns / 1e6, "applied", r->clock_applied));
    return q;
}

json_t *report_json(const struct report *r, const struct derived *d)
{
    json_t *j = json_object(), *o, *fails = json_object(), *codes = json_object(),
           *closes = json_object();
    char key[16];

    for (int i = 1; i < WSC_END_COUNT; i++)
        if (r->fail_by_end[i])
            json_object_set_new(fails, end_names[i], json_integer((json_int_t)r->fail_by_end[i]));
    for (int i = 1; i <= PROTO_E_COUNT; i++)
        if (r->errors_by_code[i])
            json_object_set_new(codes, i < PROTO_E_COUNT ? proto_err_code(i) : "other",
                                json_integer((json_int_t)r->errors_by_code[i]));
    for (int i = 0; i < r->n_close_codes; i++) {
        if (r->close_codes[i].code < 0)
            snprintf(key, sizeof(key), "invalid");
        else
            snprintf(key, sizeof(key), "%d", r->close_codes[i].code);
        json_object_set_new(closes, key, json_integer((json_int_t)r->close_codes[i].n));
    }
    if (r->close_codes_other)
        json_object_set_new(closes, "other", json_integer((json_int_t)r->close_codes_other));

    json_object_set_new(j, "scenario", json_string(r->scenario));
    json_object_set_new(j, "url", json_string(r->url));
    json_object_set_new(j, "interrupted", json_boolean(r->interrupted));
    json_object_set_new(j, "params",
                        json_pack("{s:i, s:i, s:f, s:i, s:f, s:f, s:f, s:s?}", "connections",
                                  r->connections, "room_size", r->room_size, "rate", r->rate,
                                  "size", r->size, "duration_s", r->duration_s, "warmup_s",
                                  r->warmup_s, "ramp", r->ramp, "mode", r->mode));
    json_object_set_new(
        j, "connections",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:o, s:I, s:I, s:I}", "started",
                  (json_int_t)r->connects_started, "handshakes", (json_int_t)r->handshakes,
                  "signed_in", (json_int_t)r->signed_in, "ready", (json_int_t)r->ready, "failed",
                  (json_int_t)d->connect_failures, "handshakes_per_sec", d->handshakes_per_sec,
                  "all_connected_s", d->all_connected_s, "all_signed_in_s", d->all_signed_in_s,
                  "setup_s", d->setup_s, "failed_by", fails, "unexpected_closes",
                  (json_int_t)r->unexpected_closes, "setup_incomplete",
                  (json_int_t)r->setup_incomplete, "stuck_at_end", (json_int_t)r->stuck_at_end));
    json_object_set_new(j, "window_s", json_real(d->window_s));
    json_object_set_new(
        j, "messages",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:f}", "sent", (json_int_t)r->says_sent,
                  "ok", (json_int_t)r->says_ok, "rejected", (json_int_t)r->says_rejected,
                  "unanswered", (json_int_t)d->says_unanswered, "in_window",
                  (json_int_t)r->says_in_window, "per_sec", d->messages_per_sec, "ok_in_window",
                  (json_int_t)r->says_ok_in_window, "ok_per_sec", d->oks_per_sec));
    json_object_set_new(j, "deliveries",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "expected",
                                  (json_int_t)r->deliveries_expected, "received",
                                  (json_int_t)r->deliveries_received, "lost", (json_int_t)d->lost,
                                  "in_window", (json_int_t)r->deliveries_in_window, "unmatched",
                                  (json_int_t)r->unexpected_deliveries, "seq_gaps",
                                  (json_int_t)r->seq_gaps, "per_sec", d->deliveries_per_sec));
    json_object_set_new(
        j, "churn",
        json_pack("{s:I, s:f}", "cycles", (json_int_t)r->cycles, "per_sec", d->cycles_per_sec));
    o = json_object();
    json_object_set_new(o, "delivery", hist_json(&r->latency));
    json_object_set_new(o, "fanout", hist_json(&r->fanout));
    json_object_set_new(o, "connect", hist_json(&r->connect));
    json_object_set_new(o, "signin", hist_json(&r->signin));
    json_object_set_new(o, "churn_cycle", hist_json(&r->cycle));
    json_object_set_new(o, "send_lag", hist_json(&r->send_lag));
    if (r->quiz) {
        json_object_set_new(o, "answer", hist_json(&r->answer));
        json_object_set_new(o, "question_lag", hist_json(&r->question_lag));
    }
    json_object_set_new(j, "latency_ms", o);
    if (r->quiz)
        json_object_set_new(j, "quiz", quiz_json(r, d));
    json_object_set_new(
        j, "errors",
        json_pack("{s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I}", "total",
                  (json_int_t)d->errors_total, "connect", (json_int_t)d->connect_failures,
                  "by_code", codes, "unexpected_closes", (json_int_t)r->unexpected_closes, "lost",
                  (json_int_t)d->lost, "unanswered",
                  (json_int_t)(d->says_unanswered + d->quiz_unanswered), "seq_gaps",
                  (json_int_t)r->seq_gaps, "bad_messages", (json_int_t)r->bad_messages, "unmatched",
                  (json_int_t)r->unexpected_deliveries));
    if (r->quiz) {
        o = json_object_get(j, "errors");
        json_object_set_new(o, "lost_events", json_integer((json_int_t)r->quiz_lost_events));
        json_object_set_new(o, "out_of_order", json_integer((json_int_t)r->quiz_out_of_order));
    }
    if (r->order_checked)
        json_object_set_new(j, "order",
                            json_pack("{s:i, s:I, s:I, s:I, s:I, s:I}", "urls", r->urls, "checked",
                                      (json_int_t)r->order_deliveries, "order_violations",
                                      (json_int_t)r->order_violations, "gaps",
                                      (json_int_t)r->order_gaps, "mismatches",
                                      (json_int_t)r->order_mismatches, "join_retries",
                                      (json_int_t)r->join_retries));
    json_object_set_new(j, "close_codes", closes);
    if (r->server_pid)
        json_object_set_new(
            j, "server",
            json_pack("{s:i, s:f, s:{s:I, s:I, s:I, s:I}, s:f, s:{s:i, s:i, s:i}, "
                      "s:{s:i, s:i, s:i}, s:b}",
                      "pid", r->server_pid, "cpu_pct", d->srv_cpu_pct, "rss_kb", "baseline",
                      (json_int_t)r->srv_rss_base_kb, "loaded", (json_int_t)r->srv_rss_loaded_kb,
                      "peak", (json_int_t)r->srv_rss_peak_kb, "end", (json_int_t)r->srv_rss_end_kb,
                      "rss_per_conn_kb", d->srv_rss_per_conn_kb, "fds", "baseline", r->srv_fds_base,
                      "loaded", r->srv_fds_loaded, "end", r->srv_fds_end, "conns", "baseline",
                      r->srv_conns_base, "loaded", r->srv_conns_loaded, "end", r->srv_conns_end,
                      "returned_to_baseline", d->srv_returned));
    json_object_set_new(j, "loadtest",
                        json_pack("{s:f, s:f, s:f}", "cpu_pct", d->self_cpu_pct, "cpu_s",
                                  (double)r->self_cpu_ns_total / 1e9, "wall_s",
                                  (double)r->wall_ns_total / 1e9));
    json_object_set_new(j, "machine",
                        json_pack("{s:f, s:f}", "other_cpu_pct", d->other_cpu_pct,
                                  "setup_other_cpu_pct", d->setup_other_cpu_pct));
    o = json_object();
    if (r->max_p99_ms >= 0)
        json_object_set_new(o, "max_p99_ms", json_real(r->max_p99_ms));
    if (r->max_errors >= 0)
        json_object_set_new(o, "max_errors", json_integer((json_int_t)r->max_errors));
    json_object_set_new(j, "thresholds", o);
    json_object_set_new(j, "result",
                        json_pack("{s:b, s:i, s:b, s:b, s:b}", "pass", !d->exit_code, "exit_code",
                                  d->exit_code, "p99_breached", d->p99_breached, "errors_breached",
                                  d->errors_breached, "baseline_breached", d->baseline_breached));
    if (r->quiz)
        json_object_set_new(json_object_get(j, "result"), "no_games", json_boolean(d->no_games));
    if (r->order_checked)
        json_object_set_new(json_object_get(j, "result"), "order_broken",
                            json_boolean(d->order_broken));
    return j;
}
