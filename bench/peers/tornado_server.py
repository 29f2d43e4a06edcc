#!/usr/bin/python3
"""A peer for parlor's benchmarks: the subset of parlor.v1 that the chat and broadcast
scenarios use (welcome, hello, create, join, say -> chat, ok/error), on Tornado, written the
way a Tornado developer would: one process, one asyncio loop, each event serialized once and
written to every member. Same JSON shapes as parlor (protocol/PROTOCOL.md).

What it leaves out, on purpose: persistence (parlor saves every chat line before its `ok`),
rate limits, send-queue limits, accounts, and the `joined`/`left` events (not in the subset;
they only cost time while a benchmark fills a room, which is not measured).

    /usr/bin/python3 bench/peers/tornado_server.py --port 8081
"""

import argparse
import json
import re
import signal
import time

import tornado.ioloop
import tornado.web
import tornado.websocket

SUBPROTOCOL = "parlor.v1"
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
TEXT_MAX = 1000
HISTORY = 50
ROOM_MAX_LIMIT = 500
LIMITS = {
    "max_message": 8192, "name_max": 24, "text_max": TEXT_MAX, "room_name_max": 48,
    "room_max_default": 50, "room_max_limit": ROOM_MAX_LIMIT, "lobby_max": 20000,
    "rooms_per_session": 16, "max_rooms": 1000000, "history": HISTORY,
}


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Room:
    __slots__ = ("id", "name", "max", "members", "seq", "history")

    def __init__(self, room_id, name, max_members):
        self.id = room_id
        self.name = name
        self.max = max_members
        self.members = []  # handlers, in order of joining
        self.seq = 0
        self.history = []  # chat event dicts, oldest first

    def obj(self):
        return {"id": self.id, "name": self.name, "game": None,
                "members": len(self.members), "max": self.max}


class State:
    def __init__(self):
        self.rooms = {"lobby": Room("lobby", "Lobby", 20000)}
        self.names = {}  # folded name -> handler
        self.next_room = 0


STATE = State()
WELCOME = dumps({"type": "welcome", "server": "tornado-peer/1", "protocol": 1,
                 "limits": LIMITS}).encode()


class ParlorHandler(tornado.websocket.WebSocketHandler):
    def check_origin(self, origin):
        return True

    def select_subprotocol(self, subprotocols):
        return SUBPROTOCOL if SUBPROTOCOL in subprotocols else None

    def open(self):
        self.name = None
        self.rooms = []
        self.send(WELCOME)

    def send(self, data):
        try:
            self.write_message(data)  # bytes with binary=False: a text frame
        except tornado.websocket.WebSocketClosedError:
            pass

    def reply(self, obj):
        self.send(dumps(obj).encode())

    def error(self, req_id, code, message):
        self.reply({"type": "error", "re": req_id, "code": code, "message": message})

    def on_message(self, message):
        try:
            req = json.loads(message)
        except ValueError:
            self.error(None, "bad_json", "not JSON")
            return
        if not isinstance(req, dict) or not isinstance(req.get("type"), str):
            self.error(None, "bad_request", "not a request")
            return
        req_id = req.get("id")
        kind = req["type"]
        if kind == "hello":
            self.hello(req_id, req)
        elif self.name is None:
            self.error(req_id, "unauthorized", "sign in with hello first")
        elif kind == "say":
            self.say(req_id, req)
        elif kind == "join":
            self.join(req_id, req)
        elif kind == "create":
            self.create(req_id, req)
        elif kind == "ping":
            self.reply({"type": "ok", "re": req_id, "time": int(time.time() * 1000)})
        else:
            self.error(req_id, "unknown_type", "unknown request type")

    def hello(self, req_id, req):
        name = req.get("name")
        if self.name is not None:
            self.error(req_id, "not_allowed", "already signed in")
        elif not isinstance(name, str) or not NAME_RE.match(name):
            self.error(req_id, "bad_request", "bad name")
        elif name.lower() in STATE.names:
            self.error(req_id, "name_taken", "the name is in use")
        else:
            self.name = name
            STATE.names[name.lower()] = self
            self.reply({"type": "ok", "re": req_id, "name": name})

    def create(self, req_id, req):
        name, max_members = req.get("name"), req.get("max", 50)
        if not isinstance(name, str) or not 1 <= len(name) <= 48:
            self.error(req_id, "bad_request", "bad name")
            return
        if not isinstance(max_members, int) or not 2 <= max_members <= ROOM_MAX_LIMIT:
            self.error(req_id, "bad_request", "bad max")
            return
        STATE.next_room += 1
        room = Room("r%d" % STATE.next_room, name, max_members)
        STATE.rooms[room.id] = room
        room.members.append(self)
        self.rooms.append(room)
        self.reply({"type": "ok", "re": req_id, "room": room.obj()})

    def join(self, req_id, req):
        room = STATE.rooms.get(req.get("room"))
        if room is None:
            self.error(req_id, "no_such_room", "no such room")
            return
        if room not in self.rooms:
            if len(room.members) >= room.max:
                self.error(req_id, "room_full", "room is full")
                return
            room.members.append(self)
            self.rooms.append(room)
        self.reply({"type": "ok", "re": req_id, "room": room.obj(),
                    "members": [m.name for m in room.members], "history": room.history})

    def say(self, req_id, req):
        room, text = STATE.rooms.get(req.get("room")), req.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= TEXT_MAX or not text.strip():
            self.error(req_id, "bad_request", "bad text")
            return
        if room is None:
            self.error(req_id, "no_such_room", "no such room")
            return
        if room not in self.rooms:
            self.error(req_id, "not_in_room", "you are not in that room")
            return
        room.seq += 1
        event = {"type": "chat", "room": room.id, "from": self.name, "text": text,
                 "ts": int(time.time() * 1000), "seq": room.seq}
        room.history.append(event)
        if len(room.history) > HISTORY:
            del room.history[0]
        data = dumps(event).encode()  # serialized once for every member
        for member in room.members:
            member.send(data)
        self.reply({"type": "ok", "re": req_id, "seq": room.seq})

    def on_close(self):
        for room in self.rooms:
            room.members.remove(self)
            if not room.members and room.id != "lobby":
                del STATE.rooms[room.id]
        self.rooms = []
        if self.name is not None and STATE.names.get(self.name.lower()) is self:
            del STATE.names[self.name.lower()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    app = tornado.web.Application([(r"/ws", ParlorHandler)],
                                  websocket_max_message_size=8192)
    app.listen(args.port, address="127.0.0.1", backlog=4096)
    loop = tornado.ioloop.IOLoop.current()
    signal.signal(signal.SIGTERM, lambda *_: loop.add_callback_from_signal(loop.stop))
    signal.signal(signal.SIGINT, lambda *_: loop.add_callback_from_signal(loop.stop))
    loop.start()


if __name__ == "__main__":
    main()
