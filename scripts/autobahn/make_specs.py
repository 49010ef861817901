# -*- coding: utf-8 -*-
"""Write wstest spec files for one role, with the case list expanded and split into shards.

Runs under the Autobahn|Testsuite Python 2.7 virtualenv, because it expands case patterns
with wstest's own rules (a pattern with `*` is a regex prefix match: "1.*" is every case of
section 1, "12.*" every case of section 12; a pattern without `*` is an exact case id).

    python make_specs.py --mode fuzzingclient --outdir DIR --agent wsmachine \
        --cases '*' --exclude '12.*,13.*' --ports 40001,40002

writes, for each shard K (1-based; as many shards as ports, but never more than cases):
    DIR/shard-K/spec.json    the spec for `wstest -m MODE -s spec.json`, exact case ids
    DIR/shard-K/cases.txt    the same case ids, one per line (the judge checks completeness)
and prints the number of shards written. Cases are dealt round-robin over the shards, so
slow sections (9, 12, 13) are spread evenly.

fuzzingclient (tests a server): the spec's server is ws://127.0.0.1:PORT_K, named AGENT.
fuzzingserver (tests a client): wstest listens on ws://127.0.0.1:PORT_K.
"""
from __future__ import print_function

import argparse
import json
import os
import sys

from autobahntestsuite.case import Cases, CaseCategories, CaseSubCategories, CaseBasename
from autobahntestsuite.caseset import CaseSet


def split_patterns(text):
    return [p.strip() for p in text.split(',') if p.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--mode', required=True, choices=['fuzzingclient', 'fuzzingserver'])
    parser.add_argument('--outdir', required=True)
    parser.add_argument('--agent', default='wsmachine')
    parser.add_argument('--cases', default='*', help='comma-separated case patterns')
    parser.add_argument('--exclude', default='', help='comma-separated case patterns')
    parser.add_argument('--ports', required=True, help='comma-separated, one per shard')
    args = parser.parse_args()

    case_set = CaseSet('websocket', CaseBasename, Cases, CaseCategories, CaseSubCategories)
    include = split_patterns(args.cases)
    exclude = split_patterns(args.exclude)
    unknown = [p for p in include + exclude
               if '*' not in p and p not in case_set.CasesIndices]
    if unknown:
        sys.exit('make_specs: unknown case id(s): %s' % ', '.join(unknown))
    cases = case_set.parseSpecCases({'cases': include, 'exclude-cases': exclude})
    if not cases:
        sys.exit('make_specs: no case matches --cases %r minus --exclude %r'
                 % (args.cases, args.exclude))

    ports = [int(p) for p in split_patterns(args.ports)]
    shards = min(len(ports), len(cases))
    for k in range(shards):
        shard_cases = cases[k::shards]
        shard_dir = os.path.join(args.outdir, 'shard-%d' % (k + 1))
        if not os.path.isdir(shard_dir):
            os.makedirs(shard_dir)
        url = 'ws://127.0.0.1:%d' % ports[k]
        spec = {
            'outdir': os.path.join(shard_dir, 'reports'),
            'cases': shard_cases,
            'exclude-cases': [],
            'exclude-agent-cases': {},
        }
        if args.mode == 'fuzzingclient':
            spec['servers'] = [{'agent': args.agent, 'url': url}]
        else:
            spec['url'] = url
        # Everything written is ASCII (case ids, 127.0.0.1 URLs, paths under the project).
        with open(os.path.join(shard_dir, 'spec.json'), 'w') as f:
            json.dump(spec, f, indent=2, sort_keys=True, separators=(',', ': '))
            f.write('\n')
        with open(os.path.join(shard_dir, 'cases.txt'), 'w') as f:
            f.write(''.join('%s\n' % c for c in shard_cases))
    print(shards)


if __name__ == '__main__':
    main()
