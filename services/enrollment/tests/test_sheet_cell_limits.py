"""The summary sheet refuses an over-long text cell, naming its row, column and the limit."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from enrollment.adapters.spreadsheet import SpreadsheetError, cell_limit, read_sheet
from openpyxl import Workbook


def sheet(*rows: Sequence[object]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


HEADER = ["姓名", "性别", "身份证号", "工作单位"]


def test_limits_per_column() -> None:
    assert (cell_limit("姓名"), cell_limit("身份证号"), cell_limit("工作单位")) == (50, 30, 200)


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (["张" * 51, "男", "330106199005170019", "杭州"], "第 3 行“姓名”列内容过长（51 个字符，最多 50 个）"),
        (["张三", "男", "3" * 31, "杭州建工"], "第 3 行“身份证号”列内容过长（31 个字符，最多 30 个）"),
        (["张三", "男", "330106199005170019", "建" * 40_000], "“工作单位”列内容过长（32,767 个字符"),
        (["张三", "男", "330106199005170019", "杭州建工", "x" * 300], "第 3 行“E”列内容过长"),
    ],
)
def test_over_long_cells_refuse_the_sheet(row: list[object], words: str) -> None:
    _, rows = read_sheet(sheet(HEADER, ["李四", "女", "330106199005170019", "杭州建工"], row))
    with pytest.raises(SpreadsheetError) as refused:
        list(rows)
    assert refused.value.code == "cell_too_long" and words in refused.value.message


def test_cells_within_limits_pass() -> None:
    _, rows = read_sheet(sheet(HEADER, ["张" * 50, "男", "330106199005170019", "建" * 200]))
    assert len(list(rows)) == 1
