using Microsoft.Extensions.DependencyInjection;
using Quiver.Core.VectorStores;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Ingestion;

/// <summary>
/// Idle workers must stay idle: after a batch, the two workers of a process poll about once a second each
/// (their longest wait), not in a loop. Regression: one wake-up was handed back and forth between idle
/// workers for ever, two busy cores and thousands of claim queries a second on a server doing nothing.
/// </summary>
public sealed class IdleWorkersTests
{
    [Fact]
    public async Task After_the_work_is_done_idle_workers_stop_claiming()
    {
        CountingJobStore? counting = null;
        await using var factory = new QuiverFactory
        {
            ConfigureTestServices = services =>
            {
                var real = services.Single(d => d.ServiceType == typeof(IIngestionJobStore));
                services.Remove(real);
                services.AddSingleton<IIngestionJobStore>(sp => counting = new CountingJobStore(
                    (IIngestionJobStore)ActivatorUtilities.CreateInstance(sp, real.ImplementationType!)));
            },
        };
        var client = factory.CreateApiClient();
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var fileIds = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            fileIds.Add((string)(await client.UploadAsync("/v1", $"f{i}.txt", $"file number {i} about idle workers"))["id"]!);
        }

        var ids = string.Join(",", fileIds.Select(id => $"\"{id}\""));
        var batch = await client.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches", $$"""{"file_ids":[{{ids}}]}""");
        foreach (var fileId in fileIds)
        {
            Assert.Equal("completed", (string?)(await client.WaitForFileAsync("/v1", storeId, fileId))["status"]);
        }

        Assert.NotNull(counting);
        var before = counting.Claims;
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        var claims = counting.Claims - before;

        // Two workers, each waking at most once a second when idle: about 6 claims in 3 s. The old loop made thousands.
        Assert.InRange(claims, 0, 20);
        Assert.Equal("completed", (string?)(await client.GetJsonAsync($"/v1/vector_stores/{storeId}/file_batches/{(string)batch["id"]!}"))["status"]);
    }

    private sealed class CountingJobStore(IIngestionJobStore inner) : IIngestionJobStore
    {
        private long _claims;

        public long Claims => Interlocked.Read(ref _claims);

        public Task<ClaimedJob?> ClaimNextAsync(string owner, long nowMs, long leaseMs, long runDeadlineMs, CancellationToken ct)
        {
            Interlocked.Increment(ref _claims);
            return inner.ClaimNextAsync(owner, nowMs, leaseMs, runDeadlineMs, ct);
        }

        public Task<bool> ExtendLeaseAsync(ClaimedJob job, long untilMs, CancellationToken ct) => inner.ExtendLeaseAsync(job, untilMs, ct);

        public Task<bool> PublishAsync(ClaimedJob job, IReadOnlyList<ChunkToPublish> chunks, string parsedText, long usageBytes, CancellationToken ct) => inner.PublishAsync(job, chunks, parsedText, usageBytes, ct);

        public Task<bool> FailAsync(ClaimedJob job, string code, string message, CancellationToken ct) => inner.FailAsync(job, code, message, ct);

        public Task RetryLaterAsync(ClaimedJob job, long notBeforeMs, CancellationToken ct) => inner.RetryLaterAsync(job, notBeforeMs, ct);

        public Task<bool> ReleaseClaimAsync(ClaimedJob job, CancellationToken ct) => inner.ReleaseClaimAsync(job, ct);

        public Task<int> ReleaseAllClaimsAsync(CancellationToken ct) => inner.ReleaseAllClaimsAsync(ct);

        public Task<IReadOnlyList<(string StoreId, string FileId)>> FailOverdueAsync(long nowMs, string message, CancellationToken ct) => inner.FailOverdueAsync(nowMs, message, ct);

        public Task<int> MarkExpiredStoresAsync(long now, CancellationToken ct) => inner.MarkExpiredStoresAsync(now, ct);

        public Task<long?> NextWakeDelayAsync(long nowMs, CancellationToken ct) => inner.NextWakeDelayAsync(nowMs, ct);

        public Task<IReadOnlyDictionary<string, long>> CountByStateAsync(CancellationToken ct) => inner.CountByStateAsync(ct);
    }
}
