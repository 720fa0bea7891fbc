namespace Quiver.Core.Storage.Relational;

/// <summary>
/// Schema steps both backends take in the same words (lower-case standard types: SQLite gives <c>bigint</c> and
/// <c>integer</c> integer affinity, <c>text</c> text affinity). Each backend's migration list names them at its own
/// version; only what differs (an id column's collation) is a parameter.
/// </summary>
internal static class PortableMigrations
{
    /// <summary>
    /// Role grants on files and vector stores (owner 3 &gt; writer 2 &gt; reader 1), within a project; user_id '*' is
    /// public. The primary key serves the per-request check of one resource, the second index the lists of what a
    /// user was granted. <paramref name="idCollation"/> is the resource id's collation clause ("" for the default).
    /// </summary>
    public static string ResourceGrants(string idCollation) => $"""
        CREATE TABLE resource_grants (
            project text NOT NULL,
            resource_type text NOT NULL,
            resource_id text{idCollation} NOT NULL,
            user_id text NOT NULL,
            role integer NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (project, resource_type, resource_id, user_id, role)
        );
        CREATE INDEX ix_resource_grants_user ON resource_grants (project, resource_type, user_id, resource_id);
        """;

    /// <summary>Idempotency-Key on store create, upload and attach (issue 15): one row per principal, scope and key.</summary>
    public const string IdempotencyKeys = """
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
        """;

    /// <summary>File expiry from upload's expires_after (issue 15): swept with the file's chunks once passed.</summary>
    public const string FileExpiry = """
        ALTER TABLE files ADD COLUMN expires_at bigint;
        CREATE INDEX ix_files_expires_at ON files (expires_at) WHERE expires_at IS NOT NULL;
        """;

    /// <summary>The attach request's W3C trace context, so a job's spans join the request's trace (docs/observability.md).</summary>
    public const string JobTraceParent = """
        ALTER TABLE ingestion_jobs ADD COLUMN trace_parent text;
        """;
}
