"""Standard packages of the store and of releases, so other tools can check and replay them:
WACZ (`export_wacz`) for replay tools, BagIt (`export_bag`) for repositories and transfers."""

from warcpack.export.bag import BagReport, export_bag
from warcpack.export.source import ExportError
from warcpack.export.wacz import WaczReport, export_wacz

__all__ = ["BagReport", "ExportError", "WaczReport", "export_bag", "export_wacz"]
