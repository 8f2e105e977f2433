"""Reliability harness: a hostile token server, real roost processes, kill points, canary scans.

Modules:
  fts         ReliabilityFake: the package's FakeAnthropic plus forced replies
              (redirects, gzip bombs), every issued token, a POST timeline and
              the peak of concurrent usage requests; SilentServer (never answers)
  canary      random canary tokens and the 8-character-slice scanner
  world       RelWorld: one isolated roost world wired to the FTS, the kill
              points and the end-of-test checks; real roost processes
  tracelog    reading kill-point traces: events, lock hold intervals, overlaps
  files       invariants over the files roost owns (parse, modes, temp files)
  batch       run_matrix: many cases through matrix.py over a few worker processes
Scripts run as separate processes:
  driver      roost's CLI in-process with locking (or atomicity) switched off:
              the negative controls; also fault injection
  matrix      many commands in-process over (corrupted) copies of one world
  appenders   N forked processes appending to picks.log at once
  fakeclaude  a stand-in for claude holding its refresh lock directories
  diskfull    one command on a nearly full tmpfs in a private mount namespace
The kill-point module itself is ../killpoints/sitecustomize.py.
"""
