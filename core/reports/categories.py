"""Core's report categories; plugins add or take categories with ``register_report_categories``."""

from core.contributions import Label, ReportCategory

CLUE = ReportCategory("clue", Label("违法犯罪线索", "Crime clue"))
OPINION = ReportCategory("opinion", Label("社情民意", "Public opinion"))
HAZARD = ReportCategory("hazard", Label("安全隐患", "Safety hazard"))
DISPUTE = ReportCategory("dispute", Label("矛盾纠纷", "Dispute"))

CORE_CATEGORIES = [CLUE, OPINION, HAZARD, DISPUTE]
