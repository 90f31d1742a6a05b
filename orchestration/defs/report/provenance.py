"""Where each figure of the report comes from, and whether a reader may quote it.

Every mart row carries the source of its figures as delivered (`source`, `mau_source`,
`sources`, `baseline_sources`, ...). Two conventions of that text matter to a reader, and the
report marks them wherever the figure appears, in tables and in charts:

- **illustrative**: the source's text contains "illustrative". The value is a placeholder
  consistent with what the publication says, not a figure it published: never quote it.
- **derived**: the source's text starts with "derived". The value was computed from published
  figures (the text names them), by whoever delivered it or by the pipeline.

A figure the pipeline computes (a ratio, a growth rate, a share of a segment, a score) is derived
from its inputs, and illustrative as soon as one input is (`derived()`). Each table or chart
numbers the delivered sources of its figures (`Citations`) and lists them under it; a computed
figure cites its inputs' sources, and its column says how it is computed.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

ILLUSTRATIVE = "illustrative"
DERIVED = "derived"
PUBLISHED = "published"
# The mark drawn after a figure (tables, chart labels and legends use the same characters).
MARKS = {ILLUSTRATIVE: "*", DERIVED: "†", PUBLISHED: ""}
# The kinds in the report's language, with the English term the sources use as a gloss.
KIND_ZH = {ILLUSTRATIVE: "示意（illustrative）", DERIVED: "推算（derived）", PUBLISHED: "已发布"}
MEANINGS = {
    ILLUSTRATIVE: f"{KIND_ZH[ILLUSTRATIVE]}：与来源文字相符的占位数字，并非来源发布的数字，"
    "请勿引用",
    DERIVED: f"{KIND_ZH[DERIVED]}：由已发布的数字算出（来源或列名说明算法）",
}
NOT_DELIVERED = "未交付来源"
# How the marts join the sources of figures summed into one (string_agg in int_audience_shares
# and platform_audience_fit): split again, so that each source is listed once.
SOURCES_SEPARATOR = " | "


def kind_of(source: str) -> str:
    """illustrative, derived or published, by the conventions of the delivered source text."""
    text = source.strip().lower()
    if ILLUSTRATIVE in text:
        return ILLUSTRATIVE
    if text.startswith(DERIVED):
        return DERIVED
    return PUBLISHED


@dataclass(frozen=True)
class Provenance:
    """Where one figure comes from: the delivered sources of its inputs (each as its mart row
    carries it) and, when the pipeline computed it, what it computed (`formula`)."""

    sources: tuple[str, ...]
    formula: str | None = None

    @property
    def kind(self) -> str:
        """Illustrative when any input is; else derived when computed or any input is."""
        kinds = {kind_of(source) for source in self.sources}
        if ILLUSTRATIVE in kinds:
            return ILLUSTRATIVE
        if self.formula or DERIVED in kinds:
            return DERIVED
        return PUBLISHED

    @property
    def mark(self) -> str:
        return MARKS[self.kind]

    @property
    def text(self) -> str:
        sources = SOURCES_SEPARATOR.join(self.sources)
        return f"cardreach 推算：{self.formula}；来源 {sources}" if self.formula else sources


def delivered(source: str | None) -> Provenance:
    """A figure as delivered, with the source its row carries (several, when it sums figures)."""
    parts = [part.strip() for part in (source or "").split(SOURCES_SEPARATOR)]
    return Provenance(tuple(_distinct(part for part in parts if part)) or (NOT_DELIVERED,))


def derived(formula: str, *inputs: Provenance | str | None) -> Provenance:
    """A figure the pipeline computes by `formula` from figures of these sources: derived, and
    illustrative when an input is."""
    provenances = [i if isinstance(i, Provenance) else delivered(i) for i in inputs]
    return Provenance(tuple(_distinct(s for p in provenances for s in p.sources)), formula)


def _distinct(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


@dataclass(frozen=True)
class Cited:
    """A formatted figure with its sources: their numbers in the list under its table or chart
    (`notes`), the figure's kind and mark, and how it was computed (`how`, shown on hover; a
    delivered figure shows its source)."""

    text: str
    notes: tuple[int, ...]
    kind: str
    mark: str
    how: str


@dataclass(frozen=True)
class SourceNote:
    """One entry of the sources list under a table or chart: a delivered source."""

    number: int
    kind: str
    mark: str
    text: str

    @property
    def label(self) -> str:
        """The kind spelled out, unless the source's text already starts with it."""
        return "" if self.text.lower().startswith(self.kind) else KIND_ZH[self.kind]


@dataclass
class Citations:
    """Numbers the delivered sources of one table's (or chart's) figures in order of first use,
    so that a figure shows short numbers and the list under it the texts; a figure the pipeline
    computed cites its inputs' sources (its column says how it is computed). `anchor` makes the
    numbers' links unique in the page."""

    anchor: str
    _numbers: dict[str, int] = field(default_factory=dict)

    def note(self, provenance: Provenance) -> tuple[int, ...]:
        return tuple(
            self._numbers.setdefault(source, len(self._numbers) + 1)
            for source in provenance.sources
        )

    def __call__(self, text: str, provenance: Provenance, missing: str = "—") -> Cited | str:
        """The figure `text` cited; a missing figure (`missing`) has nothing to cite."""
        if text == missing:
            return text
        # on hover, how a derived figure is computed: its sources are the numbers beside it and
        # the list under the table (repeating their text on every cell made a table of
        # illustrative notes weigh three times its figures)
        how = f"cardreach 推算：{provenance.formula}" if provenance.formula else provenance.text
        return Cited(text, self.note(provenance), provenance.kind, provenance.mark, how)

    @property
    def notes(self) -> list[SourceNote]:
        return [
            SourceNote(number, kind_of(text), MARKS[kind_of(text)], text)
            for text, number in self._numbers.items()
        ]


def legend() -> list[tuple[str, str]]:
    """(mark, meaning) of each kind that has a mark, for the page's legend."""
    return [(MARKS[kind], MEANINGS[kind]) for kind in (ILLUSTRATIVE, DERIVED)]
