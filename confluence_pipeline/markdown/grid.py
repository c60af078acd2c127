"""The grid of a table: cells placed by row and column, spans expanded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Cell:
    """One ``<td>``/``<th>``: its converted Markdown and how far it spans."""

    markdown: str
    header: bool
    colspan: int = 1
    rowspan: int = 1
    nested_table: bool = False


@dataclass
class Slot:
    """A grid position and the cell covering it."""

    cell: Cell
    first_row: bool  # False on the rows a rowspan covers below its own row
    first_col: bool  # False on the columns a colspan covers right of its own column


_MAX_SLOTS = 100_000


def build_grid(rows: list[list[Cell]]) -> list[list[Slot | None]]:
    """Rows of slots; ``None`` where no cell covers a position (ragged rows).

    Spans are ignored when expanding them would add more than ``_MAX_SLOTS`` positions
    (a ``rowspan="1000"`` on every row of a big table), so a hostile table stays linear.
    """
    extra = sum(min(c.rowspan, len(rows)) * c.colspan - 1 for row in rows for c in row)
    if extra > _MAX_SLOTS:
        rows = [[Cell(c.markdown, c.header, nested_table=c.nested_table) for c in r] for r in rows]
    grid: list[list[Slot | None]] = []
    carried: dict[int, tuple[Cell, int]] = {}  # column -> (cell, rows still covered)
    for row in rows:
        line: list[Slot | None] = []
        cells = iter(row)
        col = 0
        while True:
            if col in carried:
                cell, left = carried[col]
                line.append(Slot(cell, first_row=False, first_col=_is_first_col(line, cell)))
                if left <= 1:
                    del carried[col]
                else:
                    carried[col] = (cell, left - 1)
                col += 1
                continue
            new = next(cells, None)
            if new is None:
                if any(c > col for c in carried):
                    line.append(None)
                    col += 1
                    continue
                break
            for k in range(new.colspan):
                line.append(Slot(new, first_row=True, first_col=k == 0))
                if new.rowspan > 1:
                    carried[col + k] = (new, new.rowspan - 1)
            col += new.colspan
        grid.append(line)
    return grid


def _is_first_col(line: list[Slot | None], cell: Cell) -> bool:
    return not line or line[-1] is None or line[-1].cell is not cell
