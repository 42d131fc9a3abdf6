"""``scalelint plan`` (SPEC §10): the ceilings, the next step, ``--set`` and the findings diff.

Every case is built from hand-picked numbers; the arithmetic is written next to each assertion
so that a reader can check it without running anything.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from scalelint.analyze.plan import (
    CUT,
    NONE,
    REPLICAS,
    WORKERS,
    DatabaseShare,
    Numbers,
    PlanRow,
    PlanUsageError,
    diff_findings,
    parse_sets,
    plan,
    plan_one,
)
from scalelint.findings import Finding, ObjectRef, Severity
from scalelint.model import Val, assumed, known, unknown

MI = 1 << 20
GI = 1 << 30


def db(available: int | Val[int] = 97, others: int | None = 0, complete: bool = True,
       name: str = "postgres") -> DatabaseShare:
    avail = available if isinstance(available, Val) else known(available, None)
    return DatabaseShare(name, f"k8s.yaml:{len(name)}:1", avail, others, complete)


def numbers(replicas: int | Val[int] = 1, workers: int | Val[int] = 4, per_worker: int | Val[int] | None = 25,
            cpu: float | Val[float] | None = 2.0, memory: int | Val[int] | None = 4 * GI,
            databases: tuple[DatabaseShare, ...] | None = None, **kw: Any) -> Numbers:
    """The seed workload: one pod, 4 workers × (15 + 10) against a default PostgreSQL (97 available)."""
    def v(x: Any) -> Any:
        return x if isinstance(x, Val) or x is None else known(x, None)

    rep = v(replicas)
    base: dict[str, Any] = {
        "workload": "shop/api", "kind": "Deployment", "group": "k8s", "location": "k8s.yaml:4:9",
        "replicas_min": rep, "replicas_max": rep, "hpa": False, "workers": v(workers), "per_worker": v(per_worker),
        "unbounded": None, "cpu_limit": v(cpu), "memory_limit": v(memory), "memory_per_worker": 512 * MI,
        "memory_per_worker_source": "assumed", "max_workers_per_pod": 8, "ha_required": False, "ha_reasons": (),
        "profile": "io-bound", "stateful": False, "databases": (db(),) if databases is None else databases,
        "per_worker_terms": (15, 10),
    }
    base.update(kw)
    return Numbers(**base)


def values(r: PlanRow) -> dict[str, int | None]:
    return {name: c.value for name, c in r.ceilings()}


# --- the seed case (SPEC §0's worked example) ---------------------------------------------------

def test_seed_one_pod_is_over_budget() -> None:
    r = plan_one(numbers())
    # demand 1 × 4 × (15 + 10) = 100 > 97
    assert r.next_step == CUT
    assert values(r) == {
        "by_cpu": 5,  # floor(2 × 2 + 1)
        "by_memory": 8,  # 4Gi ÷ 512Mi
        "by_policy": 8,
        "by_budget": 3,  # floor(97 ÷ (1 × 25))
        "max_replicas_by_budget": 0,  # floor(97 ÷ (4 × 25)): not even one pod fits
        "pool_per_worker_that_fits": 24,  # floor(97 ÷ (1 × 4))
    }
    assert r.reasons == (("1 pod × 4 workers × (15 + 10) = 100 > 97 available on postgres (over by 3): "
                         "cut to 24 connections per worker, or 3 workers per pod"),)
    assert (r.replicas, r.replicas_min, r.workers, r.per_worker) == (1, 1, 4, 25)


def test_seed_three_pods() -> None:
    r = plan_one(numbers(replicas=3))
    # demand 3 × 4 × 25 = 300; pool floor(97 ÷ 12) = 8; workers floor(97 ÷ 75) = 1
    assert (r.next_step, r.pool_per_worker_that_fits.value, r.by_budget.value) == (CUT, 8, 1)
    assert r.reasons[0] == ("3 pods × 4 workers × (15 + 10) = 300 > 97 available on postgres (over by 203): "
                            "cut to 8 connections per worker, or 1 worker per pod")
    assert r.pool_per_worker_that_fits.reason == (
        "97 available on postgres ÷ (3 pods × 4 workers) = 8 connections per worker (rounded down)")


def test_compose_says_replicas_and_terms_only_when_they_add_up() -> None:
    r = plan_one(numbers(kind="service", workload="api", per_worker=24))  # terms 15 + 10 ≠ 24
    # 1 × 4 × 24 = 96 ≤ 97: not over; by_budget floor(97 ÷ 24) = 4 = workers
    assert r.by_budget.reason == "97 available on postgres ÷ (1 replica × 24 connections per worker) = " \
                                 "4 workers per pod (rounded down)"
    r = plan_one(numbers(kind="service", workload="api", replicas=2))
    assert r.reasons[0].startswith("2 replicas × 4 workers × (15 + 10) = 200 > 97")


# --- cut ----------------------------------------------------------------------------------------

def test_cut_offers_every_knob_that_fits() -> None:
    r = plan_one(numbers(replicas=4, workers=2, per_worker=10,
                         databases=(db(50),), per_worker_terms=()))
    # 4 × 2 × 10 = 80 > 50; pool floor(50 ÷ 8) = 6; workers floor(50 ÷ 40) = 1; replicas floor(50 ÷ 20) = 2
    assert r.reasons == (("4 pods × 2 workers × 10 = 80 > 50 available on postgres (over by 30): "
                         "cut to 6 connections per worker, or 1 worker per pod, or 2 replicas"),)


def test_cut_with_other_clients_and_an_hpa() -> None:
    rep = known(5, None)
    r = plan_one(numbers(replicas_min=known(2, None), replicas_max=rep, hpa=True, workers=1, per_worker=10,
                         per_worker_terms=(), databases=(db(97, others=30),)))
    # 5 × 1 × 10 = 50, + 30 = 80 ≤ 97: fits. Now 9 pods: 90 + 30 = 120 > 97
    assert r.next_step != CUT
    r = plan_one(numbers(replicas_min=known(2, None), replicas_max=known(9, None), hpa=True, workers=1,
                         per_worker=10, per_worker_terms=(), databases=(db(97, others=30),)))
    # left for it: 97 − 30 = 67; pool floor(67 ÷ 9) = 7; replicas floor(67 ÷ 10) = 6; workers floor(67 ÷ 90) = 0
    assert r.reasons[0] == ("9 pods × 1 worker × 10 = 90, plus 30 for the other clients = 120 > 97 available on "
                            "postgres (over by 23): cut to 7 connections per worker, or 6 replicas (HPA maxReplicas)")
    assert (r.replicas_min, r.replicas, r.hpa) == (2, 9, True)


def test_cut_when_ha_forbids_fewer_replicas() -> None:
    r = plan_one(numbers(replicas=3, workers=2, per_worker=10, per_worker_terms=(), databases=(db(25),),
                         ha_required=True, ha_reasons=("PodDisruptionBudget shop/api selects it",)))
    # 3 × 2 × 10 = 60 > 25; replicas floor(25 ÷ 20) = 1 < 2 (HA); workers floor(25 ÷ 30) = 0; pool floor(25 ÷ 6) = 4
    assert r.next_step == CUT
    assert r.reasons == (
        "3 pods × 2 workers × 10 = 60 > 25 available on postgres (over by 35): cut to 4 connections per worker",
        ("fewer replicas is no way out: HA requires at least 2 (PodDisruptionBudget shop/api selects it), and the "
        "budget fits 1 at the current workers and pool"),
    )


def test_cut_when_the_others_leave_nothing() -> None:
    r = plan_one(numbers(workers=1, per_worker=5, per_worker_terms=(), databases=(db(97, others=120),)))
    # 1 × 1 × 5 = 5, + 120 = 125 > 97; left: 97 − 120 < 0 → 0 of everything
    assert (r.by_budget.value, r.max_replicas_by_budget.value, r.pool_per_worker_that_fits.value) == (0, 0, 0)
    assert r.reasons == (("1 pod × 1 worker × 5 = 5, plus 120 for the other clients = 125 > 97 available on postgres "
                         "(over by 28): no setting of shop/api alone fits: lower the other clients' demand, put a "
                         "pooler such as PgBouncer in front, or raise max_connections"),)
    assert r.by_budget.reason == "the other clients already need 120 of the 97 available on postgres: " \
                                 "no workers per pod fit"


def test_cut_with_partly_unknown_others_is_at_least() -> None:
    r = plan_one(numbers(workers=2, per_worker=10, per_worker_terms=(), databases=(db(97, 90, complete=False),)))
    # 1 × 2 × 10 = 20, + at least 90 = at least 110 > 97; left at most 7: pool floor(7 ÷ 2) = 3
    assert r.reasons[0] == ("1 pod × 2 workers × 10 = 20, plus at least 90 for the other clients = at least 110 > 97 "
                            "available on postgres (over by at least 13): cut to 3 connections per worker "
                            "(at most: some other client's demand is unknown)")
    assert r.pool_per_worker_that_fits.at_most


def test_own_unknown_but_the_others_alone_are_over() -> None:
    r = plan_one(numbers(workers=unknown(None, "$(nproc) cannot be resolved"), databases=(db(97, others=100),)))
    assert r.next_step == CUT
    assert r.reasons[0].startswith("the other clients alone need 100 > 97 available on postgres (over by 3): "
                                   "no setting of shop/api alone fits")


# --- workers ------------------------------------------------------------------------------------

def test_workers_up_to_the_smallest_ceiling() -> None:
    r = plan_one(numbers(workers=2, per_worker=5, per_worker_terms=(), memory=GI, memory_per_worker=256 * MI,
                         memory_per_worker_source="memory-per-worker setting"))
    # by_cpu 2 × 2 + 1 = 5; by_memory 1Gi ÷ 256Mi = 4; by_policy 8; by_budget floor(97 ÷ 5) = 19 → 4
    assert values(r)["by_memory"] == 4 and values(r)["by_budget"] == 19
    assert r.next_step == WORKERS
    assert r.reasons == (("raise workers from 2 to 4, the smallest ceiling (by_memory: 1Gi memory limit ÷ 256Mi per "
                         "worker (memory-per-worker setting) = 4 workers)"),)


@pytest.mark.parametrize("workers, memory, by_memory, lowered", [
    # 614.4Mi (compose's 0.6GB) ÷ 512Mi assumed = 1; the 2 running keep 307.2Mi ≥ 256Mi: SL006 is silent, so is the plan
    (2, int(0.6 * GI), 2, False),
    # 3 workers keep 204.8Mi < 256Mi: SL006 reports them, and the plan lowers them to 614.4Mi ÷ 512Mi = 1
    (3, int(0.6 * GI), 1, True),
    # 4 workers in 2Gi, 512Mi each as assumed: at the ceiling, nothing to keep
    (4, 2 * GI, 4, False),
])
def test_assumed_memory_does_not_lower_workers_that_sl006_accepts(workers: int, memory: int, by_memory: int,
                                                                  lowered: bool) -> None:
    r = plan_one(numbers(workers=workers, memory=memory, cpu=4.0, per_worker=5, per_worker_terms=()))
    assert values(r)["by_memory"] == by_memory
    assert r.next_step == REPLICAS  # the workers are at (or above) their ceiling: more pods
    text = dict(r.ceilings())["by_memory"].reason
    if workers == 2:
        assert text == ("614.4Mi memory limit ÷ 512Mi per worker (assumed) = 1 worker (rounded down), but the 2 "
                        "workers running now keep 307.2Mi each, above the 256Mi a small worker needs: kept, not "
                        "lowered on an assumption (set memory-per-worker to size workers by memory)")
    if lowered:
        assert r.reasons[0].startswith("3 workers exceed the smallest ceiling 1 (by_memory: 614.4Mi memory limit")
    else:
        assert r.reasons[0].startswith(f"workers are at their ceiling {workers} (")


def test_workers_when_unknown_says_set_them() -> None:
    r = plan_one(numbers(workers=unknown(None, "$(nproc) cannot be resolved"), cpu=None))
    # by_cpu unknown (no CPU limit); by_budget floor(97 ÷ 25) = 3 < by_memory 8, by_policy 8
    assert r.next_step == WORKERS
    assert r.reasons == (("workers unknown: $(nproc) cannot be resolved; set them explicitly, to at most 3 "
                         "(by_budget: 97 available on postgres ÷ (1 pod × 25 connections per worker) = 3 workers "
                         "per pod (rounded down)); not checked: by_cpu (no CPU limit)"),)


def test_workers_above_a_ceiling_move_to_replicas() -> None:
    r = plan_one(numbers(workers=12, per_worker=1, per_worker_terms=(), cpu=8.0))
    # by_cpu 17, by_policy 8 → 8 (by_memory: 4Gi ÷ 512Mi assumed = 8, but the 12 keep 341.3Mi each, above
    # SL006's 256Mi floor, so memory keeps 12); 1 × 12 processes → ceil(12 ÷ 8) = 2 pods;
    # at 8 workers the budget fits floor(97 ÷ 8) = 12 pods
    assert r.next_step == REPLICAS
    assert values(r)["by_memory"] == 12
    assert r.reasons == (("12 workers exceed the smallest ceiling 8 (by_policy: max-workers-per-pod is 8): lower "
                         "workers to 8 and run 2 replicas (16 worker processes for the 12 now); the budget on postgres "
                         "fits up to 12"),)


def test_workers_above_a_ceiling_on_a_stateful_workload_are_only_lowered() -> None:
    r = plan_one(numbers(workers=12, per_worker=1, per_worker_terms=(), cpu=8.0, stateful=True))
    assert r.next_step == WORKERS
    assert r.reasons[0].endswith(": lower workers to 8")


def test_workers_above_a_ceiling_with_little_budget_room() -> None:
    r = plan_one(numbers(replicas=3, workers=11, per_worker=1, per_worker_terms=(), cpu=8.0, databases=(db(35),)))
    # 3 × 11 × 1 = 33 ≤ 35; cap 8 (by_memory, by_policy); 33 processes → ceil(33 ÷ 8) = 5 pods,
    # but at 8 workers the budget fits floor(35 ÷ 8) = 4 > 3
    assert (r.next_step, r.reasons[0].split("): ")[-1]) == (
        REPLICAS, "lower workers to 8 and run up to 4 replicas, as many as the budget on postgres fits at 8 workers")
    r = plan_one(numbers(workers=9, per_worker=10, per_worker_terms=(), cpu=8.0))
    # 1 × 9 × 10 = 90 ≤ 97; at 8 workers floor(97 ÷ 80) = 1 pod, no more than now: only lower the workers
    assert (r.next_step, r.reasons[0].split("): ")[-1]) == (WORKERS, "lower workers to 8")


# --- replicas -----------------------------------------------------------------------------------

def test_replicas_when_workers_are_at_their_ceiling_with_an_hpa() -> None:
    r = plan_one(numbers(replicas_min=known(2, None), replicas_max=known(4, None), hpa=True, workers=8,
                         per_worker=2, per_worker_terms=(), cpu=4.0, memory=8 * GI))
    # by_cpu 9, by_memory 16, by_policy 8, by_budget floor(97 ÷ (4 × 2)) = 12 → 8 = workers;
    # replicas floor(97 ÷ (8 × 2)) = 6 > 4
    assert values(r) == {"by_cpu": 9, "by_memory": 16, "by_policy": 8, "by_budget": 12,
                         "max_replicas_by_budget": 6, "pool_per_worker_that_fits": 3}  # floor(97 ÷ 32)
    assert r.next_step == REPLICAS
    assert r.reasons == (("workers are at their ceiling 8 (by_policy: max-workers-per-pod is 8): raise the HPA's "
                         "maxReplicas from 4 up to 6, as many as the budget on postgres fits at 8 workers × "
                         "2 connections per worker"),)


def test_cpu_bound_scales_replicas_even_with_room_for_workers() -> None:
    r = plan_one(numbers(workers=2, per_worker=5, per_worker_terms=(), profile="cpu-bound"))
    # cap 5 > 2 workers, but cpu-bound; replicas floor(97 ÷ 10) = 9 > 1
    assert r.next_step == REPLICAS
    assert r.reasons == (("profile cpu-bound: more processes in one pod would contend for its CPU: add replicas "
                         "from 1 up to 9, as many as the budget on postgres fits at 2 workers × 5 connections "
                         "per worker"),)


def test_stateful_prefers_workers_and_warns_about_replicas() -> None:
    r = plan_one(numbers(workers=2, per_worker=5, per_worker_terms=(), profile="cpu-bound", stateful=True,
                         kind="StatefulSet"))
    assert r.next_step == WORKERS
    assert r.reasons == (
        ("raise workers from 2 to 5, the smallest ceiling (by_cpu: 2 × 2 CPU + 1 = 5 workers) (stateful: workers "
        "before replicas, though cpu-bound)"),
        ("stateful: scaling replicas needs care (each replica holds its own data: volumes, replication, failover); "
        "prefer workers"),
    )
    at_ceiling = plan_one(numbers(workers=5, per_worker=5, per_worker_terms=(), stateful=True, kind="StatefulSet"))
    # 1 × 5 × 5 = 25; replicas floor(97 ÷ 25) = 3 > 1
    assert at_ceiling.next_step == REPLICAS
    assert at_ceiling.reasons[-1].startswith("stateful: scaling replicas needs care")


def test_ha_required_single_replica_gets_replicas() -> None:
    r = plan_one(numbers(workers=4, per_worker=2, per_worker_terms=(), ha_required=True,
                         ha_reasons=("annotation scalelint.io/ha-required",)))
    # 1 × 4 × 2 = 8 fits; replicas floor(97 ÷ 8) = 12 ≥ 2
    assert r.next_step == REPLICAS
    assert r.reasons == (("HA required (annotation scalelint.io/ha-required): run 2 replicas, not 1; the budget on "
                         "postgres fits up to 12"),)
    hpa = plan_one(numbers(replicas_min=known(1, None), replicas_max=known(3, None), hpa=True, workers=4,
                           per_worker=2, per_worker_terms=(), ha_required=True, ha_reasons=("PDB api",)))
    assert hpa.reasons[0] == ("HA required (PDB api): raise the HPA's minReplicas from 1 to 2; the budget on "
                              "postgres fits up to 12")
    three = plan_one(numbers(replicas=2, workers=4, per_worker=2, per_worker_terms=(), ha_required=True,
                             ha_reasons=("PDB api",)), min_replicas=3)
    assert (three.next_step, three.reasons[0]) == (
        REPLICAS, "HA required (PDB api): run 3 replicas, not 2; the budget on postgres fits up to 12")


def test_ha_required_when_the_budget_needs_a_compensating_cut() -> None:
    r = plan_one(numbers(workers=4, per_worker=10, per_worker_terms=(), databases=(db(50),), ha_required=True,
                         ha_reasons=("PDB api",)))
    # 1 × 4 × 10 = 40 ≤ 50; replicas floor(50 ÷ 40) = 1 < 2;
    # at 2 pods: workers floor(50 ÷ 20) = 2, pool floor(50 ÷ 8) = 6
    assert r.next_step == REPLICAS
    assert r.reasons == (("HA required (PDB api): run 2 replicas, not 1; the budget on postgres fits only 1 replica "
                         "at 4 workers × 10 connections per worker: at 2 replicas it takes at most 2 workers per pod "
                         "or at most 6 connections per worker"),)


def test_ha_required_that_no_setting_fits_is_none() -> None:
    r = plan_one(numbers(workers=1, per_worker=1, per_worker_terms=(), databases=(db(50, others=49),),
                         ha_required=True, ha_reasons=("PDB api",)))
    # left 50 − 49 = 1: 1 × 1 × 1 fits; at 2 pods: workers floor(1 ÷ 2) = 0, pool floor(1 ÷ 2) = 0
    assert r.next_step == NONE
    assert r.reasons == (("HA required (PDB api): run 2 replicas, not 1, but the budget on postgres fits only "
                         "1 replica at 1 worker × 1 connection per worker, and no workers or pool size make 2 fit: "
                         "lower the other clients' demand, put a pooler such as PgBouncer in front, or raise "
                         "max_connections"),)


# --- none ---------------------------------------------------------------------------------------

def test_none_names_the_binding_constraints() -> None:
    r = plan_one(numbers(workers=2, per_worker=15, per_worker_terms=(), cpu=0.5, databases=(db(97, others=40),)))
    # by_cpu 2 × 0.5 + 1 = 2 = workers; left 57: replicas floor(57 ÷ 30) = 1 = replicas
    assert r.next_step == NONE
    assert r.reasons == (("workers are at their ceiling 2 (by_cpu: 2 × 0.5 CPU + 1 = 2 workers), and the budget on "
                         "postgres fits no more replicas: 1 replica at 2 workers × 15 connections per worker"),)


def test_none_when_not_even_one_worker_fits_the_memory() -> None:
    r = plan_one(numbers(workers=1, per_worker=5, per_worker_terms=(), memory=256 * MI,
                         memory_per_worker_source="config memory-per-worker"))
    # 256Mi ÷ 512Mi (configured) = 0
    assert (r.next_step, r.by_memory.value) == (NONE, 0)
    assert r.reasons == (("no worker fits in a pod (by_memory: 256Mi memory limit ÷ 512Mi per worker (config "
                         "memory-per-worker) = 0 workers (rounded down)): fix that limit first"),)


def test_an_assumed_size_above_the_whole_limit_is_no_ceiling() -> None:
    """A service that runs in 256Mi says its workers are smaller than the 512Mi guess (SL006 agrees)."""
    r = plan_one(numbers(workers=1, per_worker=5, per_worker_terms=(), memory=256 * MI))
    assert r.by_memory.value is None and r.next_step != NONE
    assert r.by_memory.reason == ("512Mi per worker (assumed) is more than the whole 256Mi limit: set "
                                  "memory-per-worker to size workers by memory")


def test_daemonset_replicas_are_not_a_knob() -> None:
    r = plan_one(numbers(kind="DaemonSet", workers=8, per_worker=1, per_worker_terms=(), cpu=4.0, memory=8 * GI))
    assert r.next_step == NONE
    assert r.reasons[0].endswith("but a DaemonSet runs one pod per node: replicas are not a knob")


# --- ceilings -----------------------------------------------------------------------------------

def test_cpu_ceiling_counts_whole_workers_as_sl005_does_and_takes_the_parameters() -> None:
    r = plan_one(numbers(cpu=0.35))  # 2 × 0.35 + 1 = 1.7
    assert (r.by_cpu.value, r.by_cpu.reason) == (2, "2 × 0.35 CPU + 1 = 1.7, so 2 whole workers")
    r = plan_one(numbers(cpu=2.5), per_core=1, extra=0)  # 1 × 2.5 + 0
    assert (r.by_cpu.value, r.by_cpu.reason) == (3, "1 × 2.5 CPU + 0 = 2.5, so 3 whole workers")
    r = plan_one(numbers(cpu=2.0))
    assert (r.by_cpu.value, r.by_cpu.reason) == (5, "2 × 2 CPU + 1 = 5 workers")


def test_every_ceiling_unknown_says_why() -> None:
    r = plan_one(numbers(cpu=unknown(None, "cpus: ${CPUS} is not set"),
                         memory=unknown(None, "memory: from Secret limits"),
                         replicas=unknown(None, "DaemonSet: config nodes is not set"),
                         workers=unknown(None, "$(nproc) cannot be resolved"),
                         per_worker=unknown(None, "DB_POOL_SIZE: from Secret db")))
    assert values(r) == dict.fromkeys(("by_cpu", "by_memory", "by_budget", "max_replicas_by_budget",
                                       "pool_per_worker_that_fits")) | {"by_policy": 8}
    assert {name: c.reason for name, c in r.ceilings()} == {
        "by_cpu": "CPU limit unknown: cpus: ${CPUS} is not set",
        "by_memory": "memory limit unknown: memory: from Secret limits",
        "by_policy": "max-workers-per-pod is 8",
        "by_budget": "replicas unknown: DaemonSet: config nodes is not set",
        "max_replicas_by_budget": "workers unknown: $(nproc) cannot be resolved",
        "pool_per_worker_that_fits": "replicas unknown: DaemonSet: config nodes is not set",
    }
    assert all(c.limited for _, c in r.ceilings())
    r = plan_one(numbers(cpu=None, memory=None, per_worker=unknown(None, "DB_POOL_SIZE: from Secret db")))
    assert (r.by_cpu.reason, r.by_memory.reason) == ("no CPU limit", "no memory limit")
    assert r.by_budget.reason == r.max_replicas_by_budget.reason == \
        "connections per worker unknown: DB_POOL_SIZE: from Secret db"
    assert r.pool_per_worker_that_fits.value == 24  # floor(97 ÷ (1 × 4)): needs no per-worker number


def test_unknown_database_room() -> None:
    mc = unknown(None, "-c max_connections: PG_MAX is not set in the container's environment")
    r = plan_one(numbers(databases=(db(mc),)))
    assert r.by_budget.value is None and r.next_step == WORKERS  # 4 < by_cpu 5; nothing proves it over
    assert r.by_budget.reason == ("available connections on postgres unknown: -c max_connections: PG_MAX is not set "
                                  "in the container's environment")
    r = plan_one(numbers(databases=(db(97, others=None),)))
    assert r.pool_per_worker_that_fits.reason == "the other clients' demand on postgres is unknown"


def test_partly_unknown_others_make_the_budget_an_upper_bound() -> None:
    r = plan_one(numbers(workers=2, per_worker=10, per_worker_terms=(), databases=(db(97, 30, complete=False),)))
    # at most 97 − 30 = 67 left: workers floor(67 ÷ 10) = 6
    assert (r.by_budget.value, r.by_budget.at_most) == (6, True)
    assert r.by_budget.reason == ("(97 available on postgres − 30 for the other clients) ÷ (1 pod × 10 connections "
                                  "per worker) = at most 6 workers per pod (rounded down), as some other client's "
                                  "demand on postgres is unknown or assumed")
    assert r.databases[0].over is None  # 20 + at least 30 ≤ 97 says nothing


def test_unbounded_connections() -> None:
    why = "Django under uvicorn opens one connection per in-flight request"
    r = plan_one(numbers(per_worker=unknown(None, "unbounded"), unbounded=why))
    assert (r.per_worker, r.by_budget.value, r.max_replicas_by_budget.value) == (None, None, None)
    assert r.by_budget.reason == r.max_replicas_by_budget.reason == f"unbounded connections: {why}"
    assert r.pool_per_worker_that_fits.value == 24  # floor(97 ÷ 4): what to bound it to
    assert r.next_step == WORKERS  # 4 < by_cpu 5; the budget is not checked, and the reason says so
    assert r.reasons == (
        (f"raise workers from 4 to 5, the smallest ceiling (by_cpu: 2 × 2 CPU + 1 = 5 workers); not checked: "
        f"by_budget (unbounded connections: {why})"),
        f"unbounded connections: {why}; bound them to at most 24 connections per worker to fit postgres",
    )


def test_not_a_client_and_zero_pool_are_not_limited_by_the_budget() -> None:
    r = plan_one(numbers(per_worker=None, workers=2))
    for c in (r.by_budget, r.max_replicas_by_budget, r.pool_per_worker_that_fits):
        assert (c.value, c.limited) == (None, False)
        assert c.reason == "not a database client: the connection budget does not limit it"
    assert r.databases == () and r.next_step == WORKERS  # 2 < by_cpu 5
    r = plan_one(numbers(per_worker=0, per_worker_terms=(), workers=5))
    assert not r.by_budget.limited and r.by_budget.reason == \
        "it opens no connections (0 per worker): the connection budget does not limit its workers per pod"
    assert r.pool_per_worker_that_fits.value == 19  # floor(97 ÷ 5)
    assert r.next_step == REPLICAS and r.reasons[0].endswith(
        "add replicas; the connection budget does not limit them (it opens no connections (0 per worker): the "
        "connection budget does not limit its replicas)")


def test_several_databases_take_the_tightest() -> None:
    r = plan_one(numbers(replicas=2, workers=2, per_worker=5, per_worker_terms=(),
                         databases=(db(200, name="users"), db(50, name="orders"))))
    # orders floor(50 ÷ 10) = 5, users floor(200 ÷ 10) = 20
    assert (r.by_budget.value, r.by_budget.database) == (5, "orders")
    assert r.by_budget.reason == ("50 available on orders ÷ (2 pods × 5 connections per worker) = 5 workers per pod; "
                                  "the tightest of 2 databases")
    assert [u.name for u in r.databases] == ["orders", "users"]


def test_several_clients_share_one_database() -> None:
    api = numbers(workload="shop/api", replicas=2, workers=2, per_worker=10, per_worker_terms=(), cpu=1.0,
                  databases=(db(97, others=30),))  # the worker's 1 × 2 × 15
    worker = numbers(workload="shop/worker", replicas=1, workers=2, per_worker=15, per_worker_terms=(), cpu=0.5,
                     databases=(db(97, others=40),))  # the api's 2 × 2 × 10
    rows = plan([worker, api])
    assert [r.workload for r in rows] == ["shop/api", "shop/worker"]
    a, w = rows
    # api: left 97 − 30 = 67: workers floor(67 ÷ 20) = 3, replicas floor(67 ÷ 20) = 3, pool floor(67 ÷ 4) = 16
    assert values(a) == {"by_cpu": 3, "by_memory": 8, "by_policy": 8, "by_budget": 3, "max_replicas_by_budget": 3,
                         "pool_per_worker_that_fits": 16}
    assert a.by_budget.reason == ("(97 available on postgres − 30 for the other clients) ÷ (2 pods × 10 connections "
                                  "per worker) = 3 workers per pod (rounded down)")
    assert (a.next_step, a.reasons[0]) == (WORKERS, ("raise workers from 2 to 3, the smallest ceiling (by_cpu: "
                                                    "2 × 1 CPU + 1 = 3 workers; by_budget: (97 available on postgres "
                                                    "− 30 for the other clients) ÷ (2 pods × 10 connections per "
                                                    "worker) = 3 workers per pod (rounded down))"))
    # worker: left 97 − 40 = 57: workers floor(57 ÷ 15) = 3, replicas floor(57 ÷ 30) = 1, pool floor(57 ÷ 2) = 28
    assert values(w) == {"by_cpu": 2, "by_memory": 8, "by_policy": 8, "by_budget": 3, "max_replicas_by_budget": 1,
                         "pool_per_worker_that_fits": 28}
    assert w.next_step == NONE
    assert [(u.connections, u.others, u.over) for u in a.databases + w.databases] == [(40, 30, False),
                                                                                      (30, 40, False)]


def test_rows_are_sorted_and_deterministic() -> None:
    ns = [numbers(workload=name, group=group) for group, name in (("b", "x"), ("a", "z"), ("a", "y"))]
    rows = plan(ns)
    assert [(r.group, r.workload) for r in rows] == [("a", "y"), ("a", "z"), ("b", "x")]
    assert plan(list(reversed(ns))) == rows


def test_an_assumed_pool_is_no_budget_ceiling() -> None:
    """Advice to add workers or pods on a guessed pool would be a guess too (judged so on the corpus):
    the budget is not checked, and says why; the demand still counts for a cut."""
    r = plan_one(numbers(per_worker=assumed(15, None, "SQLAlchemy defaults 5 + 10"), per_worker_terms=(5, 10)))
    # 1 × 4 × (5 + 10) = 60 ≤ 97: no cut; by_budget not checked → workers to by_cpu 5
    assert r.next_step == WORKERS and r.by_budget.value is None
    assert r.by_budget.reason == "15 connections per worker is SQLAlchemy defaults 5 + 10: set the pool settings to " \
                                 "check the budget"
    assert r.max_replicas_by_budget.value is None
    assert r.pool_per_worker_that_fits.value == 24  # floor(97 ÷ (1 × 4)): the pool is what it answers
    over = plan_one(numbers(workers=8, per_worker=assumed(15, None, "SQLAlchemy defaults 5 + 10"),
                            per_worker_terms=(5, 10), cpu=8.0))
    assert over.next_step == CUT  # 1 × 8 × 15 = 120 > 97, as SL003 says on the same assumption


# --- --set --------------------------------------------------------------------------------------

WORKLOADS = ["shop/api", "shop/worker", "blog/web", "admin/web", "api.v2", "postgres"]


def test_parse_sets() -> None:
    assert parse_sets(["api.workers=4", "shop/api.replicas=3", "worker.pool=8", "api.workers=6",
                       "api.v2.pool=+2", "postgres.replicas= 0 "], WORKLOADS) == {
        "shop/api": {"workers": 6, "replicas": 3},  # the later value wins; "api" is shop/api (api.v2 is not "api")
        "shop/worker": {"pool": 8},
        "api.v2": {"pool": 2},  # the field follows the last dot: Kubernetes names hold dots
        "postgres": {"replicas": 0},
    }
    assert parse_sets([], WORKLOADS) == {}


@pytest.mark.parametrize("value, message", [
    ("api.workers", ("--set api.workers: missing '=': expected WORKLOAD.FIELD=N with FIELD workers, replicas or pool, "
                    "e.g. api.workers=4")),
    ("api=4", ("--set api=4: missing the field: expected WORKLOAD.FIELD=N with FIELD workers, replicas or pool, "
              "e.g. api.workers=4")),
    (".workers=4", ("--set .workers=4: missing the field: expected WORKLOAD.FIELD=N with FIELD workers, replicas or "
                   "pool, e.g. api.workers=4")),
    ("api.worker=4", ("--set api.worker=4: unknown field 'worker' (did you mean 'workers'?); "
                     "fields: workers, replicas, pool")),
    ("api.cpu=4", "--set api.cpu=4: unknown field 'cpu'; fields: workers, replicas, pool"),
    ("apu.workers=4", "--set apu.workers=4: unknown workload 'apu' (did you mean 'api'?)"),
    ("shop/wroker.workers=4", ("--set shop/wroker.workers=4: unknown workload 'shop/wroker' "
                              "(did you mean 'shop/worker'?)")),
    ("zzz.workers=4", ("--set zzz.workers=4: unknown workload 'zzz'; workloads: admin/web, api.v2, blog/web, "
                      "postgres, shop/api, shop/worker")),
    ("web.workers=4", "--set web.workers=4: 'web' is ambiguous (admin/web, blog/web): name it in full"),
    ("api.workers=four", "--set api.workers=four: 'four' is not a whole number"),
    ("api.workers=2.5", "--set api.workers=2.5: '2.5' is not a whole number"),
    ("api.workers=", "--set api.workers=: '' is not a whole number"),
    ("api.workers=٣", "--set api.workers=٣: '٣' is not a whole number"),
    ("api.pool=-1", "--set api.pool=-1: pool must be 0 or more, not -1"),
])
def test_parse_sets_errors(value: str, message: str) -> None:
    with pytest.raises(PlanUsageError) as e:
        parse_sets([value], WORKLOADS)
    assert str(e.value) == message
    assert "\n" not in str(e.value)


def test_parse_sets_lists_at_most_eight_workloads() -> None:
    with pytest.raises(PlanUsageError, match=r"; workloads: w0, w1, w2, w3, w4, w5, w6, w7, …$"):
        parse_sets(["zzz.workers=1"], [f"w{i}" for i in range(10)])
    with pytest.raises(PlanUsageError, match=r"unknown workload 'zzz'; no workloads found$"):
        parse_sets(["zzz.workers=1"], [])


# --- the findings diff --------------------------------------------------------------------------

def finding(code: str, message: str, name: str = "api", path: str = "k8s.yaml", line: int = 3) -> Finding:
    return Finding(code, code.lower(), Severity.ERROR, message, path, line, 1, ObjectRef("Deployment", name, "shop"))


def test_diff_findings_raised_cleared_changed() -> None:
    budget_before = finding("SL003", "postgres: demand 300 > 97 available")
    budget_after = finding("SL003", "postgres: demand 96 > 87 available")
    limits = finding("SL001", "no memory limit", name="worker")
    workers = finding("SL002", "12 workers > 8")
    ha = finding("SL004", "1 replica", name="web")
    raised, cleared, changed = diff_findings([budget_before, limits, workers], [limits, budget_after, ha])
    assert raised == [ha]
    assert cleared == [workers]
    assert changed == [(budget_before, budget_after)]
    assert diff_findings([limits], [limits]) == ([], [], [])


def test_diff_findings_with_several_findings_under_one_key() -> None:
    # two containers of one workload: same code, object and path
    a1, a2 = finding("SL001", "container app: no CPU limit", line=9), finding("SL001", "container side: no limits")
    b2 = finding("SL001", "container side: no memory limit")
    raised, cleared, changed = diff_findings([a1, a2], [b2, a1])
    assert (raised, cleared, changed) == ([], [], [(a2, b2)])
    raised, cleared, changed = diff_findings([a1, a2], [a1])
    assert (raised, cleared, changed) == ([], [a2], [])
    other_path = replace(a1, path="other.yaml")
    assert diff_findings([a1], [other_path]) == ([other_path], [a1], [])


def test_ha_required_with_unknown_minimum_is_said() -> None:
    r = plan_one(numbers(replicas=unknown(None, "replicas: ${REPLICAS} is not set"), workers=2, per_worker=5,
                         per_worker_terms=(), ha_required=True, ha_reasons=("PDB api",)))
    # no minimum to compare: the usual decision (2 < by_cpu 5: workers), and the HA gap is said
    assert r.next_step == WORKERS
    assert r.reasons[-1] == ("HA required, but the minimum replica count is unknown (replicas: ${REPLICAS} is not "
                             "set): SL004 cannot be checked")
