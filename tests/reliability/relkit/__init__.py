"""Reliability harness: a hostile token server, real roost processes, kill points, canary scans.

Modules:
  fts      ReliabilityFake: the package's FakeAnthropic plus forced replies
           (redirects, gzip bombs), every issued token and a POST timeline
  canary   random canary tokens and the 8-character-slice scanner
  procs    running real roost processes (concurrently, with kill points and traces)
  tracelog reading the kill-point trace files, hold intervals, overlap checks
  files    invariants over the files roost owns (parse, modes, temp files)
  world    RelWorld: one isolated roost world wired to all of the above
"""
