"""Evaluating discovery against the synthetic retailer's ground truth (`truth/victims.jsonl`).

For each victim, discovery runs with only the victim's own identifiers (the truth's `profile`). An
account is *flagged as fraudulent* when it is a match (probability >= threshold) whose verdict is
suspected fraud or a suspected takeover of the victim's own account; an own account judged untouched
is reported but not flagged. Precision and recall of the flagged accounts against the truth's
`fraudulent_account_ids` are reported per victim (macro: mean over victims) and over all victims
pooled (micro), with the look-alike accounts that were flagged (honest people wrongly accused).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ombud.identity.schemas import DiscoveryResult

FLAGGED = ("suspected_fraud", "own_account_takeover_suspected")


def read_truth(path: Path) -> Iterator[dict[str, Any]]:
    """Victims of a truth file, one dict per line."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc


def flagged_accounts(result: DiscoveryResult) -> set[str]:
    """Accounts discovery calls fraudulent (new accounts, cards on others' accounts, takeovers)."""
    return {m.account_id for m in result.matches if m.account_id and m.verdict in FLAGGED}


@dataclass
class VictimOutcome:
    victim_id: str
    truth: set[str]
    flagged: set[str]
    own: set[str]
    lookalikes: set[str]
    reported: set[str] = field(default_factory=set)

    @property
    def true_positives(self) -> set[str]:
        return self.flagged & self.truth

    @property
    def missed(self) -> set[str]:
        return self.truth - self.flagged

    @property
    def false_positives(self) -> set[str]:
        return self.flagged - self.truth


@dataclass
class Evaluation:
    outcomes: list[VictimOutcome] = field(default_factory=list)

    def add(self, victim: dict[str, Any], flagged: set[str], reported: set[str] | None = None) -> VictimOutcome:
        outcome = VictimOutcome(
            victim_id=victim["victim_id"],
            truth=set(victim.get("fraudulent_account_ids", [])),
            flagged=flagged,
            own=set(victim.get("own_account_ids", [])),
            lookalikes=set(victim.get("lookalike_account_ids", [])),
            reported=reported or set(),
        )
        self.outcomes.append(outcome)
        return outcome

    def summary(self) -> dict[str, Any]:
        """Micro and macro precision and recall, look-alike false positives, counts."""
        tp = sum(len(o.true_positives) for o in self.outcomes)
        fp = sum(len(o.false_positives) for o in self.outcomes)
        fn = sum(len(o.missed) for o in self.outcomes)
        with_truth = [o for o in self.outcomes if o.truth]
        with_flags = [o for o in self.outcomes if o.flagged]
        macro_recall = (sum(len(o.true_positives) / len(o.truth) for o in with_truth) / len(with_truth)
                        if with_truth else 1.0)
        macro_precision = (sum(len(o.true_positives) / len(o.flagged) for o in with_flags) / len(with_flags)
                           if with_flags else 1.0)
        lookalike_fp = sum(len(o.flagged & o.lookalikes) for o in self.outcomes)
        own_flagged = sum(len((o.flagged & o.own) - o.truth) for o in self.outcomes)
        return {
            "victims": len(self.outcomes),
            "fraudulent_accounts": tp + fn,
            "flagged": tp + fp,
            "true_positives": tp,
            "false_positives": fp,
            "missed": fn,
            "micro_precision": tp / (tp + fp) if tp + fp else 1.0,
            "micro_recall": tp / (tp + fn) if tp + fn else 1.0,
            "macro_precision": macro_precision,
            "macro_recall": macro_recall,
            "lookalike_accounts": sum(len(o.lookalikes) for o in self.outcomes),
            "lookalike_false_positives": lookalike_fp,
            "own_accounts_flagged": own_flagged,
            "victims_all_found": sum(1 for o in with_truth if not o.missed),
        }


def evaluate(
    victims: Iterable[dict[str, Any]],
    run: Callable[[dict[str, Any]], DiscoveryResult],
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Run discovery (`run(profile)`) for every victim and score it against the truth."""
    evaluation = Evaluation()
    for victim in victims:
        result = run(victim["profile"])
        reported = {m.account_id for m in result.matches if m.account_id}
        evaluation.add(victim, flagged_accounts(result), reported)
        if progress:
            progress(1)
    return evaluation
