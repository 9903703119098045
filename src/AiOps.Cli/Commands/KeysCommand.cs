using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AiOps.Cli.Commands;

/// <summary>Key management through a running server's API, with an admin key.</summary>
public abstract class KeysCommandBase : ICommand
{
    public abstract string Name { get; }
    public abstract string Summary { get; }
    public string Usage => UsageDetail + " [--url http://localhost:5080] [--key ADMIN_KEY | --key-file data/bootstrap-admin.key] (or AIOPS_URL / AIOPS_KEY)";
    protected abstract string UsageDetail { get; }

    public async Task<int> RunAsync(CommandArgs args, CancellationToken cancellationToken)
    {
        var url = args.Get("url") ?? Environment.GetEnvironmentVariable("AIOPS_URL") ?? "http://localhost:5080";
        var key = args.Get("key") ?? Environment.GetEnvironmentVariable("AIOPS_KEY");
        if (key is null)
        {
            var file = args.Get("key-file") ?? Path.Combine("data", "bootstrap-admin.key");
            if (!File.Exists(file)) throw new UsageException($"no admin key: pass --key, --key-file or set AIOPS_KEY ({file} does not exist)");
            key = (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
        }
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var response = await SendAsync(http, args, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"error: {(int)response.StatusCode} {body}");
            return 1;
        }
        Print(body);
        return 0;
    }

    protected abstract Task<HttpResponseMessage> SendAsync(HttpClient http, CommandArgs args, CancellationToken cancellationToken);

    protected virtual void Print(string body) =>
        Console.WriteLine(JsonNode.Parse(body)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}

public sealed class KeysCreateCommand : KeysCommandBase
{
    public override string Name => "keys create";
    public override string Summary => "Create an API key (reader, operator, admin, ingest); prints it once";
    protected override string UsageDetail => "--name NAME --role ROLE [--expires 2027-01-01T00:00:00Z]";

    protected override Task<HttpResponseMessage> SendAsync(HttpClient http, CommandArgs args, CancellationToken ct) =>
        http.PostAsJsonAsync("/api/v1/keys", new { name = args.Require("name"), role = args.Require("role"), expiresAt = args.Get("expires") }, ct);

    protected override void Print(string body)
    {
        var node = JsonNode.Parse(body)!;
        Console.WriteLine($"created {node["info"]!["role"]} key '{node["info"]!["name"]}' ({node["info"]!["keyId"]}). Store it now; it is not shown again:");
        Console.WriteLine(node["key"]!.GetValue<string>());
    }
}

public sealed class KeysListCommand : KeysCommandBase
{
    public override string Name => "keys list";
    public override string Summary => "List API keys (ids, names, roles, revocation)";
    protected override string UsageDetail => "";

    protected override Task<HttpResponseMessage> SendAsync(HttpClient http, CommandArgs args, CancellationToken ct) => http.GetAsync("/api/v1/keys", ct);
}

public sealed class KeysRevokeCommand : KeysCommandBase
{
    public override string Name => "keys revoke";
    public override string Summary => "Revoke an API key by id";
    protected override string UsageDetail => "--id KEY_ID";

    protected override Task<HttpResponseMessage> SendAsync(HttpClient http, CommandArgs args, CancellationToken ct) =>
        http.DeleteAsync($"/api/v1/keys/{Uri.EscapeDataString(args.Require("id"))}", ct);
}
