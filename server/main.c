/*
 * parlor-server: parses flags, loads what the database holds and opens the database pool, and
 * only then starts listening, so that every startup failure it can foresee (database,
 * migrations, saved state, question bank, workers) ends the process before a client could
 * connect. Runs the service loop until SIGINT or SIGTERM, then shuts down in the order the
 * threading model needs: clients closed (1001), queued jobs finished and workers joined, then
 * the lws context destroyed.
 */
#define _DEFAULT_SOURCE /* SO_REUSEPORT */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include "accounts.h"
#include "admin.h"
#include "backup.h"
#include "chat.h"
#include "game.h"
#include "chatlog.h"
#include "actions.h"
#include "cluster.h"
#include "config.h"
#include "log.h"
#include "migrate.h"
#include "names.h"
#include "pool.h"
#include "qbank.h"
#include "room.h"
#include "sdnotify.h"
#include "server.h"
#include "startup.h"
#include "store.h"
#include "ws.h"

/* Workers run below the loop thread's priority: when hashing or a backup saturates the CPUs,
 * players' requests still get the loop at once. */
#define WORKER_NICE 5
/* descriptors the server needs before its first player: database, workers, loop, logs */
#define MIN_FDS 64
/* 256 pages of 4 KiB: about 1 MiB per backup step, a few milliseconds of one worker */
#define BACKUP_PAGES_PER_STEP 256

/* The one piece of global state: a signal handler can reach nothing else. */
static struct ws_signals signals;
static struct lws_context *volatile signal_ctx;

/* pool_cfg.wake. The pool starts before the loop exists, so a worker reaches the context
 * through `arg`, a pointer to the struct ws's ctx, set once the context is created. No job is
 * submitted before then, and the pool's lock orders that store before any worker reads it. */
static void wake_loop(void *arg)
{
    struct lws_context *ctx = *(struct lws_context **)arg;

    if (ctx)
        ws_wake(ctx);
}

static void on_signal(int sig)
{
    signals.last = sig;
    signals.count++;
    /* wakes poll(); lws_cancel_service only writes a byte to the loop's pipe */
    if (signal_ctx)
        lws_cancel_service(signal_ctx);
}

static int install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL)) /* a peer that vanished must not kill the server */
        return -1;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
        return -1;
    return 0;
}

/* lws sizes its descriptor table from RLIMIT_NOFILE when the context is created: raise the
 * soft limit first or the server stalls near 1024 connections. Below MIN_FDS the server could
 * not even open its database for every worker: refuse to start, saying why. */
static int raise_fd_limit(char *err, size_t errlen)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl))
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl))
            log_warn("cannot raise the open-file limit: %s", strerror(errno));
    }
    if (rl.rlim_cur < MIN_FDS) {
        snprintf(err, errlen,
                 "the open-file limit is %llu; parlor needs at least %d (raise it: ulimit -n)",
                 (unsigned long long)rl.rlim_cur, MIN_FDS);
        return -1;
    }
    log_info("open-file limit %llu: about that many connections fit",
             (unsigned long long)rl.rlim_cur);
    return 0;
}

/* The static files' directory must exist before anything is created (the database, say). */
static int check_www(const char *www, char *err, size_t errlen)
{
    struct stat st;

    if (stat(www, &st)) {
        snprintf(err, errlen, "--www '%s': %s", www, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--www '%s': %s", www, strerror(ENOTDIR));
        return -1;
    }
    return 0;
}

/* Binds the port once ourselves, so a busy or privileged port is reported by name rather than
 * as lws's "init server failed". */
/* --listen names an address; lws takes an unknown name for an interface that may appear later
 * and waits for it without a word, so the name is resolved here, once, and lws gets the
 * numeric address (the first one a host name resolves to) in `numeric`. */
static int resolve_listen(const char *listen, char *numeric, size_t len, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    int rc = getaddrinfo(listen, NULL, &hints, &res);

    if (rc) {
        snprintf(err, errlen, "--listen '%s': not an IP address or a host name that resolves (%s)",
                 listen, gai_strerror(rc));
        return -1;
    }
    rc = getnameinfo(res->ai_addr, res->ai_addrlen, numeric, (socklen_t)len, NULL, 0,
                     NI_NUMERICHOST);
    freeaddrinfo(res);
    if (rc) {
        snprintf(err, errlen, "--listen '%s': %s", listen, gai_strerror(rc));
        return -1;
    }
    if (strchr(numeric, '%')) { /* lws cannot bind a scoped (link-local) address */
        snprintf(err, errlen, "--listen '%s': a link-local address with a scope is not supported",
                 listen);
        return -1;
    }
    return 0;
}

/* Binds what lws will bind (`addr`, or every interface when NULL) to name the usual causes;
 * lws itself only says that it failed. */
static int probe_port(const char *addr, int port, bool reuse_port, char *err, size_t errlen)
{
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, zero = 0, rc, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), e;
    char where[INET6_ADDRSTRLEN + 16] = "";

    a6.sin6_addr = in6addr_any;
    a4.sin_addr.s_addr = htonl(INADDR_ANY);
    if (addr) {
        struct in_addr v4;
        snprintf(where, sizeof(where), " on %s", addr);
        /* lws listens on IPv6 sockets: an IPv4 address is bound in its mapped form */
        if (inet_pton(AF_INET, addr, &v4) == 1) {
            memset(&a6.sin6_addr, 0, sizeof(a6.sin6_addr));
            a6.sin6_addr.s6_addr[10] = a6.sin6_addr.s6_addr[11] = 0xff;
            memcpy(&a6.sin6_addr.s6_addr[12], &v4, 4);
            a4.sin_addr = v4;
        } else if (inet_pton(AF_INET6, addr, &a6.sin6_addr) != 1) {
            return 0; /* let lws report it */
        }
    }
    if (fd >= 0) { /* dual stack, as lws binds */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (reuse_port) /* a sibling listening with SO_REUSEPORT is no conflict */
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        rc = bind(fd, (struct sockaddr *)&a6, sizeof(a6));
    } else {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return 0; /* let lws report it */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (reuse_port)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        rc = bind(fd, (struct sockaddr *)&a4, sizeof(a4));
    }
    e = errno;
    close(fd);
    if (!rc)
        return 0;
    if (e == EADDRINUSE && reuse_port)
        snprintf(err, errlen,
                 "port %d%s is in use by a program that did not ask to share it (--reuse-port)",
                 port, where);
    else if (e == EADDRINUSE)
        snprintf(err, errlen, "port %d%s is already in use by another program", port, where);
    else if (e == EACCES)
        snprintf(err, errlen, "port %d needs privileges (choose one above 1023)", port);
    else if (e == EADDRNOTAVAIL)
        snprintf(err, errlen, "--listen %s: no interface of this machine has that address", addr);
    else
        snprintf(err, errlen, "cannot listen on port %d%s: %s", port, where, strerror(e));
    return -1;
}

/* Restores what must survive a restart: the lobby's recent chat and seq, the room id counter
 * (so a new room never inherits an old room's stored history), the accounts, the token key,
 * and the bans still in force. */
static int add_user(void *arg, int64_t id, const char *name)
{
    return accounts_add_user(arg, id, name);
}

static int add_ban(void *arg, const char *kind, const char *target, int64_t until)
{
    int k = bans_kind_parse(kind), rc;

    /* the schema's CHECK allows only known kinds; skip anything else rather than fail */
    if (k < 0)
        return 0;
    rc = bans_add(arg, (enum ban_kind)k, target, until ? until : BAN_FOREVER);
    if (rc == -2) { /* a row from before addresses were checked: it never matched anything */
        log_warn("bans: ignoring address ban '%s', which is not an address or a prefix", target);
        return 0;
    }
    return rc;
}

static int load_saved_state(struct server *srv, struct store *db)
{
    struct room *lobby = room_find(&srv->rooms, "lobby");
    json_t *events;
    uint64_t rooms;
    size_t i;
    json_t *ev;

    if (store_load_room(db, lobby->id, srv->cfg.history, &lobby->last_seq, &events))
        return -1;
    json_array_foreach(events, i, ev) room_history_push(lobby, ev);
    /* older messages are in the database only: a resume replay reaching back past them is
     * not complete */
    ev = json_array_get(events, 0);
    lobby->hist_lost =
        ev ? (uint64_t)json_integer_value(json_object_get(ev, "seq")) - 1 : lobby->last_seq;
    json_decref(events);
    if (store_load_max_room_number(db, &rooms))
        return -1;
    srv->rooms.next_id = rooms + 1;
    if (store_load_token_key(db, srv->accounts->key, AUTH_KEY_LEN) ||
        store_load_users(db, add_user, srv->accounts) ||
        store_load_bans(db, srv->wall_ms(), add_ban, &srv->bans))
        return -1;
    log_info("lobby: %zu recent messages restored, next seq %llu", i,
             (unsigned long long)lobby->last_seq + 1);
    return 0;
}

/* The pack name of a file: its name without directories and extension. */
static void pack_name(const char *path, char *out, size_t len)
{
    const char *base = strrchr(path, '/');

    snprintf(out, len, "%s", base ? base + 1 : path);
    if (strrchr(out, '.'))
        *strrchr(out, '.') = '\0';
}

/* Imports the pack in `path` as the pack named after the file. 0, or -1 with db->error. */
static int import_file(struct store *db, const char *path, char *pack, size_t packlen, int *added)
{
    FILE *f = fopen(path, "r");
    int rc;

    *added = 0;
    pack_name(path, pack, packlen);
    if (!f) {
        snprintf(db->error, sizeof(db->error), "%s: cannot open", path);
        return -1;
    }
    rc = store_import_questions(db, f, path, pack, added, NULL);
    fclose(f);
    return rc;
}

/* First run: an empty bank gets the shipped pack, so a new server can play at once. */
static int fill_question_bank(struct qbank *bank, struct store *db, const char *pack_file)
{
    char pack[128];
    int added;

    if (store_load_questions(db, bank))
        return -1;
    if (bank->n || !pack_file)
        return 0;
    if (access(pack_file, R_OK)) {
        log_warn("no questions yet and no pack at %s: quiz games cannot start", pack_file);
        return 0;
    }
    if (import_file(db, pack_file, pack, sizeof(pack), &added))
        return -1;
    log_info("question bank: imported %d questions from %s", added, pack_file);
    return store_load_questions(db, bank);
}

/* `parlor-server import FILE [--db PATH|URI]`: loads a question pack offline and exits. */
static int import_command(int argc, char **argv)
{
    struct config cfg;
    char err[512], pack[128];
    const char *file;
    struct store_cfg sc;
    struct store *db;
    int added, rc;

    if (argc < 3 || argv[2][0] == '-') {
        fprintf(stderr, "usage: parlor-server import FILE [--db PATH|URI]\n");
        return 2;
    }
    file = argv[2];
    argv[2] = argv[0]; /* the flags after FILE parse as a command line of their own */
    if (config_parse(&cfg, argc - 2, argv + 2, err, sizeof(err)) != CONFIG_OK) {
        fprintf(stderr, "parlor-server: %s\n", err);
        return 2;
    }
    log_set_level(cfg.log_level);
    sc = (struct store_cfg){.target = cfg.db, .sync_full = true};
    if (store_prepare(&sc, err, sizeof(err)) || !(db = store_open(&sc, -1, err, sizeof(err)))) {
        fprintf(stderr, "parlor-server: %s\n", err);
        return 1;
    }
    rc = import_file(db, file, pack, sizeof(pack), &added);
    if (rc)
        fprintf(stderr, "parlor-server: %s\n", db->error);
    store_close(db);
    if (rc)
        return 1;
    store_target_shown(cfg.db, err, sizeof(err)); /* a URI's password stays out of the output */
    printf("imported %d new questions from %s into %s (pack '%s')\n", added, file, err, pack);
    return 0;
}

static void migrate_usage(FILE *out)
{
    fprintf(out,
            "usage: parlor-server migrate --from SOURCE --to TARGET [--replace]\n"
            "Copies everything parlor stores (accounts, bans and mutes, chat history, games and\n"
            "the leaderboard, question packs, the tokens' key) from SOURCE to TARGET, each a\n"
            "SQLite file or a postgresql:// URI, in one transaction: all or nothing. Both are\n"
            "brought to this parlor's schema first. Stop the server first: what it writes after\n"
            "the copy's snapshot is not copied.\n"
            "  --from SOURCE  the database to read (a SQLite file must exist)\n"
            "  --to TARGET    the database to fill; refused if it holds any row\n"
            "  --replace      empty TARGET first (in the same transaction), then copy\n");
}

/* `parlor-server migrate --from SOURCE --to TARGET [--replace]`: copies a club's store. */
static int migrate_command(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    struct migrate_report r;
    char err[1024], shown[STORE_TARGET_SHOWN_MAX];
    bool replace = false;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **value = !strcmp(a, "--from") ? &from : !strcmp(a, "--to") ? &to : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            migrate_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--replace")) {
            replace = true;
        } else if (value && i + 1 < argc) {
            *value = argv[++i];
        } else {
            fprintf(stderr, "parlor-server migrate: %s '%s' (--help lists the flags)\n",
                    value ? "a value is missing after" : "unknown argument", a);
            return 2;
        }
    }
    if (!from || !to) {
        fprintf(stderr, "parlor-server migrate: --from and --to are both needed\n");
        migrate_usage(stderr);
        return 2;
    }
    if (migrate_run(from, to, replace, &r, err, sizeof(err))) {
        fprintf(stderr, "parlor-server migrate: %s\n", err);
        return 1;
    }
    /* a URI's password stays out of the output */
    store_target_shown(from, shown, sizeof(shown));
    printf("copied %s\n", shown);
    store_target_shown(to, shown, sizeof(shown));
    printf("  into %s%s:\n", shown, replace ? " (emptied first)" : "");
    printf("  accounts        %lld\n", (long long)r.rows[STORE_T_USERS]);
    printf("  bans and mutes  %lld\n", (long long)r.rows[STORE_T_BANS]);
    printf("  messages        %lld in %lld rooms\n", (long long)r.rows[STORE_T_MESSAGES],
           (long long)r.rooms);
    printf("  games           %lld (%lld results)\n", (long long)r.rows[STORE_T_GAMES],
           (long long)r.rows[STORE_T_RESULTS]);
    printf("  questions       %lld in %lld packs\n", (long long)r.rows[STORE_T_QUESTIONS],
           (long long)r.packs);
    printf("  settings        %lld (%s)\n", (long long)r.rows[STORE_T_SETTINGS],
           r.rows[STORE_T_SETTINGS] ? "the tokens' key: issued tokens stay valid"
                                    : "no tokens' key yet: no server has run on the source");
    return 0;
}

/* The pool's `failed` hook: every job type's failures reach the operators' log here. */
static void job_failed(void *loop_arg, const struct pool_job *job)
{
    struct server *srv = loop_arg;

    oplog_add(&srv->oplog, LOG_ERROR, "%s: %s", job->failure ? job->failure : "a job failed",
              job->error[0] ? job->error : "no reason given");
}

/* server.attach_kind: a quiz room another node listed, with its settings */
static int attach_listed_kind(struct server *srv, struct room *r, json_t *desc)
{
    json_t *quiz = json_object_get(desc, game_quiz_kind.name);
    int rounds = (int)json_integer_value(json_object_get(quiz, "rounds"));
    int seconds = (int)json_integer_value(json_object_get(quiz, "seconds"));

    if (!quiz)
        return 0; /* a chat room */
    return game_attach(srv, r, rounds > 0 ? rounds : GAME_DEFAULT_ROUNDS,
                       seconds > 0 ? seconds : GAME_DEFAULT_SECONDS);
}

/* cluster.account_learned: an account another node registered */
static void learn_account(void *accounts, int64_t id, const char *name)
{
    accounts_learn_user(accounts, id, name);
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct server srv;
    struct ws ws;
    struct pool *pool = NULL;
    struct chatlog chatlog = {0};
    struct cluster cluster = {0};
    struct accounts accounts = {0};
    struct backup backup;
    struct qbank bank;
    struct store_cfg dbc;
    struct store *startup_db;
    char err[1024], listen_addr[NI_MAXHOST], database_id[STORE_DATABASE_ID_MAX];
    int rc = 1;

    if (argc > 1 && !strcmp(argv[1], "import"))
        return import_command(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "migrate"))
        return migrate_command(argc, argv);
    switch (config_parse(&cfg, argc, argv, err, sizeof(err))) {
    case CONFIG_HELP:
        config_usage(stdout);
        printf("\nCommands (each runs once and exits):\n"
               "  parlor-server import FILE [--db PATH|URI]\n"
               "      load a question pack (JSON lines) into the database\n"
               "  parlor-server migrate --from SOURCE --to TARGET [--replace]\n"
               "      copy everything stored from one database to another, e.g. a SQLite file\n"
               "      to a postgresql:// URI, in one transaction (parlor-server migrate --help)\n");
        return 0;
    case CONFIG_ERROR:
        fprintf(stderr, "parlor-server: %s\n", err);
        return 2;
    case CONFIG_OK:
        break;
    }
    log_set_level(cfg.log_level);
    memset(&ws, 0, sizeof(ws));
    qbank_init(&bank);
    dbc = (struct store_cfg){.target = cfg.db, .sync_full = cfg.db_sync == CONFIG_SYNC_FULL};
    json_object_seed(0); /* jansson seeds its hash lazily: do it before any worker exists */
    if (install_signals()) {
        fprintf(stderr, "parlor-server: cannot install signal handlers: %s\n", strerror(errno));
        return 1;
    }
    if (cfg.listen) {
        if (resolve_listen(cfg.listen, listen_addr, sizeof(listen_addr), err, sizeof(err))) {
            fprintf(stderr, "parlor-server: %s\n", err);
            return 1;
        }
        cfg.listen = listen_addr;
    }
    if (cfg.cluster && cfg.event_lib != CONFIG_EVENT_UV) {
        fprintf(stderr, "parlor-server: --cluster needs --event-lib uv (Redis shares its loop)\n");
        return 1;
    }
    if (raise_fd_limit(err, sizeof(err)) ||
        probe_port(cfg.listen, cfg.port, cfg.reuse_port, err, sizeof(err)) ||
        check_www(cfg.www, err, sizeof(err))) {
        fprintf(stderr, "parlor-server: %s\n", err);
        return 1;
    }

    if (server_init(&srv, &cfg, &ws_transport_ops, &ws) || admin_init(&srv)) {
        fprintf(stderr, "parlor-server: out of memory\n");
        return 1;
    }
    srv.bank = &bank;

    /* everything that reads or opens the database, before the port opens */
    accounts_init(
        &accounts, &srv, NULL,
        &(struct accounts_cfg){.cost = auth_scrypt_default(cfg.scrypt_log2n),
                               .token_ttl_ms = (int64_t)cfg.token_days * 24 * 3600 * 1000,
                               .signed_in = chat_signed_in,
                               .resume_elsewhere = chat_resume_elsewhere,
                               .signed_in_arg = &srv,
                               .registered = cfg.cluster ? cluster_account_registered : NULL,
                               .registered_arg = &cluster});
    if (store_prepare(&dbc, err, sizeof(err)) ||
        !(startup_db = store_open(&dbc, -1, err, sizeof(err))))
        goto out;
    srv.accounts = &accounts;
    rc = load_saved_state(&srv, startup_db) ||
         fill_question_bank(&bank, startup_db, cfg.questions) ||
         store_load_database_id(startup_db, database_id, sizeof(database_id));
    if (rc)
        snprintf(err, sizeof(err), "%s", startup_db->error);
    store_close(startup_db);
    if (rc) {
        rc = 1;
        goto out;
    }
    rc = 1;
    if (cfg.cluster) { /* a node's id and database are checked before its port opens */
        char shown[STORE_TARGET_SHOWN_MAX];
        store_target_shown(cfg.db, shown, sizeof(shown));
        if (cluster_identify(&cluster, &srv, err, sizeof(err)) ||
            cluster_check(&cluster, cfg.cluster, cfg.cluster_timeout_ms, database_id, shown, err,
                          sizeof(err)))
            goto out;
    }
    pool = pool_create(&(struct pool_cfg){.workers = cfg.db_workers,
                                          .queue_max = (size_t)cfg.db_queue,
                                          /* hashes leave a worker for the database */
                                          .lanes[POOL_LANE_CPU].max_running =
                                              cfg.auth_concurrency ? cfg.auth_concurrency
                                              : cfg.db_workers > 1 ? cfg.db_workers - 1
                                                                   : 1,
                                          .worker_open = store_worker_open,
                                          .worker_close = store_worker_close,
                                          .failed = job_failed,
                                          .wake = wake_loop,
                                          .open_arg = &dbc,
                                          .wake_arg = &ws.ctx,
                                          .worker_nice = WORKER_NICE},
                       err, sizeof(err));
    if (!pool)
        goto out;

    /* the port opens last: from here on a client may connect */
    if (ws_start(&ws, &srv, err, sizeof(err)))
        goto out;
    signal_ctx = ws.ctx;
    ws.pool = pool;
    srv.pool = pool;
    chatlog_init(&chatlog, &srv, pool, cfg.db_batch_ms, cfg.db_batch_max, cfg.db_queue,
                 chat_message_saved, chat_history_read);
    accounts.pool = pool;
    backup_init(&backup, pool, cfg.db, cfg.backup_dir, BACKUP_PAGES_PER_STEP, server_wall_ms);
    srv.backup = &backup;
    srv.chatlog = &chatlog;
    srv.drop_room = chat_drop_room;
    srv.attach_kind = attach_listed_kind;
    srv.session_moved = chat_session_moved;
    cluster.account_learned = learn_account;
    cluster.account_learned_arg = &accounts;
    if (cfg.cluster && cluster_start(&cluster, &srv, &ws.uv_loop, err, sizeof(err)))
        goto out;
    if (cfg.cluster) /* operators' actions taken on other nodes apply here too */
        modbus_start(&cluster.modbus, &cluster.link, actions_apply);

    store_target_shown(cfg.db, err, sizeof(err)); /* a URI's password stays out of the log */
    log_info("parlor/%s listening on %s port %d, serving %s, database %s, %d workers",
             PARLOR_VERSION, cfg.listen ? cfg.listen : "every interface", cfg.port, ws.www, err,
             cfg.db_workers);
    snprintf(err, sizeof(err), "serving on port %d", cfg.port);
    sdnotify_ready(ws.ctx, err); /* systemd starts what waits for parlor only now */
    ws_run(&ws, &signals);
    cluster_stop(&cluster); /* before the loop goes: its connections live there */
    if (cfg.cluster)        /* a restart may take the node's id at once */
        cluster_release(&cluster, cfg.cluster, cfg.cluster_timeout_ms);
    chat_end_detached(&srv); /* their timers live in the loop, which is about to go */
    chat_stop_timers(&srv);
    log_info("stopped; finishing database work");
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "parlor-server: %s\n", err);
    ws.pool = NULL;
    chatlog_stop(&chatlog);   /* unsaved chat goes to the pool... */
    pool_destroy(pool, &srv); /* ...which finishes every queued job before its threads exit */
    srv.pool = NULL;
    signal_ctx = NULL;
    sdnotify_stop();
    cluster_stop(&cluster);
    ws_destroy(&ws); /* closes what is left; CLOSED callbacks still see the model */
    srv.chatlog = NULL;
    chatlog_destroy(&chatlog);
    srv.accounts = NULL;
    accounts_destroy(&accounts);
    srv.backup = NULL;
    srv.bank = NULL;
    qbank_destroy(&bank);
    admin_destroy(&srv);
    server_destroy(&srv);
    names_thread_cleanup(); /* the loop's spoof checker */
    return rc;
}
