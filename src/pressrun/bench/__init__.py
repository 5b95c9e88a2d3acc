"""The throughput benchmark: `python -m pressrun.bench` (see README, Performance).

Each case renders N synthetic recipients of a campaign (the demo, or the heavy template kept in
`heavy/`) once with pressrun and once with the plain Playwright loop most people write, each in
a child process measured from outside: assets/s, CPU-seconds per asset and the peak memory of
the whole process tree, Chromium included.
"""
