"""The interop message set, shared by py_client.py and scripts/interop.sh.

node_client.mjs builds the very same messages (same names, same bytes); keep the two in step.

    python3 messages.py --text-lines FILE   # the single-line texts, one per line, for
                                            # examples/client.rs (which sends stdin lines)
    python3 messages.py --check-lines FILE  # exit 1 unless FILE holds exactly those lines,
                                            # naming the first message that differs
"""
import argparse
import sys

# 32 bytes of UTF-8: 2-byte Greek, a 4-byte 𝄞 (U+1D11E), a 3-byte ✓, then ASCII.
UNIT = "κόσμε 𝄞 ✓ 0123456789ab"
assert len(UNIT.encode("utf-8")) == 32


def pseudo_random_bytes(n, seed=0x9E3779B9):
    """n bytes from xorshift32 (4 little-endian bytes per step), the same as in node_client.mjs."""
    out = bytearray()
    x = seed
    while len(out) < n:
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out += x.to_bytes(4, "little")
    return bytes(out[:n])


# (name, payload): a str payload is a text message, bytes a binary message.
MESSAGES = [
    ("text hello", "hello"),
    ("text empty", ""),
    ("text multi-byte UTF-8", "κόσμε 𝄞 ✓"),
    ("text 64 KiB", UNIT * 2048),
    ("binary empty", b""),
    ("binary 256 byte values", bytes(range(256))),
    ("binary 1 MiB pseudo-random", pseudo_random_bytes(1 << 20)),
]

# What examples/client.rs can send: texts without a newline.
TEXT_LINES = [(name, p) for name, p in MESSAGES if isinstance(p, str) and "\n" not in p]


def check_lines(path):
    """Compare what examples/client.rs printed with what it was given, byte for byte."""
    with open(path, "rb") as f:
        got = f.read()
    expected = [p.encode("utf-8") for _, p in TEXT_LINES]
    if got == b"".join(line + b"\n" for line in expected):
        return 0
    lines = got.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the final newline
    elif lines:
        print(f"output does not end with a newline (last line {len(lines[-1])} bytes)")
    for i, (name, _) in enumerate(TEXT_LINES):
        if i >= len(lines):
            print(f"line {i + 1} ({name}): missing; the output has only {len(lines)} line(s)")
            return 1
        if lines[i] != expected[i]:
            diff = next((k for k, (a, b) in enumerate(zip(lines[i], expected[i])) if a != b),
                        min(len(lines[i]), len(expected[i])))
            print(f"line {i + 1} ({name}): expected {len(expected[i])} bytes, got "
                  f"{len(lines[i])} bytes, first difference at byte {diff}: "
                  f"got {lines[i][diff:diff + 24]!r}")
            return 1
    if len(lines) > len(expected):
        print(f"{len(lines) - len(expected)} unexpected extra line(s) after the last message, "
              f"first: {lines[len(expected)][:60]!r}")
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--text-lines", metavar="FILE")
    group.add_argument("--check-lines", metavar="FILE")
    args = parser.parse_args()
    if args.check_lines:
        return check_lines(args.check_lines)
    with open(args.text_lines, "wb") as f:
        for _, payload in TEXT_LINES:
            f.write(payload.encode("utf-8") + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
