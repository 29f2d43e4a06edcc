/*
 * systemd notifications (see sdnotify.h), through libsystemd's sd_notify. The state is the
 * process's own, like NOTIFY_SOCKET itself: one static struct, touched by the loop thread only.
 */
#include "sdnotify.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"

static struct {
    struct lws_context *ctx;
    lws_sorted_usec_list_t sul; /* the watchdog ping */
    lws_usec_t interval;        /* half of WATCHDOG_USEC */
    bool stopping;              /* STOPPING=1 sent */
} notify;

/* A timer on the loop rather than a thread: if the loop is stuck, the pings stop, which is
 * what the watchdog is for. */
static void watchdog_ping(lws_sorted_usec_list_t *sul)
{
    sd_notify(0, "WATCHDOG=1");
    lws_sul_schedule(notify.ctx, 0, &notify.sul, watchdog_ping, notify.interval);
}

void sdnotify_ready(struct lws_context *ctx, const char *status)
{
    char msg[256];
    uint64_t usec = 0;
    int rc;

    snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
    rc = sd_notify(0, msg);
    if (rc < 0)
        log_warn("sd_notify READY=1: %s", strerror(-rc));
    /* > 0: WATCHDOG_USEC is set and WATCHDOG_PID, if set, is ours */
    if (sd_watchdog_enabled(0, &usec) <= 0 || !usec)
        return;
    notify.ctx = ctx;
    notify.interval = (lws_usec_t)(usec / 2);
    log_info("systemd watchdog: pinging every %llu ms", (unsigned long long)usec / 2000);
    watchdog_ping(&notify.sul);
}

void sdnotify_stopping(void)
{
    if (notify.stopping)
        return;
    notify.stopping = true;
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void sdnotify_stop(void)
{
    if (notify.ctx)
        lws_sul_cancel(&notify.sul);
    notify.ctx = NULL;
}
