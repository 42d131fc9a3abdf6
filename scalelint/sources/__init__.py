"""Sources: readers of the launch chain behind a manifest (SPEC §8).

Command lines, Dockerfiles, launch scripts, server config files and Python settings:
each reader turns one kind of text into values with positions and statuses. A reader
never decides what is wrong, never imports or runs what it reads, and never raises on
odd input; :mod:`scalelint.analyze` combines what they say.
"""
