"""The history's schema: versioned migrations, applied once each, in order."""

from __future__ import annotations

# Each migration is applied once, in order, inside one transaction; never edit a released one.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial schema",
        [
            "CREATE SEQUENCE IF NOT EXISTS document_seq START 1",
            "CREATE SEQUENCE IF NOT EXISTS invoice_seq START 1",
            "CREATE SEQUENCE IF NOT EXISTS vendor_seq START 1",
            "CREATE SEQUENCE IF NOT EXISTS correction_seq START 1",
            "CREATE SEQUENCE IF NOT EXISTS run_seq START 1",
            "CREATE SEQUENCE IF NOT EXISTS failure_seq START 1",
            "CREATE SEQUENCE IF NOT EXISTS term_seq START 1",
            """CREATE TABLE documents (
                id BIGINT PRIMARY KEY DEFAULT nextval('document_seq'),
                sha256 VARCHAR NOT NULL UNIQUE, filename VARCHAR, media_type VARCHAR, page_count INTEGER,
                size BIGINT, stored_path VARCHAR, created_at TIMESTAMP DEFAULT current_timestamp)""",
            """CREATE TABLE vendors (
                id BIGINT PRIMARY KEY DEFAULT nextval('vendor_seq'),
                name VARCHAR NOT NULL, normalized VARCHAR, compact VARCHAR, tax_id VARCHAR, iban VARCHAR,
                created_at TIMESTAMP DEFAULT current_timestamp)""",
            """CREATE TABLE vendor_aliases (
                vendor_id BIGINT NOT NULL, kind VARCHAR NOT NULL, alias VARCHAR NOT NULL, key VARCHAR NOT NULL,
                created_at TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (vendor_id, kind, alias))""",
            """CREATE TABLE invoices (
                id BIGINT PRIMARY KEY DEFAULT nextval('invoice_seq'),
                document_id BIGINT NOT NULL, vendor_id BIGINT,
                vendor_name VARCHAR, vendor_address VARCHAR, vendor_tax_id VARCHAR, vendor_iban VARCHAR,
                vendor_email VARCHAR, vendor_phone VARCHAR,
                customer_name VARCHAR, customer_address VARCHAR, customer_tax_id VARCHAR, customer_iban VARCHAR,
                customer_email VARCHAR, customer_phone VARCHAR,
                invoice_number VARCHAR, invoice_number_key VARCHAR, invoice_date DATE, due_date DATE,
                purchase_order VARCHAR, currency VARCHAR,
                subtotal DECIMAL(18, 4), tax_total DECIMAL(18, 4), total DECIMAL(18, 4), amount_due DECIMAL(18, 4),
                tax_lines JSON, payment_terms VARCHAR,
                result JSON NOT NULL, validation JSON, needs_review BOOLEAN NOT NULL DEFAULT false,
                status VARCHAR NOT NULL DEFAULT 'new', page_first INTEGER, page_last INTEGER,
                search_text VARCHAR, engine VARCHAR,
                created_at TIMESTAMP DEFAULT current_timestamp, updated_at TIMESTAMP DEFAULT current_timestamp)""",
            """CREATE TABLE line_items (
                invoice_id BIGINT NOT NULL, position INTEGER NOT NULL, description VARCHAR,
                quantity DECIMAL(18, 4), unit_price DECIMAL(18, 4), amount DECIMAL(18, 4), tax_rate DECIMAL(9, 4),
                PRIMARY KEY (invoice_id, position))""",
            """CREATE TABLE corrections (
                id BIGINT PRIMARY KEY DEFAULT nextval('correction_seq'),
                invoice_id BIGINT NOT NULL, field VARCHAR NOT NULL, old JSON, new JSON, who VARCHAR NOT NULL,
                changed_at TIMESTAMP DEFAULT current_timestamp)""",
            """CREATE TABLE extraction_runs (
                id BIGINT PRIMARY KEY DEFAULT nextval('run_seq'),
                document_id BIGINT, invoice_id BIGINT, engine VARCHAR, timings JSON, seconds DOUBLE,
                created_at TIMESTAMP DEFAULT current_timestamp)""",
            """CREATE TABLE embeddings (
                invoice_id BIGINT PRIMARY KEY, model VARCHAR NOT NULL, vector FLOAT[] NOT NULL)""",
            """CREATE TABLE failures (
                id BIGINT PRIMARY KEY DEFAULT nextval('failure_seq'),
                filename VARCHAR, error_code VARCHAR, engine VARCHAR, failed_at TIMESTAMP DEFAULT current_timestamp)""",
            # Keyword index: BM25 over postings kept in step with every write (no rebuild needed).
            """CREATE TABLE fts_dict (term VARCHAR PRIMARY KEY, termid INTEGER NOT NULL DEFAULT nextval('term_seq'))""",
            "CREATE TABLE fts_postings (termid INTEGER NOT NULL, invoice_id BIGINT NOT NULL, tf INTEGER NOT NULL)",
            "CREATE TABLE fts_docs (invoice_id BIGINT PRIMARY KEY, len INTEGER NOT NULL)",
        ],
    ),
    (
        2,
        "vendor identity: conflicts and the vendor audit log",
        [
            "CREATE SEQUENCE IF NOT EXISTS vendor_event_seq START 1",
            # Two vendors claiming one identifier (an IBAN, a tax id): flagged for a person, never merged.
            """CREATE TABLE vendor_conflicts (
                kind VARCHAR NOT NULL, key VARCHAR NOT NULL, vendor_id BIGINT NOT NULL, other_vendor_id BIGINT NOT NULL,
                invoice_id BIGINT, created_at TIMESTAMP DEFAULT current_timestamp,
                PRIMARY KEY (kind, key, vendor_id, other_vendor_id))""",
            # Renames, merges, invoices moved by a correction, vendors created by one.
            """CREATE TABLE vendor_events (
                id BIGINT PRIMARY KEY DEFAULT nextval('vendor_event_seq'),
                action VARCHAR NOT NULL, vendor_id BIGINT, other_vendor_id BIGINT, invoice_id BIGINT,
                detail JSON, who VARCHAR NOT NULL, changed_at TIMESTAMP DEFAULT current_timestamp)""",
        ],
    ),
]

INVOICE_PARTY_FIELDS = ("name", "address", "tax_id", "iban", "email", "phone")

# Rows keyed by an invoice id that must go with the invoice (the audit log stays on purpose).
INVOICE_CHILD_TABLES = ("line_items", "embeddings", "fts_postings", "fts_docs")
