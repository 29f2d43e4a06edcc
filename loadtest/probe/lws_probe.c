/*
 * parlor-lws-probe: the measurement behind parlor-loadtest's choice of client. It holds N
 * libwebsockets client connections in the lobby of a parlor.v1 server, has client 0 broadcast
 * with one message in flight for --seconds, and prints the CPU this process spent per delivery
 * received. parlor-loadtest --scenario broadcast prints the same figure for its own epoll
 * client ("loadtest CPU"), so the two client paths can be compared on the same server.
 * One thread: the lws service loop; every callback runs on it.
 *
 * usage: parlor-lws-probe PORT CONNECTIONS SECONDS   (always connects to 127.0.0.1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libwebsockets.h>

#include "scan.h"

struct probe {
    struct lws_context *ctx;
    int port, n, joined, handshakes;
    double seconds;
    struct lws **wsi;
    struct lws *sender;
    int64_t t_start, t_end, cpu_start, cpu_end;
    uint64_t deliveries, window_deliveries, msgs;
    uint64_t remaining; /* deliveries of the message in flight */
    bool send_now, done;
    char pending[16][160];
};

struct pss {
    int idx;
    int queued; /* requests waiting for a writeable callback */
    char out[2][160];
};

static struct probe P;

static int64_t now_ns(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void write_text(struct lws *wsi, const char *text)
{
    unsigned char buf[LWS_PRE + 256];
    size_t len = strlen(text);

    memcpy(buf + LWS_PRE, text, len);
    lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
}

static void on_message(struct lws *wsi, struct pss *pss, const char *in, size_t len)
{
    struct member m[16];
    const struct member *type;
    int n = scan_object(in, len, m, 16);

    if (n < 0 || !(type = scan_find(m, n < 16 ? n : 16, "type")))
        return;
    if (scan_str_eq(type->val, "chat")) {
        int64_t t = now_ns(CLOCK_MONOTONIC);
        P.deliveries++;
        if (P.t_start && t >= P.t_start && !P.t_end)
            P.window_deliveries++;
        if (--P.remaining == 0) {
            P.send_now = true;
            lws_callback_on_writable(P.sender);
        }
    } else if (scan_str_eq(type->val, "ok") && scan_find(m, n < 16 ? n : 16, "room")) {
        if (++P.joined == P.n) {
            P.send_now = true;
            lws_callback_on_writable(P.sender);
        }
    }
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct pss *pss = user;
    char buf[160];

    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        pss->idx = (int)(intptr_t)lws_get_opaque_user_data(wsi);
        P.handshakes++;
        snprintf(pss->out[0], sizeof(pss->out[0]),
                 "{\"type\":\"hello\",\"id\":1,\"name\":\"lp%d\"}", pss->idx);
        snprintf(pss->out[1], sizeof(pss->out[1]),
                 "{\"type\":\"join\",\"id\":2,\"room\":\"lobby\"}");
        pss->queued = 2;
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (pss->queued) {
            write_text(wsi, pss->out[2 - pss->queued]);
            if (--pss->queued)
                lws_callback_on_writable(wsi);
            break;
        }
        if (wsi == P.sender && P.send_now && !P.done) {
            P.send_now = false;
            P.remaining = (uint64_t)P.n;
            P.msgs++;
            snprintf(buf, sizeof(buf),
                     "{\"type\":\"say\",\"id\":%llu,\"room\":\"lobby\",\"text\":\"probe %llu\"}",
                     (unsigned long long)(P.msgs + 2), (unsigned long long)P.msgs);
            write_text(wsi, buf);
            if (!P.t_start && P.msgs > 20) { /* a little warm-up first */
                P.t_start = now_ns(CLOCK_MONOTONIC);
                P.cpu_start = now_ns(CLOCK_PROCESS_CPUTIME_ID);
            }
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi))
            on_message(wsi, pss, in, len);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "connection error: %s\n", in ? (const char *)in : "?");
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"parlor.v1", cb, sizeof(struct pss), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    struct rlimit rl;

    if (argc != 4) {
        fprintf(stderr, "usage: parlor-lws-probe PORT CONNECTIONS SECONDS\n");
        return 2;
    }
    P.port = atoi(argv[1]);
    P.n = atoi(argv[2]);
    P.seconds = atof(argv[3]);
    if (P.port <= 0 || P.n <= 0 || P.seconds <= 0) {
        fprintf(stderr, "usage: parlor-lws-probe PORT CONNECTIONS SECONDS\n");
        return 2;
    }
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    P.ctx = lws_create_context(&info);
    P.wsi = calloc((size_t)P.n, sizeof(*P.wsi));
    if (!P.ctx || !P.wsi)
        return 1;
    for (int i = 0; i < P.n; i++) {
        struct lws_client_connect_info ci;
        memset(&ci, 0, sizeof(ci));
        ci.context = P.ctx;
        ci.address = "127.0.0.1";
        ci.port = P.port;
        ci.path = "/ws";
        ci.host = "127.0.0.1";
        ci.origin = "127.0.0.1";
        ci.protocol = "parlor.v1";
        ci.opaque_user_data = (void *)(intptr_t)i;
        P.wsi[i] = lws_client_connect_via_info(&ci);
        if (i == 0)
            P.sender = P.wsi[0];
        if (i % 64 == 63)
            lws_service(P.ctx, 0);
    }
    while (!P.done) {
        lws_service(P.ctx, 0);
        if (P.t_start && now_ns(CLOCK_MONOTONIC) - P.t_start >= (int64_t)(P.seconds * 1e9)) {
            P.t_end = now_ns(CLOCK_MONOTONIC);
            P.cpu_end = now_ns(CLOCK_PROCESS_CPUTIME_ID);
            P.done = true;
        }
    }
    {
        double wall = (double)(P.t_end - P.t_start) / 1e9,
               cpu = (double)(P.cpu_end - P.cpu_start) / 1e9;
        printf("lws client: %d connections, %llu deliveries in %.2f s = %.0f/s; CPU %.2f s "
               "(%.0f%% of a core), %.3f us CPU per delivery\n",
               P.n, (unsigned long long)P.window_deliveries, wall,
               (double)P.window_deliveries / wall, cpu, 100 * cpu / wall,
               1e6 * cpu / (double)P.window_deliveries);
    }
    lws_context_destroy(P.ctx);
    free(P.wsi);
    return 0;
}
