#!/usr/bin/env python3
"""Stands in for systemd's notification socket (sd_notify(3)) in the sdnotify tests: binds a
unix datagram socket at argv[1], prints "bound", then prints every datagram it receives as one
line of JSON (a string). Node has no unix datagram sockets; this is all the test needs."""
import json
import socket
import sys

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
print("bound", flush=True)
while True:
    data = sock.recv(65536)
    print(json.dumps(data.decode("utf-8", "replace")), flush=True)
