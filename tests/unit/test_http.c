/*
 * Tests for the dynamic HTTP endpoints (server/admin/http.c). Every handler takes a
 * `struct lws *` and writes through lws, so there is no way around lws: the test runs http.c's
 * protocol and mounts on a real lws context listening on a loopback port chosen by the kernel,
 * sends raw HTTP/1.1 requests from a plain socket and services the context on the test's
 * thread until the whole response has arrived. The model behind it is a server on the fake
 * transport. Covers the token rules of ADMIN.md (401 with WWW-Authenticate, 403 without
 * --admin-token, --metrics-public), /metrics' content, /healthz while serving and draining,
 * and /admin/backup without a database.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <libwebsockets.h>

#include "http.h"
#include "log.h"
#include "server.h"

#include "fake_transport.h"

#define TOKEN "s3cret"

struct fixture {
    struct config cfg;
    struct server srv;
    struct lws_protocols protocols[2];
    struct lws_http_mount mounts[HTTP_MOUNTS];
    struct lws_context *ctx;
    int port;
    lws_sorted_usec_list_t guard;
    bool timed_out;
};

struct response {
    int status;
    char headers[2048];
    char body[16384];
};

static void guard_expired(lws_sorted_usec_list_t *sul)
{
    lws_container_of(sul, struct fixture, guard)->timed_out = true;
}

/* A server with the given flags behind a context serving only http.c's endpoints. */
static struct fixture *fixture_new(const char *flag1, const char *flag2)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char *argv[] = {"parlor-server", (char *)flag1, (char *)flag2, NULL};
    int argc = 1 + (flag1 != NULL) + (flag2 != NULL);
    struct lws_context_creation_info info;
    char err[256];

    assert_non_null(fx);
    log_set_level(LOG_ERROR);
    lws_set_log_level(LLL_ERR, NULL);
    assert_int_equal(config_parse(&fx->cfg, argc, argv, err, sizeof(err)), CONFIG_OK);
    fake_transport_reset(1795400000000LL, NULL);
    assert_int_equal(server_init(&fx->srv, &fx->cfg, &fake_transport_ops, NULL), 0);
    fx->srv.wall_ms = fake_clock_ms;
    fx->srv.mono_ms = fake_clock_ms;

    fx->protocols[0] = http_protocol;
    fx->protocols[0].user = &fx->srv; /* as ws.c hands it the server */
    http_mounts_init(fx->mounts, NULL);
    memset(&info, 0, sizeof(info));
    info.port = 0; /* any free port */
    info.iface = "127.0.0.1";
    info.protocols = fx->protocols;
    info.mounts = fx->mounts;
    fx->ctx = lws_create_context(&info);
    assert_non_null(fx->ctx);
    fx->port = lws_get_vhost_listen_port(lws_get_vhost_by_name(fx->ctx, "default"));
    assert_true(fx->port > 0);
    lws_sul_schedule(fx->ctx, 0, &fx->guard, guard_expired, 10 * LWS_US_PER_SEC);
    return fx;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    if (!fx)
        return 0;
    lws_sul_cancel(&fx->guard);
    lws_context_destroy(fx->ctx);
    server_destroy(&fx->srv);
    free(fx);
    return 0;
}

static int no_setup(void **state)
{
    *state = NULL;
    return 0;
}

/* Sends `method path` with an Authorization header when `auth` is set, and reads the whole
 * response (Content-Length bytes of body) while servicing the context. */
static void fetch(struct fixture *fx, const char *method, const char *path, const char *auth,
                  struct response *r)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx->port)};
    char req[512], buf[16384];
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0), n;
    char *end = NULL, *cl;

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    n = snprintf(req, sizeof(req),
                 "%s %s HTTP/1.1\r\nHost: localhost\r\n%s%s%sContent-Length: 0\r\n\r\n", method,
                 path, auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    assert_int_equal(write(fd, req, (size_t)n), n);
    assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    for (;;) {
        ssize_t k = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (k > 0) {
            got += (size_t)k;
            buf[got] = '\0';
            end = strstr(buf, "\r\n\r\n");
            cl = end ? strcasestr(buf, "content-length:") : NULL;
            if (cl && cl < end && got >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10))
                break;
            continue;
        }
        assert_true(k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
        assert_false(fx->timed_out);
        assert_true(lws_service(fx->ctx, 0) >= 0);
    }
    close(fd);
    assert_int_equal(sscanf(buf, "HTTP/1.1 %d", &r->status), 1);
    *end = '\0';
    assert_true(strlen(buf) < sizeof(r->headers) && strlen(end + 4) < sizeof(r->body));
    memcpy(r->headers, buf, strlen(buf) + 1);
    memcpy(r->body, end + 4, strlen(end + 4) + 1);
}

static json_t *body_json(const struct response *r)
{
    json_t *j = json_loads(r->body, 0, NULL);

    if (!j)
        fail_msg("not JSON: %s", r->body);
    return j;
}

static void expect_error_body(const struct response *r, const char *error)
{
    json_t *j = body_json(r);

    assert_string_equal(json_string_value(json_object_get(j, "error")), error);
    json_decref(j);
}

static void test_http_metrics_needs_the_admin_token(void **state)
{
    struct fixture *fx = *state = fixture_new("--admin-token", TOKEN);
    struct response r;

    fetch(fx, "GET", "/metrics", NULL, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strcasestr(r.headers, "www-authenticate: Bearer"));
    expect_error_body(&r, "an admin token is required");

    fetch(fx, "GET", "/metrics", "Basic czNjcmV0", &r); /* another scheme */
    assert_int_equal(r.status, 401);
    expect_error_body(&r, "an admin token is required");

    fetch(fx, "GET", "/metrics", "Bearer s3cret2", &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strcasestr(r.headers, "www-authenticate: Bearer"));
    expect_error_body(&r, "wrong admin token");

    fetch(fx, "GET", "/metrics", "Bearer " TOKEN, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.headers, "content-type: text/plain; version=0.0.4"));
    assert_null(strcasestr(r.headers, "www-authenticate"));
    assert_non_null(strstr(r.body, "# TYPE parlor_connections gauge\n"));
    assert_non_null(strstr(r.body, "\nparlor_rooms 1\n")); /* the lobby */
}

static void test_http_admin_endpoints_are_off_without_a_token(void **state)
{
    struct fixture *fx = *state = fixture_new(NULL, NULL);
    struct response r;
    const char *disabled = "the admin interface is disabled: start the server with --admin-token";

    fetch(fx, "GET", "/metrics", "Bearer anything", &r);
    assert_int_equal(r.status, 403);
    expect_error_body(&r, disabled);
    fetch(fx, "GET", "/admin/backup", NULL, &r);
    assert_int_equal(r.status, 403);
    expect_error_body(&r, disabled);
}

static void test_http_public_metrics_need_no_token(void **state)
{
    struct fixture *fx = *state = fixture_new("--metrics-public", NULL);
    struct response r;

    fetch(fx, "GET", "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "parlor_connections"));
    fetch(fx, "GET", "/metrics", "Bearer wrong", &r);
    assert_int_equal(r.status, 200);
}

static void test_http_healthz_says_ok_then_draining(void **state)
{
    struct fixture *fx = *state = fixture_new(NULL, NULL);
    struct response r;
    json_t *j;

    fx->srv.connections = 3;
    fetch(fx, "GET", "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "version")), PARLOR_VERSION);
    assert_int_equal(json_integer_value(json_object_get(j, "connections")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "users")), 0);
    json_decref(j);

    fx->srv.draining = true;
    fetch(fx, "GET", "/healthz", NULL, &r);
    assert_int_equal(r.status, 503);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "draining");
    json_decref(j);
}

static void test_http_backup_without_a_database(void **state)
{
    struct fixture *fx = *state = fixture_new("--admin-token", TOKEN);
    struct response r;

    fetch(fx, "GET", "/admin/backup", "Bearer wrong", &r);
    assert_int_equal(r.status, 401);
    fetch(fx, "GET", "/admin/backup", "Bearer " TOKEN, &r);
    assert_int_equal(r.status, 503);
    expect_error_body(&r, "no database");
    fetch(fx, "POST", "/admin/import", "Bearer " TOKEN, &r);
    assert_int_equal(r.status, 503);
    expect_error_body(&r, "no database");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, no_setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_http_metrics_needs_the_admin_token),
        T(test_http_admin_endpoints_are_off_without_a_token),
        T(test_http_public_metrics_need_no_token),
        T(test_http_healthz_says_ok_then_draining),
        T(test_http_backup_without_a_database),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
