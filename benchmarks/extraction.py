"""Stated-preference extraction, scored on labelled utterances, next to a naive baseline.

    python benchmarks/extraction.py                      # the rules and the baseline, on every set
    python benchmarks/extraction.py --show 30            # and the misses and false positives to read
    python benchmarks/extraction.py --extractor claude   # Claude (needs ANTHROPIC_API_KEY)
    python benchmarks/extraction.py --against 5b66065    # next to the rules as they were at a commit

Two kinds of labelled data, each split into a part to develop on ("tune") and a held-out part never tuned on:
- the development file (PersonaExt: 11,356 real crowd-written chat utterances, one persona triple each; the path
  is --dev-file, by default ../shared/data/utterances-dev/ next to the repository). Relations map to our types
  (diet -> diet; dislike_food, do_not_eat, dislike_drink, do_not_drink -> dislike; like_food, like_drink,
  favorite_drink -> like); every other relation states no food preference. One triple per utterance: a
  prediction of another food in a food utterance is listed as "unlabelled", not counted either way. The held-out
  part is a fixed fifth by a hash of the text.
- our own cases (benchmarks/data/extraction-cases.jsonl): what the dev file lacks (allergies, household members,
  questions, other people, retractions, forget requests, hedges, the past, grocery-assistant phrasings,
  non-food negatives, brands), each with every statement it should yield, scored exactly; "split" marks the
  held-out ones.

Printed per set and type (allergy, diet, dislike, like, brand): precision, recall and F1 of what is remembered;
the false-positive rate (utterances stating no food preference that yield anything); requests to forget, scored
like the rest on our cases; and the unsafe count: allergies or diets a message would have removed without asking
for it (what the database's pending confirmation then holds back). Then, per set, the restriction-vs-dislike
confusion table: each utterance's expected class (restriction = an allergy or a diet remembered; else dislike; else
none) against what each extractor made of it, and the count of our intolerance and medical cases (tags
"intolerance", "medical", "exclusion") that stored a dislike.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from worker.config import PROJECT_DIR
from worker.extract.model import Extractor, InsightStatement, Said, Statement
from worker.extract.vocabulary import canonical_key

TYPES = ("allergy", "diet", "dislike", "like", "brand", "context", "goal", "constraint")
INSIGHT_TYPES = frozenset({"persona", "context", "goal", "constraint"})
OUR_TYPE = {"allergy": "allergy", "dietary": "diet", "dislike": "dislike", "favorite": "like", "brand": "brand"}
DEV_RELATIONS = {
    "diet": "diet",
    "dislike_food": "dislike",
    "do_not_eat": "dislike",
    "dislike_drink": "dislike",
    "do_not_drink": "dislike",
    "like_food": "like",
    "like_drink": "like",
    "favorite_drink": "like",
}
# Household relations: what the dev file labels as the speaker's household, as our insight keys (read the labels:
# grandchildren, parents and siblings are no household of the shopper's; "single" and "engaged" state none).
HOUSEHOLD_RELATIONS = {"have_chidren", "have_children", "have_pet", "have_no_children", "have_family", "marital_status"}
CASES = PROJECT_DIR / "benchmarks" / "data" / "extraction-cases.jsonl"
ADJUDICATED = PROJECT_DIR / "benchmarks" / "data" / "dev-adjudicated.tsv"
ADJUDICATED_HOUSEHOLD = PROJECT_DIR / "benchmarks" / "data" / "dev-adjudicated-household.tsv"
# Diet and dislike labels that, read by hand, state no first-person diet or dislike of a food.
NOT_FIRST_PERSON = (
    PROJECT_DIR / "benchmarks" / "data" / "dev-not-first-person-diets.txt",
    PROJECT_DIR / "benchmarks" / "data" / "dev-not-first-person-dislikes.txt",
    PROJECT_DIR / "benchmarks" / "data" / "dev-not-first-person-household.txt",
)
DEV_NAME = Path("shared") / "data" / "utterances-dev" / "personaext-dev.jsonl.gz"


@dataclass
class Item:
    text: str
    expected: set[tuple[str, str, str]]  # (action, type, key); for the dev file only the labelled one
    exact: bool  # our cases list everything; the dev file one triple
    food: bool  # states a food preference at all (for the false-positive rate)
    heldout: bool
    tags: list[str] = field(default_factory=list)
    insight: bool = False  # states an insight (household, goal, constraint): for the no-insight FP rate
    adjudicated: set[tuple[str, str, str]] = field(default_factory=set)  # read by hand: stated after all


def _singular(word: str) -> str:
    for suffix, repl in (("ies", "y"), ("oes", "o"), ("ches", "ch"), ("shes", "sh"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2 and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def norm(key: str) -> str:
    """Keys compared loosely: case, hyphens and plurals aside ("tree-nuts" = "tree nut")."""
    return " ".join(_singular(w) for w in key.lower().replace("-", " ").replace("'", "").split())


def keys_match(predicted: str, gold: str) -> bool:
    if gold.endswith("-*"):
        return predicted.startswith(gold[:-1])  # "pet-*": a pet the label names in words we do not know
    p, g = norm(predicted), norm(gold)
    if p == g or f" {p} " in f" {g} " or f" {g} " in f" {p} ":
        return True
    # A diet label may name the diet by another of its names ("vegetarianism" for vegetarian).
    diet = canonical_key("dietary", gold)
    return diet is not None and diet == canonical_key("dietary", predicted)


def heldout_by_hash(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 5 == 0


def dev_file(given: str | None) -> Path | None:
    if given:
        return Path(given)
    for base in (PROJECT_DIR.parent, PROJECT_DIR.parent.parent):
        if (base / DEV_NAME).exists():
            return base / DEV_NAME
    return None


def text_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _statement(text: str) -> tuple[str, str, str]:
    """ "diet:vegan" is stated; "forget diet:vegan" denied ("not a vegan though": a request to forget, in effect)."""
    action, said = ("forget", text.removeprefix("forget ")) if text.startswith("forget ") else ("remember", text)
    kind, _, key = said.partition(":")
    return (action, kind, key)


def load_adjudicated(
    paths: tuple[Path, ...] = (ADJUDICATED, ADJUDICATED_HOUSEHOLD),
) -> dict[str, set[tuple[str, str, str]]]:
    """Statements read by hand in development utterances whose label names another relation."""
    table: dict[str, set[tuple[str, str, str]]] = {}
    for line in (line for path in paths for line in path.read_text(encoding="utf-8").splitlines()):
        if line.startswith("#") or not line.strip():
            continue
        digest, statements, _ = line.split("\t", 2)
        table.setdefault(digest, set()).update(_statement(s) for s in statements.split(";") if s)
    # Diet and dislike labels that name no first-person statement of one: out of the recall of first-person
    # statements (the target's); what else such an utterance states, read above, still counts.
    for path in NOT_FIRST_PERSON:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                table.setdefault(line.split("\t", 1)[0].strip(), set()).add(("relabelled", "", ""))
    return table


def household_label(relation: str, tail: str) -> tuple[str, str, str] | None:
    """The insight a household label names, as (action, type, key), or None (not a household of the shopper's)."""
    from worker.extract.household import PETS

    words = tail.lower().replace("-", " ").split()
    if relation in {"have_chidren", "have_children"}:
        return None if any("grand" in w for w in words) else ("remember", "context", "children")
    if relation == "have_no_children":
        return ("forget", "context", "children")
    if relation == "have_pet":
        animal = next((PETS[w] for w in words if w in PETS), "*")
        return ("remember", "context", f"pet-{animal}")
    if relation == "have_family":
        if {"wife", "husband", "spouse", "hubby"} & set(words):
            return ("remember", "context", "partner")
        if {"kids", "children", "child", "son", "sons", "daughter", "daughters", "twins"} & set(words):
            return ("remember", "context", "children")
        return None
    if relation == "marital_status" and "married" in words:
        return ("remember", "context", "partner")
    return None


def load_dev(path: Path, adjudicated: dict[str, set[tuple[str, str, str]]] | None = None) -> list[Item]:
    items = []
    with gzip.open(path, "rt", encoding="utf-8") as file:
        for line in file:
            row = json.loads(line)
            kind = DEV_RELATIONS.get(row["relation"])
            expected = {("remember", kind, row["tail"])} if kind else set()
            household = household_label(row["relation"], row["tail"])
            if household is not None:
                expected = {household}
            item = Item(row["text"], expected, False, kind is not None, heldout_by_hash(row["text"]))
            item.insight = household is not None
            if adjudicated is not None:
                item.adjudicated = adjudicated.get(text_id(row["text"]), set())
                item.food = item.food or any(s[1] not in INSIGHT_TYPES for s in item.adjudicated)
                item.insight = item.insight or any(s[1] in INSIGHT_TYPES for s in item.adjudicated)
                if ("relabelled", "", "") in item.adjudicated:
                    item.expected = set()  # no first-person diet after all
            items.append(item)
    return items


def load_cases(path: Path = CASES) -> list[Item]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("//"):
            continue
        row = json.loads(line)
        expected = {(a, t, k) for a, t, k in row["expect"]}
        food = any(t not in INSIGHT_TYPES for _, t, _ in expected)
        insight = any(t in INSIGHT_TYPES for _, t, _ in expected)
        heldout = row.get("split") == "heldout"
        items.append(Item(row["text"], expected, True, food, heldout, row["tags"], insight=insight))
    return items


@dataclass
class Score:
    tp: Counter[str] = field(default_factory=Counter)
    confirmed: Counter[str] = field(default_factory=Counter)  # right by the hand reading, outside the labels
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    negatives: int = 0
    negatives_hit: int = 0
    insight_negatives: int = 0  # utterances that state no insight ...
    insight_negatives_hit: int = 0  # ... and still yield one
    others_facts: int = 0  # insights stored from our cases tagged "other" (other people's facts)
    unsafe: int = 0  # allergy/diet forgets nobody asked for
    unlabelled: int = 0
    fallbacks: int = 0  # utterances another extractor read instead (Claude's errors fall back to the rules)
    seconds: float = 0.0
    count: int = 0
    misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (expected class, stored class)
    restrictions_as_dislikes: int = 0  # our intolerance / medical / exclusion cases that stored a dislike

    def prf(self, kind: str) -> tuple[float | None, float | None, float | None]:
        tp, fp, fn = self.tp[kind], self.fp[kind], self.fn[kind]
        right = tp + self.confirmed[kind]
        p = right / (right + fp) if right + fp else None
        r = tp / (tp + fn) if tp + fn else None
        f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
        return p, r, f


RESTRICTION_TAGS = frozenset({"intolerance", "medical", "exclusion"})


def restriction_class(said: set[tuple[str, str, str]]) -> str:
    """ "restriction" when an allergy or a diet is remembered, else "dislike" when a dislike is, else "none"."""
    kinds = {kind for action, kind, _ in said if action == "remember"}
    return "restriction" if kinds & {"allergy", "diet"} else "dislike" if "dislike" in kinds else "none"


def predicted(statements: Iterable[Said]) -> set[tuple[str, str, str]]:
    return {
        (s.action, s.insight_type, s.insight_key)
        if isinstance(s, InsightStatement)
        else (s.action, OUR_TYPE[s.preference_type], s.preference_key)
        for s in statements
    }


def score(extractor: Extractor, items: list[Item]) -> Score:
    result = Score()
    for item in items:
        started = time.perf_counter()
        statements, source = extractor.extract(item.text)
        result.seconds += getattr(extractor, "per_text", 0.0) or time.perf_counter() - started
        result.fallbacks += source != extractor.name
        result.count += 1
        got = predicted(statements)
        insights = {s for s in got if s[1] in INSIGHT_TYPES}
        if not item.insight:
            result.insight_negatives += 1
            result.insight_negatives_hit += bool(insights)
        if {"other", "insight"} <= set(item.tags):
            result.others_facts += len(insights)
        got_preferences = got - insights
        expected = item.expected | {s for s in item.adjudicated if s[0] != "relabelled"}
        result.confusion[(restriction_class(expected), restriction_class(got))] += 1
        if RESTRICTION_TAGS & set(item.tags) and "near-miss" not in item.tags:
            result.restrictions_as_dislikes += any(a == "remember" and k == "dislike" for a, k, _ in got - expected)
        if not item.food:
            result.negatives += 1
            result.negatives_hit += bool(got_preferences)
        for action, kind, key in got:
            asked = (action, kind, key) in item.expected | item.adjudicated
            if action == "forget" and kind in {"allergy", "diet"} and not asked:
                result.unsafe += 1
        if item.exact:
            _score_exact(result, item, got)
        else:
            _score_one_label(result, item, got)
    return result


def _row(kind: str, action: str) -> str:
    return kind if action == "remember" or kind in INSIGHT_TYPES else "forget"


def _score_exact(result: Score, item: Item, got: set[tuple[str, str, str]]) -> None:
    matched: set[tuple[str, str, str]] = set()
    for action, kind, key in got:
        hit = next((e for e in item.expected if e[:2] == (action, kind) and keys_match(key, e[2])), None)
        if hit is not None and hit not in matched:
            matched.add(hit)
            result.tp[_row(kind, action)] += 1
        else:
            result.fp[_row(kind, action)] += 1
            result.false_positives.append(f"{action} {kind}:{key}  <- {item.text}")
    for action, kind, key in item.expected - matched:
        result.fn[_row(kind, action)] += 1
        result.misses.append(f"{action} {kind}:{key}  <- {item.text}")


def _score_one_label(result: Score, item: Item, got: set[tuple[str, str, str]]) -> None:
    gold = next(iter(item.expected), None)
    found = False
    for action, kind, key in got:
        if (action, kind, key) in item.adjudicated and not (gold and keys_match(key, gold[2]) and kind == gold[1]):
            result.confirmed[_row(kind, action)] += 1
        elif gold is None:
            result.fp[_row(kind, action)] += 1
            result.false_positives.append(f"{action} {kind}:{key}  <- {item.text}")
        elif keys_match(key, gold[2]) and action == gold[0] and kind == gold[1]:
            if not found:
                result.tp[kind] += 1
            found = True
        elif keys_match(key, gold[2]):
            result.fp[_row(kind, action)] += 1  # the labelled food, read as the wrong type
            result.false_positives.append(f"{action} {kind}:{key} (labelled {gold[1]})  <- {item.text}")
        else:
            result.unlabelled += 1
    if gold is not None and not found:
        result.fn[gold[1]] += 1
        result.misses.append(f"{gold[1]}:{gold[2]}  <- {item.text}")


def fmt(value: float | None) -> str:
    return "   - " if value is None else f"{value:5.2f}"


def report(name: str, scores: dict[str, Score], show: int) -> None:
    names = list(scores)
    print(f"\n== {name} ==")
    header = "type        " + "".join(f"| {n:^24}" for n in names)
    print(header)
    print("            " + "|    P     R    F1  (n)  " * len(names))
    rows = [*TYPES, "forget"]
    for kind in rows:
        cells = []
        for n in names:
            s = scores[n]
            p, r, f = s.prf(kind)
            support = s.tp[kind] + s.fn[kind]
            cells.append(f"| {fmt(p)} {fmt(r)} {fmt(f)} {support:4d} ")
        if any(scores[n].tp[kind] + scores[n].fp[kind] + scores[n].fn[kind] for n in names):
            print(f"{kind:<12}" + "".join(cells))
    combined = []
    for n in names:
        s = scores[n]
        tp = s.tp["allergy"] + s.tp["diet"]
        right = tp + s.confirmed["allergy"] + s.confirmed["diet"]
        fp = s.fp["allergy"] + s.fp["diet"]
        fn = s.fn["allergy"] + s.fn["diet"]
        p = right / (right + fp) if right + fp else None
        r = tp / (tp + fn) if tp + fn else None
        combined.append(f"| {fmt(p)} {fmt(r)}   allergy+diet ")
    print(f"{'safety':<12}" + "".join(combined))
    for n in names:
        s = scores[n]
        rate = s.negatives_hit / s.negatives if s.negatives else 0.0
        insight_rate = s.insight_negatives_hit / s.insight_negatives if s.insight_negatives else 0.0
        print(
            f"  {n}: no-insight utterances with an insight {s.insight_negatives_hit}/{s.insight_negatives} = "
            f"{100 * insight_rate:.2f}%; insights from other people's facts (our cases tagged other) {s.others_facts}"
        )
        print(
            f"  {n}: {s.count} utterances; no-food-preference utterances with output {s.negatives_hit}/"
            f"{s.negatives} = {100 * rate:.2f}%; unasked allergy/diet removals {s.unsafe}; unlabelled "
            f"predictions {s.unlabelled}; {1e6 * s.seconds / max(1, s.count):.0f} us per utterance"
            + (f"; {s.fallbacks} read by the fallback" if s.fallbacks else "")
        )
    classes = ("restriction", "dislike", "none")
    print("  restriction vs dislike, utterances (rows: expected; columns: stored):")
    print("    " + " " * 12 + "".join(f"| {n[:26]:^26}" for n in names))
    print("    " + " " * 12 + "| restriction dislike  none " * len(names))
    for row in classes:
        cells = "".join("| " + "".join(f"{scores[n].confusion[(row, c)]:>8}" for c in classes) + "  " for n in names)
        print(f"    {row:<12}{cells}")
    if any(scores[n].restrictions_as_dislikes or any(RESTRICTION_TAGS) for n in names):
        print(
            "  intolerance / medical / exclusion cases that stored a dislike: "
            + ", ".join(f"{n} {scores[n].restrictions_as_dislikes}" for n in names)
        )
    if show:
        first = scores[names[0]]
        print(f"  -- {names[0]}: misses ({len(first.misses)}), first {show}:")
        for line in first.misses[:show]:
            print("     ", line)
        print(f"  -- {names[0]}: false positives ({len(first.false_positives)}), first {show}:")
        for line in first.false_positives[:show]:
            print("     ", line)


# The extractor as it was at a commit, run in a child process on that commit's worker/extract (git archive), so its
# figures print beside today's from the same data. Its time per utterance is the child's.
_AT_COMMIT = """
import json, sys, time
from worker.extract.rules import RuleExtractor
extractor, out = RuleExtractor(), {}
started = time.perf_counter()
for text in json.load(sys.stdin):
    statements, _ = extractor.extract(text)
    out[text] = [s.model_dump(mode="json") for s in statements]
json.dump({"seconds": time.perf_counter() - started, "statements": out}, sys.stdout)
"""


class CommitExtractor:
    def __init__(self, commit: str) -> None:
        self.commit = commit
        self.name = f"rules@{commit[:7]}"
        self.said: dict[str, list[Statement]] = {}
        self.per_text = 0.0

    def prepare(self, texts: list[str]) -> None:
        with tempfile.TemporaryDirectory() as tree:
            archive = subprocess.run(
                ["git", "-C", str(PROJECT_DIR), "archive", self.commit, "worker/__init__.py", "worker/extract"],
                check=True,
                capture_output=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
            child = subprocess.run(
                [sys.executable, "-c", _AT_COMMIT],
                input=json.dumps(texts).encode(),
                env={**os.environ, "PYTHONPATH": tree},
                cwd=tree,
                check=True,
                capture_output=True,
            )
        answer = json.loads(child.stdout)
        self.said = {t: [Statement.model_validate(s) for s in said] for t, said in answer["statements"].items()}
        self.per_text = answer["seconds"] / max(1, len(texts))

    def extract(self, message: str) -> tuple[list[Statement], str]:
        return self.said[message], self.name


def make_extractor(name: str) -> Extractor:
    if name == "rules":
        from worker.extract.rules import RuleExtractor

        return RuleExtractor()
    if name == "baseline":
        from baselines.rules_before import BaselineExtractor  # type: ignore[import-not-found]

        return BaselineExtractor()  # type: ignore[no-any-return]
    if name == "claude":
        from worker.config import Settings
        from worker.extract.claude import ClaudeExtractor

        settings = Settings()
        key = settings.anthropic_api_key
        assert key is not None
        return ClaudeExtractor(key.get_secret_value(), settings.anthropic_model)
    raise SystemExit(f"unknown extractor {name}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--extractor", default="rules", choices=["rules", "baseline", "claude"])
    parser.add_argument("--baseline", default="baseline", choices=["rules", "baseline", "none"])
    parser.add_argument("--against", metavar="COMMIT", help="also score the rule extractor as it was at COMMIT")
    parser.add_argument("--dev-file", help="the PersonaExt development file (jsonl.gz)")
    parser.add_argument("--sets", default="cases,dev", help="which data: cases, dev or both (default)")
    parser.add_argument("--split", default="both", choices=["tune", "heldout", "both"])
    parser.add_argument("--limit", type=int, default=0, help="score only the first N utterances of each set")
    parser.add_argument("--show", type=int, default=0, help="print the first N misses and false positives")
    parser.add_argument(
        "--adjudicated",
        action="store_true",
        help="count what benchmarks/data/dev-adjudicated.tsv reads by hand in the dev file as stated",
    )
    args = parser.parse_args()

    if args.extractor == "claude" and not os.environ.get("ANTHROPIC_API_KEY"):
        print("ANTHROPIC_API_KEY is not set: Claude extraction cannot be benchmarked here. Set it and run again.")
        return 0
    extractors = {args.extractor: make_extractor(args.extractor)}
    if args.baseline != "none" and args.baseline != args.extractor:
        extractors[args.baseline] = make_extractor(args.baseline)

    sets: dict[str, list[Item]] = {}
    if "cases" in args.sets:
        sets["our cases"] = load_cases()
    if "dev" in args.sets:
        path = dev_file(args.dev_file)
        if path is None:
            print("The development file is not here (pass --dev-file); scoring our cases only.", file=sys.stderr)
        else:
            sets["dev file"] = load_dev(path, load_adjudicated() if args.adjudicated else None)
    if args.against:
        at_commit = CommitExtractor(args.against)
        at_commit.prepare(sorted({item.text for items in sets.values() for item in items}))
        extractors[at_commit.name] = at_commit
    splits = ["tune", "heldout"] if args.split == "both" else [args.split]
    for set_name, items in sets.items():
        for split in splits:
            part = [i for i in items if i.heldout == (split == "heldout")]
            if args.limit:
                part = part[: args.limit]
            scores = {name: score(extractor, part) for name, extractor in extractors.items()}
            report(f"{set_name}, {split} ({len(part)})", scores, args.show)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
