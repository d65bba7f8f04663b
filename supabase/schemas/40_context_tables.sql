-- Memory in the prompt: the table of precomputed documents (each shopper's default memory_context document, kept
-- ready in one row). The composition, invalidation and refresh are in 42_context_compose.sql.
--
-- Composing the document (rank a heavy shopper's ~130 candidate rows, cap, build JSON for the ~20 kept) costs 4-12x
-- a plain indexed select of those rows, most of it ranking and building JSON. The assistant asks for the same
-- document on every turn, while the memory changes only when evidence arrives. So the worker composes it once per
-- change and memory_context hands back the stored copy: one primary-key lookup. This is the design document's "cache
-- frequently accessed memories", kept in Postgres and transactionally correct instead of in Redis:
--   - every transaction that changes a shopper's preferences, patterns or insights moves their row's generation on
--     and drops the stored document when it commits (deferred triggers below), so a stored document is never older
--     than the memory it shows;
--   - the refresh reads the generation before it composes and stores its document only if the generation is still
--     the same, so a refresh racing a write never stores what the write made stale;
--   - a document is stored with valid_until, the moment time alone changes it (the first recent pattern to leave the
--     pattern window, the first insight to expire); after that memory_context composes afresh;
--   - a miss (no document, another floor, a query) composes live, as before: the stored copy only ever saves time.
-- Who refreshes: the worker, after each recompute (in the same transaction) and in its periodic sweep (whatever
-- was changed without an event: forget_memory, expiry, the dashboard).

-- Table ----------------------------------------------------------------------------------------------------------
create table private.memory_context_cache (
  user_id uuid primary key references auth.users (id) on delete cascade,
  generation bigint not null default 1,
  min_confidence numeric(3, 2),
  document jsonb,
  valid_until timestamptz,
  built_at timestamptz,
  constraint memory_context_cache_generation_positive check (generation >= 1),
  constraint memory_context_cache_document_complete
    check ((document is null) = (valid_until is null) and (document is null) = (min_confidence is null)
           and (document is null) = (built_at is null))
);
-- The sweep's way to the documents to (re)build: missing ones first, then those that time has made stale. A bump
-- of an already empty row leaves valid_until null, so it stays a HOT update.
create index memory_context_cache_stale_idx on private.memory_context_cache (valid_until nulls first);

comment on table private.memory_context_cache is
  'Each shopper''s default memory_context document, composed by the worker; generation moves on with every change '
  'to their memory, which drops the document until the next refresh. A derived copy: exported and cleared with '
  'the rest of the shopper''s data.';

-- Analysed, so that the first plans made for this table know its size.
analyze private.memory_context_cache;
