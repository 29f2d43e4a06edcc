/*
 * Tests for the SQL of server/store/store.c against a temporary database migrated as at
 * startup: every store_* function, the worker ones through a worker's connection opened on
 * the test's thread (as a pool worker opens it), the startup ones through a plain connection.
 * Messages and history paging by seq, accounts, games with the leaderboard and ranks, bans,
 * message deletion, a room's reload and the largest room number.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db.h"
#include "store.h"

#include "db_fixture.h"

struct fixture {
    struct db_fixture db;
    struct store *w;       /* a worker's connection, used from the test's thread */
    struct store *startup; /* what main() reads the saved state through */
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[256];

    assert_non_null(fx);
    if (db_fixture_open(&fx->db, 0, 0, err, sizeof(err)))
        fail_msg("%s", err);
    fx->w = store_open(&fx->db.dbc, 0, err, sizeof(err));
    if (!fx->w)
        fail_msg("%s", err);
    fx->startup = store_open(&fx->db.dbc, -1, err, sizeof(err));
    if (!fx->startup)
        fail_msg("%s", err);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    store_close(fx->startup);
    store_close(fx->w);
    db_fixture_close(&fx->db, NULL);
    free(fx);
    return 0;
}

/* The highest "rN" room number with stored messages, as the startup loader reads it. */
static long long max_room(struct fixture *fx)
{
    uint64_t n = 0;

    assert_int_equal(store_load_max_room_number(fx->startup, &n), 0);
    return (long long)n;
}

/* Stores messages 1..n of `room`, sent by "ann" at 1000 + seq, with the text "<room> #<seq>". */
static void insert_range(struct fixture *fx, const char *room, uint64_t first, uint64_t last)
{
    struct store_msg msgs[64];
    char texts[64][32];
    size_t n = 0;

    assert_true(last - first < 64);
    for (uint64_t seq = first; seq <= last; seq++, n++) {
        snprintf(texts[n], sizeof(texts[n]), "%s #%llu", room, (unsigned long long)seq);
        msgs[n] = (struct store_msg){
            .room = room, .seq = seq, .sender = "ann", .text = texts[n], .ts = 1000 + (int64_t)seq};
    }
    assert_int_equal(store_insert_messages(fx->w, msgs, n), 0);
}

static json_int_t seq_at(json_t *events, size_t i)
{
    return json_integer_value(json_object_get(json_array_get(events, i), "seq"));
}

static void test_store_history_pages_back_by_seq_oldest_first(void **state)
{
    struct fixture *fx = *state;
    json_t *page, *ev;

    insert_range(fx, "lobby", 1, 7);
    insert_range(fx, "r2", 1, 3); /* another room's seqs do not mix in */
    assert_int_equal(db_fixture_count(&fx->db, "SELECT count(*) FROM messages"), 10);

    page = store_history(fx->w, "lobby", UINT64_MAX, 3); /* the newest three */
    assert_non_null(page);
    assert_int_equal(json_array_size(page), 3);
    assert_int_equal(seq_at(page, 0), 5);
    assert_int_equal(seq_at(page, 2), 7);
    ev = json_array_get(page, 0);
    assert_string_equal(json_string_value(json_object_get(ev, "type")), "chat");
    assert_string_equal(json_string_value(json_object_get(ev, "room")), "lobby");
    assert_string_equal(json_string_value(json_object_get(ev, "from")), "ann");
    assert_string_equal(json_string_value(json_object_get(ev, "text")), "lobby #5");
    assert_int_equal(json_integer_value(json_object_get(ev, "ts")), 1005);
    json_decref(page);

    page = store_history(fx->w, "lobby", 5, 3); /* the page before it */
    assert_int_equal(json_array_size(page), 3);
    assert_int_equal(seq_at(page, 0), 2);
    assert_int_equal(seq_at(page, 2), 4);
    json_decref(page);

    page = store_history(fx->w, "lobby", 2, 3); /* the last page is short */
    assert_int_equal(json_array_size(page), 1);
    assert_int_equal(seq_at(page, 0), 1);
    json_decref(page);

    page = store_history(fx->w, "nowhere", UINT64_MAX, 3);
    assert_int_equal(json_array_size(page), 0);
    json_decref(page);
}

/* One bad row fails the whole batch: nothing of it is stored, and the error names the row. */
static void test_store_insert_is_one_transaction(void **state)
{
    struct fixture *fx = *state;
    struct store_msg batch[3] = {
        {.room = "lobby", .seq = 2, .sender = "ann", .text = "two", .ts = 2},
        {.room = "lobby", .seq = 1, .sender = "ann", .text = "again", .ts = 3}, /* taken */
        {.room = "lobby", .seq = 3, .sender = "ann", .text = "three", .ts = 4},
    };

    insert_range(fx, "lobby", 1, 1);
    assert_int_equal(store_insert_messages(fx->w, batch, 3), -1);
    assert_non_null(strstr(fx->w->error, "lobby/1"));
    assert_int_equal(db_fixture_count(&fx->db, "SELECT count(*) FROM messages"), 1);
    /* the connection is usable again: the transaction was rolled back */
    assert_int_equal(store_insert_messages(fx->w, batch, 1), 0);
    assert_int_equal(db_fixture_count(&fx->db, "SELECT max(seq) FROM messages"), 2);
}

static int count_user(void *arg, int64_t id, const char *name)
{
    int *n = arg;

    if (!strcmp(name, "Alice") || !strcmp(name, "bob"))
        (*n)++;
    return 0;
}

static void test_store_users_are_created_once_and_found_by_any_case(void **state)
{
    struct fixture *fx = *state;
    const uint8_t hash[4] = {1, 2, 3, 4}, salt[3] = {9, 8, 7};
    struct store_user u;
    int64_t alice = 0, bob = 0, again = 0;
    int seen = 0;

    assert_int_equal(
        store_create_user(fx->w, "Alice", hash, sizeof(hash), salt, sizeof(salt), "p1", 5, &alice),
        0);
    assert_int_equal(
        store_create_user(fx->w, "bob", hash, sizeof(hash), salt, sizeof(salt), "p2", 6, &bob), 0);
    assert_true(alice > 0 && bob > 0 && alice != bob);
    assert_int_equal(
        store_create_user(fx->w, "ALICE", hash, sizeof(hash), salt, sizeof(salt), "p", 7, &again),
        -EEXIST);

    memset(&u, 0, sizeof(u));
    assert_int_equal(store_find_user(fx->w, "alice", &u), 1);
    assert_int_equal(u.id, alice);
    assert_string_equal(u.name, "Alice"); /* as registered */
    assert_int_equal(u.hashlen, sizeof(hash));
    assert_memory_equal(u.hash, hash, sizeof(hash));
    assert_int_equal(u.saltlen, sizeof(salt));
    assert_memory_equal(u.salt, salt, sizeof(salt));
    assert_string_equal(u.params, "p1");
    assert_int_equal(u.banned_until, 0);
    assert_int_equal(store_find_user(fx->w, "carol", &u), 0);

    assert_int_equal(store_load_users(fx->startup, count_user, &seen), 0);
    assert_int_equal(seen, 2);
}

static int64_t make_user(struct fixture *fx, const char *name)
{
    const uint8_t b[1] = {0};
    int64_t id = 0;

    assert_int_equal(store_create_user(fx->w, name, b, 1, b, 1, "p", 1, &id), 0);
    return id;
}

static json_int_t field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void test_store_games_feed_the_leaderboard_and_ranks(void **state)
{
    struct fixture *fx = *state;
    int64_t ann = make_user(fx, "ann"), bob = make_user(fx, "bob"), cy = make_user(fx, "cy");
    struct store_result first[3] = {{.name = "ann", .user_id = ann, .score = 300, .rank = 1},
                                    {.name = "bob", .user_id = bob, .score = 100, .rank = 2},
                                    {.name = "guest", .user_id = 0, .score = 50, .rank = 3}};
    struct store_result second[2] = {{.name = "bob", .user_id = bob, .score = 250, .rank = 1},
                                     {.name = "ann", .user_id = ann, .score = 0, .rank = 2}};
    json_t *board, *me;

    assert_int_equal(store_save_game(fx->w, "r1", 10, 20, 5, first, 3), 0);
    assert_int_equal(db_fixture_count(&fx->db, "SELECT count(*) FROM results"), 3);
    assert_int_equal(
        db_fixture_count(&fx->db, "SELECT count(*) FROM results WHERE user_id IS NULL"), 1);
    assert_int_equal(store_save_game(fx->w, "r1", 30, 40, 5, second, 2), 0);
    assert_int_equal(db_fixture_count(&fx->db, "SELECT count(*) FROM games"), 2);

    /* bob 350 points and one win, ann 300 and one win; cy has played no game */
    board = store_leaderboard(fx->w, 10);
    assert_non_null(board);
    assert_int_equal(json_array_size(board), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(board, 0), "name")),
                        "bob");
    assert_int_equal(field(json_array_get(board, 0), "points"), 350);
    assert_int_equal(field(json_array_get(board, 0), "games"), 2);
    assert_int_equal(field(json_array_get(board, 0), "wins"), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(board, 1), "name")),
                        "ann");
    assert_int_equal(field(json_array_get(board, 1), "points"), 300);
    json_decref(board);
    board = store_leaderboard(fx->w, 1);
    assert_int_equal(json_array_size(board), 1);
    json_decref(board);

    me = store_rank(fx->w, ann);
    assert_int_equal(field(me, "rank"), 2);
    assert_int_equal(field(me, "points"), 300);
    assert_int_equal(field(me, "games"), 2);
    assert_int_equal(field(me, "wins"), 1);
    json_decref(me);
    me = store_rank(fx->w, bob);
    assert_int_equal(field(me, "rank"), 1);
    json_decref(me);
    me = store_rank(fx->w, cy); /* no game yet: no place */
    assert_true(json_is_null(json_object_get(me, "rank")));
    assert_int_equal(field(me, "games"), 0);
    json_decref(me);
    me = store_rank(fx->w, 9999); /* no such account */
    assert_non_null(me);
    assert_true(json_is_null(me));
    json_decref(me);
}

/* A game whose results cannot all be stored leaves nothing behind: no game, no points. */
static void test_store_failed_game_rolls_back(void **state)
{
    struct fixture *fx = *state;
    int64_t ann = make_user(fx, "ann");
    struct store_result twice[2] = {{.name = "ann", .user_id = ann, .score = 300, .rank = 1},
                                    {.name = "ann", .user_id = ann, .score = 10, .rank = 2}};
    json_t *me;

    assert_int_equal(store_save_game(fx->w, "r1", 10, 20, 5, twice, 2), -1);
    assert_int_equal(db_fixture_count(&fx->db, "SELECT count(*) FROM games"), 0);
    me = store_rank(fx->w, ann);
    assert_int_equal(field(me, "points"), 0);
    json_decref(me);
}

struct bans_seen {
    int n;
    char kinds[8][16], targets[8][64];
    int64_t until[8];
};

static int collect_ban(void *arg, const char *kind, const char *target, int64_t until)
{
    struct bans_seen *b = arg;

    assert_true(b->n < 8);
    snprintf(b->kinds[b->n], sizeof(b->kinds[0]), "%s", kind);
    snprintf(b->targets[b->n], sizeof(b->targets[0]), "%s", target);
    b->until[b->n++] = until;
    return 0;
}

static int find_ban(const struct bans_seen *b, const char *kind, const char *target)
{
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->kinds[i], kind) && !strcmp(b->targets[i], target))
            return i;
    return -1;
}

static void test_store_bans_are_added_replaced_removed_and_loaded(void **state)
{
    struct fixture *fx = *state;
    const int64_t now = 1000000;
    struct bans_seen seen = {0};
    int i;

    assert_int_equal(store_ban_add(fx->w, "name", "troll", 0, "spam", now), 0); /* for ever */
    assert_int_equal(store_ban_add(fx->w, "address", "10.0.0.0/24", now + 5000, NULL, now), 0);
    assert_int_equal(store_ban_add(fx->w, "mute", "loud", now - 1, "over", now - 9), 0);
    assert_int_equal(store_ban_add(fx->w, "mute", "shouty", now + 60000, "caps", now), 0);
    /* banning again replaces the row: the later end is the one that comes back */
    assert_int_equal(store_ban_add(fx->w, "address", "10.0.0.0/24", now + 9000, "again", now), 0);
    assert_int_equal(db_fixture_count(&fx->db, "SELECT count(*) FROM bans"), 4);
    assert_int_equal(store_ban_add(fx->w, "nonsense", "x", 0, NULL, now), -1); /* CHECK */

    assert_int_equal(store_load_bans(fx->startup, now, collect_ban, &seen), 0);
    assert_int_equal(seen.n, 3); /* the expired mute stays out */
    assert_true(find_ban(&seen, "mute", "loud") < 0);
    i = find_ban(&seen, "name", "troll");
    assert_true(i >= 0);
    assert_int_equal(seen.until[i], 0);
    i = find_ban(&seen, "address", "10.0.0.0/24");
    assert_true(i >= 0);
    assert_int_equal(seen.until[i], now + 9000);
    i = find_ban(&seen, "mute", "shouty");
    assert_true(i >= 0);
    assert_int_equal(seen.until[i], now + 60000);

    assert_int_equal(store_ban_remove(fx->w, "name", "troll"), 0);
    assert_int_equal(store_ban_remove(fx->w, "name", "nobody"), 0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(store_load_bans(fx->startup, now, collect_ban, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_true(find_ban(&seen, "name", "troll") < 0);
}

static void test_store_delete_message_says_whether_one_went(void **state)
{
    struct fixture *fx = *state;
    json_t *page;

    insert_range(fx, "lobby", 1, 3);
    assert_int_equal(store_delete_message(fx->w, "lobby", 2), 1);
    assert_int_equal(store_delete_message(fx->w, "lobby", 2), 0);
    assert_int_equal(store_delete_message(fx->w, "r5", 1), 0);
    page = store_history(fx->w, "lobby", UINT64_MAX, 10);
    assert_int_equal(json_array_size(page), 2);
    assert_int_equal(seq_at(page, 0), 1);
    assert_int_equal(seq_at(page, 1), 3);
    json_decref(page);
}

static void test_store_load_room_gives_last_seq_and_recent_events(void **state)
{
    struct fixture *fx = *state;
    uint64_t last = 99;
    json_t *events = NULL;

    insert_range(fx, "lobby", 1, 12);
    insert_range(fx, "r3", 1, 40);
    assert_int_equal(store_load_room(fx->startup, "lobby", 5, &last, &events), 0);
    assert_int_equal(last, 12);
    assert_int_equal(json_array_size(events), 5);
    assert_int_equal(seq_at(events, 0), 8);
    assert_int_equal(seq_at(events, 4), 12);
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 4), "text")),
                        "lobby #12");
    json_decref(events);

    assert_int_equal(store_load_room(fx->startup, "r7", 5, &last, &events), 0);
    assert_int_equal(last, 0);
    assert_int_equal(json_array_size(events), 0);
    json_decref(events);
}

static void test_store_max_room_number_counts_only_rooms_with_messages(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(max_room(fx), 0);
    insert_range(fx, "lobby", 1, 2);
    assert_int_equal(max_room(fx), 0);
    insert_range(fx, "r9", 1, 1);
    insert_range(fx, "r17", 1, 1);
    insert_range(fx, "r2", 1, 1);
    insert_range(fx, "rx", 1, 1); /* not a numbered room */
    assert_int_equal(max_room(fx), 17);
}

static void test_store_token_key_is_made_once_and_kept(void **state)
{
    struct fixture *fx = *state;
    uint8_t first[32], again[32], zero[32] = {0};

    assert_int_equal(store_load_token_key(fx->startup, first, sizeof(first)), 0);
    assert_memory_not_equal(first, zero, sizeof(first));
    assert_int_equal(store_load_token_key(fx->startup, again, sizeof(again)), 0);
    assert_memory_equal(first, again, sizeof(first));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_store_history_pages_back_by_seq_oldest_first),
        T(test_store_insert_is_one_transaction),
        T(test_store_users_are_created_once_and_found_by_any_case),
        T(test_store_games_feed_the_leaderboard_and_ranks),
        T(test_store_failed_game_rolls_back),
        T(test_store_bans_are_added_replaced_removed_and_loaded),
        T(test_store_delete_message_says_whether_one_went),
        T(test_store_load_room_gives_last_seq_and_recent_events),
        T(test_store_max_room_number_counts_only_rooms_with_messages),
        T(test_store_token_key_is_made_once_and_kept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
