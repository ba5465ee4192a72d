"""Supervision pages: P16 plans (`plans`), P3 visits and findings (`visits`), P24 interviews, accountability and
the annual assessment (`assessment`)."""
