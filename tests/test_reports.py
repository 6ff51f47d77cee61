"""The report store, priority queues and calendar: the data structures every stage relies on."""

from __future__ import annotations

import gc
import weakref
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import queues
from model.calendars import Calendar
from model.queues import PriorityQueue, queue_key
from model.reports import ReportStore


def rows(*values: int) -> np.ndarray:
    return np.array(values, np.int64)


class TestReportStore:
    def test_allocated_rows_are_distinct_and_counted(self):
        store = ReportStore(capacity=16)
        a = store.allocate(10)
        b = store.allocate(5)
        assert len(set(a) | set(b)) == 15
        assert store.in_flight == 15

    def test_grows_and_keeps_column_values(self):
        store = ReportStore(capacity=16)
        first = store.allocate(16)
        store.created[first] = np.arange(16)
        more = store.allocate(100)
        assert store.capacity >= 116
        assert list(store.created[first]) == list(range(16))
        assert len(set(first) | set(more)) == 116

    def test_released_rows_are_reused_before_growing(self):
        store = ReportStore(capacity=16)
        taken = store.allocate(16)
        store.release(taken[:4])
        again = store.allocate(4)
        assert set(again) == set(taken[:4])
        assert store.capacity == 16

    def test_the_lowest_released_rows_are_reused_first_and_come_sorted(self):
        """Whatever the order rows were released in, the next allocation takes the lowest of them (the reports in flight
        stay packed at the bottom of the store), in increasing order; never-used rows only after every released one."""
        store = ReportStore(capacity=64)
        store.allocate(40)
        store.release(rows(30, 31, 32, 5, 6, 7))     # two ascending passes, the higher first
        store.release(rows(20, 2))
        assert list(store.allocate(3)) == [2, 5, 6]
        store.release(rows(1))
        assert list(store.allocate(4)) == [1, 7, 20, 30]
        assert list(store.allocate(4)) == [31, 32, 40, 41]
        assert store.in_flight == 42

    def test_unknown_column_is_an_attribute_error(self):
        with pytest.raises(AttributeError):
            ReportStore().no_such_column  # noqa: B018


class TestPriorityQueue:
    def test_smaller_keys_leave_first_and_ties_keep_arrival_order(self):
        q = PriorityQueue()
        q.push(rows(10, 11, 12), np.array([5, 1, 5]))
        q.push(rows(13, 14), np.array([1, 0]))
        assert list(q.pop(5)) == [14, 11, 13, 10, 12]
        assert len(q) == 0

    def test_pop_budget_takes_the_longest_prefix_that_fits(self):
        costs = np.array([1.0, 0.5, 0.5, 2.0, 1.0])
        q = PriorityQueue()
        q.push(rows(0, 1, 2, 3, 4), np.zeros(5, np.int64))
        taken, used = q.pop_budget(costs, 2.9)
        assert list(taken) == [0, 1, 2]
        assert used == pytest.approx(2.0)
        assert list(q.rows) == [3, 4]

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), min_size=1, max_size=40),
                    min_size=1, max_size=6), st.integers(0, 200))
    def test_a_days_push_of_many_lanes_matches_a_stable_sort(self, days, k):
        """Each day's rows enter together, in one lane per group and tier (one lane, a few, or many)."""
        q = PriorityQueue()
        reference: list[tuple[int, int]] = []
        next_row = 0
        for day, lanes in enumerate(days):
            keys = np.array([queue_key(tier, 0, day, group) for group, tier in lanes], np.int64)
            ids = np.arange(next_row, next_row + len(keys), dtype=np.int64)
            next_row += len(keys)
            q.push(ids, keys)
            reference += list(zip(keys.tolist(), ids.tolist(), strict=True))
        expected = [row for _, row in sorted(reference, key=lambda kr: kr[0])]
        assert list(q.pop(k)) == expected[:k]
        assert list(q.rows) == expected[k:]

    def test_pop_budget_never_skips_an_expensive_head(self):
        costs = np.array([5.0, 0.1])
        q = PriorityQueue()
        q.push(rows(0, 1), np.array([0, 1]))
        taken, used = q.pop_budget(costs, 1.0)
        assert len(taken) == 0 and used == 0.0

    @pytest.mark.parametrize("credit", [0.0, -1.0, -1000.0])
    def test_pop_budget_with_no_credit_or_an_overdraft_takes_nothing(self, credit):
        """Investigators with no hours, or hours overdrawn by letters sent on receipt: the work waits."""
        costs = np.ones(300)
        q = PriorityQueue()
        q.push(np.arange(300, dtype=np.int64), np.zeros(300, np.int64))
        taken, used = q.pop_budget(costs, credit)
        assert len(taken) == 0 and used == 0.0 and len(q) == 300

    def test_mean_wait_follows_pushes_and_pops(self):
        q = PriorityQueue()
        urgent_class = 0 << 32
        q.push(rows(0, 1, 2), np.array([1 << 32 | 1, 1 << 32 | 3, urgent_class | 5]))  # entry days 1, 3, 5
        assert q.mean_wait(10) == pytest.approx(10 - 3)
        assert list(q.pop(1)) == [2]                     # the urgent one (entered day 5) leaves first
        assert q.mean_wait(10) == pytest.approx(10 - 2)
        q.pop(2)
        assert q.mean_wait(10) == 0.0

    @settings(max_examples=50, deadline=None)
    @given(st.lists(st.lists(st.integers(0, 20), min_size=0, max_size=30), min_size=1, max_size=8),
           st.integers(0, 300))
    def test_matches_a_stable_sort_of_all_pushes(self, batches, k):
        q = PriorityQueue()
        reference: list[tuple[int, int]] = []
        next_row = 0
        for keys in batches:
            ids = np.arange(next_row, next_row + len(keys), dtype=np.int64)
            next_row += len(keys)
            q.push(ids, np.array(keys, np.int64))
            reference += list(zip(keys, ids.tolist(), strict=True))
        expected = [row for _, row in sorted(reference, key=lambda kr: kr[0])]
        assert list(q.pop(k)) == expected[:k]
        assert list(q.rows) == expected[k:]


    @pytest.mark.parametrize("small_chunk", [1, queues.SMALL_CHUNK])
    @settings(max_examples=80, deadline=None)
    @given(operations=st.lists(st.tuples(st.sampled_from(["day", "mixed", "pop", "drop"]),
                                         st.lists(st.integers(0, 3), min_size=0, max_size=12), st.integers(0, 40)),
                               min_size=1, max_size=25))
    def test_batches_of_one_day_and_of_many_days_keep_service_order_and_mean_wait(self, operations, small_chunk):
        """A day's batch is kept with one entry day for all its rows (small batches joining the lane's last
        chunk, large ones a chunk each); batches of several entry days (rows pushed again with their old day)
        merge with them: the order, the ages and the mean wait are those of a stable sort by (lane, entry day,
        arrival)."""
        with patch.object(queues, "SMALL_CHUNK", small_chunk):
            self._check_against_a_stable_sort(operations)

    @staticmethod
    def _check_against_a_stable_sort(operations):
        q = PriorityQueue()
        reference: list[tuple[int, int, int, int]] = []    # (lane, entry day, arrival, row)
        next_row, arrival = 0, 0
        costs = np.ones(10_000)
        for day, (kind, lanes, number) in enumerate(operations, start=1):
            if kind in ("day", "mixed"):
                ids = np.arange(next_row, next_row + len(lanes), dtype=np.int64)
                next_row += len(lanes)
                entries = [day] * len(lanes) if kind == "day" else [max(0, day - (number + i) % 7)
                                                                    for i in range(len(lanes))]
                if kind == "day":
                    q.push_lanes(ids, np.array(lanes, np.uint16), day)
                else:
                    q.push(ids, np.array([queue_key(lane, 0, e) for lane, e in zip(lanes, entries, strict=True)]))
                for lane, e, row in zip(lanes, entries, ids.tolist(), strict=True):
                    reference.append((lane, e, arrival, row))
                    arrival += 1
            reference.sort(key=lambda item: item[:3])
            if kind == "pop":
                taken, used = q.pop_budget(costs, float(number))
                assert taken.tolist() == [row for *_, row in reference[:number]] and used == len(taken)
                reference = reference[number:]
            elif kind == "drop":
                dropped = q.drop_entered_before(day - number % 5)
                assert sorted(dropped.tolist()) == sorted(r for _, e, _, r in reference if e < day - number % 5)
                reference = [item for item in reference if item[1] >= day - number % 5]
            assert q.rows.tolist() == [row for *_, row in reference] and len(q) == len(reference)
            expected_wait = day - sum(e for _, e, _, _ in reference) / len(reference) if reference else 0.0
            assert q.mean_wait(day) == pytest.approx(expected_wait)

    @pytest.mark.parametrize("small_chunk", [1, queues.SMALL_CHUNK])
    @settings(max_examples=60, deadline=None)
    @given(batches=st.lists(st.integers(1, 40), min_size=1, max_size=12), credit=st.floats(0, 400),
           seed=st.integers(0, 2**32 - 1))
    def test_a_backlog_of_many_days_is_popped_as_one_pass_over_the_lane_would(self, batches, credit, seed,
                                                                              small_chunk):
        """A lane holds a backlog in chunks (a day's batch each, small ones joined); the budgeted pop costs it
        chunk by chunk, carrying the running sum, so the rows taken and the hours used are exactly those of one
        float64 pass over the whole lane."""
        costs = np.random.default_rng(seed).lognormal(0, 1, 1000).astype(np.float32)
        q = PriorityQueue()
        start = 0
        with patch.object(queues, "SMALL_CHUNK", small_chunk):
            for day, size in enumerate(batches, start=1):
                q.push_lanes(np.arange(start, start + size, dtype=np.int64), 11, day)
                start += size
        taken, used = q.pop_budget(costs, credit)
        spent = costs[:start].cumsum(dtype=np.float64)
        k = int(spent.searchsorted(credit, side="right"))
        assert taken.tolist() == list(range(k))
        assert used == (float(spent[k - 1]) if k else 0.0)
        assert q.rows.tolist() == list(range(k, start))


    def test_a_waiting_batch_does_not_keep_the_days_whole_array_alive(self):
        """A day's batch that joins a lane as a slice of a larger array (every agency's rows of the day) is
        copied: a backlog of months must not hold every day's arrays."""
        q = PriorityQueue()
        q.push_lanes(np.arange(queues.SMALL_CHUNK, dtype=np.int64), 11, 1)    # a full chunk: the next batch is its own
        day_batch = np.arange(10_000, 20_000, dtype=np.int64)
        alive = weakref.ref(day_batch)
        q.push_lanes(day_batch[:100], 11, 2)
        del day_batch
        gc.collect()
        assert alive() is None
        assert q.rows.tolist()[-100:] == list(range(10_000, 10_100))


class TestCalendar:
    def test_rows_come_due_on_their_day(self):
        cal = Calendar()
        cal.schedule(rows(1, 2, 3, 4), np.array([5, 3, 5, 4]))
        assert list(cal.pop(3)) == [2]
        assert list(cal.pop(4)) == [4]
        assert list(cal.pop(5)) == [1, 3]
        assert len(cal) == 0 and len(cal.pop(6)) == 0

    def test_same_day_rows_leave_in_scheduling_order(self):
        cal = Calendar()
        cal.schedule(rows(1, 2), np.array([4, 2]))
        assert list(cal.pop(1)) == []
        cal.schedule(rows(3, 4, 5), np.array([4, 3, 2]))   # merged into the waiting rows
        cal.schedule(rows(6, 7), 4)                         # a whole-day batch
        assert list(cal.pop(2)) == [2, 5]
        assert list(cal.pop(3)) == [4]
        assert list(cal.pop(4)) == [1, 3, 6, 7]
        assert len(cal) == 0

    @settings(max_examples=50, deadline=None)
    @given(st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=20), min_size=1, max_size=6))
    def test_every_row_comes_out_once_on_its_day(self, batches):
        cal = Calendar()
        due: dict[int, int] = {}
        next_row = 0
        for day, offsets in enumerate(batches):
            ids = np.arange(next_row, next_row + len(offsets), dtype=np.int64)
            next_row += len(offsets)
            days = day + np.array(offsets)
            cal.schedule(ids, days if len(set(offsets)) > 1 else int(days[0]))
            due.update(zip(ids.tolist(), days.tolist(), strict=True))
            for row in cal.pop(day):
                assert due.pop(int(row)) == day
        for day in range(len(batches), len(batches) + 7):
            for row in cal.pop(day):
                assert due.pop(int(row)) == day
        assert not due and len(cal) == 0

    @settings(max_examples=100, deadline=None)
    @given(st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 12), min_size=1, max_size=8), st.integers(0, 4)),
                    min_size=1, max_size=16), st.integers(1, 40))
    def test_pop_gives_rows_scheduled_one_by_one_then_whole_days_each_by_due_day_then_scheduling_order(self, steps,
                                                                                                      window):
        cal = type("ShortCalendar", (Calendar,), {"WINDOW": window})()   # far rows cross the horizon often
        waiting, day, next_row = [], 0, 0   # waiting: (whole-day batch?, due day, row)
        for whole, offsets, gap in steps:
            ids = list(range(next_row, next_row + len(offsets)))
            next_row += len(offsets)
            if whole:
                cal.schedule(np.array(ids), day + offsets[0])
                waiting += [(True, day + offsets[0], row) for row in ids]
            else:
                cal.schedule(np.array(ids), day + np.array(offsets))
                waiting += [(False, day + offset, row) for row, offset in zip(ids, offsets, strict=True)]
            expected = sorted(w for w in waiting if w[1] <= day)   # rows are numbered in scheduling order
            assert cal.pop(day).tolist() == [row for _, _, row in expected]
            waiting = [w for w in waiting if w[1] > day]
            assert len(cal) == len(waiting)
            day += gap

    def test_rows_lists_everything_waiting(self):
        cal = Calendar()
        cal.schedule(rows(7, 8), np.array([2, 9]))
        assert sorted(cal.rows) == [7, 8]


class TestQueueGroupsAgeAndTiers:
    """What the agencies' shared queue needs: groups popped apart, referrals dropped by age, expired tiers demoted."""

    def test_each_group_pops_only_its_own_prefix(self):
        costs = np.ones(6)
        q = PriorityQueue()
        keys = np.array([queue_key(1, 0, day, group) for group, day in ((0, 3), (1, 1), (0, 1), (1, 2), (2, 1), (0, 2))])
        q.push(rows(0, 1, 2, 3, 4, 5), keys)
        taken, used = q.pop_budget(costs, 2.0, group=0)
        assert list(taken) == [2, 5] and used == 2.0     # group 0 in entry order; groups 1 and 2 untouched
        assert list(q.group_rows(1)) == [1, 3] and list(q.group_rows(2)) == [4]
        assert list(q.pop_budget(costs, 10.0, group=1)[0]) == [1, 3]

    def test_rows_that_entered_before_a_day_are_dropped_whatever_their_tier(self):
        q = PriorityQueue()
        q.push(rows(0, 1, 2, 3), np.array([queue_key(0, 0, 5), queue_key(3, 0, 9), queue_key(3, 0, 4), queue_key(1, 7, 6)]))
        dropped = q.drop_entered_before(6)
        assert sorted(dropped) == [0, 2]
        assert sorted(q.rows) == [1, 3] and len(q) == 2
        assert q.mean_wait(10) == pytest.approx(10 - (9 + 6) / 2)
        assert len(q.drop_entered_before(6)) == 0       # nothing left that old

    def test_a_row_pushed_again_with_an_old_entry_day_can_be_dropped_again(self):
        q = PriorityQueue()
        q.push(rows(0), queue_key(1, 0, 2))
        assert list(q.drop_entered_before(5)) == [0]
        q.push(rows(0), queue_key(1, 0, 2))
        assert list(q.drop_entered_before(5)) == [0]

    def test_demote_moves_orders_below_a_bound_behind_the_other_tiers_keeping_entry_days(self):
        q = PriorityQueue()
        deadlines = {0: 10, 1: 20, 2: 12}
        q.push(rows(0, 1, 2), np.array([queue_key(1, deadlines[r], 100 + r) for r in range(3)]))
        q.push(rows(3), queue_key(2, 0, 50))
        q.demote(1, 13, 9)                                # deadlines 10 and 12 have passed on day 13
        assert list(q.pop(4)) == [1, 3, 0, 2]             # unexpired, then tier 2, then the expired in entry order
        assert len(q) == 0

    def test_demote_touches_only_its_group(self):
        q = PriorityQueue()
        q.push(rows(0, 1), np.array([queue_key(1, 5, 1, group=0), queue_key(1, 5, 1, group=1)]))
        q.demote(1, 10, 9, group=1)
        assert q.pop_budget(np.ones(2), 5.0, group=0)[0].tolist() == [0]
        assert q.group_rows(1).tolist() == [1]


class TestCalendarItems:
    def test_items_lists_every_waiting_row_with_its_due_day(self):
        cal = Calendar()
        cal.schedule(rows(1, 2), 7)
        cal.schedule(rows(3, 4), np.array([9, 5]))
        found, days = cal.items()
        assert sorted(zip(found.tolist(), days.tolist(), strict=True)) == [(1, 7), (2, 7), (3, 9), (4, 5)]


def test_store_columns_are_declared_once_with_their_dtypes():
    from model.reports import COLUMNS
    store = ReportStore(capacity=16)
    assert {"created", "deadline", "quality", "step", "work", "identification_days"} <= set(COLUMNS)
    for name, dtype in COLUMNS.items():
        assert getattr(store, name).dtype == dtype and len(getattr(store, name)) == store.capacity
    store.allocate(40)
    assert all(len(getattr(store, name)) == store.capacity for name in COLUMNS)


@pytest.mark.parametrize("policy", ["fifo", "urgent_first", "quality_first", "deadline_first"])
def test_enqueue_orders_a_days_rows_exactly_as_their_queue_keys_do(policy):
    from model.policies import REVIEW_OFFSET, enqueue, queue_keys
    rng = np.random.default_rng(3)
    store = ReportStore(capacity=64)
    new = store.allocate(40)
    store.urgent[new] = rng.random(40) < 0.2
    store.quality[new] = rng.random(40) * 1.2
    store.deadline[new] = rng.integers(5, 50, 40)
    offset, group = REVIEW_OFFSET * (rng.random(40) < 0.5), rng.integers(0, 4, 40).astype(np.int16)
    by_keys, by_enqueue = PriorityQueue(), PriorityQueue()
    by_keys.push(new, queue_keys(policy, store, new, 7, offset, group))
    enqueue(by_enqueue, policy, store, new, 7, offset, group)
    for g in range(4):
        assert by_enqueue.group_rows(g).tolist() == by_keys.group_rows(g).tolist()
    assert by_enqueue.mean_wait(9) == by_keys.mean_wait(9) == 2
