"""Choose the auto-accept thresholds of ``ocr/models/trust.json`` from generated **calib** data.

    kakitori samples forms --template juminido --count 40 --seed 11 --out calib_j --digits mnist --mnist-split calib
    .venv/bin/python -m ocr.calibrate --data calib_j --data calib_k ...

The shipped rule was chosen on 1,200 MNIST-calib forms (juminido, jidoteate, inkan × 40, seeds 11 and 77–85,
light artefacts) and 60 font-written forms (juminido seed 31; jidoteate seed 32 with heavy artefacts). Each
calib set added has shown wrong readings the others had not (two wrong dates at 0.93 and 0.95 on seed 77; a
phone number at 0.90 on seed 80; on seed 85 a phone number whose 6 both digit readers took for an 8, at 0.990):
a few hundred forms are too few wrong readings to place a threshold.

Only data generated with seeds < 1000 and the MNIST calib split may be used (forms-spec.md): evaluation data
must never choose a threshold. Every field is read with all other evidence in force (validators, agreement of
the two digit readers) and no score threshold; then, per field type, the threshold is the lowest one (never
below a floor: the recogniser's score alone is not trusted far) under which the calib fields that would pass
hold at most half the issue's target share of wrong ones (``BUDGET``: 0.1 % for digit types, 0.25 % for the
others). Requiring none at all, as the first rule did, lets one confidently wrong reading in thousands
(a ブ read as プ at 0.99) shut a type out of acceptance altogether as calib data grows.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from kakitori.config import load_config
from ocr import bench
from ocr.pipeline import OcrEngine
from ocr.record import FieldStatus
from ocr.template import FieldType
from ocr.trust import TRUST_PATH, TrustRule

FLOOR = {"text": 0.5, "katakana": 0.5, "hiragana": 0.5, "date": 0.5}
DEFAULT_FLOOR = 0.3
MARGIN = 0.002
# the share of wrong fields among a type's passing calib fields that a threshold may leave: half the issue's
# targets (digit fields 0.2 %, text fields 0.5 %); dates, which have no target, get the text fields' budget
DIGIT_BUDGET = 0.001
BUDGET = {t: DIGIT_BUDGET for t in ("digits", "postal", "phone", "amount", "individual_number")}
DEFAULT_BUDGET = 0.0025


def threshold_for(scores_right: list[float], scores_wrong: list[float], floor: float, budget: float) -> float:
    """The lowest threshold (the floor, or just above a wrong reading's score) under which the passing
    fields hold no more than ``budget`` wrong ones."""
    for t in sorted({floor} | {w + MARGIN for w in scores_wrong if w + MARGIN > floor}):
        passed = sum(s >= t for s in scores_right)
        wrong = sum(s >= t for s in scores_wrong)
        if wrong <= budget * (passed + wrong):
            return round(min(t, 1.0), 4)
    return 1.0


def choose(outcomes: list[bench.Outcome]) -> dict[str, float]:
    by_type: dict[str, list[bench.Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.status == FieldStatus.ACCEPTED.value:  # passed every check but the score threshold
            by_type[o.type].append(o)
    thresholds = {}
    for ftype, items in sorted(by_type.items()):
        if ftype in ("checkbox", "choice"):
            continue
        wrong = [o.confidence for o in items if not o.correct]
        right = [o.confidence for o in items if o.correct]
        thresholds[ftype] = threshold_for(right, wrong, FLOOR.get(ftype, DEFAULT_FLOOR),
                                          BUDGET.get(ftype, DEFAULT_BUDGET))
        kept = [o for o in items if o.confidence >= thresholds[ftype]]
        print(f"{ftype:<18} threshold {thresholds[ftype]:.4f}: {len(kept)}/{len(items)} pass, "
              f"{sum(not o.correct for o in kept)} of them wrong, {len(wrong)} wrong in all")
    return thresholds


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, action="append", required=True, help="calib folder (repeatable)")
    ap.add_argument("--out", type=Path, default=TRUST_PATH)
    ap.add_argument("--config", type=Path, default=None)
    args = ap.parse_args(argv)
    cfg = load_config(args.config).ocr.model_copy(update={"save_crops": False})
    no_threshold = {t.value: 0.0 for t in FieldType}
    engine = OcrEngine(cfg, trust=TrustRule(min_score=no_threshold, source="calibrating"))
    outcomes: list[bench.Outcome] = []
    for d in args.data:
        got, _ = bench.run(engine, d)
        outcomes.extend(got)
    rule = TrustRule(min_score=choose(outcomes), source=f"calibrated on {', '.join(d.name for d in args.data)}")
    rule.save(args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
