"""Load: which files to read (:mod:`.discover`) and their YAML as positioned trees (:mod:`.read`).

Every mapping, sequence and string keeps its file, line and column (:mod:`.tree`,
:mod:`.spans`); a file that cannot be read or parsed becomes an ``SL000`` problem with
a position. Nothing here knows about Kubernetes or Compose.
"""
