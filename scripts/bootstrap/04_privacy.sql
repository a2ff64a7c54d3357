-- People whose data must no longer be processed (GDPR art. 18 restriction, art. 21 upheld
-- objection): the loaders write a blank instead of their token (loaders/privacy/rights.py).
-- Run after 03_audit.sql, as a superuser, connected to the warehouse database. Safe to
-- run again. The list names a token by its SHA-256 (`subject_digest`), so that searching
-- the warehouse for a person's tokens (erasure, access) does not find the list itself.
-- Owned by the loader, like every raw table (created here before the matrix's grants,
-- which come after the numbered files: bootstrap's one transaction).
create table if not exists raw.privacy_suppressions (
    subject_digest text primary key,
    kind text not null check (kind in ('objection', 'restriction')),
    reference text not null,
    since timestamptz not null default now()
);
alter table raw.privacy_suppressions owner to windfarm_loader;
