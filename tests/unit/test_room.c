/*
 * Unit tests for server/core/room.c: the rooms registry (explicit and generated ids, ids never
 * reused, lookup, unlinking from the creation-order list), membership in join order, the
 * per-room seq, the history ring (wrap-around, size 0) with its reference counts, and the
 * room object. Sessions are opaque to room.c, so fake pointers stand in for them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "room.h"

#define HISTORY 5

/* Distinct addresses standing in for sessions. */
static int fake_sessions[32];
#define S(i) ((struct session *)&fake_sessions[i])

static int setup_rooms(void **state)
{
    struct rooms *rs = malloc(sizeof(*rs));

    if (!rs)
        return -1;
    rooms_init(rs, HISTORY);
    *state = rs;
    return 0;
}

static int teardown_rooms(void **state)
{
    struct rooms *rs = *state;

    rooms_destroy(rs);
    free(rs);
    return 0;
}

/* The creation-order list must hold exactly `ids`, linked both ways, and match count. */
static void expect_list(const struct rooms *rs, const char *const *ids, int n)
{
    const struct room *r = rs->first;

    assert_int_equal(rs->count, n);
    for (int i = 0; i < n; i++) {
        assert_non_null(r);
        assert_string_equal(r->id, ids[i]);
        assert_ptr_equal(room_find(rs, ids[i]), r);
        if (i == 0)
            assert_null(r->prev);
        else
            assert_ptr_equal(r->prev->next, r);
        r = r->next;
    }
    assert_null(r);
    r = rs->last;
    for (int i = n - 1; i >= 0; i--) {
        assert_non_null(r);
        assert_string_equal(r->id, ids[i]);
        r = r->prev;
    }
    assert_null(r);
    if (!n) {
        assert_null(rs->first);
        assert_null(rs->last);
    }
}

static void expect_members(const struct room *r, const int *idx, int n)
{
    assert_int_equal(r->nmembers, n);
    for (int i = 0; i < n; i++)
        assert_ptr_equal(r->members[i], S(idx[i]));
}

static void test_room_permanent_with_explicit_id(void **state)
{
    struct rooms *rs = *state;
    char name[] = "Lobby";
    struct room *r = room_create(rs, "lobby", name, 20000, true);

    assert_non_null(r);
    name[0] = 'X'; /* the name is copied */
    assert_string_equal(r->id, "lobby");
    assert_string_equal(r->name, "Lobby");
    assert_null(r->kind);
    assert_int_equal(r->max, 20000);
    assert_true(r->permanent);
    assert_int_equal(r->nmembers, 0);
    assert_int_equal(r->last_seq, 0);
    assert_ptr_equal(room_find(rs, "lobby"), r);
    assert_ptr_equal(rs->first, r);
    assert_ptr_equal(rs->last, r);
    assert_int_equal(rs->count, 1);
}

static void test_room_generated_ids(void **state)
{
    struct rooms *rs = *state;
    struct room *lobby = room_create(rs, "lobby", "Lobby", 100, true);
    struct room *a = room_create(rs, NULL, "A", 10, false);
    struct room *b = room_create(rs, NULL, "B", 10, false);
    struct room *c = room_create(rs, NULL, "C", 10, false);

    assert_non_null(lobby);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_string_equal(a->id, "r1");
    assert_string_equal(b->id, "r2");
    assert_string_equal(c->id, "r3");
    assert_false(a->permanent);
    assert_string_equal(b->name, "B");
    assert_int_equal(b->max, 10);
    expect_list(rs, (const char *const[]){"lobby", "r1", "r2", "r3"}, 4);
}

static void test_room_ids_never_reused(void **state)
{
    struct rooms *rs = *state;
    struct room *r1 = room_create(rs, NULL, "one", 2, false);
    struct room *r2 = room_create(rs, NULL, "two", 2, false);
    struct room *r;

    assert_non_null(r1);
    assert_non_null(r2);
    room_destroy(rs, r2);
    r = room_create(rs, NULL, "three", 2, false);
    assert_non_null(r);
    assert_string_equal(r->id, "r3");
    room_destroy(rs, r1);
    r = room_create(rs, NULL, "four", 2, false);
    assert_non_null(r);
    assert_string_equal(r->id, "r4");
    assert_null(room_find(rs, "r1"));
    assert_null(room_find(rs, "r2"));
    expect_list(rs, (const char *const[]){"r3", "r4"}, 2);
}

static void test_room_find(void **state)
{
    struct rooms *rs = *state;
    struct room *lobby = room_create(rs, "lobby", "Lobby", 100, true);
    struct room *r1 = room_create(rs, NULL, "A", 10, false);

    assert_ptr_equal(room_find(rs, "lobby"), lobby);
    assert_ptr_equal(room_find(rs, "r1"), r1);
    assert_null(room_find(rs, "r2"));
    assert_null(room_find(rs, "R1"));
    assert_null(room_find(rs, "r"));
    assert_null(room_find(rs, "r10"));
    assert_null(room_find(rs, "Lobby"));
    assert_null(room_find(rs, ""));
}

static void test_room_find_in_empty_registry(void **state)
{
    struct rooms *rs = *state;

    assert_null(room_find(rs, "lobby"));
    expect_list(rs, NULL, 0);
}

static void test_room_destroy_unlinks(void **state)
{
    struct rooms *rs = *state;
    struct room *r[5];

    for (int i = 0; i < 5; i++) {
        r[i] = room_create(rs, NULL, "x", 10, false);
        assert_non_null(r[i]);
    }
    expect_list(rs, (const char *const[]){"r1", "r2", "r3", "r4", "r5"}, 5);

    room_destroy(rs, r[2]); /* middle */
    expect_list(rs, (const char *const[]){"r1", "r2", "r4", "r5"}, 4);
    assert_null(room_find(rs, "r3"));

    room_destroy(rs, r[0]); /* first */
    expect_list(rs, (const char *const[]){"r2", "r4", "r5"}, 3);

    room_destroy(rs, r[4]); /* last */
    expect_list(rs, (const char *const[]){"r2", "r4"}, 2);

    /* new rooms go at the end of what is left */
    r[0] = room_create(rs, NULL, "y", 10, false);
    assert_non_null(r[0]);
    expect_list(rs, (const char *const[]){"r2", "r4", "r6"}, 3);

    room_destroy(rs, r[1]);
    room_destroy(rs, r[0]);
    expect_list(rs, (const char *const[]){"r4"}, 1);
    room_destroy(rs, r[3]); /* the only one */
    expect_list(rs, NULL, 0);

    /* and the registry works again from empty */
    r[0] = room_create(rs, NULL, "z", 10, false);
    assert_non_null(r[0]);
    expect_list(rs, (const char *const[]){"r7"}, 1);
}

static void test_room_destroy_frees_members_and_history(void **state)
{
    struct rooms *rs = *state;
    struct room *r = room_create(rs, NULL, "full", 10, false);
    json_t *ev = json_pack("{s:s}", "type", "chat");

    assert_non_null(r);
    assert_non_null(ev);
    assert_int_equal(room_add_member(r, S(0), 0), 0);
    assert_int_equal(room_add_member(r, S(1), 0), 0);
    room_history_push(r, ev);
    assert_int_equal(ev->refcount, 2);
    room_destroy(rs, r);
    assert_int_equal(ev->refcount, 1);
    json_decref(ev);
    expect_list(rs, NULL, 0);
}

static void test_room_members_keep_join_order(void **state)
{
    struct rooms *rs = *state;
    struct room *r = room_create(rs, NULL, "m", 50, false);

    assert_non_null(r);
    for (int i = 0; i < 5; i++)
        assert_int_equal(room_add_member(r, S(i), 0), 0);
    expect_members(r, (const int[]){0, 1, 2, 3, 4}, 5);

    room_remove_member(r, S(2)); /* middle */
    expect_members(r, (const int[]){0, 1, 3, 4}, 4);
    room_remove_member(r, S(0)); /* first */
    expect_members(r, (const int[]){1, 3, 4}, 3);
    room_remove_member(r, S(4)); /* last */
    expect_members(r, (const int[]){1, 3}, 2);

    /* a non-member, or one already removed, is ignored */
    room_remove_member(r, S(9));
    room_remove_member(r, S(2));
    expect_members(r, (const int[]){1, 3}, 2);

    /* a member who comes back goes to the end */
    assert_int_equal(room_add_member(r, S(0), 0), 0);
    expect_members(r, (const int[]){1, 3, 0}, 3);

    room_remove_member(r, S(1));
    room_remove_member(r, S(3));
    room_remove_member(r, S(0));
    expect_members(r, NULL, 0);
    room_remove_member(r, S(0)); /* empty room */
    assert_int_equal(r->nmembers, 0);
}

static void test_room_members_grow(void **state)
{
    struct rooms *rs = *state;
    struct room *r = room_create(rs, NULL, "big", 100, false);
    int idx[32];

    assert_non_null(r);
    for (int i = 0; i < 32; i++) {
        assert_int_equal(room_add_member(r, S(i), 0), 0);
        idx[i] = i;
    }
    expect_members(r, idx, 32);
    /* remove every even member; the odd ones keep their order */
    for (int i = 0; i < 32; i += 2)
        room_remove_member(r, S(i));
    for (int i = 0; i < 16; i++)
        idx[i] = 2 * i + 1;
    expect_members(r, idx, 16);
}

/* A join's time comes after the room's creation and every join known, local or remote, so a
 * joiner in the creator's millisecond (or behind on its clock) never ranks before it. */
static void test_room_join_time_after_creation_and_joins(void **state)
{
    struct rooms *rs = *state;
    struct room *r = room_create(rs, NULL, "q", 10, false);
    struct room_remote far = {.name = "far", .node = "n2", .since = 2000};

    assert_non_null(r);
    r->created_ms = 1000;
    assert_int_equal(room_join_time(r, 1500), 1500); /* later: the clock's own time */
    assert_int_equal(room_join_time(r, 1000), 1001); /* the creator's millisecond */
    assert_int_equal(room_join_time(r, 900), 1001);  /* a clock behind the creator's node */

    assert_int_equal(room_add_member(r, S(0), 1000), 0);
    assert_int_equal(room_add_member(r, S(1), 1200), 0);
    assert_int_equal(room_join_time(r, 1100), 1201);
    assert_int_equal(room_remote_add(r, &far), 0);
    assert_int_equal(room_join_time(r, 1999), 2001);
    assert_int_equal(room_join_time(r, 3000), 3000);
}

static void test_room_seq_per_room(void **state)
{
    struct rooms *rs = *state;
    struct room *a = room_create(rs, NULL, "a", 10, false);
    struct room *b = room_create(rs, NULL, "b", 10, false);

    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(room_next_seq(a), 1);
    assert_int_equal(room_next_seq(a), 2);
    assert_int_equal(room_next_seq(a), 3);
    assert_int_equal(room_next_seq(b), 1);
    assert_int_equal(a->last_seq, 3);
    assert_int_equal(b->last_seq, 1);
}

/* Pushes chat events with seq from..to, dropping the caller's references. */
static void push_events(struct room *r, int from, int to)
{
    for (int i = from; i <= to; i++) {
        json_t *ev = json_pack("{s:s, s:i}", "type", "chat", "seq", i);
        assert_non_null(ev);
        room_history_push(r, ev);
        json_decref(ev);
    }
}

/* The history must be the events with seq from..to, oldest first. */
static void expect_history(const struct room *r, int from, int to)
{
    json_t *a = room_history_json(r, r->hist_cap);

    assert_non_null(a);
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), (size_t)(to - from + 1));
    for (int i = from; i <= to; i++) {
        json_t *ev = json_array_get(a, (size_t)(i - from));
        assert_int_equal(json_integer_value(json_object_get(ev, "seq")), i);
    }
    json_decref(a);
}

static void test_room_history_before_wrap(void **state)
{
    struct rooms *rs = *state;
    struct room *r = room_create(rs, NULL, "h", 10, false);

    assert_non_null(r);
    expect_history(r, 1, 0); /* empty */
    push_events(r, 1, 3);
    expect_history(r, 1, 3);
    push_events(r, 4, HISTORY); /* exactly full */
    expect_history(r, 1, HISTORY);
    push_events(r, HISTORY + 1, HISTORY + 1); /* one past: the oldest goes */
    expect_history(r, 2, HISTORY + 1);
}

static void test_room_history_keeps_last_n_after_wrap(void **state)
{
    struct rooms *rs = *state;
    struct room *r = room_create(rs, NULL, "h", 10, false);

    assert_non_null(r);
    push_events(r, 1, HISTORY + 5);
    assert_int_equal(r->hist_count, HISTORY);
    expect_history(r, 6, HISTORY + 5);
    push_events(r, HISTORY + 6, 4 * HISTORY + 2);
    expect_history(r, 3 * HISTORY + 3, 4 * HISTORY + 2);
}

static void test_room_history_refcounts(void **state)
{
    struct rooms *rs = *state;
    struct room *r = room_create(rs, NULL, "h", 10, false);
    json_t *ev[HISTORY + 1], *a;

    assert_non_null(r);
    for (int i = 0; i <= HISTORY; i++) {
        ev[i] = json_pack("{s:i}", "seq", i);
        assert_non_null(ev[i]);
        room_history_push(r, ev[i]);
        assert_int_equal(ev[i]->refcount, 2);
    }
    /* the first was pushed out and released */
    assert_int_equal(ev[0]->refcount, 1);

    /* the history array shares the very same events */
    a = room_history_json(r, r->hist_cap);
    assert_non_null(a);
    assert_int_equal(json_array_size(a), HISTORY);
    for (int i = 1; i <= HISTORY; i++) {
        assert_ptr_equal(json_array_get(a, (size_t)(i - 1)), ev[i]);
        assert_int_equal(ev[i]->refcount, 3);
    }
    json_decref(a);
    for (int i = 1; i <= HISTORY; i++)
        assert_int_equal(ev[i]->refcount, 2);
    for (int i = 0; i <= HISTORY; i++)
        json_decref(ev[i]);
    /* the room still holds the last HISTORY; teardown frees them (ASan checks) */
    expect_history(r, 1, HISTORY);
}

static void test_room_history_cap_zero_keeps_nothing(void **state)
{
    struct rooms rs;
    struct room *r;
    json_t *ev = json_pack("{s:i}", "seq", 1), *a;

    (void)state;
    rooms_init(&rs, 0);
    r = room_create(&rs, NULL, "none", 10, false);
    assert_non_null(r);
    assert_non_null(ev);
    room_history_push(r, ev);
    room_history_push(r, ev);
    assert_int_equal(ev->refcount, 1);
    assert_int_equal(r->hist_count, 0);
    a = room_history_json(r, r->hist_cap);
    assert_non_null(a);
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    json_decref(ev);
    rooms_destroy(&rs);
}

static void test_room_history_cap_one(void **state)
{
    struct rooms rs;
    struct room *r;

    (void)state;
    rooms_init(&rs, 1);
    r = room_create(&rs, NULL, "one", 10, false);
    assert_non_null(r);
    push_events(r, 1, 1);
    expect_history(r, 1, 1);
    push_events(r, 2, 4);
    expect_history(r, 4, 4);
    rooms_destroy(&rs);
}

static void expect_json(json_t *j, const char *want)
{
    char *got;

    assert_non_null(j);
    got = json_dumps(j, JSON_COMPACT);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    json_decref(j);
}

static void test_room_json(void **state)
{
    struct rooms *rs = *state;
    struct room *lobby = room_create(rs, "lobby", "Lobby", 20000, true);
    struct room *r = room_create(rs, NULL, "Quiz night", 12, false);

    assert_non_null(lobby);
    assert_non_null(r);
    expect_json(room_json(lobby),
                "{\"id\":\"lobby\",\"name\":\"Lobby\",\"game\":null,\"members\":0,\"max\":20000}");
    assert_int_equal(room_add_member(r, S(0), 0), 0);
    assert_int_equal(room_add_member(r, S(1), 0), 0);
    expect_json(room_json(r),
                "{\"id\":\"r1\",\"name\":\"Quiz night\",\"game\":null,\"members\":2,\"max\":12}");
    room_remove_member(r, S(0));
    r->kind = &(const struct room_kind){.name = "quiz"};
    expect_json(
        room_json(r),
        "{\"id\":\"r1\",\"name\":\"Quiz night\",\"game\":\"quiz\",\"members\":1,\"max\":12}");
}

static void test_room_destroy_all_with_content(void **state)
{
    struct rooms *rs = *state;

    for (int i = 0; i < 4; i++) {
        struct room *r = room_create(rs, NULL, "r", 10, false);
        assert_non_null(r);
        assert_int_equal(room_add_member(r, S(i), 0), 0);
        push_events(r, 1, 2 * HISTORY);
    }
    rooms_destroy(rs);
    expect_list(rs, NULL, 0);
    assert_null(room_find(rs, "r1"));
    rooms_destroy(rs); /* twice is harmless */
}

static void test_rooms_destroy_zeroed_struct(void **state)
{
    struct rooms rs = {0};

    (void)state;
    rooms_destroy(&rs);
    assert_null(rs.first);
    assert_int_equal(rs.count, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_rooms, teardown_rooms)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_room_permanent_with_explicit_id),
        T(test_room_generated_ids),
        T(test_room_ids_never_reused),
        T(test_room_find),
        T(test_room_find_in_empty_registry),
        T(test_room_destroy_unlinks),
        T(test_room_destroy_frees_members_and_history),
        T(test_room_members_keep_join_order),
        T(test_room_members_grow),
        T(test_room_join_time_after_creation_and_joins),
        T(test_room_seq_per_room),
        T(test_room_history_before_wrap),
        T(test_room_history_keeps_last_n_after_wrap),
        T(test_room_history_refcounts),
        T(test_room_history_cap_zero_keeps_nothing),
        T(test_room_history_cap_one),
        T(test_room_json),
        T(test_room_destroy_all_with_content),
        T(test_rooms_destroy_zeroed_struct),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
