"""Reads for the reports, a module per report. Each report is a few aggregate queries, whatever
the number of tickets."""
