"""The barriers of the adoption decision, one module each: what the barrier is, its formula,
its parameters and switch (``behaviour.terms.<barrier>``), and the mechanisms that relieve it.
The compiled screening pass (``sim/screening.py``) evaluates them together."""
