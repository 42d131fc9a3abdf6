"""Output: what a run's findings look like to people and machines.

Formatters (:mod:`.text`, :mod:`.jsonfmt`, :mod:`.sarif`, :mod:`.github`,
:mod:`.gitlab`, and :mod:`.report` for the capacity table) turn results into text;
:mod:`.baseline` filters known findings; :mod:`.docs` renders rule documentation;
:mod:`.progress` draws the progress counter. Nothing here computes a finding.
"""
