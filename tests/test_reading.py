"""DuckDB's CSV reader against Python's csv module: the same rows, on the same lines, with the
same values, and the same problems, whatever the file; and DuckDB really reads the usual ones."""

import csv
import io
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.contract.datasets import DATASETS
from orchestration.defs.ingest.encoding import utf8_text
from orchestration.defs.ingest.reading import (
    PROBLEMS_TABLE,
    WHITESPACE,
    Stager,
    _csv_header,
    _Layout,
)
from orchestration.defs.ingest.validation import HeaderMap

DATASET = DATASETS["accounts"]
HEADER = [c.name for c in DATASET.columns] + ["note"]
# Characters that make CSV hard: separators, quotes, line breaks, Unicode spaces, Chinese.
FIELD = st.text(
    alphabet=[",", '"', "\n", "\r", " ", "\u3000", "\u2028", "抖", "a", "1"], max_size=5
)
PLAIN_FIELD = st.text(alphabet=[" ", "\u3000", "抖", "a", "1", "-"], max_size=5)


def test_the_characters_trimmed_are_exactly_those_str_strip_removes():
    """DuckDB trims a value of WHITESPACE, written out in the code: these must stay the characters
    Python's str.strip() removes, as this Python's Unicode tables say."""
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == WHITESPACE


def _line(fields: list[str], quoting: int) -> str:
    out = io.StringIO()
    csv.writer(out, quoting=quoting, lineterminator="").writerow(fields)
    return out.getvalue()


@st.composite
def csv_files(
    draw,
    field=FIELD,
    mixed_ends=True,
    writes=("minimal", "all", "raw"),
    kinds=("row", "row", "row", "short", "long", "blank", "spaces"),
):
    """A CSV file's bytes: the header, then rows of any width (written by csv or raw, so some
    are malformed), blank and whitespace lines, either line ending, blank lines at the end."""
    width = len(HEADER)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    mixed = mixed_ends and draw(st.booleans())  # some lines end the other way
    lines = [",".join(HEADER)]
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(kinds))
        if kind == "blank":
            lines.append("")
        elif kind == "spaces":
            lines.append(" ,  ,")
        else:
            size = {"row": width, "short": width - 2, "long": width + 2}[kind]
            fields = draw(st.lists(field, min_size=size, max_size=size))
            written = draw(st.sampled_from(writes))
            if written == "raw":
                lines.append(",".join(fields))
            else:
                quoting = csv.QUOTE_ALL if written == "all" else csv.QUOTE_MINIMAL
                lines.append(_line(fields, quoting))
    ends = [draw(st.sampled_from(["\n", "\r\n"])) if mixed else newline for _ in range(len(lines))]
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    if not draw(st.booleans()):
        text = text.removesuffix(ends[-1])  # no line end after the last line
    text += newline * draw(st.integers(0, 2))
    return text.encode("utf-8")


def _staged(conn, stager: Stager, load_id: int):
    rows = conn.execute(
        f"SELECT * EXCLUDE (load_id) FROM {stager.table(DATASET)} WHERE load_id = ?"
        " ORDER BY line_number",
        [load_id],
    ).fetchall()
    problems = conn.execute(
        f"SELECT line_number, reason FROM {PROBLEMS_TABLE} WHERE load_id = ? ORDER BY seq",
        [load_id],
    ).fetchall()
    return rows, problems


def read_both(raw: bytes) -> tuple[bool, tuple, tuple]:
    """(whether DuckDB's reader could read it, what it staged, what Python's staged)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "accounts.csv"
        path.write_bytes(raw)
        conn = duckdb.connect()
        stager = Stager(conn, Path(folder) / "staging")
        with utf8_text(path, stager.workdir) as (text_path, shape):
            header, header_lines = _csv_header(text_path)
            layout = _Layout.of(header, HeaderMap.of(DATASET, header))
            by_duckdb = (
                not (shape.mixed_line_ends or shape.spaced_quote)
                and header_lines == 1
                and stager._duckdb_csv(text_path, shape, DATASET, 1, layout, header)
            )
            stager._python_csv(text_path, DATASET, 2, layout, len(header))
        return by_duckdb, _staged(conn, stager, 1), _staged(conn, stager, 2)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=csv_files())
def test_duckdb_and_python_read_every_csv_alike(raw):
    by_duckdb, duckdb_read, python_read = read_both(raw)
    if by_duckdb:
        assert duckdb_read == python_read
    else:  # it left the file to Python, and staged nothing of it
        assert duckdb_read == ([], [])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=csv_files(field=PLAIN_FIELD, mixed_ends=False, writes=("minimal", "raw")))
def test_duckdb_reads_files_without_quoted_line_breaks(raw):
    """Blank lines, short and long rows, trailing commas and Unicode spaces do not send a file
    to Python."""
    by_duckdb, duckdb_read, python_read = read_both(raw)
    assert by_duckdb
    assert duckdb_read == python_read


def test_mixed_line_ends_and_spaced_quotes_go_to_python():
    """DuckDB takes the first line's end for the whole file and reads `, "A,B"` as a quoted
    value: both would misplace rows, so such files are Python's."""
    header = ",".join(HEADER)
    mixed = (
        f"{header}\n小红书,A,招商银行,joint_stock\n,,,\r\n"
        "小红书,B,招商银行\n小红书,C,招商银行,joint_stock\n"
    )
    by_duckdb, _, (rows, problems) = read_both(mixed.encode())
    assert not by_duckdb
    assert [(r[0], r[2]) for r in rows] == [(1, "A"), (3, "B"), (4, "C")]
    spaced = f'{header}\n小红书, "A,B",招商银行,joint_stock\n'
    by_duckdb, _, (rows, problems) = read_both(spaced.encode())
    assert not by_duckdb
    # As Python's csv module reads it: the quote is text, the comma a separator.
    # (the registry's optional source column is empty: None)
    assert rows == [(1, "小红书", '"A', 'B"', "招商银行", "joint_stock", None, '{"note":null}')]


def test_a_long_rejected_line_is_read_whole():
    """DuckDB keeps 10,000 characters of a rejected line: a longer one sends the file to Python,
    so a too-wide row is still refused and a short row keeps its whole value."""
    note = "x" * 12_000
    raw = (
        ",".join(HEADER)
        + "\n"
        + ",".join(["小红书", "A", "招商银行", "joint_stock"] + ["x"] * (len(HEADER) - 5))
        + f",{note},EXTRA\n"
        f"小红书,B,招商银行,joint_stock,{note}\n"
    ).encode()
    by_duckdb, _, (rows, problems) = read_both(raw)
    assert not by_duckdb
    wide = len(HEADER) + 1
    assert problems == [
        (
            1,
            f"the row has {wide} fields but the header has {len(HEADER)}:"
            " quote values that contain commas",
        )
    ]
    assert [(r[0], r[5]) for r in rows] == [(2, note)]


def test_a_quoted_line_break_goes_to_python_with_the_lines_it_takes():
    raw = (
        "platform,account_name,bank,bank_type,account_role,note\n"
        '小红书,A,招商银行,joint_stock,card_center,"two\nlines"\n'
        "\n"
        "小红书,B,招商银行,joint_stock,card_center,x,extra\n"
        "小红书,C,招商银行,joint_stock\n"
    ).encode()
    by_duckdb, duckdb_read, python_read = read_both(raw)
    assert not by_duckdb
    rows, problems = python_read
    assert [(r[0], r[2]) for r in rows] == [(2, "A"), (5, "C")]  # a row's line is its last
    assert rows[0][-1] == '{"note":"two\\nlines"}'
    assert problems == [
        (4, "the row has 7 fields but the header has 6: quote values that contain commas")
    ]


def _stage_files(raws: list[bytes], together: bool) -> list[tuple]:
    """What a fresh Stager stages of each file (load_id = its place, from 1): read one at a time,
    or queued `together` and staged by one `flush`."""
    with tempfile.TemporaryDirectory() as folder:
        conn = duckdb.connect()
        stager = Stager(conn, Path(folder) / "staging")
        for load_id, raw in enumerate(raws, start=1):
            path = Path(folder) / f"accounts__{load_id}.csv"
            path.write_bytes(raw)
            stager.stage(path, ".csv", DATASET, load_id, together=together)
        assert stager.flush() == {}
        return [_staged(conn, stager, load_id) for load_id in range(1, len(raws) + 1)]


# Files whose rows are their lines, which the shared read keeps, among any others.
ROWS_ON_THEIR_LINES = csv_files(
    field=PLAIN_FIELD, mixed_ends=False, writes=("minimal", "all"), kinds=("row",)
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.lists(
        st.tuples(st.one_of(ROWS_ON_THEIR_LINES, csv_files()), st.booleans()),
        min_size=2,
        max_size=4,
    )
)
def test_files_read_together_stage_what_each_file_read_alone_stages(files):
    """A batch's files of one header are read in one `read_csv` (reading.Stager.flush): each
    file's rows, lines, values and problems are those it has read alone, whether the shared read
    kept it or left it to be read alone; in UTF-8 or GB18030 (read from a converted copy, kept
    until the shared read)."""
    raws = [raw.decode("utf-8").encode("gb18030") if gb18030 else raw for raw, gb18030 in files]
    assert _stage_files(raws, together=True) == _stage_files(raws, together=False)


def test_the_shared_read_keeps_the_files_whose_rows_are_their_lines():
    """Files without a rejected or empty line among their rows are staged by the one read; a
    file with either is left to be read alone, and its rows keep their lines."""
    header = ",".join(HEADER)
    row = "小红书,{},招商银行,joint_stock" + "," * (len(HEADER) - 4)
    blank = " " + ", \u3000" * (len(HEADER) - 1)  # every field spaces: no row, yet a line
    files = {
        "plain": f"{header}\n{row.format('A')}\n{row.format('B')}\n",
        "plain, in GB18030": f"{header}\r\n{row.format('甲')}\r\n",
        "blank row, empty end": f"{header}\n{row.format('C')}\n{blank}\n{row.format('D')}\n\n\n",
        "empty line inside": f"{header}\n{row.format('E')}\n\n{row.format('F')}\n",
        "ragged": f"{header}\n{row.format('G')},x,y\n{row.format('H')}\n",
        "header only": f"{header}\n",
    }
    with tempfile.TemporaryDirectory() as folder:
        conn = duckdb.connect()
        stager = Stager(conn, Path(folder) / "staging")
        for load_id, (name, text) in enumerate(files.items(), start=1):
            path = Path(folder) / f"accounts__{name}.csv"
            path.write_bytes(_encoded(name, text))
            stager.stage(path, ".csv", DATASET, load_id, together=True)
        queued = list(stager._queued.values())
        copy = queued[1].text_path  # the GB18030 file's UTF-8 copy, held until it is read
        assert copy.suffix == ".utf8" and copy.exists()
        left = stager._duckdb_csv_together(queued)
        assert [f.load_id for f in left] == [4, 5]  # the empty line inside, the ragged row
        staged = conn.execute(
            f"SELECT load_id, line_number, account_name FROM {stager.table(DATASET)}"
            " ORDER BY load_id, line_number"
        ).fetchall()
        assert staged == [(1, 1, "A"), (1, 2, "B"), (2, 1, "甲"), (3, 1, "C"), (3, 3, "D")]
        stager.clear()
        assert not copy.exists()
    assert [
        [(r[0], r[2]) for r in rows]
        for rows, _ in _stage_files(
            [_encoded(name, text) for name, text in files.items()], together=True
        )
    ] == [
        [(1, "A"), (2, "B")],
        [(1, "甲")],
        [(1, "C"), (3, "D")],
        [(1, "E"), (3, "F")],
        [(2, "H")],
        [],
    ]


def _encoded(name: str, text: str) -> bytes:
    return text.encode("gb18030" if "GB18030" in name else "utf-8")


def test_a_stager_removes_the_converted_copies_a_stopped_run_left(tmp_path):
    """A run stopped while a GB18030 file's UTF-8 copy waited in the staging folder (for the
    batch's shared read) left it there: the next run's stager removes it, and nothing else."""
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "tmpk3j2_x.utf8").write_text("platform,account_name\n小红书,A\n", encoding="utf-8")
    (staging / "kept.txt").write_text("an operator's note", encoding="utf-8")
    Stager(duckdb.connect(), staging)
    assert sorted(p.name for p in staging.iterdir()) == ["kept.txt"]
