/*
 * systemd's service notifications (sd_notify(3)) for a Type=notify unit: READY=1 once the
 * server listens, STOPPING=1 once the shutdown begins, and WATCHDOG=1 from a loop timer, so a
 * loop that stops turning stops the pings and systemd restarts the server. Every call is a
 * no-op without NOTIFY_SOCKET (not started by systemd). Loop thread only.
 */
#ifndef PARLOR_SDNOTIFY_H
#define PARLOR_SDNOTIFY_H

#include <libwebsockets.h>

/* Sends READY=1 with `status`, and when the unit has a watchdog (WATCHDOG_USEC, and
 * WATCHDOG_PID unset or ours) starts pinging it every half interval on ctx's loop. */
void sdnotify_ready(struct lws_context *ctx, const char *status);
/* Sends STOPPING=1 the first time it is called; later calls do nothing. */
void sdnotify_stopping(void);
/* Stops the watchdog timer; call before ctx is destroyed. Safe when never started. */
void sdnotify_stop(void);

#endif
