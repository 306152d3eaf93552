#!/bin/sh
# tests/cli/test_security.sh — runs the multi-user attack suite
# (tests/security/attacks.sh) as a ctest entry: as root it creates two
# throwaway users and replays issue 13's attacks; otherwise it says SKIP.
# usage: sh test_security.sh CLI SOURCE_DIR
exec sh "$2/tests/security/attacks.sh" "$1" "$2"
