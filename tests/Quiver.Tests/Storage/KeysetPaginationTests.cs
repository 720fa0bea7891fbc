using Microsoft.Extensions.Time.Testing;
using Quiver.Core.Access;
using Quiver.Core.Errors;
using Quiver.Core.Files;
using Quiver.Core.Ids;
using Quiver.Core.Paging;
using Quiver.Core.Storage.Relational;
using Quiver.Core.Storage.Sqlite;
using Quiver.Core.Tenancy;

namespace Quiver.Tests.Storage;

public sealed class KeysetPaginationTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "quiver-unit", Guid.NewGuid().ToString("N"));
    private readonly Principal _owner = new("p", "u");
    private SqlFileRepository _files = null!;
    private SqliteBackend _backend = null!;
    private List<string> _ascending = [];

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        var database = new SqliteDatabase(Path.Combine(_dir, "q.db"));
        await SqliteMigrations.MigrateAsync(database, TestContext.Current.CancellationToken);
        _backend = new SqliteBackend(database);
        _files = new SqlFileRepository(_backend);
        var ids = new RandomIdGenerator();
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        // Ten files over four distinct seconds, so ties on created_at are broken by id.
        for (var i = 0; i < 10; i++)
        {
            var id = ids.NewId(IdPrefixes.File);
            var createdAt = clock.GetUtcNow().ToUnixTimeSeconds() + (i / 3);
            await _files.InsertAsync(new FileRecord(id, "p", "u", $"{i}.txt", "assistants", 1, "text/plain", createdAt), TestContext.Current.CancellationToken);
            _ascending.Add(id);
        }

        // Expected order: created_at, then id (ordinal).
        var created = _ascending.Select((id, i) => (id, at: i / 3)).ToList();
        _ascending = [.. created.OrderBy(x => x.at).ThenBy(x => x.id, StringComparer.Ordinal).Select(x => x.id)];
        await _files.InsertAsync(new FileRecord(ids.NewId(IdPrefixes.File), "p", "someone-else", "x.txt", "assistants", 1, "text/plain", 1_700_000_000), TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return ValueTask.CompletedTask;
    }

    private Task<Page<FileRecord>> ListAsync(int limit, SortOrder order, string? after = null, string? before = null) =>
        _files.ListAsync(_owner, null, new ListRequest(limit, order, after, before), TestContext.Current.CancellationToken);

    [Fact]
    public async Task Ascending_pages_follow_created_at_then_id()
    {
        var page1 = await ListAsync(4, SortOrder.Asc);
        var page2 = await ListAsync(4, SortOrder.Asc, after: page1.Items[^1].Id);
        var page3 = await ListAsync(4, SortOrder.Asc, after: page2.Items[^1].Id);
        Assert.Equal(_ascending, page1.Items.Concat(page2.Items).Concat(page3.Items).Select(f => f.Id));
        Assert.True(page1.HasMore);
        Assert.True(page2.HasMore);
        Assert.False(page3.HasMore);
        Assert.Equal(2, page3.Items.Count);
    }

    /// <summary>
    /// Files shared with the user (directly and publicly) interleave with their own by (created_at, id): the owned
    /// index walk UNION ALL the shared rows pages like one list, each visible file exactly once, in both orders.
    /// </summary>
    [Theory]
    [InlineData(SortOrder.Asc)]
    [InlineData(SortOrder.Desc)]
    public async Task Shared_files_page_in_order_with_the_users_own(SortOrder order)
    {
        var ct = TestContext.Current.CancellationToken;
        var grants = new SqlGrantStore(_backend);
        var ids = new RandomIdGenerator();
        var all = await ListAsync(100, SortOrder.Asc);
        var visible = all.Items.Select(f => (f.Id, f.CreatedAt)).ToList();
        for (var i = 0; i < 6; i++)
        {
            var id = ids.NewId(IdPrefixes.File);
            await _files.InsertAsync(new FileRecord(id, "p", "other", $"s{i}.txt", "assistants", 1, "text/plain", 1_700_000_000 + i), ct);
            // Four shared with the user directly, one publicly, one with nobody (stays invisible).
            if (i < 5)
            {
                await grants.GrantAsync("p", ResourceTypes.File, id, i == 4 ? "*" : "u", ResourceRole.Reader, 0, ct);
                visible.Add((id, 1_700_000_000 + i));
            }
        }

        var ordered = visible.OrderBy(v => v.CreatedAt).ThenBy(v => v.Id, StringComparer.Ordinal).Select(v => v.Id).ToList();
        if (order == SortOrder.Desc)
        {
            ordered.Reverse();
        }

        var seen = new List<string>();
        string? after = null;
        while (true)
        {
            var page = await ListAsync(3, order, after: after);
            seen.AddRange(page.Items.Select(f => f.Id));
            if (!page.HasMore)
            {
                break;
            }

            after = page.Items[^1].Id;
        }

        Assert.Equal(ordered, seen);
        var before = await ListAsync(4, order, before: ordered[9]);
        Assert.Equal(ordered[5..9], before.Items.Select(f => f.Id));
    }

    [Fact]
    public async Task Descending_is_the_exact_reverse()
    {
        var all = await ListAsync(100, SortOrder.Desc);
        Assert.Equal(_ascending.AsEnumerable().Reverse(), all.Items.Select(f => f.Id));
        Assert.False(all.HasMore);
    }

    [Theory]
    [InlineData(SortOrder.Asc)]
    [InlineData(SortOrder.Desc)]
    public async Task Before_returns_the_items_just_before_the_cursor_in_list_order(SortOrder order)
    {
        var list = order == SortOrder.Asc ? _ascending : [.. _ascending.AsEnumerable().Reverse()];
        var page = await ListAsync(3, order, before: list[6]);
        Assert.Equal(list[3..6], page.Items.Select(f => f.Id));
        Assert.True(page.HasMore);

        var first = await ListAsync(3, order, before: list[2]);
        Assert.Equal(list[0..2], first.Items.Select(f => f.Id));
        Assert.False(first.HasMore);
    }

    [Fact]
    public async Task After_and_before_together_bound_a_range()
    {
        var page = await ListAsync(100, SortOrder.Asc, after: _ascending[1], before: _ascending[5]);
        Assert.Equal(_ascending[2..5], page.Items.Select(f => f.Id));
    }

    [Fact]
    public async Task A_new_row_does_not_shift_later_pages()
    {
        var page1 = await ListAsync(3, SortOrder.Asc);
        // Older than everything: an offset-based pager would now repeat an item.
        await _files.InsertAsync(new FileRecord("file-0000000000000000000000aa", "p", "u", "old.txt", "assistants", 1, "text/plain", 1), TestContext.Current.CancellationToken);
        var page2 = await ListAsync(3, SortOrder.Asc, after: page1.Items[^1].Id);
        Assert.Equal(_ascending[3..6], page2.Items.Select(f => f.Id));
    }

    [Fact]
    public async Task A_cursor_from_another_principal_or_unknown_is_a_400()
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => ListAsync(3, SortOrder.Asc, after: "file-doesnotexist"));
        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
        Assert.Equal("after", error.Param);

        var others = await _files.ListAsync(new Principal("p", "someone-else"), null, new ListRequest(10, SortOrder.Asc, null, null), TestContext.Current.CancellationToken);
        var foreign = Assert.Single(others.Items).Id;
        error = await Assert.ThrowsAsync<ApiException>(() => ListAsync(3, SortOrder.Asc, before: foreign));
        Assert.Equal("before", error.Param);
    }
}
