#!/usr/bin/env python3
"""Judge Autobahn|Testsuite reports strictly.

    judge.py [--title TEXT] [--agent NAME] [--expect CASES.txt]... INDEX.json...

Reads one or more wstest `index.json` files (several when the case list was sharded over
several wstest processes) and passes only if, for every agent and every case,
`behavior` and `behaviorClose` are both OK or INFORMATIONAL. Everything else fails:
NON-STRICT, UNIMPLEMENTED (permessage-deflate cases), FAILED, WRONG CODE, UNCLEAN,
FAILED BY CLIENT, and any value this script does not know.

With --agent, the reports must hold that agent (and only its results are judged).
With --expect (one case id per line; repeatable), every listed case must have a result:
a testee that crashed or hung half-way does not pass by having fewer cases.

Prints the counts per behaviour, then each failing case with its id, behaviours, close code,
and the `description` and `result` from its own report file. Exit status: 0 pass, 1 fail,
2 reports missing or unreadable.
"""
import argparse
import html
import json
import os
import re
import sys
from collections import Counter

PASSING = {"OK", "INFORMATIONAL"}


def case_key(case_id):
    """'9.10.2' -> (9, 10, 2): numeric order, as wstest prints them."""
    return tuple(int(part) if part.isdigit() else part for part in case_id.split("."))


def one_line(text, limit=400):
    """Case descriptions are HTML fragments: drop tags, unescape, collapse whitespace."""
    text = re.sub(r"<br\s*/?>", " ", text or "", flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_case_report(index_path, entry):
    """The case's own JSON report (named by `reportfile`, next to index.json), or {}."""
    name = entry.get("reportfile")
    if not name:
        return {}
    try:
        with open(os.path.join(os.path.dirname(index_path), name), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", nargs="+", help="wstest index.json file(s)")
    parser.add_argument("--title", default="Autobahn|Testsuite")
    parser.add_argument("--agent", help="judge only this agent, and require it")
    parser.add_argument("--expect", action="append", default=[],
                        help="file of case ids that must all have results (repeatable)")
    args = parser.parse_intermixed_args()

    print(f"== {args.title}")

    # agent -> case id -> (index path, entry)
    results = {}
    for path in args.index:
        try:
            with open(path, encoding="utf-8") as f:
                index = json.load(f)
        except OSError as e:
            print(f"FAIL: no report {path} ({e.strerror}); the run did not finish "
                  "(for a client testee: did it reach /updateReports?)")
            return 2
        except ValueError as e:
            print(f"FAIL: unreadable report {path}: {e}")
            return 2
        for agent, cases in index.items():
            for case_id, entry in cases.items():
                results.setdefault(agent, {})[case_id] = (path, entry)

    if args.agent:
        if args.agent not in results:
            found = ", ".join(sorted(results)) or "none"
            print(f"FAIL: no results for agent {args.agent!r} (agents in the reports: {found})")
            return 1
        results = {args.agent: results[args.agent]}
    if not results:
        print("FAIL: the reports hold no results at all")
        return 1

    expected = []
    for path in args.expect:
        with open(path, encoding="utf-8") as f:
            expected += [line.strip() for line in f if line.strip()]

    ok = True
    for agent in sorted(results):
        cases = results[agent]
        behavior = Counter(entry.get("behavior", "<missing>") for _, entry in cases.values())
        close = Counter(entry.get("behaviorClose", "<missing>") for _, entry in cases.values())
        print(f"agent {agent}: {len(cases)} cases")
        print("  behavior:      " + ", ".join(f"{k} {v}" for k, v in behavior.most_common()))
        print("  behaviorClose: " + ", ".join(f"{k} {v}" for k, v in close.most_common()))

        missing = sorted(set(expected) - set(cases), key=case_key)
        if missing:
            ok = False
            shown = ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")
            print(f"  MISSING {len(missing)} expected case(s) with no result: {shown}")

        failing = [
            case_id
            for case_id, (_, entry) in cases.items()
            if entry.get("behavior") not in PASSING or entry.get("behaviorClose") not in PASSING
        ]
        if failing:
            ok = False
            print(f"  FAILING {len(failing)} case(s):")
        for case_id in sorted(failing, key=case_key):
            path, entry = cases[case_id]
            report = load_case_report(path, entry)
            print(f"    {case_id}: behavior={entry.get('behavior')} "
                  f"behaviorClose={entry.get('behaviorClose')} "
                  f"remoteCloseCode={entry.get('remoteCloseCode')}")
            print(f"        description: {one_line(report.get('description', '(no report file)'))}")
            # wstest's own explanation, where it has one (for NON-STRICT it says little more
            # than "Actual events match at least one expected").
            if entry.get("behavior") not in PASSING and report.get("result"):
                print(f"        result: {one_line(report['result'], 200)}")
            if entry.get("behaviorClose") not in PASSING and report.get("resultClose"):
                print(f"        resultClose: {one_line(report['resultClose'], 200)}")

    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
