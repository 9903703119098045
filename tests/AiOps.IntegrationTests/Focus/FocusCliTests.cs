using System.IO.Compression;
using AiOps.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests.Focus;

/// <summary>`aiops import focus FILE` against a real server over real HTTP (Kestrel on a loopback port).</summary>
public sealed class FocusCliTests
{
    private static int Aiops(params string[] args)
    {
        var entry = typeof(AiOps.Cli.Commands.ImportFocusCommand).Assembly.EntryPoint!;
        return entry.Invoke(null, [args]) switch
        {
            int i => i,
            Task<int> t => t.GetAwaiter().GetResult(),
            _ => throw new InvalidOperationException("unexpected entry point"),
        };
    }

    [Fact]
    public async Task TheCliStreamsAFileAndTheServerHasItsTotals()
    {
        await using var app = new AiOpsAppFactory();
        app.UseKestrel(0);
        app.StartServer();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = app.CreateClient();

        var dir = TempDirectory.Create("aiops-focus-cli");
        var gz = Path.Combine(dir, "focus_sample.csv.gz");
        await using (var output = File.Create(gz))
        await using (var zip = new GZipStream(output, CompressionLevel.Fastest))
        await using (var input = File.OpenRead(FocusFile.SamplePath))
            await input.CopyToAsync(zip);

        var exit = await Task.Run(() => Aiops("import", "focus", gz, "--server", url, "--api-key", app.AdminKey, "--quiet"));
        Assert.Equal(0, exit);
        var file = FocusFile.Sample();
        var summary = await client.GetJsonOrNull("/api/v1/costs/focus/summary?billingPeriod=2024-09");
        Assert.Equal(file.InPeriod("2024-09").Sum(FocusFile.Cost), (double)summary!["billedCost"]!, 9);

        // A missing file is a usage error; a server refusing the key fails the command.
        Assert.Equal(2, await Task.Run(() => Aiops("import", "focus", Path.Combine(dir, "absent.csv"), "--server", url, "--api-key", app.AdminKey)));
        Assert.Equal(1, await Task.Run(() => Aiops("import", "focus", gz, "--server", url, "--api-key", "aiops_bad_key", "--quiet")));
    }

    [Fact]
    public async Task TheCliSendsAParquetFileAndTheServerHasItsTotals()
    {
        await using var app = new AiOpsAppFactory();
        app.UseKestrel(0);
        app.StartServer();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = app.CreateClient();

        var dir = TempDirectory.Create("aiops-focus-cli");
        var file = FocusFile.Sample();
        var parquet = Path.Combine(dir, "focus_sample.parquet");
        await File.WriteAllBytesAsync(parquet, await FocusParquetFile.WriteAsync(file));

        var exit = await Task.Run(() => Aiops("import", "focus", parquet, "--server", url, "--api-key", app.AdminKey, "--quiet"));
        Assert.Equal(0, exit);
        foreach (var month in file.Months)
            FocusImportTests.AssertFileTotals(file, (await client.GetJsonOrNull($"/api/v1/costs/focus/summary?billingPeriod={month}"))!, month);
    }
}
