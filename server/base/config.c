/*
 * Flags and PARLOR_* variables (see config.h). One table describes every setting; parsing,
 * --help and the welcome limits all read it, so a new limit is one line here. Main thread,
 * at startup.
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* where `make install` and the package put the browser client and the question pack */
#ifndef PARLOR_DATADIR
#define PARLOR_DATADIR "/usr/local/share/parlor"
#endif

enum opt_kind { OPT_INT, OPT_STR, OPT_CHOICE, OPT_LIST, OPT_BOOL };

struct opt {
    const char *flag; /* without the leading "--" */
    enum opt_kind kind;
    size_t offset;
    long min, max;
    const char *limit_key; /* key in welcome.limits, or NULL */
    const char *help;
    const char *const *choices; /* OPT_CHOICE: NULL-terminated; the field holds the index */
};

#define INT_OPT(f, field, lo, hi, key, h)                                                          \
    {                                                                                              \
        f, OPT_INT, offsetof(struct config, field), lo, hi, key, h, NULL                           \
    }
#define CHOICE_OPT(f, field, list, h)                                                              \
    {                                                                                              \
        f, OPT_CHOICE, offsetof(struct config, field), 0, 0, NULL, h, list                         \
    }

/* in the order of enum log_level and enum config_sync */
static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const sync_modes[] = {"normal", "full", NULL};
static const char *const event_libs[] = {"poll", "uv", NULL}; /* enum config_event_lib */

static const struct opt opts[] = {
    INT_OPT("port", port, 1, 65535, NULL, "TCP port for HTTP and WebSocket"),
    {"listen", OPT_STR, offsetof(struct config, listen), 0, 0, NULL,
     "IP address or host name to listen on, e.g. 127.0.0.1 or ::1 (unset: every interface)", NULL},
    {"db", OPT_STR, offsetof(struct config, db), 0, 0, NULL,
     "SQLite database file, or a postgresql:// URI", NULL},
    {"www", OPT_STR, offsetof(struct config, www), 0, 0, NULL, "directory served at /", NULL},
    CHOICE_OPT("log-level", log_level, log_levels, "error, warn, info or debug"),
    CHOICE_OPT("event-lib", event_lib, event_libs,
               "the loop's wait: uv (libuv, epoll) or poll (lws's own poll(), scans every socket)"),
    INT_OPT("db-workers", db_workers, 1, 64, NULL, "worker threads for database and slow jobs"),
    INT_OPT("db-queue", db_queue, 1, 10000000, NULL,
            "jobs that may wait for a worker, and unsaved chat messages, before server_busy"),
    CHOICE_OPT("db-sync", db_sync, sync_modes,
               "full: a commit survives power loss; normal: only a crash of parlor"),
    INT_OPT("db-batch-ms", db_batch_ms, 0, 1000, NULL,
            "milliseconds a chat batch waits to gather more messages (0: one loop turn)"),
    INT_OPT("db-batch-max", db_batch_max, 1, 100000, NULL, "chat messages per transaction"),
    INT_OPT("scrypt-log2n", scrypt_log2n, 10, 20, NULL,
            "cost of new password hashes, N = 2^this with r=8, p=1 (17: 128 MiB each)"),
    INT_OPT("auth-concurrency", auth_concurrency, 0, 64, NULL,
            "password hashes at once (0: db-workers minus one, at least one)"),
    INT_OPT("token-days", token_days, 1, 365, NULL, "days a sign-in token stays valid"),
    {"admin-token", OPT_STR, offsetof(struct config, admin_token), 0, 0, NULL,
     "operator's secret for the admin endpoints (unset: they answer 403)", NULL},
    {"backup-dir", OPT_STR, offsetof(struct config, backup_dir), 0, 0, NULL,
     "directory for hot backups (unset: backups are disabled)", NULL},
    {"questions", OPT_STR, offsetof(struct config, questions), 0, 0, NULL,
     "question pack (JSON lines) imported on first run, when the bank is empty", NULL},
    INT_OPT("quiz-max-rounds", quiz_max_rounds, 1, 1000, "quiz_max_rounds",
            "most questions a quiz game may have"),
    INT_OPT("quiz-max-seconds", quiz_max_seconds, 1, 3600, "quiz_max_seconds",
            "most seconds per question a quiz room may ask for"),
    INT_OPT("quiz-reveal-ms", quiz_reveal_ms, 0, 60000, "quiz_reveal_ms",
            "milliseconds between a reveal and the next question"),
    INT_OPT("import-max-bytes", import_max_bytes, 1024, 1073741824, NULL,
            "largest question pack POST /admin/import accepts"),
    {"allowed-origin", OPT_LIST, offsetof(struct config, allowed_origins), 0, 0, NULL,
     "an Origin allowed to open WebSockets, e.g. https://play.example.org; repeatable or "
     "comma-separated (unset: any)",
     NULL},
    {"tls-cert", OPT_STR, offsetof(struct config, tls_cert), 0, 0, NULL,
     "PEM certificate chain: serve HTTPS and WSS (with --tls-key)", NULL},
    {"tls-key", OPT_STR, offsetof(struct config, tls_key), 0, 0, NULL, "PEM private key", NULL},
    INT_OPT("max-connections", max_connections, 1, 1000000, "max_connections",
            "WebSocket connections at once; beyond, the handshake gets 503"),
    INT_OPT("max-per-address", max_per_address, 0, 1000000, "max_per_address",
            "WebSocket connections from one address (0: no limit); beyond, 503"),
    INT_OPT("drain-seconds", drain_seconds, 0, 3600, NULL,
            "on SIGTERM, how long running games may take to finish before the server exits"),
    {"metrics-public", OPT_BOOL, offsetof(struct config, metrics_public), 0, 1, NULL,
     "serve GET /metrics without the admin token (flag alone, or =0/=1)", NULL},
    INT_OPT("rejoin-seconds", rejoin_seconds, 0, 3600, "rejoin_seconds",
            "seconds a dropped player keeps their name, rooms and seat for resume (0: none)"),
    {"reuse-port", OPT_BOOL, offsetof(struct config, reuse_port), 0, 1, NULL,
     "let several parlor processes listen on one port (SO_REUSEPORT; flag alone, or =0/=1)", NULL},
    {"cluster", OPT_STR, offsetof(struct config, cluster), 0, 0, NULL,
     "Redis that joins this node to a cluster: redis://HOST:PORT or unix:///PATH (unset: alone)",
     NULL},
    {"node-id", OPT_STR, offsetof(struct config, node_id), 0, 0, NULL,
     "this node's name in logs, metrics and the console (unset: host name and port)", NULL},
    INT_OPT("cluster-stream", cluster_stream, 10, 1000000, NULL,
            "chat messages each room's Redis stream keeps, for repairing gaps"),
    INT_OPT("cluster-timeout-ms", cluster_timeout_ms, 100, 60000, NULL,
            "milliseconds without an answer from Redis before the link is redialled"),
    INT_OPT("game-lease-ms", game_lease_ms, 500, 60000, NULL,
            "milliseconds a cluster's quiz game stays with its node after that node goes silent"),
    INT_OPT("presence-max", presence_max, 0, 1000000, "presence_max",
            "room size above which joins and leaves are counted, not announced"),
    INT_OPT("handshake-timeout", handshake_timeout, 1, 600, NULL,
            "seconds to finish an HTTP request or WebSocket upgrade before the socket is closed"),
    INT_OPT("max-message", max_message, 64, 16777216, "max_message",
            "bytes in one WebSocket message; larger closes with 1009"),
    INT_OPT("name-max", name_max, 1, 64, "name_max", "characters in a user name"),
    INT_OPT("text-max", text_max, 1, 100000, "text_max", "characters in a chat or whisper"),
    INT_OPT("room-name-max", room_name_max, 1, 200, "room_name_max", "characters in a room name"),
    INT_OPT("room-max-default", room_max_default, 2, 100000, "room_max_default",
            "member limit of a new room when create gives none"),
    INT_OPT("room-max-limit", room_max_limit, 2, 100000, "room_max_limit",
            "largest member limit a create may ask for"),
    INT_OPT("lobby-max", lobby_max, 1, 1000000, "lobby_max", "members the lobby holds"),
    INT_OPT("rooms-per-session", rooms_per_session, 1, 1000, "rooms_per_session",
            "rooms one connection may be in"),
    INT_OPT("max-rooms", max_rooms, 1, 1000000, "max_rooms", "rooms on the server, lobby included"),
    INT_OPT("history", history, 0, 1000, "history", "chat events a join returns"),
    INT_OPT("signin-timeout", signin_timeout, 1, 3600, "signin_timeout",
            "seconds a connection has to send hello"),
    INT_OPT("sendq-max-messages", sendq_max_messages, 1, 1000000, "sendq_max_messages",
            "unsent messages queued to one client before it is closed as too slow"),
    INT_OPT("sendq-max-bytes", sendq_max_bytes, 1024, 1073741824, "sendq_max_bytes",
            "unsent bytes queued to one client before it is closed as too slow"),
    INT_OPT("sendq-soft-messages", sendq_soft_messages, 1, 1000000, "sendq_soft_messages",
            "unsent messages above which a client is not read, and closed after "
            "--sendq-soft-seconds (at most --sendq-max-messages)"),
    INT_OPT("sendq-soft-bytes", sendq_soft_bytes, 1024, 1073741824, "sendq_soft_bytes",
            "unsent bytes above which a client is not read, and closed after "
            "--sendq-soft-seconds (at most --sendq-max-bytes)"),
    INT_OPT("sendq-soft-seconds", sendq_soft_seconds, 1, 3600, "sendq_soft_seconds",
            "seconds a client's queue may stay over a soft limit before it is closed"),
    INT_OPT("resume-replay", resume_replay, 0, 1000, "resume_replay",
            "missed chat messages a resume replays per room, at most"),
    INT_OPT("rate-per-sec", rate_per_sec, 1, 1000000, "rate_per_sec",
            "requests per second per connection"),
    INT_OPT("rate-burst", rate_burst, 1, 1000000, "rate_burst", "request burst per connection"),
    INT_OPT("say-per-sec", say_per_sec, 1, 1000000, "say_per_sec",
            "say and whisper per second per connection"),
    INT_OPT("say-burst", say_burst, 1, 1000000, "say_burst", "say and whisper burst"),
    INT_OPT("rate-close-after", rate_close_after, 1, 3600, "rate_close_after",
            "seconds over a rate limit before the connection is closed with 1008"),
    INT_OPT("ping-interval", ping_interval, 1, 3600, "ping_interval",
            "seconds of silence before the server sends a WebSocket ping"),
    INT_OPT("idle-timeout", idle_timeout, 2, 7200, "idle_timeout",
            "seconds without any frame before the server closes the connection"),
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void set_defaults(struct config *cfg)
{
    *cfg = (struct config){
        .port = 8080,
        .db = "data/parlor.db",
        .www = PARLOR_DATADIR "/www",
        .log_level = LOG_INFO,
        .db_workers = 3,
        .db_queue = 10000,
        .db_sync = CONFIG_SYNC_FULL,
        .event_lib = CONFIG_EVENT_UV, /* half the CPU of poll() at 1000 clients (BENCHMARKS.md) */
        .db_batch_ms = 0,
        .db_batch_max = 500,
        .scrypt_log2n = 17,
        .auth_concurrency = 0,
        .token_days = 7,
        .max_connections = 20000,
        .max_per_address = 0,
        .handshake_timeout = 10,
        .rejoin_seconds = 30,
        .drain_seconds = 30,
        .cluster_stream = 1000,
        .cluster_timeout_ms = 3000,
        .game_lease_ms = 3000,
        .questions = PARLOR_DATADIR "/questions/parlor-core.jsonl",
        .quiz_max_rounds = 50,
        .quiz_max_seconds = 120,
        .quiz_reveal_ms = 3000,
        .import_max_bytes = 8388608,
        .max_message = 8192,
        .name_max = 24,
        .text_max = 1000,
        .room_name_max = 48,
        .room_max_default = 50,
        .room_max_limit = 500,
        .lobby_max = 20000,
        .presence_max = 100,
        .rooms_per_session = 16,
        .max_rooms = 1000,
        .history = 50,
        .signin_timeout = 10,
        .sendq_max_messages = 2048,
        .sendq_max_bytes = 1048576,
        .sendq_soft_messages = 512,
        .sendq_soft_bytes = 262144,
        .sendq_soft_seconds = 10,
        .resume_replay = 200,
        .rate_per_sec = 20,
        .rate_burst = 40,
        .say_per_sec = 5,
        .say_burst = 10,
        .rate_close_after = 10,
        .ping_interval = 30,
        .idle_timeout = 60,
    };
}

static void env_name(const struct opt *o, char *buf, size_t len)
{
    size_t i = 0;

    i = (size_t)snprintf(buf, len, "PARLOR_");
    for (const char *p = o->flag; *p && i + 1 < len; p++)
        buf[i++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    buf[i] = '\0';
}

/* Stores `val` for option `o`; `source` names where it came from for the error line. */
static int apply(struct config *cfg, const struct opt *o, const char *val, const char *source,
                 char *err, size_t errlen)
{
    char *field = (char *)cfg + o->offset;
    char *end;
    long v;

    switch (o->kind) {
    case OPT_STR:
        if (!*val) {
            snprintf(err, errlen, "%s: expected a value", source);
            return -1;
        }
        *(const char **)field = val;
        return 0;
    case OPT_LIST: {
        struct config_list *l = (struct config_list *)field;
        bool env = !strncmp(source, "PARLOR_", 7);
        if (!*val) {
            snprintf(err, errlen, "%s: expected a value", source);
            return -1;
        }
        if (l->from_env && !env) /* the first flag replaces what the environment said */
            l->n = l->from_env = 0;
        if (l->n == CONFIG_LIST_MAX) {
            snprintf(err, errlen, "%s: at most %d values", source, CONFIG_LIST_MAX);
            return -1;
        }
        l->items[l->n++] = val;
        l->from_env = env;
        return 0;
    }
    case OPT_BOOL:
        if (!strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "yes"))
            *(int *)field = 1;
        else if (!strcmp(val, "0") || !strcmp(val, "false") || !strcmp(val, "no"))
            *(int *)field = 0;
        else {
            snprintf(err, errlen, "%s: expected 1 or 0, got '%s'", source, val);
            return -1;
        }
        return 0;
    case OPT_CHOICE:
        for (v = 0; o->choices[v] && strcmp(o->choices[v], val); v++)
            ;
        if (!o->choices[v]) {
            char list[128] = "";
            for (int i = 0; o->choices[i]; i++)
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                         o->choices[i]);
            snprintf(err, errlen, "%s: expected one of %s, got '%s'", source, list, val);
            return -1;
        }
        *(int *)field = (int)v;
        return 0;
    case OPT_INT:
        errno = 0;
        v = strtol(val, &end, 10);
        /* strtol skips blanks and takes '+': a flag value is digits, nothing else */
        if (!(isdigit((unsigned char)val[0]) ||
              (val[0] == '-' && isdigit((unsigned char)val[1]))) ||
            errno || *end || v < o->min || v > o->max) {
            snprintf(err, errlen, "%s: expected an integer from %ld to %ld, got '%s'", source,
                     o->min, o->max, val);
            return -1;
        }
        *(int *)field = (int)v;
        return 0;
    }
    return -1;
}

static const struct opt *find_opt(const char *flag, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].flag) == len && !strncmp(opts[i].flag, flag, len))
            return &opts[i];
    return NULL;
}

static int check_consistency(const struct config *cfg, char *err, size_t errlen)
{
    if (!cfg->tls_cert != !cfg->tls_key) {
        snprintf(err, errlen, "--tls-cert and --tls-key go together");
        return -1;
    }
    if (cfg->room_max_default > cfg->room_max_limit) {
        snprintf(err, errlen, "--room-max-default (%d) must not exceed --room-max-limit (%d)",
                 cfg->room_max_default, cfg->room_max_limit);
        return -1;
    }
    if (cfg->idle_timeout <= cfg->ping_interval) {
        snprintf(err, errlen, "--idle-timeout (%d) must be greater than --ping-interval (%d)",
                 cfg->idle_timeout, cfg->ping_interval);
        return -1;
    }
    return 0;
}

enum config_result config_parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    char name[64], source[96];

    set_defaults(cfg);
    /* --help works even when the environment holds a bad value */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return CONFIG_HELP;

    for (size_t i = 0; i < NOPTS; i++) {
        const char *val;
        env_name(&opts[i], name, sizeof(name));
        val = getenv(name);
        if (val && apply(cfg, &opts[i], val, name, err, errlen))
            return CONFIG_ERROR;
    }

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq, *val;
        const struct opt *o;

        if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
            return CONFIG_HELP;
        if (strncmp(arg, "--", 2)) {
            snprintf(err, errlen, "unexpected argument '%s' (see --help)", arg);
            return CONFIG_ERROR;
        }
        arg += 2;
        eq = strchr(arg, '=');
        o = find_opt(arg, eq ? (size_t)(eq - arg) : strlen(arg));
        if (!o) {
            snprintf(err, errlen, "unknown flag '%s' (see --help)", argv[i]);
            return CONFIG_ERROR;
        }
        if (eq) {
            val = eq + 1;
        } else if (o->kind == OPT_BOOL) {
            val = "1"; /* a switch: present means on */
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            snprintf(err, errlen, "--%s: expected a value", o->flag);
            return CONFIG_ERROR;
        }
        snprintf(source, sizeof(source), "--%s", o->flag);
        if (apply(cfg, o, val, source, err, errlen))
            return CONFIG_ERROR;
    }
    if (check_consistency(cfg, err, errlen))
        return CONFIG_ERROR;
    /* a soft limit above its hard limit could never apply: it is the hard limit */
    if (cfg->sendq_soft_messages > cfg->sendq_max_messages)
        cfg->sendq_soft_messages = cfg->sendq_max_messages;
    if (cfg->sendq_soft_bytes > cfg->sendq_max_bytes)
        cfg->sendq_soft_bytes = cfg->sendq_max_bytes;
    return CONFIG_OK;
}

void config_usage(FILE *out)
{
    struct config def;
    char name[64], value[256]; /* a default path: the installed data directory */

    set_defaults(&def);
    fprintf(out, "usage: parlor-server [--flag VALUE]...\n"
                 "WebSocket game and chat server (parlor.v1). Each flag may also be set through\n"
                 "the environment variable shown; a flag wins over its variable.\n\n");
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *o = &opts[i];
        const char *field = (const char *)&def + o->offset;

        env_name(o, name, sizeof(name));
        if (o->kind == OPT_LIST)
            snprintf(value, sizeof(value), "unset");
        else if (o->kind == OPT_BOOL)
            snprintf(value, sizeof(value), "%s", *(const int *)field ? "on" : "off");
        else if (o->kind == OPT_STR)
            snprintf(value, sizeof(value), "%s",
                     *(const char *const *)field ? *(const char *const *)field : "unset");
        else if (o->kind == OPT_CHOICE)
            snprintf(value, sizeof(value), "%s", o->choices[*(const int *)field]);
        else
            snprintf(value, sizeof(value), "%d", *(const int *)field);
        fprintf(out, "  --%-20s %s (default %s; %s)\n", o->flag, o->help, value, name);
    }
}

json_t *config_limits_json(const struct config *cfg)
{
    json_t *o = json_object();

    for (size_t i = 0; o && i < NOPTS; i++)
        if (opts[i].limit_key)
            json_object_set_new(o, opts[i].limit_key,
                                json_integer(*(const int *)((const char *)cfg + opts[i].offset)));
    return o;
}
