"""The uncertainty command's defaults and limits, in a module that imports nothing heavy: ``tipline uncertainty
--help`` prints them without loading pandas, SciPy or the model.
"""

#: The condition scenario discovery explains by default: one-year retention still loses more than 10% of US evidence.
DEFAULT_CONDITION = "rate_us_b>0.10"
#: Rounds of reruns a study makes by default (each doubles the warm-up of the points still flagged). Two: on the
#: `x_platform -n 256` study 12 of the 43 draws rerun once are still filling after twice the warm-up, none after four
#: times (docs/ODD.md, "The second check"); a round with nothing flagged costs nothing.
SETTLE_ROUNDS = 2
#: The most rounds a study may ask for (4: the warm-up 16 times as long).
MAX_SETTLE_ROUNDS = 4
