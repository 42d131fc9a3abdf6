"""Check: rules as data over templates as code, and the run that applies them.

:mod:`.rule` reads a rule file, :mod:`.registry` finds templates and rule directories
through entry points, :mod:`.engine` selects rules and runs their templates over each
group's model and facts, :mod:`.templates` holds the built-in templates. A check reads
the model and :mod:`scalelint.analyze`'s facts; it never parses a file or prints.
"""
