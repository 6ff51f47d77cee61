# %% [markdown]
# # A first walk through the model
#
# Cells for VS Code, Jupyter (jupytext) or Spyder; as a plain script, `.venv/bin/python docs/examples/walkthrough.py`
# runs them in order (about half a minute). The X/Twitter scenario: X's reports of 2023, X's share of the
# US investigators: a year of warm-up, then a counted year.

# %%
from model import RetentionModel, compare, load_scenario, run
from model.schema import parameters

scenario = load_scenario("x_platform")

# %% [markdown]
# ## What the answer rests on
# Every parameter has a unit, a valid range and a source; those nobody has published are marked
# "assumption" and carry a plausible range. Three that set how long a case waits and takes:

# %%
for p in parameters(scenario):
    if p.key in ("law_enforcement.review_hours", "law_enforcement.drafting_hours", "law_enforcement.backlog_limit_days"):
        kind = "assumption" if p.is_assumption else "sourced"
        print(f"{p.key} = {p.value} {p.unit} ({kind}; plausible {p.plausible_text() or 'n/a'})")

# %% [markdown]
# ## Day by day
# One step is one day. The model is a Mesa model: step it, and read its DataCollector.

# %%
model = RetentionModel(scenario, rng=1)
for _ in range(60):
    model.step()
day60 = model.timeseries().iloc[-1]
print(f"day {day60['day']:.0f}: {day60['ncmec_backlog']:,.0f} reports wait at NCMEC, "
      f"{day60['agency_backlog']:,.0f} referrals wait for an investigator's review")

# %% [markdown]
# ## To the end
# `run` steps until every counted report (created after the warm-up) is decided, then summarises.

# %%
model, summary = run(scenario, seed=1)
print(f"US evidence lost under the 90-day rule: {summary['evidence_lost_rate_us']:.1%} "
      f"of {summary['legal_process_needed_us']:,} US cases that needed legal process")
where = {key.removeprefix("evidence_lost_us_at_"): value for key, value in summary.items()
         if key.startswith("evidence_lost_us_at_") and value}
print("where it was lost:", ", ".join(f"{stage} {n:,}" for stage, n in sorted(where.items(), key=lambda kv: -kv[1])))

# %% [markdown]
# ## The two rules, paired
# With one scenario, `compare` runs it under the 90-day rule and under one-year retention on the same seeds.
# `workers=1` runs here, in this process. With more workers (the default: all cores), the worker processes
# import this script again, so a script must then call compare under `if __name__ == "__main__":`.

# %%
table = compare("x_platform", None, replications=2, workers=1)
print(table.attrs["headline"])

# %% [markdown]
# ## A lever
# Staffing acts: each step of a case costs investigator hours, so more investigators means faster legal process.

# %%
more = load_scenario("x_platform", ["law_enforcement.investigators=300"])
_, more_summary = run(more, seed=1)
print(f"with 300 instead of 200 investigators: {more_summary['evidence_lost_rate_us']:.1%} lost (one seed)")
