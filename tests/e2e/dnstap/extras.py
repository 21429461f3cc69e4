#!/usr/bin/env python3
# extras.py FILE — prints the extra field (3) of every dnstap payload in a Frame Streams
# file, one per line, in the file's order: what dnstap-read does not show.
# SPDX-License-Identifier: MIT
import struct
import sys


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def extra(payload):
    """Field 3 of a protobuf message; every other field is skipped by its wire type."""
    i = 0
    while i < len(payload):
        key, i = varint(payload, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(payload, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = varint(payload, i)
            if field == 3:
                return payload[i:i + n].decode()
            i += n
        else:
            raise SystemExit("extras.py: wire type %d in a payload" % wire)
    return "(none)"


def frames(data):
    """Data frames of a Frame Streams file: a zero length escapes a control frame."""
    i = 0
    while i + 4 <= len(data):
        (n,) = struct.unpack_from(">I", data, i)
        i += 4
        if n == 0:
            (c,) = struct.unpack_from(">I", data, i)
            i += 4 + c
            continue
        yield data[i:i + n]
        i += n


with open(sys.argv[1], "rb") as f:
    for frame in frames(f.read()):
        print(extra(frame))
