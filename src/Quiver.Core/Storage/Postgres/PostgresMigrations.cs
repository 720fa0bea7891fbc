using Npgsql;

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

        // 2: vector stores, their files, batches, ingestion jobs, chunks with vectors and tsvector.
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
        // Idempotency-Key on store create, upload and attach (issue 15): one row per principal, scope and key.
        """
        CREATE TABLE idempotency_keys (
            project text NOT NULL,
            owner text NOT NULL,
            scope text NOT NULL,
            key text NOT NULL,
            request_hash text NOT NULL,
            object_id text NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (project, owner, scope, key)
        );
        """,
        // File expiry from upload's expires_after (issue 15): swept with the file's chunks once passed.
        """
        ALTER TABLE files ADD COLUMN expires_at bigint;
        CREATE INDEX ix_files_expires_at ON files (expires_at) WHERE expires_at IS NOT NULL;
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
