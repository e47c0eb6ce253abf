-- Documents (cardbench-documents): invoice numbers for billing runs.
-- One running counter per name ('invoice'), and a record of every invoice number issued, so a
-- number is never given twice and an issued bill can be traced back to its period.
CREATE TABLE invoice_counter (
    name TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE invoices (
    invoice_number  TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    cost_centre     TEXT NOT NULL,
    period_from     TEXT NOT NULL,
    period_to       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    lines           INTEGER NOT NULL
);
CREATE INDEX invoices_organisation ON invoices (organisation_id, period_from);
