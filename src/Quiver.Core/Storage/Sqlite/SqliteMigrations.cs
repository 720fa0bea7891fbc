using Microsoft.Data.Sqlite;
using Quiver.Core.Storage.Relational;

namespace Quiver.Core.Storage.Sqlite;

/// <summary>
/// Versioned schema. Each entry runs once, in order, in its own transaction, and bumps
/// <c>PRAGMA user_version</c>; released entries are never edited, only appended to.
/// </summary>
internal static class SqliteMigrations
{
    private static readonly string[] Steps =
    [
        // 1: keys and files.
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            project TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            is_admin INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE TABLE files (
            id TEXT PRIMARY KEY,
            project TEXT NOT NULL,
            owner TEXT NOT NULL,
            filename TEXT NOT NULL,
            purpose TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX ix_files_principal ON files (project, owner, created_at, id);
        """,

        // 2: vector stores, their files, batches, ingestion jobs, chunks with vectors and FTS5.
        """
        CREATE TABLE vector_stores (
            id TEXT PRIMARY KEY,
            project TEXT NOT NULL,
            owner TEXT NOT NULL,
            name TEXT,
            description TEXT,
            metadata TEXT NOT NULL,
            embedding_model TEXT NOT NULL,
            embedding_dimensions INTEGER NOT NULL,
            expires_after_days INTEGER,
            expires_at INTEGER,
            expired INTEGER NOT NULL DEFAULT 0,
            last_active_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX ix_vector_stores_principal ON vector_stores (project, owner, created_at, id);

        -- One row per attached file. `generation` increases with every (re-)attach and every
        -- cancel/detach: it is the fence that publication checks.
        CREATE TABLE vector_store_files (
            vector_store_id TEXT NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
            file_id TEXT NOT NULL,
            status TEXT NOT NULL,
            last_error_code TEXT,
            last_error_message TEXT,
            attributes TEXT NOT NULL,
            chunking_requested TEXT,
            chunk_max_tokens INTEGER NOT NULL,
            chunk_overlap_tokens INTEGER NOT NULL,
            usage_bytes INTEGER NOT NULL DEFAULT 0,
            parsed_text TEXT,
            batch_id TEXT,
            generation INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (vector_store_id, file_id)
        );
        CREATE INDEX ix_vector_store_files_list ON vector_store_files (vector_store_id, created_at, file_id);
        CREATE INDEX ix_vector_store_files_status ON vector_store_files (vector_store_id, status);
        CREATE INDEX ix_vector_store_files_file ON vector_store_files (file_id);

        CREATE TABLE file_batches (
            id TEXT PRIMARY KEY,
            vector_store_id TEXT NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
            cancelled INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX ux_file_batches_idempotency ON file_batches (vector_store_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

        -- A batch member keeps its own status, moved in the same transaction as the file row
        -- while the row's current attach belongs to this batch; batch counts aggregate these.
        CREATE TABLE file_batch_members (
            batch_id TEXT NOT NULL REFERENCES file_batches (id) ON DELETE CASCADE,
            file_id TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (batch_id, file_id)
        );
        CREATE INDEX ix_file_batch_members_list ON file_batch_members (batch_id, created_at, file_id);

        -- Work to do. A job row exists while its file is in_progress; claims take a lease.
        CREATE TABLE ingestion_jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            vector_store_id TEXT NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
            file_id TEXT NOT NULL,
            generation INTEGER NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_until_ms INTEGER,
            not_before_ms INTEGER NOT NULL,
            deadline_ms INTEGER NOT NULL,
            UNIQUE (vector_store_id, file_id)
        );
        CREATE INDEX ix_ingestion_jobs_claim ON ingestion_jobs (state, not_before_ms);
        CREATE INDEX ix_ingestion_jobs_store ON ingestion_jobs (vector_store_id, state);

        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            vector_store_id TEXT NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
            file_id TEXT NOT NULL,
            chunk_index INTEGER NOT NULL,
            text TEXT NOT NULL,
            token_count INTEGER NOT NULL,
            embedding BLOB NOT NULL
        );
        CREATE INDEX ix_chunks_file ON chunks (vector_store_id, file_id, chunk_index);

        CREATE VIRTUAL TABLE chunks_fts USING fts5 (
            text, content = 'chunks', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        """,

        // 3: a per-store counter bumped by every chunk insert and delete, so search caches know
        // cheaply whether the store's chunks changed since they were loaded.
        """
        ALTER TABLE vector_stores ADD COLUMN chunks_version INTEGER NOT NULL DEFAULT 0;
        CREATE TRIGGER chunks_version_insert AFTER INSERT ON chunks BEGIN
            UPDATE vector_stores SET chunks_version = chunks_version + 1 WHERE id = new.vector_store_id;
        END;
        CREATE TRIGGER chunks_version_delete AFTER DELETE ON chunks BEGIN
            UPDATE vector_stores SET chunks_version = chunks_version + 1 WHERE id = old.vector_store_id;
        END;
        """,

        // 4: the full-text index also holds each chunk's store as one token (the store id in hex
        // between 's' and '0', so case folding and the Porter stemmer leave it unique), so a search
        // matches `store : <tag> AND text : (...)` and FTS5 only ranks the store's own chunks instead
        // of every match in the database followed by a join to drop other stores' rows (SciFact,
        // 6,450 chunks in one store: 26 ms → 8 ms per query; see docs/search.md). Rebuilt from chunks.
        """
        DROP TRIGGER chunks_fts_insert;
        DROP TRIGGER chunks_fts_delete;
        DROP TABLE chunks_fts;
        CREATE VIEW chunks_fts_content AS
            SELECT id, text, 's' || hex(vector_store_id) || '0' AS store FROM chunks;
        CREATE VIRTUAL TABLE chunks_fts USING fts5 (
            text, store, content = 'chunks_fts_content', content_rowid = 'id',
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild');
        CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts (rowid, text, store) VALUES (new.id, new.text, 's' || hex(new.vector_store_id) || '0');
        END;
        CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts (chunks_fts, rowid, text, store) VALUES ('delete', old.id, old.text, 's' || hex(old.vector_store_id) || '0');
        END;
        """,

        // 5: a per-store counter bumped by every change to the store's file rows (attach, status,
        // attributes, detach), so search can keep the parsed attributes filters look at instead of
        // reading and parsing every file row of the store on each filtered search.
        """
        ALTER TABLE vector_stores ADD COLUMN files_version INTEGER NOT NULL DEFAULT 0;
        CREATE TRIGGER files_version_insert AFTER INSERT ON vector_store_files BEGIN
            UPDATE vector_stores SET files_version = files_version + 1 WHERE id = new.vector_store_id;
        END;
        CREATE TRIGGER files_version_update AFTER UPDATE ON vector_store_files BEGIN
            UPDATE vector_stores SET files_version = files_version + 1 WHERE id = new.vector_store_id;
        END;
        CREATE TRIGGER files_version_delete AFTER DELETE ON vector_store_files BEGIN
            UPDATE vector_stores SET files_version = files_version + 1 WHERE id = old.vector_store_id;
        END;
        """,

        // 6: per-key rate limits (a spec such as '10/s,5000/h'; '' = none) and permissions (a JSON
        // array of strings), and the key ring that signs exchanged access tokens: one active key
        // (retired_at NULL, enforced by the partial unique index), retired keys kept for verification.
        """
        ALTER TABLE api_keys ADD COLUMN rate_limit TEXT NOT NULL DEFAULT '';
        ALTER TABLE api_keys ADD COLUMN permissions TEXT NOT NULL DEFAULT '[]';
        CREATE TABLE signing_keys (
            kid TEXT PRIMARY KEY,
            algorithm TEXT NOT NULL,
            private_key BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            retired_at INTEGER
        );
        CREATE UNIQUE INDEX ux_signing_keys_active ON signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;
        """,

        PortableMigrations.ResourceGrants(""),
        PortableMigrations.IdempotencyKeys,
        PortableMigrations.FileExpiry,
        PortableMigrations.JobTraceParent,
    ];

    /// <summary>The schema version this build expects.</summary>
    public static int LatestVersion => Steps.Length;

    /// <summary>Switches the file to WAL and applies every step newer than its version.</summary>
    public static async Task MigrateAsync(SqliteDatabase database, CancellationToken ct)
    {
        await using (var connection = await database.OpenAsync(ct))
        {
            // WAL is a property of the file: set once, it stays for every later connection.
            await connection.Command("PRAGMA journal_mode=WAL;").ExecuteNonQueryAsync(ct);
        }

        await database.WriteAsync(async (connection, transaction) =>
        {
            var version = await GetVersionAsync(connection, transaction, ct);
            if (version > Steps.Length)
            {
                throw new InvalidOperationException(
                    $"The database at '{database.Path}' has schema version {version}, newer than this build's {Steps.Length}. Run a newer Quiver.");
            }

            for (var step = version; step < Steps.Length; step++)
            {
                await connection.Command(Steps[step], transaction).ExecuteNonQueryAsync(ct);
                await connection.Command($"PRAGMA user_version = {step + 1};", transaction).ExecuteNonQueryAsync(ct);
            }
        }, ct);
    }

    /// <summary>The version recorded in the database file.</summary>
    public static async Task<int> GetVersionAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken ct) =>
        Convert.ToInt32(await connection.Command("PRAGMA user_version;", transaction).ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
}
