using Npgsql;
using Quiver.Core.Storage.Relational;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// Versioned schema, the same tables as the embedded backend. All steps run in one transaction
/// holding a transaction-level advisory lock, so several processes starting at once migrate
/// exactly once (the others wait, then find the version current). Released steps are never
/// edited, only appended to. Ids are <c>COLLATE "C"</c> so list order (created_at, id) is the
/// byte order SQLite uses, whatever the database's default collation.
/// </summary>
internal static class PostgresMigrations
{
    /// <summary>Key of the advisory lock serialising migrations and index creation ("quiver" in ASCII).</summary>
    public const long LockKey = 0x717569766572;

    private static readonly string[] Steps =
    [
        // 1: keys and files.
        """
        CREATE TABLE api_keys (
            id text COLLATE "C" PRIMARY KEY,
            name text NOT NULL,
            project text NOT NULL,
            key_hash text NOT NULL UNIQUE,
            is_admin bigint NOT NULL,
            created_at bigint NOT NULL,
            revoked_at bigint
        );
        CREATE TABLE files (
            id text COLLATE "C" PRIMARY KEY,
            project text NOT NULL,
            owner text NOT NULL,
            filename text NOT NULL,
            purpose text NOT NULL,
            bytes bigint NOT NULL,
            content_type text NOT NULL,
            created_at bigint NOT NULL
        );
        CREATE INDEX ix_files_principal ON files (project, owner, created_at, id);
        """,

        // 2: vector stores, their files, batches, ingestion jobs, chunks with vectors and tsvector (replaced by postings below).
        """
        CREATE TABLE vector_stores (
            id text COLLATE "C" PRIMARY KEY,
            project text NOT NULL,
            owner text NOT NULL,
            name text,
            description text,
            metadata text NOT NULL,
            embedding_model text NOT NULL,
            embedding_dimensions integer NOT NULL,
            expires_after_days integer,
            expires_at bigint,
            expired bigint NOT NULL DEFAULT 0,
            last_active_at bigint NOT NULL,
            created_at bigint NOT NULL
        );
        CREATE INDEX ix_vector_stores_principal ON vector_stores (project, owner, created_at, id);

        CREATE TABLE vector_store_files (
            vector_store_id text COLLATE "C" NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
            file_id text COLLATE "C" NOT NULL,
            status text NOT NULL,
            last_error_code text,
            last_error_message text,
            attributes text NOT NULL,
            chunking_requested text,
            chunk_max_tokens integer NOT NULL,
            chunk_overlap_tokens integer NOT NULL,
            usage_bytes bigint NOT NULL DEFAULT 0,
            parsed_text text,
            batch_id text COLLATE "C",
            generation bigint NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (vector_store_id, file_id)
        );
        CREATE INDEX ix_vector_store_files_list ON vector_store_files (vector_store_id, created_at, file_id);
        CREATE INDEX ix_vector_store_files_status ON vector_store_files (vector_store_id, status);
        CREATE INDEX ix_vector_store_files_file ON vector_store_files (file_id);
        CREATE INDEX ix_vector_store_files_batch ON vector_store_files (vector_store_id, batch_id) WHERE batch_id IS NOT NULL;

        CREATE TABLE file_batches (
            id text COLLATE "C" PRIMARY KEY,
            vector_store_id text COLLATE "C" NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
            cancelled bigint NOT NULL DEFAULT 0,
            idempotency_key text,
            created_at bigint NOT NULL
        );
        CREATE UNIQUE INDEX ux_file_batches_idempotency ON file_batches (vector_store_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE INDEX ix_file_batches_store ON file_batches (vector_store_id);

        CREATE TABLE file_batch_members (
            batch_id text COLLATE "C" NOT NULL REFERENCES file_batches (id) ON DELETE CASCADE,
            file_id text COLLATE "C" NOT NULL,
            status text NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (batch_id, file_id)
        );
        CREATE INDEX ix_file_batch_members_list ON file_batch_members (batch_id, created_at, file_id);

        CREATE TABLE ingestion_jobs (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            vector_store_id text COLLATE "C" NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
            file_id text COLLATE "C" NOT NULL,
            generation bigint NOT NULL,
            state text NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            lease_owner text,
            lease_until_ms bigint,
            not_before_ms bigint NOT NULL,
            deadline_ms bigint NOT NULL,
            UNIQUE (vector_store_id, file_id)
        );
        CREATE INDEX ix_ingestion_jobs_claim ON ingestion_jobs (state, not_before_ms);
        CREATE INDEX ix_ingestion_jobs_store ON ingestion_jobs (vector_store_id, state);

        -- Vectors of every store in one table: the column is untyped because stores differ in
        -- dimensions; `dims` names the length so per-dimension HNSW partial indexes on
        -- (embedding::vector(N)) WHERE dims = N can serve ANN search (see PostgresVectorIndexes).
        -- `tsv` is the lexical index (English stemming, like FTS5's porter tokenizer).
        CREATE TABLE chunks (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            vector_store_id text COLLATE "C" NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
            file_id text COLLATE "C" NOT NULL,
            chunk_index integer NOT NULL,
            text text NOT NULL,
            token_count integer NOT NULL,
            dims integer NOT NULL,
            embedding vector NOT NULL,
            tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
        );
        CREATE INDEX ix_chunks_file ON chunks (vector_store_id, file_id, chunk_index);
        CREATE INDEX ix_chunks_tsv ON chunks USING gin (tsv);

        -- File bytes when Quiver:Storage:Blobs = postgres: a blob is a row plus 1 MiB bytea
        -- pieces; staged blobs have no key until committed (commit = setting the key).
        CREATE TABLE blobs (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            key text COLLATE "C" UNIQUE,
            length bigint NOT NULL DEFAULT 0,
            staged_at bigint NOT NULL
        );
        CREATE TABLE blob_parts (
            blob_id bigint NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
            seq integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (blob_id, seq)
        );
        """,

        // Fair claims across processes: the turn at which each store was last served, so that
        // among stores with equally few running jobs the one served longest ago goes first (the
        // embedded backend keeps the same order in memory, having one process).
        """
        CREATE SEQUENCE ingestion_claim_turns;
        CREATE TABLE ingestion_store_turns (
            vector_store_id text COLLATE "C" PRIMARY KEY REFERENCES vector_stores (id) ON DELETE CASCADE,
            turn bigint NOT NULL
        );
        """,

        // Per-key rate limits (a spec such as '10/s,5000/h'; '' = none) and permissions (a JSON
        // array of strings); the key ring that signs exchanged access tokens (one active key,
        // enforced by the partial unique index; retired keys kept for verification); and the
        // fixed-window counters every process shares (one row per key and window length).
        """
        ALTER TABLE api_keys ADD COLUMN rate_limit text NOT NULL DEFAULT '';
        ALTER TABLE api_keys ADD COLUMN permissions text NOT NULL DEFAULT '[]';
        CREATE TABLE signing_keys (
            kid text COLLATE "C" PRIMARY KEY,
            algorithm text NOT NULL,
            private_key bytea NOT NULL,
            created_at bigint NOT NULL,
            retired_at bigint
        );
        CREATE UNIQUE INDEX ux_signing_keys_active ON signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;
        CREATE TABLE rate_limit_counters (
            key_id text COLLATE "C" NOT NULL,
            window_seconds bigint NOT NULL,
            window_start bigint NOT NULL,
            count bigint NOT NULL,
            PRIMARY KEY (key_id, window_seconds)
        );
        """,

        // BM25 as the embedded backend computes it (issue 13): postings (store, term, chunk, tf) with
        // the chunk's length and file (so filters and scoring need no join), per-store term document
        // frequencies and per-store chunk count / token total. Terms come from the FTS5 tokenizer itself
        // (Fts5Analyzer) when a chunk is published; the statistics are kept by statement-level triggers
        // from the transition tables, so every path that adds or removes chunks (publish, re-attach,
        // detach, file and store delete, cancel, failure) keeps them exact in its own transaction.
        // Rows are locked in (store, term) order so concurrent publishes into one store cannot deadlock
        // on them within one phase. `lexical_length` NULL = not analysed yet (backfilled at start-up).
        // The old tsvector column and its GIN index go: nothing reads them any more.
        """
        ALTER TABLE chunks DROP COLUMN tsv;
        ALTER TABLE chunks ADD COLUMN lexical_length integer;
        CREATE TABLE chunk_postings (
            vector_store_id text COLLATE "C" NOT NULL,
            term text COLLATE "C" NOT NULL,
            chunk_id bigint NOT NULL,
            file_id text COLLATE "C" NOT NULL,
            tf integer NOT NULL,
            chunk_length integer NOT NULL,
            PRIMARY KEY (vector_store_id, term, chunk_id)
        );
        CREATE INDEX ix_chunk_postings_chunk ON chunk_postings (chunk_id);
        CREATE TABLE lexical_terms (
            vector_store_id text COLLATE "C" NOT NULL,
            term text COLLATE "C" NOT NULL,
            df bigint NOT NULL,
            PRIMARY KEY (vector_store_id, term)
        );
        CREATE TABLE lexical_stores (
            vector_store_id text COLLATE "C" PRIMARY KEY,
            chunk_count bigint NOT NULL,
            token_total bigint NOT NULL
        );

        CREATE FUNCTION quiver_chunks_lexical() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM chunk_postings p USING old_chunks o WHERE p.chunk_id = o.id;
            END IF;
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                PERFORM 1 FROM lexical_stores WHERE vector_store_id IN (SELECT vector_store_id FROM old_chunks)
                    ORDER BY vector_store_id FOR UPDATE;
                UPDATE lexical_stores s SET chunk_count = s.chunk_count - d.n, token_total = s.token_total - d.len
                FROM (SELECT vector_store_id, count(*) AS n, sum(lexical_length) AS len FROM old_chunks
                      WHERE lexical_length IS NOT NULL GROUP BY vector_store_id) d
                WHERE s.vector_store_id = d.vector_store_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO lexical_stores AS s (vector_store_id, chunk_count, token_total)
                SELECT vector_store_id, count(*), sum(lexical_length) FROM new_chunks
                WHERE lexical_length IS NOT NULL GROUP BY vector_store_id ORDER BY vector_store_id
                ON CONFLICT (vector_store_id) DO UPDATE
                    SET chunk_count = s.chunk_count + excluded.chunk_count, token_total = s.token_total + excluded.token_total;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER chunks_lexical_insert AFTER INSERT ON chunks
            REFERENCING NEW TABLE AS new_chunks FOR EACH STATEMENT EXECUTE FUNCTION quiver_chunks_lexical();
        CREATE TRIGGER chunks_lexical_update AFTER UPDATE ON chunks
            REFERENCING OLD TABLE AS old_chunks NEW TABLE AS new_chunks FOR EACH STATEMENT EXECUTE FUNCTION quiver_chunks_lexical();
        CREATE TRIGGER chunks_lexical_delete AFTER DELETE ON chunks
            REFERENCING OLD TABLE AS old_chunks FOR EACH STATEMENT EXECUTE FUNCTION quiver_chunks_lexical();

        CREATE FUNCTION quiver_postings_terms() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO lexical_terms AS t (vector_store_id, term, df)
                SELECT vector_store_id, term, count(*) FROM new_postings GROUP BY vector_store_id, term ORDER BY vector_store_id, term
                ON CONFLICT (vector_store_id, term) DO UPDATE SET df = t.df + excluded.df;
            ELSE
                PERFORM 1 FROM lexical_terms WHERE (vector_store_id, term) IN (SELECT vector_store_id, term FROM old_postings)
                    ORDER BY vector_store_id, term FOR UPDATE;
                UPDATE lexical_terms t SET df = t.df - d.n
                FROM (SELECT vector_store_id, term, count(*) AS n FROM old_postings GROUP BY vector_store_id, term) d
                WHERE t.vector_store_id = d.vector_store_id AND t.term = d.term;
                DELETE FROM lexical_terms t USING (SELECT DISTINCT vector_store_id, term FROM old_postings) d
                WHERE t.vector_store_id = d.vector_store_id AND t.term = d.term AND t.df <= 0;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER chunk_postings_insert AFTER INSERT ON chunk_postings
            REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION quiver_postings_terms();
        CREATE TRIGGER chunk_postings_delete AFTER DELETE ON chunk_postings
            REFERENCING OLD TABLE AS old_postings FOR EACH STATEMENT EXECUTE FUNCTION quiver_postings_terms();
        """,

        // Vectors apart from text (issue 13): a chunk row held vector + text (+ tsvector), ~3.8 KB on
        // SciFact, past the 2 KB TOAST threshold, so pgvector's EXTERNAL storage moved every vector to the
        // TOAST table and an exact scan fetched each one from there. `chunk_vectors` is narrow (a 384-d
        // vector is 1.5 KB) and its vectors stay in the row (MAIN: inline unless a row cannot fit a page);
        // exact scans read only vectors and the per-dimension HNSW indexes move here. Rows go with
        // their chunk (ON DELETE CASCADE). The old chunks.embedding indexes are dropped with the column.
        """
        CREATE TABLE chunk_vectors (
            chunk_id bigint PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
            vector_store_id text COLLATE "C" NOT NULL,
            file_id text COLLATE "C" NOT NULL,
            dims integer NOT NULL,
            embedding vector NOT NULL
        );
        ALTER TABLE chunk_vectors ALTER COLUMN embedding SET STORAGE MAIN;
        INSERT INTO chunk_vectors (chunk_id, vector_store_id, file_id, dims, embedding)
            SELECT id, vector_store_id, file_id, dims, embedding FROM chunks;
        CREATE INDEX ix_chunk_vectors_store ON chunk_vectors (vector_store_id, dims, file_id);
        ALTER TABLE chunks DROP COLUMN embedding;
        ALTER TABLE chunks DROP COLUMN dims;
        """,

        PortableMigrations.ResourceGrants(" COLLATE \"C\""),
        PortableMigrations.IdempotencyKeys,
        PortableMigrations.FileExpiry,
        PortableMigrations.JobTraceParent,

        // Postings read by index-only scans: the lexical query needs tf, chunk length and file of each posting of
        // its terms, and with them in the key's INCLUDE list it reads the index pages of those terms only, not one
        // heap page per posting (SciFact, 16 terms, 7,504 postings: 21 ms → 6.5 ms). Once autovacuum has marked the
        // pages all-visible (insert-driven vacuum, PostgreSQL 13+), no heap page is touched.
        """
        ALTER TABLE chunk_postings DROP CONSTRAINT chunk_postings_pkey,
            ADD PRIMARY KEY (vector_store_id, term, chunk_id) INCLUDE (tf, chunk_length, file_id);
        """,

        // A chunk version per store for the in-process copies of small stores' vectors (PostgresChunkSearchStore): the
        // lexical trigger already locks the store's lexical_stores row in every statement that inserts, re-analyses or
        // deletes its chunks, so bumping a counter there costs no new lock and commits with the change. Chunks not yet
        // analysed (lexical_length NULL, before the start-up backfill) now count for the version, not for the totals.
        """
        ALTER TABLE lexical_stores ADD COLUMN chunks_version bigint NOT NULL DEFAULT 0;
        CREATE OR REPLACE FUNCTION quiver_chunks_lexical() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM chunk_postings p USING old_chunks o WHERE p.chunk_id = o.id;
            END IF;
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                PERFORM 1 FROM lexical_stores WHERE vector_store_id IN (SELECT vector_store_id FROM old_chunks)
                    ORDER BY vector_store_id FOR UPDATE;
                UPDATE lexical_stores s
                SET chunk_count = s.chunk_count - d.n, token_total = s.token_total - d.len, chunks_version = s.chunks_version + 1
                FROM (SELECT vector_store_id, count(lexical_length) AS n, COALESCE(sum(lexical_length), 0) AS len FROM old_chunks
                      GROUP BY vector_store_id) d
                WHERE s.vector_store_id = d.vector_store_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO lexical_stores AS s (vector_store_id, chunk_count, token_total, chunks_version)
                SELECT vector_store_id, count(lexical_length), COALESCE(sum(lexical_length), 0), 1 FROM new_chunks
                GROUP BY vector_store_id ORDER BY vector_store_id
                ON CONFLICT (vector_store_id) DO UPDATE
                    SET chunk_count = s.chunk_count + excluded.chunk_count, token_total = s.token_total + excluded.token_total,
                        chunks_version = s.chunks_version + 1;
            END IF;
            RETURN NULL;
        END $$;
        """,

        // One lock order for the lexical statistics: the store's lexical_stores row, then its lexical_terms rows. Publishing
        // takes them in that order (chunks, then postings), but deleting chunks deleted their postings first, which locked
        // the terms, and only then locked the store: a detach racing a publish into the same store deadlocked, and a
        // transaction that lost five times in a row failed its request (AccountingConcurrency on PostgreSQL, CI, 2 cores).
        // The delete branch now locks the store rows before it touches the postings.
        """
        CREATE OR REPLACE FUNCTION quiver_chunks_lexical() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                PERFORM 1 FROM lexical_stores WHERE vector_store_id IN (SELECT vector_store_id FROM old_chunks)
                    ORDER BY vector_store_id FOR UPDATE;
            END IF;
            IF TG_OP = 'DELETE' THEN
                DELETE FROM chunk_postings p USING old_chunks o WHERE p.chunk_id = o.id;
            END IF;
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                UPDATE lexical_stores s
                SET chunk_count = s.chunk_count - d.n, token_total = s.token_total - d.len, chunks_version = s.chunks_version + 1
                FROM (SELECT vector_store_id, count(lexical_length) AS n, COALESCE(sum(lexical_length), 0) AS len FROM old_chunks
                      GROUP BY vector_store_id) d
                WHERE s.vector_store_id = d.vector_store_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO lexical_stores AS s (vector_store_id, chunk_count, token_total, chunks_version)
                SELECT vector_store_id, count(lexical_length), COALESCE(sum(lexical_length), 0), 1 FROM new_chunks
                GROUP BY vector_store_id ORDER BY vector_store_id
                ON CONFLICT (vector_store_id) DO UPDATE
                    SET chunk_count = s.chunk_count + excluded.chunk_count, token_total = s.token_total + excluded.token_total,
                        chunks_version = s.chunks_version + 1;
            END IF;
            RETURN NULL;
        END $$;
        """,
    ];

    /// <summary>The schema version this build expects.</summary>
    public static int LatestVersion => Steps.Length;

    /// <summary>Creates pgvector (needs a superuser or a trusted extension) and applies every step newer than the database's version.</summary>
    public static async Task MigrateAsync(string connectionString, CancellationToken ct)
    {
        // A plain connection: the pooled data source must load types after `vector` exists.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.Command("SELECT pg_advisory_xact_lock(@key)", transaction).With("key", LockKey).ExecuteNonQueryAsync(ct);
        await connection.Command("""
                CREATE EXTENSION IF NOT EXISTS vector;
                CREATE TABLE IF NOT EXISTS quiver_schema (version integer NOT NULL);
                INSERT INTO quiver_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM quiver_schema);
                """, transaction).ExecuteNonQueryAsync(ct);
        var version = await GetVersionAsync(connection, transaction, ct);
        if (version > Steps.Length)
        {
            throw new InvalidOperationException(
                $"The PostgreSQL database has schema version {version}, newer than this build's {Steps.Length}. Run a newer Quiver.");
        }

        for (var step = version; step < Steps.Length; step++)
        {
            await connection.Command(Steps[step], transaction).ExecuteNonQueryAsync(ct);
            await connection.Command("UPDATE quiver_schema SET version = @v", transaction).With("v", step + 1).ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    /// <summary>The version recorded in the database.</summary>
    public static async Task<int> GetVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken ct) =>
        await connection.Command("SELECT COALESCE((SELECT version FROM quiver_schema), 0)", transaction).ExecuteScalarAsync(ct) is int v ? v : 0;
}
