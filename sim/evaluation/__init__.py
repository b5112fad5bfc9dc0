"""Programme evaluation of run folders, as evaluators compute it.

* :mod:`.lifetime`   — what each installation delivers over its lifetime, truncated at a
  horizon and discounted at a social rate (tonnes, energy-cost savings, O&M);
* :mod:`.cost_effectiveness` — public cost, firms' net cost, social cost and US$ per tonne by
  horizon, per package and per instrument (paired runs with common random numbers);
* :mod:`.additionality` — free riders within N years, net-to-gross ratio, spillover;
* :mod:`.distribution` — for whom: adopters, grants, savings and abatement by size class,
  sector, association and region; concentration of public money;
* :mod:`.uncertainty` — 95 % intervals over seeds and which free parameters drive a headline;
* :mod:`.labels`     — what a run is called (a run that spends public money is never "none").

The defaults below are evaluation conventions; each names its source or is a labelled free
parameter with a range. ``sim.compare`` takes them as ``discount_rate=``, ``free_rider_window_yr=``
and ``horizons=``.
"""
from __future__ import annotations

#: social discount rate, real, per year. Source: European Commission (2023), Better Regulation
#: Toolbox, Tool #61 "Discount rates": 3 % real for EU impact assessments. Other governments'
#: rates span 2 % (US OMB Circular A-4, 2023 revision) to 3.5 % (HM Treasury Green Book, 2022,
#: first 30 years): a value judgement, reported with the rate used.
SOCIAL_DISCOUNT_RATE_PER_YR = 0.03

#: free-rider window N, years: a supported adoption is a free rider if the same firm adopts the
#: same measure within N years without support (the paired no-policy run). Self-report
#: net-to-gross protocols ask *when* the participant would have installed the measure without
#: the programme ("deferred free ridership"; DOE Uniform Methods Project ch. 21, Violette &
#: Rathbun 2017), but the window that counts as free riding differs between protocols and we
#: found no single sourced value: free parameter, default 2 yr, range 1-4 yr.
FREE_RIDER_WINDOW_YR = 2.0

#: report years of US$ per tonne (each limited to the run's end year)
HORIZON_YEARS = (2030, 2040, 2050)

#: name of the horizon that counts each installation's whole lifetime (installed by the run's end)
LIFETIME = "lifetime"
