# -*- coding: utf-8 -*-
"""Run Autobahn|Testsuite's `wstest` with its listeners bound to 127.0.0.1.

wstest binds every listener (the fuzzing server, its web UI, the echo server, ...) to all
interfaces. This wrapper patches the installed reactor's `listenTCP`/`listenSSL` so that a
listener with no interface (Autobahn passes '') gets 127.0.0.1, then runs wstest unchanged:

    venv-py27/bin/python wstest_local.py -m fuzzingserver -s spec.json -u 0

Python 2.7 (Autobahn|Testsuite runs on nothing newer).
"""
import sys

# Importing wstest first lets it install its reactor (epoll on Linux): a reactor can only be
# installed before `twisted.internet.reactor` is first imported.
from autobahntestsuite import wstest
from twisted.internet import reactor

LOOPBACK = '127.0.0.1'


def _default_to_loopback(name, interface_index):
    """Wrap reactor.<name> so an empty or missing `interface` becomes 127.0.0.1.

    `interface_index` is the position of `interface` among the positional arguments:
    listenTCP(port, factory, backlog, interface), listenSSL(port, factory, ctx, backlog, interface).
    """
    original = getattr(reactor, name)

    def listen(*args, **kwargs):
        args = list(args)
        if len(args) > interface_index:
            if not args[interface_index]:
                args[interface_index] = LOOPBACK
        elif not kwargs.get('interface'):
            kwargs['interface'] = LOOPBACK
        return original(*args, **kwargs)

    setattr(reactor, name, listen)


_default_to_loopback('listenTCP', 3)
_default_to_loopback('listenSSL', 4)

if __name__ == '__main__':
    sys.argv[0] = 'wstest'
    wstest.run()
