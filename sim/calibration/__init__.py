"""Calibration to observed outcomes (``python -m sim.calibrate``): the targets file
(:mod:`.targets`), ABC-SMC with pyabc (:mod:`.abc`) and what a finished calibration writes
(:mod:`.report`). Outcomes are named in :mod:`sim.outcomes`; posterior draws for other
commands come from :mod:`sim.posterior`."""
