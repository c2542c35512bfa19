"""Screening instruments shipped as data: one FHIR Questionnaire-shaped JSON file per key (see
services/instruments.py for the format and its checks)."""
