"""The compiled screening pass (sim/screening.py) against an independent plain-numpy
formulation, written here from the model description in ``sim/decision.py``'s docstring:
peer share, awareness hazard, effective rate with its 0.005 floor, annuity, hidden costs,
net value, NPV and the candidate pre-filter (the most generous grant and loan any active
instrument offers). The reference reads only the firm table, the network, the catalogue,
the year's valuation maps and the instruments' declared offers, in float64; the kernel
computes in float32, so values agree to float32 tolerance and pairs whose bound is within
rounding of zero may fall either way."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import make_config
from sim import parallel, screening
from sim.model import ClusterModel

SMALL = ("scenario=mx_cluster", "n_firms=300", "end_year=2028", "seed=5")
CASES = {
    "no policy": (),
    "incentive package (capex subsidy, cost share, green loan, workshops)": ("policy=incentive_package",),
    "carbon price, non-energy benefits on every measure": ("policy=carbon_price", "policy.carbon_price.price_usd_per_t_co2=80"),
    "customer pressure pushing rates to the floor": ("scenario.network.supplier_target_share_of_large=1.0",
                                                     "behaviour.customer_pressure_per_yr=2.0"),
    "complete graph (mean field), rich subsidy": ("scenario.network.kind=complete", "policy=incentive_package",
                                                 "policy.capex_subsidy.subsidy_share=0.8"),
    "no peers, no risk, no hidden costs": ("policy=incentive_package", "scenario.network.kind=none",
                                           "behaviour.terms.risk=false", "behaviour.terms.peer_risk=false",
                                           "behaviour.terms.hidden_costs=false"),
    "no capital, no skills, no customer pressure": ("policy=incentive_package", "behaviour.terms.capital=false",
                                                    "behaviour.terms.skills=false", "behaviour.terms.customer_pressure=false"),
}


def _annuity(r, life):
    return (1.0 - (1.0 + r) ** -life) / r


def _peer_share(model, idx):
    """[R, K]: share of the firm's neighbours that adopted (complete graph: of all firms the
    measure applies to) + broker weight * adopter share of its association, capped at 1."""
    ft, b = model.firms, model.behaviour
    adopted = ft.adopted.astype(float)
    if model.config.scenario.network.kind == "complete":
        share = np.broadcast_to(adopted.sum(0) / np.maximum(ft.applicable.sum(0), 1), (len(idx), adopted.shape[1])).copy()
    else:
        peers = model.network.peers.to_scipy()
        degree = np.diff(peers.indptr)[idx]
        share = (peers[idx].astype(float) @ adopted) / np.maximum(degree, 1)[:, None]
    for c in range(len(model.config.scenario.clusters)):
        members = ft.cluster == c
        mine = ft.cluster[idx] == c
        if members.any():
            share[mine] += b.cluster_broker_weight * adopted[members].mean(0)
    return np.minimum(share, 1.0)


def _customer_pressure(model):
    cust = model.network.customers.to_scipy()
    n = np.diff(cust.indptr)
    return np.where(n > 0, cust @ model.firms.sets_supplier_target.astype(float) / np.maximum(n, 1), 0.0)


def reference(model, idx):
    """Every decision term of the firms ``idx`` x all measures, and the candidate mask."""
    ft, cat, b, gov = model.firms, model.catalogue, model.behaviour, model.gov
    t = b.terms
    y = model.year - model.start_year
    x = np.concatenate([ft.energy_mwh_per_yr[idx], ft.process_t_co2_per_yr[idx, None]], axis=1)  # [R, C+1]
    val = model.val  # the year's per-measure maps (decision.valuation)
    saving, basis, s1 = x @ val.saving_usd.T, x @ val.size_basis.T, x @ val.abated_scope1_t.T
    scale = np.abs(x) @ np.abs(val.saving_usd.T) + 1.0  # magnitude of the sums, for tolerances
    available = (cat.available_from_year <= model.year)[None, :]
    is_open = ft.aware[idx] & ft.applicable[idx] & ~ft.adopted[idx] & available & (basis > 0)
    capex = (basis * cat.capex_usd_per_unit + cat.capex_fixed_usd) * (1.0 + cat.capex_change_per_yr) ** y
    price = model.instruments["carbon_price"].price(model.year) * (ft.size_class[idx] >= _min_size(model))[:, None]
    net = saving + cat.non_energy_benefit_share * np.maximum(saving, 0) + price * s1 - capex * cat.om_share_of_capex_per_yr
    share = _peer_share(model, idx) if (t.peer_awareness or t.peer_risk) else np.zeros_like(capex)
    cpress = _customer_pressure(model)[idx]
    rate = ft.hurdle_rate_per_yr[idx].astype(float) - (b.customer_pressure_per_yr * cpress if t.customer_pressure else 0.0)
    r_eff = np.broadcast_to(rate[:, None], capex.shape)
    if t.risk:
        peer = 1.0 - b.peer_risk_relief_share * share if t.peer_risk else 1.0
        r_eff = r_eff + (ft.risk_aversion[idx] * (1.0 - ft.risk_relief[idx]))[:, None] * cat.risk_premium_per_yr * peer
    r_eff = np.maximum(r_eff, 0.005)
    ann = _annuity(r_eff, cat.lifetime_yr)
    hidden = cat.hidden_cost_share * capex * (1.0 - ft.hidden_cost_relief[idx])[:, None] if t.hidden_costs else 0 * capex
    skilled = ft.capability[idx][:, None] >= cat.complexity_share if t.skills else np.ones_like(is_open)
    funds = ft.cash_usd_per_yr[idx].astype(float) + ft.credit_usd[idx]
    # pre-filter: the most generous grant of any active instrument and the largest green loan
    g_max = np.zeros_like(capex)
    for g in gov.grant_instruments:
        bound = g.grant_bound()
        if bound is not None:
            s, cap = bound
            g_max = np.maximum(g_max, cap if np.isinf(s) else np.minimum(s * capex, cap))
    loan_max = model.config.policy.green_loan.max_loan_per_firm_usd if model.instruments["green_loan"].active else 0.0
    npv_bound = net * ann - capex - hidden + g_max + np.minimum(capex, loan_max)
    cand = is_open.copy()
    margin = np.zeros(capex.shape)  # distance from the pre-filter's thresholds, relative
    if t.capital:
        room = funds[:, None] + loan_max - (capex - g_max)
        cand &= room >= 0
        margin = np.abs(room) / (np.abs(capex) + funds[:, None] + 1.0)
    if t.economics:
        cand &= npv_bound > 0
        tol = np.abs(net * ann) + capex + (scale * ann)
        margin = np.minimum(np.where(t.capital, margin, np.inf), np.abs(npv_bound) / tol)
    return dict(open=is_open, capex=capex, net=net, saving=saving, r_eff=r_eff, ann=ann, hidden=hidden,
                share=share, skilled=skilled, funds=funds, cand=cand, margin=margin, scale=scale)


def _min_size(model):
    from sim.params import SIZE_CLASSES

    return SIZE_CLASSES.index(model.config.policy.carbon_price.min_size_class)


def _group(model):
    interval = model.behaviour.review_interval_months
    return np.arange((model.month + 1) % interval, model.n_firms, interval)


@pytest.mark.parametrize("overrides", list(CASES.values()), ids=list(CASES))
def test_candidates_and_terms_match_the_numpy_formulation(overrides):
    cfg = make_config(*SMALL, *overrides)
    if "policy=carbon_price" in overrides:  # the benefits count on a positive saving only
        for m in cfg.measures.catalogue:
            m.non_energy_benefit_share = max(m.non_energy_benefit_share, 0.3)
    model = ClusterModel(cfg, lazy_firm_agents=True)
    checked, nonzero_grant, floored, negative_saving = 0, False, 0, 0
    for month in range(40):
        model.step()
        if month % 5:
            continue
        idx = np.arange(model.n_firms)  # every firm, not only the review group: more pairs
        ref = reference(model, idx)
        # the dense terms of every pair
        d = screening.dense_terms(model, idx)
        o = ref["open"]
        np.testing.assert_array_equal(d[screening.D_OPEN] > 0, o)
        for plane, key, rtol in ((screening.D_CAPEX, "capex", 1e-5), (screening.D_REFF, "r_eff", 1e-5),
                                 (screening.D_ANN, "ann", 1e-5), (screening.D_SHARE, "share", 1e-5)):
            np.testing.assert_allclose(d[plane][o], ref[key][o], rtol=rtol, atol=1e-6, err_msg=key)
        for plane, key in ((screening.D_SAVING, "saving"), (screening.D_NET, "net")):  # sums of signed terms
            err = np.abs(d[plane][o] - ref[key][o])
            assert (err <= 2e-5 * (ref["scale"][o] + ref["capex"][o]) + 1e-3).all(), (key, err.max())
        np.testing.assert_allclose(d[screening.D_HIDDEN][o], ref["hidden"][o], rtol=1e-5, atol=1e-3)
        np.testing.assert_array_equal(d[screening.D_SKILLED][o] > 0, ref["skilled"][o])
        # the candidates: every clear candidate, nothing that clearly fails
        f, k, v = screening.candidates(model, idx, None)
        got = np.zeros_like(o)
        got[f, k] = True
        clear = ref["margin"] > 1e-4
        missing, extra = ref["cand"] & clear & ~got, got & clear & ~ref["cand"]
        assert not missing.any() and not extra.any(), (month, np.argwhere(missing)[:5], np.argwhere(extra)[:5])
        np.testing.assert_allclose(v[:, screening.C_CAPEX], ref["capex"][f, k], rtol=1e-5)
        np.testing.assert_allclose(v[:, screening.C_ANN], ref["ann"][f, k], rtol=1e-5)
        np.testing.assert_allclose(v[:, screening.C_REFF], ref["r_eff"][f, k], rtol=1e-5)
        np.testing.assert_allclose(v[:, screening.C_HIDDEN], ref["hidden"][f, k], rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(v[:, screening.C_FUNDS], ref["funds"][f], rtol=1e-6)
        np.testing.assert_array_equal(v[:, screening.C_SKILLED] > 0, ref["skilled"][f, k])
        checked += int(got.sum())
        floored += int((ref["r_eff"][o] == 0.005).sum())
        negative_saving += int((ref["saving"][o] < 0).sum())
        nonzero_grant |= bool(model.gov.grant_bounds()[0].size)
    assert checked > 50, checked  # the comparison had pairs to compare
    if "policy=incentive_package" in overrides:
        assert nonzero_grant  # the pre-filter's grant bound was exercised
    if "behaviour.customer_pressure_per_yr=2.0" in overrides:
        assert floored > 0  # the 0.005 floor was exercised
    if "policy=carbon_price" in overrides:
        assert negative_saving > 0  # non-energy benefits on a negative saving were exercised


def _splitmix_uniform(key, month, firm, k):
    """The awareness draws' uniform variates written again in numpy (uint64 arithmetic wraps):
    SplitMix64's finaliser (Mix13) of the packed counter, then of the key plus that."""
    M1, M2, G = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)

    def mix(z):
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
        return z ^ (z >> np.uint64(31))

    with np.errstate(over="ignore"):
        c = (np.uint64(month) << np.uint64(44)) | (firm.astype(np.uint64)[:, None] << np.uint64(12)) | k.astype(np.uint64)[None, :]
        z = mix(np.uint64(key) + mix(c + G) * G)
    return (z >> np.uint64(11)).astype(float) / 2.0 ** 53


@pytest.mark.parametrize("overrides", [CASES["no policy"], CASES["complete graph (mean field), rich subsidy"],
                                       CASES["no peers, no risk, no hidden costs"]], ids=["cluster", "complete", "none"])
def test_awareness_update_follows_the_hazard(overrides):
    """An unaware applicable pair of a reviewed firm becomes aware iff its uniform variate of
    the month u < 1 - exp(-(p_k + q * peer share + customer-pressure rate * pressure) * months
    since review), u written again here from the generator's definition (sim/draws.py)."""
    model = ClusterModel(make_config(*SMALL, *overrides, "behaviour.customer_pressure_awareness_per_month=0.3",
                                     "scenario.network.supplier_target_share_of_large=1.0"), lazy_firm_agents=True)
    if not any(o.startswith("scenario.network.kind=") for o in overrides):  # supply edges: customers press
        assert (_customer_pressure(model) > 0).sum() > 10
    ft, b, cat = model.firms, model.behaviour, model.catalogue
    learned_total, exact_path = 0, 0
    for month in range(30):
        model.step()
        idx = _group(model)
        months = np.maximum(model.month - ft.last_review_month[idx], 1)[:, None]
        share = _peer_share(model, idx) if b.terms.peer_awareness else 0.0
        hazard = cat.info_rate_per_month + b.peer_awareness_per_month * share \
            + b.customer_pressure_awareness_per_month * _customer_pressure(model)[idx, None]
        x = hazard * months
        u = _splitmix_uniform(model.awareness_key, model.month, idx, np.arange(cat.k))
        before, count = ft.aware.copy(), model.aware_count.copy()
        screening.candidates(model, idx, True)
        learned = ft.aware & ~before
        assert not np.delete(learned, idx, axis=0).any()  # only the firms under review learn
        can = ft.applicable[idx] & ~before[idx]
        p = 1.0 - np.exp(-x)
        expect = can & (u < p)
        clear = np.abs(u - p) > 1e-5 * (1 + p)  # the kernel's hazard is float32
        np.testing.assert_array_equal(learned[idx] & clear, expect & clear)
        np.testing.assert_array_equal(model.aware_count - count, learned.sum(0))
        learned_total += int(learned.sum())
        exact_path += int((can & (u < x) & (u >= x - x * x / 2)).sum())  # the bounds could not tell
        ft.aware[:] = before  # undo, so the run goes on as without this test's call
        model.aware_count[:] = count
    assert learned_total > 20, learned_total
    assert exact_path > 0  # pairs that needed the exponential itself were among them


def test_chunked_and_threaded_screening_equals_the_single_pass(monkeypatch):
    """A review group screened in chunks on several threads (large populations) gives the
    same awareness, counters and adoptions as one pass (chunks and threads made small here);
    the month's expiries found by slices of the review group on the threads, too."""
    cfg = make_config(*SMALL, "policy=incentive_package")

    def run():
        model = ClusterModel(cfg, lazy_firm_agents=True)
        for _ in range(30):
            model.step()
        log = [(m, b.firm.copy(), b.measure.copy(), b.grant_usd.copy()) for m, b in model.adoption_log]
        return model, log

    one, log_one = run()
    monkeypatch.setattr(parallel, "PARALLEL_MIN_FIRMS", 2)
    monkeypatch.setattr(screening, "CHUNK_FIRMS", 7)  # 25 firms under review a month: 4 chunks
    monkeypatch.setenv("SIM_ENGINE_THREADS", "3")
    calls = []
    kernel = screening._Chunk.screen
    monkeypatch.setattr(screening._Chunk, "screen", lambda job, *a: calls.append(len(job.idx)) or kernel(job, *a))
    many, log_many = run()
    assert max(calls) <= 7 and len(calls) >= 4 * 30  # the chunked, threaded path ran
    np.testing.assert_array_equal(one.firms.aware, many.firms.aware)
    np.testing.assert_array_equal(one.aware_count, many.aware_count)
    np.testing.assert_array_equal(one.aware_count, one.firms.aware.sum(axis=0))
    assert len(log_one) == len(log_many) and sum(len(f) for _, f, _, _ in log_one) > 20
    assert len(one.expiry_log) == len(many.expiry_log) and one.expiries_total > 0
    for a, b in zip(one.expiry_log, many.expiry_log):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    for a, b in zip(log_one, log_many):
        assert a[0] == b[0]
        for x, y in zip(a[1:], b[1:]):
            np.testing.assert_array_equal(x, y)


def test_neighbour_counts_on_the_background_thread_equal_the_serial_ones(monkeypatch):
    """A large month's neighbours' counts are updated on the background thread while the
    month goes on (made small here): every reader waits for them, so the run is the serial
    one adoption for adoption; a copy or pickle taken with an update pending holds finished
    counts."""
    import pickle

    from sim import adoption

    cfg = make_config(*SMALL, "policy=incentive_package")

    def run(check_pickles=False):
        model = ClusterModel(cfg, lazy_firm_agents=True)
        for _ in range(30):
            model.step()
            if check_pickles:
                pending = model.__dict__.get("_neighbours_pending") is not None
                copy = pickle.loads(pickle.dumps(model))
                assert copy.__dict__.get("_neighbours_pending") is None
                np.testing.assert_array_equal(copy.neighbour_adopters, model.neighbour_adopters)
                seen.append(pending)
        return model

    one = run()
    monkeypatch.setattr(parallel, "PARALLEL_MIN_FIRMS", 2)
    monkeypatch.setattr(adoption, "PARALLEL_MIN_PAIRS", 1)
    monkeypatch.setenv("SIM_ENGINE_THREADS", "2")
    calls, seen = [], []
    count = adoption.add_to_neighbour_counts
    monkeypatch.setattr(adoption, "add_to_neighbour_counts", lambda *a: calls.append(a[-1]) or count(*a))
    many = run(check_pickles=True)
    assert calls.count(1) >= 20 and calls.count(-1) >= 1  # adoptions' and expiries' updates went to the background
    assert any(seen)  # a pickle was taken while an update was pending
    peers = many.network.peers.to_scipy()
    np.testing.assert_array_equal(many.neighbour_adopters, peers @ many.firms.adopted.astype(np.float32))
    np.testing.assert_array_equal(one.neighbour_adopters, many.neighbour_adopters)
    assert len(one.adoption_log) == len(many.adoption_log)
    for (ma, a), (mb, b) in zip(one.adoption_log, many.adoption_log):
        assert ma == mb
        np.testing.assert_array_equal(a.firm, b.firm)
        np.testing.assert_array_equal(a.measure, b.measure)
        np.testing.assert_array_equal(a.grant_usd, b.grant_usd)


def test_a_fork_waits_for_the_background_thread():
    """A process forked while background work runs gets finished arrays (and does not wait
    for a thread it does not have)."""
    import os
    import threading

    gate = threading.Event()
    data = np.zeros(4)

    def work():
        gate.wait(5)
        data[:] = 1.0

    future = parallel.in_background(work)
    threading.Timer(0.2, gate.set).start()  # finishes while the fork waits for it
    pid = os.fork()
    if pid == 0:  # the child: the work is done in its copy
        os._exit(0 if data.sum() == 4.0 and future.done() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0 and future.done()


def test_engine_threads_setting(monkeypatch):
    from sim.errors import BadInput

    monkeypatch.setenv("SIM_ENGINE_THREADS", "3")
    assert parallel.engine_threads() == 3 and parallel.threads_for(parallel.PARALLEL_MIN_FIRMS) == 3
    assert parallel.threads_for(parallel.PARALLEL_MIN_FIRMS - 1) == 1  # small populations: one thread
    monkeypatch.delenv("SIM_ENGINE_THREADS")  # unset: the cores free now, at least one
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (0.9, 0.0, 0.0))
    monkeypatch.setattr(parallel, "_CORES", [2])
    assert parallel.engine_threads() == 2
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (2.5, 0.0, 0.0))  # another job has the other core
    assert parallel.engine_threads() == 1
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("SIM_ENGINE_THREADS", bad)
        with pytest.raises(BadInput, match="SIM_ENGINE_THREADS"):
            parallel.engine_threads()


def test_one_blas_thread_also_when_numpy_was_imported_first():
    """``sim`` keeps BLAS on one thread whether it is imported before numpy (the environment)
    or after it (``solara run`` loads numpy first: limited at import); an explicit setting
    is respected."""
    import os
    import subprocess
    import sys

    from conftest import REPO

    code = ("import numpy, sim, threadpoolctl; "
            "print(max(i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'))")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = str(REPO)
    run = lambda extra: subprocess.run([sys.executable, "-c", code], env={**env, **extra}, capture_output=True,
                                       text=True, timeout=120)
    r = run({})
    assert r.returncode == 0, r.stderr[-1000:]
    assert r.stdout.split() == ["1"]
    if (os.cpu_count() or 1) >= 2:  # (OpenBLAS never uses more threads than cores)
        r = run({"OPENBLAS_NUM_THREADS": "2"})
        assert r.stdout.split() == ["2"], r.stderr[-1000:]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="fork: POSIX only")
def test_engine_threads_work_in_a_forked_child():
    """A process forked after the engine used its threads (a sweep's workers) gets a pool of its
    own: the parent's pool has no threads in the child, and work handed to it would never run."""
    import os

    assert parallel.run_all(lambda x: 2 * x, [1, 2, 3], 2) == [2, 4, 6]
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 only if the threads answered
        os._exit(0 if parallel.run_all(lambda x: 3 * x, [1, 2, 3], 2) == [3, 6, 9] else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
