"""Every write to the ledger, one function per business action (HackSoft services): `cases` (open, settle,
secure, cancel, close), `renovation` (P20–P22 works), `signoffs` (P2), `registries` (craftsmen, subsidy rates)."""
