"""Writes on inspections, one module per sub-domain: `campaigns`, `checks` (with photos), `appraisals`
(suspected-danger requests, assignment, appraisals). Import the module you need."""
