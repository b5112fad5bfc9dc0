"""The live workshop app (Solara): ``solara run sim/viz/app.py`` or ``make app``.

Only this package imports Solara and matplotlib's figure API for the app; the model is read
through its public attributes, its reporters and ``decision.explain``.
"""
