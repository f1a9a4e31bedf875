"""PDF and XLSX reports built from plain dataclasses (reports/model.py): the warranty claim evidence
pack of one battery and the fleet health report of a scope. No database, no dash: the data layer fills
the dataclasses, these modules only lay them out."""
from reports.evidence import evidence_pack_pdf
from reports.fleet import fleet_report_pdf, fleet_report_xlsx
from reports.model import AUTOMATIC, EvidencePack, FleetReport, SohPoint

__all__ = ["AUTOMATIC", "EvidencePack", "FleetReport", "SohPoint", "evidence_pack_pdf", "fleet_report_pdf",
           "fleet_report_xlsx"]
