"""Reports: HTML (self-contained), Markdown / LaTeX / CSV tables, terminal tables."""

from medgauge.report.data import ItemData, RunData
from medgauge.report.html import render_html, write_html_report
from medgauge.report.summary import leaderboard
from medgauge.report.tables import leaderboard_table, render_leaderboard

__all__ = [
    "ItemData",
    "RunData",
    "leaderboard",
    "leaderboard_table",
    "render_html",
    "render_leaderboard",
    "write_html_report",
]
