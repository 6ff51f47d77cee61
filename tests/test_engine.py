"""The compiled engine (model/engine) gives exactly the results of the numpy reference.

Both engines run the same scenarios, and every summary key, flow and daily series must be equal: the
shipped scenarios (shrunk as in the golden tests) and the agencies' policies and levers the shipped
scenarios leave at their defaults (deadline_first with its demotions, quality_first with letters on
receipt, closing expired cases with a priority threshold, a backlog limit closing referrals; NCMEC's
triage orders, bundling and backlog limit, overloaded).
"""

from __future__ import annotations

import gc
import io
import weakref

import numpy as np
import pytest
from numba import njit

from model import RetentionModel, load_scenario
from model.engine import bound as bound_module
from model.engine import calendar, ledger, segments
from model.engine.bound import bound
from model.errors import BadInput
from model.model import engine_name
from model.outcomes import Outcomes
from model.reports import COLUMNS
from tests.test_golden import SCENARIOS, shrunk

LEVERS = {
    "deadline_first": ['law_enforcement.priority_policy="deadline_first"', "law_enforcement.investigators=60"],
    "quality_first, letters on receipt": ['law_enforcement.priority_policy="quality_first"',
                                          'retention.preservation_request_timing="receipt"',
                                          "law_enforcement.investigators=60"],
    "close expired, priority threshold": ['law_enforcement.expired_case_policy="close"',
                                          'law_enforcement.priority_policy="fifo"',
                                          "law_enforcement.priority_threshold=0.3"],
    "backlog limit": ["law_enforcement.investigators=20", "law_enforcement.backlog_limit_days=30"],
    "NCMEC deadline_first, overloaded": ['ncmec.triage_policy="deadline_first"', "ncmec.analysts=1",
                                         "platforms.X.voluntary_retention_days=30"],
    "NCMEC quality_first, bundling": ['ncmec.triage_policy="quality_first"', "ncmec.bundling=true",
                                      "ncmec.analysts=1"],
    "NCMEC fifo, backlog limit": ['ncmec.triage_policy="fifo"', "ncmec.analysts=1", "ncmec.backlog_limit_days=20"],
}
SHORT = ["run.days=400", "run.warmup_days=60"]


def outputs(scenario, engine: str):
    model = RetentionModel(scenario, engine=engine)
    while model.running:
        model.step()
    return model.summary(), model.flows(), model.timeseries(), model


def assert_same(scenario) -> None:
    reference, compiled = outputs(scenario, "numpy"), outputs(scenario, "compiled")
    assert compiled[0] == reference[0]
    assert compiled[1] == reference[1]
    assert compiled[2].equals(reference[2])
    a, b = reference[3], compiled[3]   # and what the dashboard and tests read from the desk
    assert np.array_equal(a.casework.queue.rows, b.casework.queue.rows)
    assert np.array_equal(a.ncmec.queue.rows, b.ncmec.queue.rows)
    for queue in (a.ncmec.queue, b.ncmec.queue, a.casework.queue, b.casework.queue):   # the same, a chunk at a time
        assert np.array_equal(np.concatenate([np.empty(0, np.int64), *queue.row_chunks()]), queue.rows)
    for queue in (b.ncmec.queue, b.casework.queue):   # and in chunks smaller than a lane
        assert np.array_equal(np.concatenate([np.empty(0, np.int64), *queue.row_chunks(7)]), queue.rows)
    assert sorted(a.waiting_cases().tolist()) == sorted(b.waiting_cases().tolist())   # the inbox in any order
    assert (a.ncmec.credit, a.ncmec.used_today) == (b.ncmec.credit, b.ncmec.used_today)
    assert sorted(a.casework.inbox.rows.tolist()) == sorted(b.casework.inbox.rows.tolist())
    assert sorted(a.casework.service.rows.tolist()) == sorted(b.casework.service.rows.tolist())
    assert a.longest_waits() == b.longest_waits()
    assert [x.credit for x in a.agencies] == [x.credit for x in b.agencies]
    in_flight = a.store.in_flight_rows()   # and every column of every report still in flight (the filing kernel's)
    assert np.array_equal(in_flight, b.store.in_flight_rows())
    for name in COLUMNS:
        assert np.array_equal(getattr(a.store, name)[in_flight], getattr(b.store, name)[in_flight]), name


def test_the_compiled_engine_runs_every_stage_it_compiles():
    model = RetentionModel("x_platform", engine="compiled")
    assert [type(x).__name__ for x in (model.platforms[0], model.ncmec, model.casework)] == [
        "CompiledPlatform", "CompiledNcmec", "CompiledCasework"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_compiled_engine_gives_the_reference_results_on_every_shipped_scenario(name):
    assert_same(shrunk(name))


@pytest.mark.parametrize("lever", LEVERS)
def test_the_compiled_engine_gives_the_reference_results_under_every_agency_policy(lever):
    assert_same(load_scenario("x_platform", [*SHORT, *LEVERS[lever]]))


def test_the_compiled_engine_grows_with_the_report_store(monkeypatch):
    """A store far too small at first (1,024 rows) grows several times; the desk's links grow with it."""
    monkeypatch.setattr("model.model.STORE_DAYS", 0.01)
    scenario = load_scenario("x_platform", [*SHORT, "law_enforcement.investigators=20"])
    reference, compiled = outputs(scenario, "numpy")[3], outputs(scenario, "compiled")[3]
    assert compiled.store.capacity >= 16 * 1024
    assert compiled.summary() == reference.summary()


def test_the_desk_lets_go_of_the_store_s_columns_when_it_grows():
    """Growing needs one more column's memory, not a second store: nothing holds the old columns once copied."""
    model = RetentionModel("x_platform", engine="compiled")
    for _ in range(3):
        model.step()
    old = weakref.ref(model.store.created)
    model.store.allocate(model.store.capacity - model.store.in_flight + 1)
    gc.collect()
    assert old() is None


def test_reports_handed_to_the_compiled_ncmec_join_its_queue_as_the_reference_s():
    """Compiled platforms queue their reports inside the filing kernel; NCMEC's own receive queues the same way."""
    models = [RetentionModel("x_platform", engine=engine) for engine in ("numpy", "compiled")]
    for model in models:
        model.step()
        rows = model.store.allocate(3)
        model.store.quality[rows] = 0.5
        model.ncmec.receive(rows, np.array([True, False, False]), np.array([False, True, False]),
                            np.zeros(3, bool), model.day)
    reference, compiled = (m.ncmec.queue.rows for m in models)
    assert np.array_equal(compiled, reference) and set(rows.tolist()) <= set(compiled.tolist())
    assert compiled[0] == rows[0]   # the urgent report first


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_is_told_when_the_kernels_are_compiled(monkeypatch, tmp_path):
    """With nothing cached the first run compiles for about a minute: a terminal is told so, a log is not."""
    import model.engine as engine

    monkeypatch.setattr(engine.numba.config, "CACHE_DIR", str(tmp_path))
    terminal, log = Terminal(), io.StringIO()
    engine.note_compilation(terminal)
    engine.note_compilation(log)
    assert "compiling the model's kernels" in terminal.getvalue() and log.getvalue() == ""
    (tmp_path / "desk.desk_day-1.py312.nbi").write_bytes(b"")
    warm = Terminal()
    engine.note_compilation(warm)
    assert warm.getvalue() == ""


def test_an_unknown_engine_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TIPLINE_ENGINE", "fortran")
    with pytest.raises(BadInput, match=r"TIPLINE_ENGINE: unknown engine 'fortran'; allowed: compiled, numpy"):
        engine_name(None)
    with pytest.raises(BadInput, match=r"engine=: unknown engine 'c'"):
        engine_name("c")
    monkeypatch.setenv("TIPLINE_ENGINE", "numpy")
    assert engine_name(None) == "numpy" and engine_name("compiled") == "compiled"


def test_the_command_line_names_an_unknown_engine_and_exits_2(monkeypatch, capsys):
    from model.cli import main

    monkeypatch.setenv("TIPLINE_ENGINE", "fortran")
    assert main(["run", "x_platform", "--days", "60", "--set", "run.warmup_days=10"]) == 2
    assert "tipline: error: environment variable TIPLINE_ENGINE: unknown engine 'fortran'" in capsys.readouterr().err


def test_the_kernel_cache_is_named_after_every_engine_source():
    """numba keys a cached kernel on its own file only: a helper changed in another file would be served stale, so the
    cache directory changes with any engine source."""
    import hashlib
    from pathlib import Path

    import numba

    import model.engine as engine

    here = Path(engine.__file__).parent
    sources = [*sorted(here.glob("*.py")), here.parent / "outcomes.py"]
    assert {p.name for p in sources} >= {"segments.py", "lanes.py", "calendar.py", "ledger.py", "desk.py", "triage.py"}
    assert hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16] == engine.DIGEST
    assert numba.config.CACHE_DIR.endswith(f"numba-{engine.DIGEST}")


def test_a_new_engine_version_removes_old_caches_but_the_newest_and_the_busy(tmp_path):
    """Every engine version compiles into its own cache (about 10 MB): without this, each edit of an engine source
    would leave one behind."""
    import os
    import time

    from model.engine import forget_old_caches

    now = time.time()
    ages = {"numba-current": 0, "numba-a": 5, "numba-b": 6, "numba-c": 7, "numba-d": 8, "numba-e": 9}   # days
    for name, days in ages.items():
        (tmp_path / name / "engine_x").mkdir(parents=True)
        for path in (tmp_path / name / "engine_x", tmp_path / name):
            os.utime(path, (now - days * 86400, now - days * 86400))
    for name, seconds_ago in (("numba-e", 0), ("numba-d", 1800)):   # old versions' processes compiling lately
        os.utime(tmp_path / name / "engine_x", (now - seconds_ago, now - seconds_ago))
    (tmp_path / "other").mkdir()
    removed = forget_old_caches(tmp_path / "numba-current", keep=1)
    assert sorted(p.name for p in removed) == ["numba-a", "numba-b", "numba-c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["numba-current", "numba-d", "numba-e", "other"]


def test_the_kernels_numbers_are_the_references():
    """The kernels cannot use Python enums: their copies of steps, stages, policies and tiers must agree."""
    from typing import get_args

    from model import casework, policies
    from model.cases import Step
    from model.engine import desk, triage
    from model.outcomes import Stage
    from model.params import QueuePolicy

    assert tuple(Step) == (desk.REVIEW, desk.WARRANT, desk.IDENTIFY, desk.DRAFT, desk.FOLLOW_UP)
    assert tuple(Stage)[:6] == (desk.NCMEC, desk.AGENCY_QUEUE, desk.WARRANT_STAGE, desk.IDENTIFICATION, desk.DRAFTING,
            desk.MLAT)
    assert set(desk.POLICIES) == set(get_args(QueuePolicy))
    assert desk.POLICIES.index("fifo") == desk.FIFO == triage.FIFO
    assert desk.POLICIES.index("quality_first") == desk.QUALITY_FIRST == triage.QUALITY_FIRST
    assert desk.POLICIES.index("deadline_first") == desk.DEADLINE_FIRST == triage.DEADLINE_FIRST
    for name in ("URGENT_TIER", "FIRST_TIER", "QUALITY_BANDS", "EXPIRED_TIER", "REVIEW_OFFSET"):
        assert getattr(desk, name) == getattr(policies, name)
    for name in ("URGENT_TIER", "FIRST_TIER", "QUALITY_BANDS", "EXPIRED_TIER"):
        assert getattr(triage, name) == getattr(policies, name)
    assert list(desk.STAGE_OF_STEP) == [int(stage) for stage in casework.STAGE_OF_STEP]


@pytest.mark.parametrize("overrides", [
    [],
    ["platforms.X.quality_share=0"],
    ["platforms.X.quality_signal=1", "platforms.X.urgent_share=0.3", "foreign.cloud_act_share=0.5",
     "law_enforcement.work_sigma=2.7", "law_enforcement.approval_sigma=4.9", "foreign.mlat_sigma=0"],
])
def test_the_compiled_platform_draws_the_reference_s_reports_bit_for_bit(overrides):
    """The compiled platform derives its reports' flags, scores and cases' waits from the same uniforms and normals as
    ReportDraws and CaseRules.waits, in float32 where they use float32: every value is identical, surges included."""
    from model.draws import ReportDraws, case_variates, exp32, report_uniforms
    from model.engine.draws import case_exponents, case_waits, report_facts

    platform = RetentionModel(load_scenario("x_platform", overrides), engine="compiled").platforms[0]

    def streams(seed):
        return np.random.default_rng(seed), np.random.default_rng(seed + 1000)

    cases = 0
    for seed, (n, n_extra, viral_extra) in enumerate([(20_000, 0, 0.0), (8_000, 3_000, 0.8), (1, 0, 0.0), (7, 7, 1.0)]):
        reference = ReportDraws.draw(*streams(seed), platform.spec, n, n_extra, viral_extra)
        is_case = reference.is_case
        waits = platform.rules.waits(reference.cases, platform.routing.is_us(reference.location[is_case]),
                                     reference.urgent[is_case], platform.index)
        attribute_rng, case_rng = streams(seed)
        u = report_uniforms(attribute_rng, n)
        *facts, m = report_facts(u, platform.shares, n_extra, np.float32(viral_extra))
        for name, mine in zip(("automated", "urgent", "viral", "known", "quality", "is_case"), facts, strict=True):
            expected = getattr(reference, name)
            assert mine.dtype == expected.dtype and np.array_equal(mine, expected), name
        cases += m
        cu, cz = case_variates(case_rng, m)
        exponents, work, path = case_exponents(u[5], facts[1], facts[5], cu, cz, platform.sigmas)
        days = case_waits(np.exp(exponents), path, platform.sigmas)
        assert np.array_equal(exp32(work), waits.work_factor) and exp32(work).dtype == np.float32
        for name, mine in zip(("warrant_days", "identification_days", "process_days", "response_days", "arrest_days"),
                              days, strict=True):
            assert mine.dtype == np.int16 and np.array_equal(mine, getattr(waits, name)), name
    assert cases > 1000 or overrides == ["platforms.X.quality_share=0"]


@njit(cache=False)
def _total(values):
    return values.sum()


def test_a_bound_kernel_calls_the_version_its_first_call_chose():
    kernel = bound(_total)
    assert kernel(np.arange(4)) == 6
    assert kernel.signature == (_total.typeof_pyval(np.arange(4)),)
    assert kernel(np.arange(5)) == 10


def test_the_tests_check_the_types_of_every_bound_call():
    """conftest.py sets TIPLINE_CHECK_KERNELS=1 before the model is imported, so every test run of the engine checks
    that no kernel's argument types change after binding."""
    assert bound_module.CHECK


def test_a_bound_kernel_checking_types_names_an_argument_whose_type_changed(monkeypatch):
    monkeypatch.setattr("model.engine.bound.CHECK", True)
    kernel = bound(_total)
    values = np.arange(4)
    kernel(values)
    assert (kernel(values), kernel(np.arange(5))) == (6, 10)   # arguments of the bound types pass the check
    with pytest.raises(TypeError, match=r"_total: .*argument 0: array\(int64, 1d, C\) became array\(int64, 2d, C\)"):
        kernel(np.zeros((2, 2), np.int64))
    with pytest.raises(TypeError, match="_total: 2 arguments, bound with 1"):
        kernel(values, values)


def test_a_kernel_whose_arguments_numba_converts_stays_with_the_dispatcher():
    """A kernel compiled for float64 and called with an int: no version has the call's types, so nothing is bound."""
    half = njit("float64(float64)", cache=False)(lambda x: x / 2)
    kernel = bound(half)
    assert kernel(3) == 1.5
    assert kernel.signature is None
    assert kernel(5) == 2.5


def test_every_kernel_of_a_model_s_day_is_bound_after_its_first_day():
    model = RetentionModel("x_platform", engine="compiled")
    model.step()
    platform = model.platforms[0]
    kernels = [model.casework._desk_day, model.casework._end_of_day, model.ncmec._triage_day, platform._file_reports,
               platform._report_facts, platform._case_exponents, platform._case_waits]
    assert [kernel.signature is not None for kernel in kernels] == [True] * len(kernels)


@pytest.mark.parametrize("day", [5, 30, 41])   # before the split day, after it, after the horizon
def test_the_compiled_day_end_books_as_the_reference(day):
    """Outcomes.end_of_day and the ledger's kernel, from the same arbitrary counters."""
    reference, compiled = (Outcomes(horizon=40, n_platforms=1, split_day=20) for _ in range(2))
    rng = np.random.default_rng(3)
    arrays = [name for name, value in vars(reference).items() if isinstance(value, np.ndarray)]
    for name in arrays:
        values = rng.integers(0, 50, getattr(reference, name).shape)
        getattr(reference, name)[...] = values
        getattr(compiled, name)[...] = values
    lost_before = reference.lost.copy()
    reference.end_of_day(day)
    ledger.end_of_day(ledger.ledger_of(compiled), day)
    for name in arrays:
        assert np.array_equal(getattr(compiled, name), getattr(reference, name)), name
    assert (reference.lost != lost_before).any() == (day <= reference.horizon)   # a day was booked, or none


def test_a_calendar_handing_back_a_day_s_batch_each_day_keeps_room_for_the_next_days():
    """Each day's batch needs a new segment of the calendars' arena, and an emptied list keeps none after packing; the
    free room a packing leaves must hold a few days of batches (it held less than one: the national run packed its
    calendars daily). The rows still come back in the order scheduled, on their day."""
    arenas = segments.new_arenas(1, 4096)
    c = calendar.new_calendars(0, 64)
    batch, delay, days = 20_000, 2, 40
    packings, address = 0, arenas[0].ctypes.data
    for day in range(1, days + 1):
        rows = np.arange(day * batch, (day + 1) * batch, dtype=np.int64)
        calendar.schedule(arenas, c, calendar.INBOX, calendar.BATCH, rows, np.full(batch, day + delay, np.int64), day)
        due = calendar.pop(arenas, c, calendar.INBOX, day)
        expected = np.arange((day - delay) * batch, (day - delay + 1) * batch) if day > delay else np.empty(0)
        assert np.array_equal(due, expected)
        packings += arenas[0].ctypes.data != address
        address = arenas[0].ctypes.data
    assert packings <= days // 3
