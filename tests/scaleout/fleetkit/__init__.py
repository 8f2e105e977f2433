"""Test kit for the scale-out suite: a real redis-server, N roost "machines", a faulty TCP proxy."""
