/*
 * Unit tests for protocol/proto.c: the parlor.v1 decoder and validator (every request type,
 * every decode error with its code and field, the name/room/max/text rules at their limits),
 * the error-code strings and the reply/event encoders, checked against the exact JSON of
 * PROTOCOL.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

/* The default limits of PROTOCOL.md section 7. */
static const struct proto_limits lim = {
    .name_max = 24,
    .text_max = 1000,
    .room_name_max = 48,
    .room_max_limit = 500,
    .quiz_max_rounds = 50,
    .quiz_max_seconds = 120,
};

static int decode_lim(const char *s, const struct proto_limits *l, struct proto_req *req,
                      struct proto_error *err)
{
    return proto_decode(s, strlen(s), l, req, err);
}

static int decode(const char *s, struct proto_req *req, struct proto_error *err)
{
    return decode_lim(s, &lim, req, err);
}

/* A new string of `unit` repeated n times. */
static char *repeat(const char *unit, int n)
{
    size_t ulen = strlen(unit);
    char *s = malloc(ulen * (size_t)n + 1);

    assert_non_null(s);
    for (int i = 0; i < n; i++)
        memcpy(s + ulen * (size_t)i, unit, ulen);
    s[ulen * (size_t)n] = '\0';
    return s;
}

/* Decodes `s`, which must succeed with type `type`; the caller frees `req`. */
static void expect_ok_lim(const char *s, const struct proto_limits *l, enum proto_type type,
                          struct proto_req *req)
{
    struct proto_error err;

    if (decode_lim(s, l, req, &err) != 0)
        fail_msg("refused %s: %s %s (%s)", s, proto_err_code(err.code), err.field ? err.field : "-",
                 err.message);
    if (req->type != type)
        fail_msg("%s decoded as %s", s, proto_type_name(req->type));
    assert_non_null(req->root);
}

static void expect_ok(const char *s, enum proto_type type, struct proto_req *req)
{
    expect_ok_lim(s, &lim, type, req);
}

/* Decodes `s` (len bytes), which must fail with `code` and `field` (NULL for none). */
static void expect_error_len(const char *s, size_t len, const struct proto_limits *l,
                             enum proto_err code, const char *field, struct proto_error *err)
{
    struct proto_req req;

    if (proto_decode(s, len, l, &req, err) == 0) {
        proto_req_free(&req);
        fail_msg("accepted %.*s", (int)len, s);
    }
    if (err->code != code)
        fail_msg("%.*s: code %s, want %s", (int)len, s, proto_err_code(err->code),
                 proto_err_code(code));
    if (field && (!err->field || strcmp(err->field, field)))
        fail_msg("%.*s: field %s, want %s", (int)len, s, err->field ? err->field : "NULL", field);
    if (!field && err->field)
        fail_msg("%.*s: field %s, want NULL", (int)len, s, err->field);
    if (!err->message[0])
        fail_msg("%.*s: empty message", (int)len, s);
    /* a refused request is empty and owns nothing */
    assert_null(req.root);
    assert_null(req.name);
    assert_null(req.room);
    assert_null(req.to);
    assert_null(req.text);
}

static void expect_error_lim(const char *s, const struct proto_limits *l, enum proto_err code,
                             const char *field)
{
    struct proto_error err;

    expect_error_len(s, strlen(s), l, code, field, &err);
}

static void expect_error(const char *s, enum proto_err code, const char *field)
{
    expect_error_lim(s, &lim, code, field);
}

static void expect_dump(json_t *j, const char *want)
{
    char *got;

    assert_non_null(j);
    got = json_dumps(j, JSON_COMPACT);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    json_decref(j);
}

/* ---- each request type ---- */

static void test_proto_hello_decodes_name(void **state)
{
    struct proto_req req;

    (void)state;
    expect_ok("{\"type\":\"hello\",\"id\":1,\"name\":\"alice\"}", PROTO_HELLO, &req);
    assert_true(req.re.has_id);
    assert_int_equal(req.re.id, 1);
    assert_string_equal(req.name, "alice");
    assert_null(req.room);
    assert_null(req.to);
    assert_null(req.text);
    assert_false(req.has_max);
    proto_req_free(&req);
    assert_null(req.root);
    proto_req_free(&req); /* a second free is harmless */
}

static void test_proto_rooms_and_ping_have_no_fields(void **state)
{
    struct proto_req req;

    (void)state;
    expect_ok("{\"type\":\"rooms\",\"id\":2}", PROTO_ROOMS, &req);
    assert_true(req.re.has_id);
    assert_int_equal(req.re.id, 2);
    assert_null(req.name);
    assert_null(req.room);
    assert_null(req.text);
    proto_req_free(&req);

    expect_ok("{\"type\":\"ping\"}", PROTO_PING, &req);
    assert_false(req.re.has_id);
    assert_null(req.name);
    assert_null(req.room);
    assert_null(req.to);
    assert_null(req.text);
    proto_req_free(&req);
}

static void test_proto_create_decodes_name_and_max(void **state)
{
    struct proto_req req;

    (void)state;
    expect_ok("{\"type\":\"create\",\"id\":3,\"name\":\"Quiz night\",\"max\":12}", PROTO_CREATE,
              &req);
    assert_int_equal(req.re.id, 3);
    assert_string_equal(req.name, "Quiz night");
    assert_true(req.has_max);
    assert_int_equal(req.max, 12);
    assert_null(req.room);
    proto_req_free(&req);

    expect_ok("{\"type\":\"create\",\"name\":\"Chess\"}", PROTO_CREATE, &req);
    assert_string_equal(req.name, "Chess");
    assert_false(req.has_max);
    proto_req_free(&req);
}

static void test_proto_join_and_leave_decode_room(void **state)
{
    struct proto_req req;

    (void)state;
    expect_ok("{\"type\":\"join\",\"id\":4,\"room\":\"lobby\"}", PROTO_JOIN, &req);
    assert_string_equal(req.room, "lobby");
    assert_null(req.text);
    assert_null(req.name);
    proto_req_free(&req);

    expect_ok("{\"type\":\"leave\",\"id\":5,\"room\":\"r1\"}", PROTO_LEAVE, &req);
    assert_int_equal(req.re.id, 5);
    assert_string_equal(req.room, "r1");
    assert_null(req.text);
    proto_req_free(&req);
}

static void test_proto_say_decodes_room_and_text(void **state)
{
    struct proto_req req;

    (void)state;
    expect_ok("{\"type\":\"say\",\"id\":6,\"room\":\"lobby\",\"text\":\"hello <b>all</b>\"}",
              PROTO_SAY, &req);
    assert_string_equal(req.room, "lobby");
    assert_string_equal(req.text, "hello <b>all</b>");
    assert_null(req.to);
    proto_req_free(&req);
}

static void test_proto_whisper_decodes_to_and_text(void **state)
{
    struct proto_req req;

    (void)state;
    expect_ok("{\"type\":\"whisper\",\"id\":7,\"to\":\"bob\",\"text\":\"psst\"}", PROTO_WHISPER,
              &req);
    assert_string_equal(req.to, "bob");
    assert_string_equal(req.text, "psst");
    assert_null(req.room);
    proto_req_free(&req);
}

static void test_proto_unknown_fields_are_ignored(void **state)
{
    struct proto_req req;

    (void)state;
    expect_ok("{\"type\":\"join\",\"room\":\"lobby\",\"extra\":[1,{\"a\":null}],\"text\":5}",
              PROTO_JOIN, &req);
    assert_string_equal(req.room, "lobby");
    assert_null(req.text);
    proto_req_free(&req);
}

static void test_proto_decode_honours_len(void **state)
{
    const char *s = "{\"type\":\"ping\"}garbage";
    struct proto_req req;
    struct proto_error err;

    (void)state;
    /* the bytes after len are not part of the message */
    assert_int_equal(proto_decode(s, 15, &lim, &req, &err), 0);
    assert_int_equal(req.type, PROTO_PING);
    proto_req_free(&req);
    expect_error_len(s, 14, &lim, PROTO_E_BAD_JSON, NULL, &err);
}

/* ---- id ---- */

static void test_proto_id_is_echoed(void **state)
{
    struct proto_req req;
    struct proto_error err;

    (void)state;
    expect_ok("{\"type\":\"ping\",\"id\":-5}", PROTO_PING, &req);
    assert_true(req.re.has_id);
    assert_int_equal(req.re.id, -5);
    proto_req_free(&req);

    expect_ok("{\"type\":\"ping\",\"id\":0}", PROTO_PING, &req);
    assert_true(req.re.has_id);
    assert_int_equal(req.re.id, 0);
    proto_req_free(&req);

    expect_ok("{\"id\":9223372036854775807,\"type\":\"ping\"}", PROTO_PING, &req);
    assert_true(req.re.has_id);
    assert_true(req.re.id == INT64_MAX);
    proto_req_free(&req);

    expect_ok("{\"type\":\"ping\",\"id\":-9223372036854775808}", PROTO_PING, &req);
    assert_true(req.re.id == INT64_MIN);
    proto_req_free(&req);

    expect_ok("{\"type\":\"ping\",\"id\":4294967297}", PROTO_PING, &req);
    assert_true(req.re.id == 4294967297LL);
    proto_req_free(&req);

    expect_ok("{\"type\":\"ping\"}", PROTO_PING, &req);
    assert_false(req.re.has_id);
    proto_req_free(&req);

    /* an id read before a later error is kept in the error */
    expect_error_len("{\"id\":-77,\"type\":\"join\"}", strlen("{\"id\":-77,\"type\":\"join\"}"),
                     &lim, PROTO_E_BAD_REQUEST, "room", &err);
    assert_true(err.re.has_id);
    assert_int_equal(err.re.id, -77);
}

static void test_proto_bad_id_is_bad_request(void **state)
{
    static const char *const bad[] = {
        "{\"type\":\"ping\",\"id\":\"1\"}", "{\"type\":\"ping\",\"id\":1.5}",
        "{\"type\":\"ping\",\"id\":1.0}",   "{\"type\":\"ping\",\"id\":true}",
        "{\"type\":\"ping\",\"id\":null}",  "{\"type\":\"ping\",\"id\":[1]}",
        "{\"type\":\"ping\",\"id\":{}}",
    };
    struct proto_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_error_len(bad[i], strlen(bad[i]), &lim, PROTO_E_BAD_REQUEST, "id", &err);
        assert_false(err.re.has_id);
    }
    /* id is checked before type */
    expect_error("{\"id\":\"x\"}", PROTO_E_BAD_REQUEST, "id");
}

/* ---- bad_json ---- */

static void test_proto_bad_json(void **state)
{
    static const char *const bad[] = {
        "",
        "{",
        "{\"type\":\"ping\"",
        "{\"type\":\"pi",
        "{\"type\":\"ping\"} x",
        "{\"type\":\"ping\"}{}",
        "{\"type\":\"ping\",}",
        "{'type':'ping'}",
        "{\"type\":\"hello\",\"name\":\"a\xff"
        "b\"}",                                                   /* invalid byte */
        "{\"type\":\"hello\",\"name\":\"a\xc3\"}",                /* truncated sequence */
        "{\"type\":\"hello\",\"name\":\"\xc0\xaf\"}",             /* overlong encoding */
        "{\"type\":\"hello\",\"name\":\"\xed\xa0\x80\"}",         /* encoded surrogate */
        "{\"type\":\"say\",\"room\":\"x\",\"text\":\"\\ud800\"}", /* lone surrogate escape */
        "{\"type\":\"say\",\"room\":\"x\",\"text\":\"a\nb\"}",    /* raw control character */
        "\xc3\xa4",
    };
    struct proto_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_error_len(bad[i], strlen(bad[i]), &lim, PROTO_E_BAD_JSON, NULL, &err);
        assert_false(err.re.has_id);
    }
}

static void test_proto_nul_byte_in_message_is_bad_json(void **state)
{
    static const char msg[] = "{\"type\":\"ping\"}\0";
    static const char inside[] = "{\"type\":\"pi\0ng\"}";
    struct proto_error err;

    (void)state;
    expect_error_len(msg, sizeof(msg) - 1, &lim, PROTO_E_BAD_JSON, NULL, &err);
    expect_error_len(inside, sizeof(inside) - 1, &lim, PROTO_E_BAD_JSON, NULL, &err);
}

static void test_proto_duplicate_keys_are_bad_json(void **state)
{
    (void)state;
    expect_error("{\"type\":\"ping\",\"type\":\"ping\"}", PROTO_E_BAD_JSON, NULL);
    expect_error("{\"type\":\"ping\",\"id\":1,\"id\":2}", PROTO_E_BAD_JSON, NULL);
    expect_error("{\"type\":\"say\",\"room\":\"a\",\"text\":\"x\",\"x\":{\"k\":1,\"k\":2}}",
                 PROTO_E_BAD_JSON, NULL);
}

/* ---- bad_request: shape, type ---- */

static void test_proto_non_object_is_bad_request_without_field(void **state)
{
    static const char *const bad[] = {
        "[]", "[{\"type\":\"ping\"}]", "42", "-1.5", "\"ping\"", "null", "true", "false",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error(bad[i], PROTO_E_BAD_REQUEST, NULL);
}

static void test_proto_bad_type_field(void **state)
{
    struct proto_error err;

    (void)state;
    expect_error("{}", PROTO_E_BAD_REQUEST, "type");
    expect_error("{\"name\":\"alice\"}", PROTO_E_BAD_REQUEST, "type");
    expect_error("{\"type\":5}", PROTO_E_BAD_REQUEST, "type");
    expect_error("{\"type\":null}", PROTO_E_BAD_REQUEST, "type");
    expect_error("{\"type\":[\"ping\"]}", PROTO_E_BAD_REQUEST, "type");
    expect_error("{\"type\":{\"ping\":1}}", PROTO_E_BAD_REQUEST, "type");

    expect_error_len("{\"type\":true,\"id\":8}", strlen("{\"type\":true,\"id\":8}"), &lim,
                     PROTO_E_BAD_REQUEST, "type", &err);
    assert_true(err.re.has_id);
    assert_int_equal(err.re.id, 8);
}

/* A quoted piece of client text never cuts a character: the error must stay sendable. */
/* Valid JSON that no request can carry is a bad_request naming the field, not bad_json. */
static void test_proto_nul_and_huge_numbers_are_bad_requests(void **state)
{
    static const char nul_text[] =
        "{\"type\":\"say\",\"id\":3,\"room\":\"x\",\"text\":\"a\\u0000b\"}";
    static const char nul_name[] = "{\"type\":\"hello\",\"name\":\"a\\u0000\"}";
    static const char huge_id[] = "{\"type\":\"ping\",\"id\":99999999999999999999}";
    struct proto_error err;

    (void)state;
    expect_error_len(nul_text, strlen(nul_text), &lim, PROTO_E_BAD_REQUEST, "text", &err);
    assert_true(err.re.has_id);
    assert_int_equal(err.re.id, 3);
    expect_error_len(nul_name, strlen(nul_name), &lim, PROTO_E_BAD_REQUEST, "name", &err);
    expect_error_len(huge_id, strlen(huge_id), &lim, PROTO_E_BAD_REQUEST, NULL, &err);
    assert_false(err.re.has_id);
}

static void test_proto_error_messages_stay_valid_utf8(void **state)
{
    char buf[512], *type;
    struct proto_error err;
    json_t *j;

    (void)state;
    /* 39 ASCII bytes, then a 2-byte letter straddling the 40-byte quote limit */
    snprintf(buf, sizeof(buf), "{\"type\":\"%s\u00e4\"}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    expect_error_len(buf, strlen(buf), &lim, PROTO_E_UNKNOWN_TYPE, "type", &err);
    j = proto_error_json(&err);
    assert_non_null(j);
    json_decref(j);

    /* a message cut by the buffer's own size ends on a character boundary too */
    type = repeat("\xd1\x8f", 100); /* 'я' x 100 */
    proto_error_set(&err, PROTO_E_BAD_REQUEST, "x", "%s", type);
    assert_true(strlen(err.message) < sizeof(err.message));
    /* whole characters kept; the half one at the cut replaced */
    assert_int_equal(strncmp(err.message, type, strlen(err.message) - 1), 0);
    assert_int_equal(err.message[strlen(err.message) - 1], '?');
    j = proto_error_json(&err);
    assert_non_null(j);
    json_decref(j);
    free(type);

    /* a parse error quoting half a character in the middle of the message (fuzzer find) */
    {
        static const char bad[] = "{\"type\":\"ping\",\"id\":1,\"x\":\"\\u000\xd0\xaf\"}";
        struct proto_req req;
        assert_int_equal(proto_decode(bad, sizeof(bad) - 1, &lim, &req, &err), -1);
        assert_int_equal(err.code, PROTO_E_BAD_JSON);
        j = proto_error_json(&err);
        assert_non_null(j);
        json_decref(j);
    }
    proto_error_set(&err, PROTO_E_BAD_JSON, NULL, "near '%s' and after", "\xd0 \xff\xed\xa0\x80x");
    assert_string_equal(err.message, "near '? ????x' and after");

    assert_int_equal(proto_clip("abc", 10), 3);
    assert_int_equal(proto_clip("abc", 2), 2);
    assert_int_equal(proto_clip("a\xd1\x8f", 2), 1);
    assert_int_equal(proto_clip("a\xd1\x8f", 3), 3);
}

static void test_proto_unknown_type_keeps_id(void **state)
{
    static const char *const bad[] = {
        "{\"type\":\"shout\",\"id\":42}", "{\"type\":\"PING\",\"id\":42}",
        "{\"type\":\"\",\"id\":42}",      "{\"type\":\"ping \",\"id\":42}",
        "{\"type\":\"ok\",\"id\":42}",    "{\"type\":\"welcome\",\"id\":42}",
    };
    struct proto_error err;
    char *got;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_error_len(bad[i], strlen(bad[i]), &lim, PROTO_E_UNKNOWN_TYPE, "type", &err);
        assert_true(err.re.has_id);
        assert_int_equal(err.re.id, 42);
    }

    /* on the wire, `field` is only for bad_request */
    expect_error_len(bad[0], strlen(bad[0]), &lim, PROTO_E_UNKNOWN_TYPE, "type", &err);
    json_t *j = proto_error_json(&err);
    assert_non_null(j);
    assert_null(json_object_get(j, "field"));
    assert_string_equal(json_string_value(json_object_get(j, "code")), "unknown_type");
    assert_int_equal(json_integer_value(json_object_get(j, "re")), 42);
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "shout"));
    json_decref(j);

    /* a long type is quoted only in part */
    char *type = repeat("x", 100), buf[256];
    snprintf(buf, sizeof(buf), "{\"type\":\"%s\"}", type);
    expect_error_len(buf, strlen(buf), &lim, PROTO_E_UNKNOWN_TYPE, "type", &err);
    assert_false(err.re.has_id);
    got = strchr(err.message, 'x');
    assert_non_null(got);
    assert_int_equal(strspn(got, "x"), 40);
    free(type);
}

/* ---- bad_request: each request's fields ---- */

static void test_proto_missing_or_wrong_fields_name_the_field(void **state)
{
    static const struct {
        const char *msg, *field;
    } cases[] = {
        {"{\"type\":\"hello\"}", "name"},
        {"{\"type\":\"hello\",\"name\":5}", "name"},
        {"{\"type\":\"hello\",\"name\":null}", "name"},
        {"{\"type\":\"hello\",\"nick\":\"alice\"}", "name"},
        {"{\"type\":\"create\"}", "name"},
        {"{\"type\":\"create\",\"name\":[\"x\"]}", "name"},
        {"{\"type\":\"create\",\"max\":5}", "name"},
        {"{\"type\":\"join\"}", "room"},
        {"{\"type\":\"join\",\"room\":1}", "room"},
        {"{\"type\":\"join\",\"room\":\"\"}", "room"},
        {"{\"type\":\"leave\"}", "room"},
        {"{\"type\":\"leave\",\"room\":null}", "room"},
        {"{\"type\":\"leave\",\"room\":\"\"}", "room"},
        {"{\"type\":\"say\"}", "room"},
        {"{\"type\":\"say\",\"text\":\"hi\"}", "room"},
        {"{\"type\":\"say\",\"room\":\"\",\"text\":\"hi\"}", "room"},
        {"{\"type\":\"say\",\"room\":{},\"text\":\"hi\"}", "room"},
        {"{\"type\":\"say\",\"room\":\"lobby\"}", "text"},
        {"{\"type\":\"say\",\"room\":\"lobby\",\"text\":5}", "text"},
        {"{\"type\":\"say\",\"room\":\"lobby\",\"text\":\"\"}", "text"},
        {"{\"type\":\"whisper\"}", "to"},
        {"{\"type\":\"whisper\",\"text\":\"hi\"}", "to"},
        {"{\"type\":\"whisper\",\"to\":false,\"text\":\"hi\"}", "to"},
        {"{\"type\":\"whisper\",\"to\":\"bob\"}", "text"},
        {"{\"type\":\"whisper\",\"to\":\"bob\",\"text\":[\"hi\"]}", "text"},
        {"{\"type\":\"whisper\",\"to\":\"bob\",\"text\":\"\"}", "text"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i].msg, PROTO_E_BAD_REQUEST, cases[i].field);
}

static void test_proto_hello_name_rules(void **state)
{
    static const char *const good[] = {"a",
                                       "Z",
                                       "0",
                                       "_",
                                       "-",
                                       "alice",
                                       "A_b-9",
                                       "__--__",
                                       "\xc3\xa4",
                                       "b\xc3\xa4r",
                                       "\xd0\xaf\xd0\xbd"}; /* ä, bär, Ян */
    static const char *const bad[] = {
        "",    "al ice", " alice", "alice ",      "a.b",
        "a@b", "a/b",    "a\\tb",  "\xd0\xb0lice"}; /* Cyrillic а in a Latin name */
    struct proto_req req;
    char buf[256];
    char *name;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"type\":\"hello\",\"name\":\"%s\"}", good[i]);
        expect_ok(buf, PROTO_HELLO, &req);
        assert_string_equal(req.name, good[i]);
        proto_req_free(&req);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"type\":\"hello\",\"name\":\"%s\"}", bad[i]);
        expect_error(buf, PROTO_E_BAD_REQUEST, "name");
    }
    /* a decomposed name (e + combining acute) is replaced by its NFC form (é) */
    expect_ok("{\"type\":\"hello\",\"name\":\"caf\x65\xcc\x81\"}", PROTO_HELLO, &req);
    assert_string_equal(req.name, "caf\xc3\xa9");
    proto_req_free(&req);

    name = repeat("a", 24);
    snprintf(buf, sizeof(buf), "{\"type\":\"hello\",\"name\":\"%s\"}", name);
    expect_ok(buf, PROTO_HELLO, &req);
    assert_int_equal(strlen(req.name), 24);
    proto_req_free(&req);
    free(name);

    name = repeat("a", 25);
    snprintf(buf, sizeof(buf), "{\"type\":\"hello\",\"name\":\"%s\"}", name);
    expect_error(buf, PROTO_E_BAD_REQUEST, "name");
    free(name);
}

static void test_proto_valid_name_uses_given_max(void **state)
{
    struct proto_limits small = lim;

    (void)state;
    assert_true(proto_valid_name("abc", 3));
    assert_false(proto_valid_name("abcd", 3));
    assert_true(proto_valid_name("a", 1));
    assert_false(proto_valid_name("ab", 1));
    assert_false(proto_valid_name("", 3));
    assert_false(proto_valid_name("a b", 3));

    small.name_max = 3;
    expect_error_lim("{\"type\":\"hello\",\"name\":\"abcd\"}", &small, PROTO_E_BAD_REQUEST, "name");
    struct proto_req req;
    expect_ok_lim("{\"type\":\"hello\",\"name\":\"abc\"}", &small, PROTO_HELLO, &req);
    proto_req_free(&req);
}

static void test_proto_room_name_rules(void **state)
{
    static const char *const good[] = {
        "Quiz night",
        "  a  ",
        "x",
        "\xe6\x97\xa5\xe6\x9c\xac", /* 日本 */
        "\xf0\x9f\x8e\xb2 dice",    /* emoji */
        "caf\xc3\xa9",              /* café */
        "<b>not markup</b>",
    };
    static const char *const bad[] = {
        "",
        " ",
        "   ",
        "\\t",
        "a\\tb",
        "a\\nb",
        "a\\u0007b",
        "a\\u001fb",
        "a\\u007fb",
        "a\\u0085b",      /* C1 control */
        "a\\u2028b",      /* line separator */
        "\\u3000\\u3000", /* ideographic space only */
        "\\u00a0",        /* no-break space only */
        " \\u00a0\\u3000 ",
    };
    struct proto_req req;
    char buf[1024];
    char *name;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"type\":\"create\",\"name\":\"%s\"}", good[i]);
        expect_ok(buf, PROTO_CREATE, &req);
        assert_string_equal(req.name, good[i]);
        proto_req_free(&req);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"type\":\"create\",\"name\":\"%s\"}", bad[i]);
        expect_error(buf, PROTO_E_BAD_REQUEST, "name");
    }

    /* the limit counts code points: 48 Cyrillic letters are 96 bytes */
    name = repeat("\xd0\xb6", 48);
    snprintf(buf, sizeof(buf), "{\"type\":\"create\",\"name\":\"%s\"}", name);
    expect_ok(buf, PROTO_CREATE, &req);
    assert_string_equal(req.name, name);
    assert_int_equal(proto_utf8_len(req.name), 48);
    proto_req_free(&req);
    free(name);

    name = repeat("\xd0\xb6", 49);
    snprintf(buf, sizeof(buf), "{\"type\":\"create\",\"name\":\"%s\"}", name);
    expect_error(buf, PROTO_E_BAD_REQUEST, "name");
    free(name);

    name = repeat("a", 49);
    snprintf(buf, sizeof(buf), "{\"type\":\"create\",\"name\":\"%s\"}", name);
    expect_error(buf, PROTO_E_BAD_REQUEST, "name");
    free(name);
}

static void test_proto_create_max_rules(void **state)
{
    static const char *const bad[] = {"1",   "0",     "-1",   "501",  "100000000000", "2.0",
                                      "2.5", "\"5\"", "null", "true", "[5]",          "{}"};
    struct proto_limits small = lim;
    struct proto_req req;
    char buf[256];

    (void)state;
    expect_ok("{\"type\":\"create\",\"name\":\"a\",\"max\":2}", PROTO_CREATE, &req);
    assert_true(req.has_max);
    assert_int_equal(req.max, 2);
    proto_req_free(&req);

    expect_ok("{\"type\":\"create\",\"name\":\"a\",\"max\":500}", PROTO_CREATE, &req);
    assert_true(req.has_max);
    assert_int_equal(req.max, 500);
    proto_req_free(&req);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"type\":\"create\",\"name\":\"a\",\"max\":%s}", bad[i]);
        expect_error(buf, PROTO_E_BAD_REQUEST, "max");
    }

    /* the upper bound is the limit passed in */
    small.room_max_limit = 10;
    expect_ok_lim("{\"type\":\"create\",\"name\":\"a\",\"max\":10}", &small, PROTO_CREATE, &req);
    assert_int_equal(req.max, 10);
    proto_req_free(&req);
    expect_error_lim("{\"type\":\"create\",\"name\":\"a\",\"max\":11}", &small, PROTO_E_BAD_REQUEST,
                     "max");

    /* name is checked before max */
    expect_error("{\"type\":\"create\",\"name\":\"\",\"max\":1}", PROTO_E_BAD_REQUEST, "name");
}

/* Builds a say with `text` (already JSON-escaped) and decodes it. */
static void say_text(const char *text, const struct proto_limits *l, bool ok)
{
    size_t len = strlen(text) + 64;
    char *buf = malloc(len);
    struct proto_req req;

    assert_non_null(buf);
    snprintf(buf, len, "{\"type\":\"say\",\"room\":\"lobby\",\"text\":\"%s\"}", text);
    if (ok) {
        expect_ok_lim(buf, l, PROTO_SAY, &req);
        proto_req_free(&req);
    } else {
        expect_error_lim(buf, l, PROTO_E_BAD_REQUEST, "text");
    }
    free(buf);
}

static void test_proto_text_length_counts_code_points(void **state)
{
    static const char *const units[] = {
        "a", "\xc3\xa9",    /* é: 2 bytes */
        "\xe6\x97\xa5",     /* 日: 3 bytes */
        "\xf0\x9f\x98\x80", /* 😀: 4 bytes */
    };
    struct proto_limits small = lim;
    char *text;

    (void)state;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        text = repeat(units[i], 1000);
        say_text(text, &lim, true);
        free(text);
        text = repeat(units[i], 1001);
        say_text(text, &lim, false);
        free(text);
    }
    say_text("x", &lim, true);

    small.text_max = 5;
    say_text("12345", &small, true);
    say_text("123456", &small, false);
    say_text("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
             &small, true);
}

static void test_proto_text_blank_rules(void **state)
{
    struct proto_req req;

    (void)state;
    say_text(" ", &lim, false);
    say_text("     ", &lim, false);
    say_text("\\n", &lim, false);
    say_text(" \\t\\r\\n ", &lim, false);
    say_text("\\u3000", &lim, false);
    say_text("\\u00a0", &lim, false);
    say_text("\\u3000 \\u00a0\\u2003\\n", &lim, false);
    say_text("\xe3\x80\x80\xc2\xa0", &lim, false); /* the same two, raw UTF-8 */

    say_text("a\\nb", &lim, true);
    say_text(" hi ", &lim, true);
    say_text("\\u3000x\\u3000", &lim, true);
    say_text("line one\\r\\nline two\\ttab", &lim, true);

    /* newlines are kept as sent */
    expect_ok("{\"type\":\"whisper\",\"to\":\"bob\",\"text\":\"a\\nb\"}", PROTO_WHISPER, &req);
    assert_string_equal(req.text, "a\nb");
    proto_req_free(&req);
    expect_error("{\"type\":\"whisper\",\"to\":\"bob\",\"text\":\"\\u3000\"}", PROTO_E_BAD_REQUEST,
                 "text");
}

/* ---- codes and names ---- */

static void test_proto_err_code_strings(void **state)
{
    static const struct {
        enum proto_err code;
        const char *s;
    } codes[] = {
        {PROTO_E_BAD_JSON, "bad_json"},         {PROTO_E_BAD_REQUEST, "bad_request"},
        {PROTO_E_UNKNOWN_TYPE, "unknown_type"}, {PROTO_E_UNAUTHORIZED, "unauthorized"},
        {PROTO_E_NAME_TAKEN, "name_taken"},     {PROTO_E_NO_SUCH_ROOM, "no_such_room"},
        {PROTO_E_NO_SUCH_USER, "no_such_user"}, {PROTO_E_ROOM_FULL, "room_full"},
        {PROTO_E_NOT_IN_ROOM, "not_in_room"},   {PROTO_E_NOT_ALLOWED, "not_allowed"},
        {PROTO_E_RATE_LIMITED, "rate_limited"}, {PROTO_E_SERVER_BUSY, "server_busy"},
        {PROTO_E_INTERNAL, "internal"},         {PROTO_E_BAD_CREDENTIALS, "bad_credentials"},
        {PROTO_E_GAME_STATE, "game_state"},
    };

    (void)state;
    assert_int_equal(sizeof(codes) / sizeof(codes[0]), PROTO_E_COUNT - 1);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        assert_string_equal(proto_err_code(codes[i].code), codes[i].s);
    assert_string_equal(proto_err_code(PROTO_E_COUNT), "internal");
    assert_string_equal(proto_err_code((enum proto_err) - 1), "internal");
}

static void test_proto_type_names(void **state)
{
    (void)state;
    assert_string_equal(proto_type_name(PROTO_HELLO), "hello");
    assert_string_equal(proto_type_name(PROTO_ROOMS), "rooms");
    assert_string_equal(proto_type_name(PROTO_CREATE), "create");
    assert_string_equal(proto_type_name(PROTO_JOIN), "join");
    assert_string_equal(proto_type_name(PROTO_LEAVE), "leave");
    assert_string_equal(proto_type_name(PROTO_SAY), "say");
    assert_string_equal(proto_type_name(PROTO_WHISPER), "whisper");
    assert_string_equal(proto_type_name(PROTO_PING), "ping");
    assert_string_equal(proto_type_name(PROTO_HISTORY), "history");
    assert_string_equal(proto_type_name(PROTO_REGISTER), "register");
    assert_string_equal(proto_type_name(PROTO_LOGIN), "login");
    assert_string_equal(proto_type_name(PROTO_RESUME), "resume");
    assert_string_equal(proto_type_name(PROTO_START), "start");
    assert_string_equal(proto_type_name(PROTO_ANSWER), "answer");
    assert_string_equal(proto_type_name(PROTO_LEADERBOARD), "leaderboard");
    assert_string_equal(proto_type_name(PROTO_TYPE_COUNT), "?");
}

static void test_proto_history_fields(void **state)
{
    struct proto_req req;
    struct proto_error err;
    const char *s;

    (void)state;
    expect_ok("{\"type\":\"history\",\"room\":\"lobby\"}", PROTO_HISTORY, &req);
    assert_string_equal(req.room, "lobby");
    assert_false(req.has_before);
    assert_int_equal(req.limit, 0);
    proto_req_free(&req);
    expect_ok("{\"type\":\"history\",\"room\":\"r1\",\"before\":9,\"limit\":200}", PROTO_HISTORY,
              &req);
    assert_true(req.has_before);
    assert_int_equal(req.before, 9);
    assert_int_equal(req.limit, 200);
    proto_req_free(&req);
    s = "{\"type\":\"history\",\"room\":\"r1\",\"limit\":201}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "limit", &err);
    s = "{\"type\":\"history\",\"room\":\"r1\",\"limit\":0}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "limit", &err);
    s = "{\"type\":\"history\",\"room\":\"r1\",\"before\":0}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "before", &err);
    s = "{\"type\":\"history\",\"room\":\"r1\",\"before\":\"9\"}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "before", &err);
    s = "{\"type\":\"history\",\"room\":\"\"}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "room", &err);
}

static void test_proto_quiz_fields(void **state)
{
    struct proto_req req;
    struct proto_error err;
    const char *s;

    (void)state;
    expect_ok("{\"type\":\"create\",\"name\":\"Q\",\"game\":\"quiz\",\"rounds\":50,"
              "\"seconds\":1}",
              PROTO_CREATE, &req);
    assert_string_equal(req.game, "quiz");
    assert_int_equal(req.rounds, 50);
    assert_int_equal(req.seconds, 1);
    proto_req_free(&req);
    expect_ok("{\"type\":\"create\",\"name\":\"Chat\"}", PROTO_CREATE, &req);
    assert_null(req.game);
    assert_int_equal(req.rounds, 0);
    proto_req_free(&req);
    s = "{\"type\":\"create\",\"name\":\"Q\",\"game\":\"chess\"}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "game", &err);
    s = "{\"type\":\"create\",\"name\":\"Q\",\"game\":\"quiz\",\"rounds\":51}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "rounds", &err);
    s = "{\"type\":\"create\",\"name\":\"Q\",\"game\":\"quiz\",\"seconds\":0}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "seconds", &err);

    expect_ok("{\"type\":\"answer\",\"room\":\"r1\",\"round\":3,\"choice\":3}", PROTO_ANSWER, &req);
    assert_int_equal(req.round, 3);
    assert_int_equal(req.choice, 3);
    proto_req_free(&req);
    s = "{\"type\":\"answer\",\"room\":\"r1\",\"round\":1,\"choice\":4}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "choice", &err);
    s = "{\"type\":\"answer\",\"room\":\"r1\",\"choice\":0}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "round", &err);
    s = "{\"type\":\"start\"}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "room", &err);
    expect_ok("{\"type\":\"leaderboard\",\"limit\":100}", PROTO_LEADERBOARD, &req);
    assert_int_equal(req.limit, 100);
    proto_req_free(&req);
    s = "{\"type\":\"leaderboard\",\"limit\":0}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "limit", &err);
}

static void test_proto_account_fields(void **state)
{
    struct proto_req req;
    struct proto_error err;
    const char *s;

    (void)state;
    expect_ok("{\"type\":\"register\",\"name\":\"ann\",\"password\":\"12345678\"}", PROTO_REGISTER,
              &req);
    assert_string_equal(req.name, "ann");
    assert_string_equal(req.password, "12345678");
    assert_int_equal(req.password_len, 8);
    proto_req_free(&req);
    expect_ok("{\"type\":\"login\",\"name\":\"ann\",\"password\":\"\u044f\u044f\u044f\u044f\"}",
              PROTO_LOGIN, &req); /* 4 characters, 8 bytes */
    assert_int_equal(req.password_len, 8);
    proto_req_free(&req);
    s = "{\"type\":\"login\",\"name\":\"ann\",\"password\":\"1234567\"}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "password", &err);
    s = "{\"type\":\"register\",\"name\":\"a b\",\"password\":\"12345678\"}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "name", &err);
    s = "{\"type\":\"register\",\"name\":\"ann\"}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "password", &err);
    expect_ok("{\"type\":\"resume\",\"token\":\"v1.x\"}", PROTO_RESUME, &req);
    assert_string_equal(req.token, "v1.x");
    proto_req_free(&req);
    s = "{\"type\":\"resume\",\"token\":\"\"}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "token", &err);
    s = "{\"type\":\"resume\",\"token\":5}";
    expect_error_len(s, strlen(s), &lim, PROTO_E_BAD_REQUEST, "token", &err);
}

/* ---- encoders ---- */

static void test_proto_ok_reply(void **state)
{
    struct proto_req req = {0};

    (void)state;
    expect_dump(proto_ok(&req), "{\"type\":\"ok\",\"re\":null}");
    req.re.has_id = true;
    req.re.id = 7;
    expect_dump(proto_ok(&req), "{\"type\":\"ok\",\"re\":7}");
    req.re.id = 0;
    expect_dump(proto_ok(&req), "{\"type\":\"ok\",\"re\":0}");
    req.re.id = -3;
    expect_dump(proto_ok(&req), "{\"type\":\"ok\",\"re\":-3}");
    req.re.id = INT64_MAX;
    expect_dump(proto_ok(&req), "{\"type\":\"ok\",\"re\":9223372036854775807}");
}

static void test_proto_ok_reply_of_decoded_request(void **state)
{
    struct proto_req req;

    (void)state;
    expect_ok("{\"type\":\"ping\",\"id\":12}", PROTO_PING, &req);
    expect_dump(proto_ok(&req), "{\"type\":\"ok\",\"re\":12}");
    proto_req_free(&req);
    expect_ok("{\"type\":\"ping\"}", PROTO_PING, &req);
    expect_dump(proto_ok(&req), "{\"type\":\"ok\",\"re\":null}");
    proto_req_free(&req);
}

static void test_proto_error_json_bad_request_has_field(void **state)
{
    struct proto_error err = {.re = {.has_id = true, .id = 3}};

    (void)state;
    proto_error_set(&err, PROTO_E_BAD_REQUEST, "name", "bad %s %d", "name", 24);
    assert_int_equal(err.code, PROTO_E_BAD_REQUEST);
    assert_string_equal(err.field, "name");
    assert_string_equal(err.message, "bad name 24");
    expect_dump(proto_error_json(&err), "{\"type\":\"error\",\"re\":3,\"code\":\"bad_request\","
                                        "\"message\":\"bad name 24\",\"field\":\"name\"}");

    /* bad_request without a field has no field key */
    err.re.has_id = false;
    proto_error_set(&err, PROTO_E_BAD_REQUEST, NULL, "not an object");
    expect_dump(proto_error_json(&err), "{\"type\":\"error\",\"re\":null,\"code\":\"bad_request\","
                                        "\"message\":\"not an object\"}");
}

static void test_proto_error_json_field_only_for_bad_request(void **state)
{
    struct proto_error err = {.re = {.has_id = true, .id = 4}};

    (void)state;
    proto_error_set(&err, PROTO_E_NO_SUCH_ROOM, "room", "no room '%s'", "nowhere");
    expect_dump(proto_error_json(&err), "{\"type\":\"error\",\"re\":4,\"code\":\"no_such_room\","
                                        "\"message\":\"no room 'nowhere'\"}");

    err.re.has_id = false;
    proto_error_set(&err, PROTO_E_RATE_LIMITED, NULL, "slow down");
    expect_dump(proto_error_json(&err), "{\"type\":\"error\",\"re\":null,\"code\":\"rate_limited\","
                                        "\"message\":\"slow down\"}");
}

static void test_proto_error_json_of_decode_errors(void **state)
{
    struct proto_req req;
    struct proto_error err;
    json_t *j;

    (void)state;
    assert_int_equal(decode("{\"type\":\"ping\"", &req, &err), -1);
    j = proto_error_json(&err);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 4);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "error");
    assert_true(json_is_null(json_object_get(j, "re")));
    assert_string_equal(json_string_value(json_object_get(j, "code")), "bad_json");
    assert_true(json_is_string(json_object_get(j, "message")));
    json_decref(j);

    assert_int_equal(decode("{\"type\":\"join\",\"id\":9,\"room\":7}", &req, &err), -1);
    j = proto_error_json(&err);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "re")), 9);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "bad_request");
    assert_string_equal(json_string_value(json_object_get(j, "field")), "room");
    json_decref(j);
}

static void test_proto_error_set_truncates_message(void **state)
{
    struct proto_error err = {0};
    char *longs = repeat("m", 500);

    (void)state;
    proto_error_set(&err, PROTO_E_INTERNAL, NULL, "%s", longs);
    assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
    assert_null(err.field);
    free(longs);
}

static void test_proto_welcome(void **state)
{
    json_t *limits = json_pack("{s:i, s:i}", "max_message", 8192, "name_max", 24);

    (void)state;
    assert_non_null(limits);
    /* `limits` is stolen: freeing the welcome frees it (ASan checks) */
    expect_dump(proto_welcome("parlor/0.1.0", limits),
                "{\"type\":\"welcome\",\"server\":\"parlor/0.1.0\",\"protocol\":1,"
                "\"limits\":{\"max_message\":8192,\"name_max\":24}}");
}

static void test_proto_room_obj(void **state)
{
    (void)state;
    expect_dump(proto_room_obj("r1", "Quiz night", NULL, 1, 12),
                "{\"id\":\"r1\",\"name\":\"Quiz night\",\"game\":null,\"members\":1,\"max\":12}");
    expect_dump(proto_room_obj("lobby", "Lobby", NULL, 0, 20000),
                "{\"id\":\"lobby\",\"name\":\"Lobby\",\"game\":null,\"members\":0,\"max\":20000}");
    expect_dump(proto_room_obj("r9", "Trivia", "quiz", 3, 4),
                "{\"id\":\"r9\",\"name\":\"Trivia\",\"game\":\"quiz\",\"members\":3,\"max\":4}");
}

static void test_proto_ev_chat(void **state)
{
    (void)state;
    expect_dump(proto_ev_chat("lobby", "bob", "hi", 1795400000000LL, 1),
                "{\"type\":\"chat\",\"room\":\"lobby\",\"from\":\"bob\",\"text\":\"hi\","
                "\"ts\":1795400000000,\"seq\":1}");
    expect_dump(proto_ev_chat("r2", "alice", "hello <b>all</b>\n\xc3\xa4", 1795400000123LL, 42),
                "{\"type\":\"chat\",\"room\":\"r2\",\"from\":\"alice\","
                "\"text\":\"hello <b>all</b>\\n\xc3\xa4\",\"ts\":1795400000123,\"seq\":42}");
}

static void test_proto_ev_member(void **state)
{
    (void)state;
    expect_dump(proto_ev_member("joined", "lobby", "alice"),
                "{\"type\":\"joined\",\"room\":\"lobby\",\"name\":\"alice\"}");
    expect_dump(proto_ev_member("left", "r1", "bob"),
                "{\"type\":\"left\",\"room\":\"r1\",\"name\":\"bob\"}");
}

static void test_proto_ev_whisper(void **state)
{
    (void)state;
    expect_dump(proto_ev_whisper("alice", "psst", 1795400000200LL),
                "{\"type\":\"whisper\",\"from\":\"alice\",\"text\":\"psst\",\"ts\":1795400000200}");
}

static void test_proto_utf8_len(void **state)
{
    (void)state;
    assert_int_equal(proto_utf8_len(""), 0);
    assert_int_equal(proto_utf8_len("abc"), 3);
    assert_int_equal(proto_utf8_len("\xc3\xa9"), 1);
    assert_int_equal(proto_utf8_len("\xe6\x97\xa5\xe6\x9c\xac"), 2);
    assert_int_equal(proto_utf8_len("\xf0\x9f\x98\x80"), 1);
    assert_int_equal(proto_utf8_len("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80z"), 5);
    assert_int_equal(proto_utf8_len("\xd0\xb6\xd0\xb6\xd0\xb6"), 3);
}

static void test_proto_utf8_valid(void **state)
{
    (void)state;
    assert_true(proto_utf8_valid("", 0));
    assert_true(proto_utf8_valid("plain {\"json\"}", 15));
    assert_true(
        proto_utf8_valid("\xd1\x91\xd0\xb6 \xe2\x82\xac \xf0\x9f\x92\xac", 13)); /* ёж € 💬 */
    assert_true(proto_utf8_valid("a\0b", 3));              /* U+0000 is text */
    assert_false(proto_utf8_valid("\xff\xfe", 2));         /* never UTF-8 */
    assert_false(proto_utf8_valid("\xc3\x28", 2));         /* bad continuation */
    assert_false(proto_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(proto_utf8_valid("\xed\xa0\x80", 3));     /* a surrogate */
    assert_false(proto_utf8_valid("\xf4\x90\x80\x80", 4)); /* beyond U+10FFFF */
    /* a sequence cut by the end of the buffer, even if the next byte in memory would finish it */
    assert_false(proto_utf8_valid("\xd1\x91", 1));
    assert_false(proto_utf8_valid("ok\xe2\x82\xac", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto_hello_decodes_name),
        cmocka_unit_test(test_proto_rooms_and_ping_have_no_fields),
        cmocka_unit_test(test_proto_create_decodes_name_and_max),
        cmocka_unit_test(test_proto_join_and_leave_decode_room),
        cmocka_unit_test(test_proto_say_decodes_room_and_text),
        cmocka_unit_test(test_proto_whisper_decodes_to_and_text),
        cmocka_unit_test(test_proto_unknown_fields_are_ignored),
        cmocka_unit_test(test_proto_decode_honours_len),
        cmocka_unit_test(test_proto_id_is_echoed),
        cmocka_unit_test(test_proto_bad_id_is_bad_request),
        cmocka_unit_test(test_proto_bad_json),
        cmocka_unit_test(test_proto_nul_byte_in_message_is_bad_json),
        cmocka_unit_test(test_proto_duplicate_keys_are_bad_json),
        cmocka_unit_test(test_proto_non_object_is_bad_request_without_field),
        cmocka_unit_test(test_proto_bad_type_field),
        cmocka_unit_test(test_proto_unknown_type_keeps_id),
        cmocka_unit_test(test_proto_error_messages_stay_valid_utf8),
        cmocka_unit_test(test_proto_nul_and_huge_numbers_are_bad_requests),
        cmocka_unit_test(test_proto_missing_or_wrong_fields_name_the_field),
        cmocka_unit_test(test_proto_hello_name_rules),
        cmocka_unit_test(test_proto_valid_name_uses_given_max),
        cmocka_unit_test(test_proto_room_name_rules),
        cmocka_unit_test(test_proto_create_max_rules),
        cmocka_unit_test(test_proto_text_length_counts_code_points),
        cmocka_unit_test(test_proto_text_blank_rules),
        cmocka_unit_test(test_proto_err_code_strings),
        cmocka_unit_test(test_proto_type_names),
        cmocka_unit_test(test_proto_history_fields),
        cmocka_unit_test(test_proto_account_fields),
        cmocka_unit_test(test_proto_quiz_fields),
        cmocka_unit_test(test_proto_ok_reply),
        cmocka_unit_test(test_proto_ok_reply_of_decoded_request),
        cmocka_unit_test(test_proto_error_json_bad_request_has_field),
        cmocka_unit_test(test_proto_error_json_field_only_for_bad_request),
        cmocka_unit_test(test_proto_error_json_of_decode_errors),
        cmocka_unit_test(test_proto_error_set_truncates_message),
        cmocka_unit_test(test_proto_welcome),
        cmocka_unit_test(test_proto_room_obj),
        cmocka_unit_test(test_proto_ev_chat),
        cmocka_unit_test(test_proto_ev_member),
        cmocka_unit_test(test_proto_ev_whisper),
        cmocka_unit_test(test_proto_utf8_len),
        cmocka_unit_test(test_proto_utf8_valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
