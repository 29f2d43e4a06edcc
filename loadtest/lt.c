/*
 * parlor-loadtest: drives a parlor.v1 server with thousands of WebSocket clients from one
 * process and reports what it measured (see `--help`). This file is the entry point: flags,
 * the server's address, the open-file limit, the report before and after the run. The run
 * itself is run.c, a client's protocol client.c, each scenario a file in scenarios/. Everything
 * runs on one thread (see lt.h).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lt.h"
#include "proto.h"
#include "scenario.h"

/* Splits ws://host[:port][/path] and resolves host. Returns 0, -1 when the URL is malformed or
 * -2 when the host cannot be resolved (message printed). */
static int resolve_url(const char *url, struct sockaddr_storage *addr, socklen_t *alen,
                       char *hosthdr, size_t hostlen, char *path, size_t pathlen, int *port_out)
{
    char host[256], port[16] = "80";
    const char *p, *slash, *colon;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    size_t hl;
    int rc;

    if (strncmp(url, "ws://", 5)) {
        fprintf(stderr, "parlor-loadtest: --url must start with ws:// (wss is not supported)\n");
        return -1;
    }
    p = url + 5;
    slash = strchr(p, '/');
    snprintf(path, pathlen, "%s", slash ? slash : "/");
    hl = slash ? (size_t)(slash - p) : strlen(p);
    if (!hl || hl >= sizeof(host)) {
        fprintf(stderr, "parlor-loadtest: bad --url '%s'\n", url);
        return -1;
    }
    snprintf(hosthdr, hostlen, "%.*s", (int)hl, p);
    if (p[0] == '[') { /* [v6]:port */
        const char *close = memchr(p, ']', hl);
        if (!close) {
            fprintf(stderr, "parlor-loadtest: bad --url '%s'\n", url);
            return -1;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(close - p - 1), p + 1);
        if (close + 1 < p + hl && close[1] == ':')
            snprintf(port, sizeof(port), "%.*s", (int)(p + hl - close - 2), close + 2);
    } else {
        colon = memchr(p, ':', hl);
        snprintf(host, sizeof(host), "%.*s", (int)(colon ? (size_t)(colon - p) : hl), p);
        if (colon)
            snprintf(port, sizeof(port), "%.*s", (int)(p + hl - colon - 1), colon + 1);
    }
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc || !res) {
        fprintf(stderr, "parlor-loadtest: cannot resolve '%s' port '%s': %s\n", host, port,
                gai_strerror(rc));
        return -2;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *alen = res->ai_addrlen;
    *port_out = atoi(port);
    freeaddrinfo(res);
    return 0;
}

static int raise_nofile(int need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl)) {
        perror("parlor-loadtest: getrlimit");
        return -1;
    }
    if (rl.rlim_cur >= (rlim_t)need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)need) {
        fprintf(stderr,
                "parlor-loadtest: %d connections need %d open files, but the hard limit is %llu."
                "\n  Raise it (ulimit -Hn, or LimitNOFILE= / limits.conf) or use fewer "
                "connections.\n",
                need - FD_MARGIN, need, (unsigned long long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = (rlim_t)need;
    if (setrlimit(RLIMIT_NOFILE, &rl)) {
        fprintf(stderr, "parlor-loadtest: cannot raise the open-file limit to %d: %s\n", need,
                strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct lt lt; /* large (histograms): not on the stack */
    struct sockaddr_storage addr;
    socklen_t alen;
    char hosthdr[300], path[512], mode[256];
    static char urls[FLAGS_URL_CHARS]; /* the report's "url": every URL, comma-separated */
    int rc;
    struct derived d;
    struct proc_sample base;

    switch (flags_parse(&lt.o, argc, argv)) {
    case FLAGS_OK:
        break;
    case FLAGS_HELP:
        flags_usage(stdout);
        return 0;
    default:
        return EXIT_USAGE;
    }
    for (int i = 0; i < lt.o.nurls; i++) {
        int port;
        switch (resolve_url(lt.o.urls[i], &addr, &alen, hosthdr, sizeof(hosthdr), path,
                            sizeof(path), &port)) {
        case 0:
            break;
        case -1:
            return EXIT_USAGE;
        default:
            return EXIT_CANNOT_RUN;
        }
        if (i == 0) {
            lt.port = port; /* --server-pid's connection count looks at the first URL's port */
            rc = wsc_init(&lt.w, (struct sockaddr *)&addr, alen, hosthdr, path, PROTO_SUBPROTOCOL,
                          &client_ops, &lt);
        } else {
            rc = wsc_add_endpoint(&lt.w, (struct sockaddr *)&addr, alen, hosthdr, path) < 0;
        }
        if (rc) {
            perror("parlor-loadtest: init");
            return EXIT_CANNOT_RUN;
        }
        snprintf(urls + strlen(urls), sizeof(urls) - strlen(urls), "%s%s", i ? "," : "",
                 lt.o.urls[i]);
    }
    if (raise_nofile(lt.o.connections + FD_MARGIN))
        return EXIT_CANNOT_RUN;
    if (lt.o.server_pid && proc_sample(lt.o.server_pid, &base)) {
        fprintf(stderr, "parlor-loadtest: cannot read /proc/%d (--server-pid)\n", lt.o.server_pid);
        return EXIT_CANNOT_RUN;
    }
    if (run_setup(&lt))
        return EXIT_CANNOT_RUN;
    run_catch_signals();

    report_init(&lt.r);
    lt.r.scenario = lt.o.scenario->name;
    lt.r.url = urls;
    lt.r.urls = lt.o.nurls;
    lt.r.order_checked = lt.check_order;
    lt.o.scenario->mode(&lt, mode, sizeof(mode));
    lt.r.mode = mode;
    lt.r.connections = lt.o.connections;
    lt.r.room_size = lt.o.scenario->rooms ? lt.o.room_size : 0;
    if (lt.o.scenario->report_setup)
        lt.o.scenario->report_setup(&lt);
    lt.r.rate = lt.o.rate;
    lt.r.size = lt.o.size;
    lt.r.duration_s = lt.o.duration;
    lt.r.warmup_s = lt.o.warmup;
    lt.r.ramp = lt.o.ramp;
    lt.r.max_p99_ms = lt.o.max_p99;
    lt.r.max_errors = lt.o.max_errors;
    lt.r.ticks_per_sec = proc_ticks_per_sec();
    lt.r.check_baseline = lt.o.expect_baseline;
    if (lt.o.server_pid) {
        lt.r.server_pid = lt.o.server_pid;
        lt.r.srv_rss_base_kb = lt.r.srv_rss_peak_kb = base.rss_kb;
        lt.r.srv_fds_base = base.fds;
        lt.r.srv_conns_base = proc_tcp_conns(lt.o.server_pid, lt.port);
    }

    run(&lt);
    lt.r.order_deliveries = lt.order.checked;
    lt.r.order_violations = lt.order.violations;
    lt.r.order_gaps = lt.order.gaps;
    lt.r.order_mismatches = lt.order.mismatches;
    lt.r.clock_samples = lt.clock.samples;
    lt.r.clock_offset_ns = lt.clock.offset_ns;
    lt.r.clock_error_ns = lt.clock.samples ? lt.clock.error_ns : 0;
    lt.r.clock_applied = qbot_clock_correction(&lt.clock) != 0;

    report_derive(&lt.r, &d);
    report_print(stdout, &lt.r, &d);
    fflush(stdout);
    if (lt.o.json_path) {
        json_t *j = report_json(&lt.r, &d);
        if (!j || json_dump_file(j, lt.o.json_path, JSON_INDENT(2) | JSON_REAL_PRECISION(6))) {
            fprintf(stderr, "parlor-loadtest: cannot write %s\n", lt.o.json_path);
            json_decref(j);
            return EXIT_CANNOT_RUN;
        }
        json_decref(j);
    }
    if (!lt.r.handshakes) {
        fprintf(stderr, "parlor-loadtest: no connection succeeded; is the server at %s?\n", urls);
        return EXIT_CANNOT_RUN;
    }
    if (lt.unfit)
        return EXIT_USAGE;
    return d.exit_code;
}
